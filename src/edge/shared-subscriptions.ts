import { createSourceEventStream, execute, getOperationAST, GraphQLError, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import { ResumeRequiredError } from '../events/room-stream.js';
import { textFrames } from './websocket-frame.js';

/** Where a graphql-ws subscription's messages go: its socket, the TCP connection under it, and its operation id. */
export type Delivery = { socket: WebSocket; connection: Socket; id: string };

/** A source that can hand events over without a promise each (a live room's stream). */
type DirectSource = { deliverDirectly(delivery: (events: readonly object[]) => boolean): void };

/** An event's result as every subscriber of one operation gets it: JSON, and that JSON's UTF-8 bytes. */
type Payload = { text: string; bytes: Buffer };

const CLOSING_BRACE = Buffer.from('}');

/** A subscriber whose socket holds this much unsent data is too slow to keep (it resumes later). */
const MAX_BUFFERED_BYTES = 1024 * 1024;

/**
 * Fan-out for subscriptions whose events are the same for every subscriber (a live room's). Each event
 * is executed and serialized once per distinct operation and variables; each subscriber then costs a
 * copy of bytes and a socket write, not a GraphQL execution, a JSON serialization and a chain of
 * promises (10,000 viewers x 10 gifts/s is 100,000 messages a second). Events are shared by identity:
 * the room stream hands every subscriber the same event object. Only for root fields whose resolvers
 * ignore the viewer.
 */
export function createSharedSubscriptions(sharedFields: Set<string>, toClientError: (error: unknown) => GraphQLError) {
  const serialized = new WeakMap<object, Map<string, Payload | Promise<Payload>>>();
  // Per array of events handed over directly (one per gift, the same for every viewer: rooms.ts) and
  // operation key, their payloads' bytes: two lookups per viewer, rather than two per event and an array.
  const bodiesOfEvents = new WeakMap<readonly object[], Map<string, Buffer[]>>();

  function shares(args: ExecutionArgs): boolean {
    const operation = getOperationAST(args.document, args.operationName);
    const [field, ...others] = operation?.selectionSet.selections ?? [];
    return operation?.operation === 'subscription' && others.length === 0 && field?.kind === 'Field' && sharedFields.has(field.name.value);
  }

  // graphql-js's own execute, as its subscribe does per event (Yoga's would treat the subscription
  // operation as a new subscription); errors are masked here the way Yoga masks them elsewhere.
  // Synchronous when every resolver is (a room event's are), so direct deliveries need not wait.
  function executeOnce(args: ExecutionArgs, event: object): Payload | Promise<Payload> {
    const serialize = (result: ExecutionResult): Payload => {
      const text = JSON.stringify(result.errors ? { ...result, errors: result.errors.map(toClientError) } : result);
      return { text, bytes: Buffer.from(text) };
    };
    const result = execute({ ...args, rootValue: event });
    return result instanceof Promise ? result.then(serialize) : serialize(result);
  }

  function payloadOf(args: ExecutionArgs, key: string, event: object): Payload | Promise<Payload> {
    let byOperation = serialized.get(event);
    if (!byOperation) serialized.set(event, (byOperation = new Map()));
    let payload = byOperation.get(key);
    if (payload === undefined) {
      const executing = executeOnce(args, event);
      byOperation.set(key, (payload = executing));
      if (executing instanceof Promise) void executing.then((ready) => byOperation.set(key, ready), () => {});
    }
    return payload;
  }

  /** The bytes of `events`' payloads for the operation of `key`, once all have executed. */
  function bodiesOf(args: ExecutionArgs, key: string, events: readonly object[]): Buffer[] | undefined {
    let byOperation = bodiesOfEvents.get(events);
    const known = byOperation?.get(key);
    if (known) return known;
    const bodies: Buffer[] = [];
    for (const event of events) {
      const payload = payloadOf(args, key, event);
      if (payload instanceof Promise) return undefined;
      bodies.push(payload.bytes);
    }
    if (!byOperation) bodiesOfEvents.set(events, (byOperation = new Map()));
    byOperation.set(key, bodies);
    return bodies;
  }

  /**
   * Writes each event straight to the subscriber's socket as a graphql-ws `next` message, and resolves
   * (done, so graphql-ws sends `complete`) when the stream ends; or with a last result carrying the
   * refusal that ended it (e.g. too far behind). return() reaches the stream at once.
   */
  function deliver(source: AsyncIterator<unknown>, args: ExecutionArgs, { socket, connection, id }: Delivery): AsyncIterableIterator<ExecutionResult> {
    const key = operationKey(args);
    // The message is assembled from bytes: the payload is encoded once for every subscriber, and a text
    // frame sent from a Buffer is not measured and encoded again per socket.
    const prefix = Buffer.from(`{"id":${JSON.stringify(id)},"type":"next","payload":`);
    // Without extensions (no compression: the server negotiates none), ws writes each frame to the TCP
    // socket as it is sent, so a frame written there directly keeps its place among ws's own (pings,
    // graphql-ws's complete) and counts in socket.bufferedAmount. With any, ws may hold frames back.
    const direct = socket.extensions === '';
    let stopped = false;
    let lastSequence = 0;
    const send = (events: readonly object[], bodies: readonly Buffer[]) => {
      corkSoon(connection);
      if (direct) connection.write(textFrames(prefix, bodies, CLOSING_BRACE));
      else for (const body of bodies) socket.send(Buffer.concat([prefix, body, CLOSING_BRACE]), { binary: false });
      lastSequence = sequenceOf(events[events.length - 1]) ?? lastSequence;
    };
    // What the socket holds unsent: with direct frames, ws holds nothing of its own (see above).
    const unsent = () => (direct ? connection.writableLength : socket.bufferedAmount);
    // Events handed over directly while the stream waits (room-stream.ts): sent at once if their payloads
    // are ready and the socket keeps up; otherwise refused, and the loop below takes them as usual. This
    // runs for every viewer and gift (100,000 times a second at 10,000 viewers), so it makes no closures
    // and no arrays.
    (source as Partial<DirectSource>).deliverDirectly?.((events) => {
      if (stopped || socket.readyState !== socket.OPEN || unsent() > MAX_BUFFERED_BYTES) return false;
      let bodies: Buffer[] | undefined;
      try {
        bodies = bodiesOf(args, key, events);
      } catch {
        return false; // the loop below meets the failure again, and reports it to this subscriber
      }
      if (!bodies) return false;
      send(events, bodies);
      return true;
    });
    const pumped = (async (): Promise<IteratorResult<ExecutionResult, undefined>> => {
      try {
        for (;;) {
          const item = await source.next();
          if (item.done || stopped || socket.readyState !== socket.OPEN) return { done: true, value: undefined };
          if (unsent() > MAX_BUFFERED_BYTES) throw new ResumeRequiredError(lastSequence);
          const payload = payloadOf(args, key, item.value as object);
          send([item.value as object], [(payload instanceof Promise ? await payload : payload).bytes]);
        }
      } catch (error) {
        return { done: false, value: { errors: [toClientError(error)] } };
      }
    })();
    let finished = false;
    const iterator: AsyncIterableIterator<ExecutionResult> = {
      [Symbol.asyncIterator]: () => iterator,
      async next() {
        if (finished) return { done: true, value: undefined };
        finished = true;
        return pumped;
      },
      async return() {
        stopped = true;
        finished = true;
        await source.return?.();
        return { done: true, value: undefined };
      },
    };
    return iterator;
  }

  /** Results one by one, each executed once for all subscribers (SSE, or graphql-ws without a socket). */
  function results(source: AsyncIterator<unknown>, args: ExecutionArgs): AsyncIterableIterator<ExecutionResult> {
    const key = operationKey(args);
    let done = false;
    const iterator: AsyncIterableIterator<ExecutionResult> = {
      [Symbol.asyncIterator]: () => iterator,
      async next() {
        if (done) return { done: true, value: undefined };
        try {
          const item = await source.next();
          if (item.done) {
            done = true;
            return { done: true, value: undefined };
          }
          return { done: false, value: JSON.parse((await payloadOf(args, key, item.value as object)).text) as ExecutionResult };
        } catch (error) {
          done = true;
          return { done: false, value: { errors: [toClientError(error)] } };
        }
      },
      async return() {
        done = true;
        await source.return?.();
        return { done: true, value: undefined };
      },
    };
    return iterator;
  }

  return async function subscribe(args: ExecutionArgs, subscribe: (args: ExecutionArgs) => unknown, delivery?: Delivery) {
    if (!shares(args)) return subscribe(args);
    const source = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in Object(source))) {
      const failed = source as ExecutionResult;
      return { errors: (failed.errors ?? []).map(toClientError) };
    }
    const iterator = (source as AsyncIterable<unknown>)[Symbol.asyncIterator]();
    return delivery ? deliver(iterator, args, delivery) : results(iterator, args);
  };
}

/**
 * Writes to a connection made in one turn of the event loop leave in one system call: the connection is
 * corked before its first write and uncorked once the turn's I/O is done. A quiet room's event still
 * goes out at once; a subscriber who fell behind gets all its waiting events in one write instead of one
 * write (and, on loopback, one wake-up of the reader) each. The kernel's cost per write was the largest
 * part of fan-out (bench:fanout).
 */
function corkSoon(connection: Socket) {
  if (corked.has(connection)) return;
  connection.cork();
  corked.add(connection);
  if (corked.size === 1) setImmediate(uncorkAll);
}

const corked = new Set<Socket>();

function uncorkAll() {
  for (const connection of corked) connection.uncork();
  corked.clear();
}

const sequenceOf = (item: unknown): number | undefined => {
  const value = item as { event?: { sequence?: number }; sequence?: number };
  return value.event?.sequence ?? value.sequence;
};

/** Subscribers with equal keys get byte-identical results. */
const operationKey = (args: ExecutionArgs) => `${documentId(args.document)}|${args.operationName ?? ''}|${JSON.stringify(args.variableValues ?? {})}`;

// Yoga caches parsed documents, so subscribers sending the same operation share one document object.
const documentIds = new WeakMap<object, number>();
let nextDocumentId = 0;
function documentId(document: object): number {
  let id = documentIds.get(document);
  if (id === undefined) documentIds.set(document, (id = nextDocumentId++));
  return id;
}
