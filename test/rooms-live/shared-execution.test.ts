import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GraphQLError, GraphQLInt, GraphQLObjectType, GraphQLSchema, GraphQLString, parse, type ExecutionResult } from 'graphql';
import { describe, expect, test } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { isSharedField, sharedStream, sharedSubscription } from '../../src/events/fanout/interface.js';
import { createSharedSubscriptions } from '../../src/events/fanout/shared-subscriptions.js';
import { schema as ovationSchema } from '../../src/schema/index.js';
import { releaseWhenDone } from '../support/wait.js';

// A shared subscription's events are executed once for all its subscribers, so they are executed with no
// viewer: a field that read one would show the first subscriber's data to everyone. Reading it fails.

type Event = { n: number };
type Viewerful = { viewer: { userId: string } | null };

const Event = new GraphQLObjectType<Event, Viewerful>({
  name: 'Event',
  fields: {
    n: { type: GraphQLInt },
    // What a viewer-dependent field added to a shared event type later would look like.
    seenBy: { type: GraphQLString, resolve: (_event, _args, context) => context.viewer?.userId ?? null },
  },
});

/** A stream of `events` that declares itself shared, as a shared field's `subscribe` must return. */
const streamOf = (events: Event[]) =>
  sharedStream(Object.assign((async function* () { yield* events; })(), { deliverDirectly: () => {} }));

const schema = new GraphQLSchema({
  query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLInt } } }),
  subscription: new GraphQLObjectType<unknown, Viewerful>({
    name: 'Subscription',
    fields: {
      shared: { type: Event, extensions: sharedSubscription, subscribe: () => streamOf([{ n: 1 }]), resolve: (event: unknown) => event },
      // A plugin wrapping the stream would hand the fan-out a plain iterator.
      wrapped: {
        type: Event,
        extensions: sharedSubscription,
        subscribe: async function* () { yield { n: 1 }; },
        resolve: (event: unknown) => event,
      },
      ordinary: { type: Event, subscribe: () => streamOf([{ n: 1 }]), resolve: (event: unknown) => event },
    },
  }),
});

const fanout = createSharedSubscriptions({
  toClientError: (error) => (error instanceof GraphQLError ? error : new GraphQLError(error instanceof Error ? error.message : String(error))),
  viewerKeys: ['viewer'],
});

// Real sockets: the fan-out writes graphql-ws messages to the server's side, the test reads the client's.
const sockets = new WebSocketServer({ port: 0, host: '127.0.0.1' });
await once(sockets, 'listening');
releaseWhenDone(() => new Promise<void>((resolve) => sockets.close(() => resolve())));

async function socketPair() {
  const client = new WebSocket(`ws://127.0.0.1:${(sockets.address() as AddressInfo).port}`);
  const [[socket, request]] = await Promise.all([once(sockets, 'connection') as Promise<[WebSocket, IncomingMessage]>, once(client, 'open')]);
  releaseWhenDone(() => client.close());
  return { client, delivery: { socket, connection: request.socket, id: 'op-1' } };
}

/**
 * The first result of `query`, subscribed to by a signed-in viewer through the fan-out: what its socket was
 * sent, or what it answered at once.
 */
async function firstResult(query: string, ordinary: () => unknown = () => ({ errors: [new GraphQLError('ordinary path')] })) {
  const { client, delivery } = await socketPair();
  const received = once(client, 'message') as Promise<[Buffer]>;
  const subscribed = await fanout.subscribe({ schema, document: parse(query), contextValue: { viewer: { userId: 'viewer-1' } } }, ordinary, delivery);
  if (!(Symbol.asyncIterator in Object(subscribed))) return subscribed as ExecutionResult;
  const [message] = await received;
  await (subscribed as AsyncIterableIterator<ExecutionResult>).return?.();
  const { id, type, payload } = JSON.parse(message.toString()) as { id: string; type: string; payload: ExecutionResult };
  expect({ id, type }).toEqual({ id: 'op-1', type: 'next' });
  return payload;
}

describe('a shared subscription field', () => {
  test('is executed without a viewer: its fields that ignore the viewer resolve', async () => {
    expect(await firstResult('subscription { shared { n } }')).toEqual({ data: { shared: { n: 1 } } });
  });

  test('fails loudly when one of its fields reads the viewer, rather than showing one viewer what is theirs', async () => {
    const result = await firstResult('subscription { shared { n seenBy } }');
    expect(result.errors).toEqual([expect.objectContaining({ message: expect.stringMatching(/no viewer: one read context\.viewer/), path: ['shared', 'seenBy'] })]);
  });

  test('whose subscribe does not return a SharedStream fails the subscription, instead of silently leaving the direct path', async () => {
    const result = await firstResult('subscription { wrapped { n } }');
    expect(result.errors).toEqual([expect.objectContaining({ message: 'The shared subscription field wrapped did not return a SharedStream' })]);
  });

  test('is chosen by its extensions: a field without them goes the ordinary way', async () => {
    let ordinary = 0;
    await firstResult('subscription { ordinary { n } }', () => (ordinary++, { data: null }));
    expect(ordinary).toBe(1);
  });

  test("Ovation's shared fields are marked in the schema: liveSessionEvents, and no other subscription field", () => {
    const fields = Object.values(ovationSchema.getSubscriptionType()!.getFields());
    expect(fields.filter((field) => isSharedField(field)).map((field) => field.name)).toEqual(['liveSessionEvents']);
  });
});
