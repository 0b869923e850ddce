import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { getIntrospectionQuery, isObjectType, parse, print } from 'graphql';
import { describe, expect, test } from 'vitest';
import { DEFAULT_MAX_COST, QUERY_LIMITS } from '../../src/edge/query-limits.js';
import { MAX_SUBSCRIPTIONS_PER_CONNECTION } from '../../src/edge/server.js';
import { schema } from '../../src/schema/index.js';
import { UpdateProfile, UserUpdated } from '../realtime/profile-documents.js';
import { RoomPage } from '../rooms/documents.js';
import { gid } from '../support/gifting.js';
import { ok, post } from '../support/graphql.js';
import { createLiveCreator } from '../support/money.js';
import { startTestServer } from '../support/server.js';
import { subscribeOverSse } from '../support/sse.js';
import { createUser, tokenFor } from '../support/users.js';
import { publishUntilReceived, within } from '../support/wait.js';
import { bearer, openSocket, subscribe } from '../support/ws.js';

// A public GraphQL API answers whatever a client can write. Documents nested too deep, repeating a field
// under too many aliases, simply too long, or asking for too many objects are refused before anything
// runs, whichever way they come.

const server = await startTestServer();
const creator = await createUser(server.database.db, { handle: 'nested_creator' });
const { session } = await createLiveCreator(server.db);
const sessionId = gid('LiveSession', session.id);

/** A user's live session's creator's live session's creator...: `levels` fields deep, `__typename` the last. */
function nested(levels: number, root = `user(handle: "${creator.handle}")`): string {
  const cycle = ['currentLiveSession', 'creator'];
  let selection = '__typename';
  for (let level = levels - 2; level >= 1; level--) selection = `${cycle[(level - 1) % 2]} { ${selection} }`;
  return `{ ${root} { ${selection} } }`;
}

// Modern clients ask for graphql-response+json, which answers an invalid document with 400.
const query = (document: string) => post(server.url, document, { accept: 'application/graphql-response+json' });

describe('over HTTP', () => {
  test(`a query ${QUERY_LIMITS.depth} fields deep is answered`, async () => {
    const reply = await query(nested(QUERY_LIMITS.depth));
    expect(reply.errors).toBeUndefined();
    expect(reply.data).toEqual({ user: { currentLiveSession: null } });
  });

  test(`one level deeper is refused before it runs, with an error naming the limit`, async () => {
    const reply = await query(nested(QUERY_LIMITS.depth + 1));
    expect(reply.data).toBeUndefined();
    expect(reply.errors).toEqual([
      expect.objectContaining({
        message: `Syntax Error: Query depth limit of ${QUERY_LIMITS.depth} exceeded, found ${QUERY_LIMITS.depth + 1}.`,
        extensions: expect.objectContaining({ code: 'GRAPHQL_VALIDATION_FAILED' }),
      }),
    ]);
    expect(reply.status).toBe(400);
  });

  test('fragments do not count as depth', async () => {
    const reply = await query(`{ ...A } fragment A on Query { ...B } fragment B on Query { ${nested(QUERY_LIMITS.depth).slice(2, -2)} }`);
    expect(reply.errors).toBeUndefined();
  });

  test(`${QUERY_LIMITS.aliases} aliases are answered; one more is refused`, async () => {
    const aliased = (count: number) => `{ ${Array.from({ length: count }, (_, i) => `g${i}: gifts { id }`).join(' ')} }`;
    expect((await query(aliased(QUERY_LIMITS.aliases))).errors).toBeUndefined();

    const reply = await query(aliased(QUERY_LIMITS.aliases + 1));
    expect(reply.status).toBe(400);
    expect(reply.data).toBeUndefined();
    expect(reply.errors).toEqual([
      expect.objectContaining({
        message: `Syntax Error: Aliases limit of ${QUERY_LIMITS.aliases} exceeded, found ${QUERY_LIMITS.aliases + 1}.`,
        extensions: expect.objectContaining({ code: 'GRAPHQL_VALIDATION_FAILED' }),
      }),
    ]);
  });

  test(`a document of more than ${QUERY_LIMITS.tokens} tokens is refused when parsed`, async () => {
    const reply = await query(`{ gifts { ${'id '.repeat(QUERY_LIMITS.tokens)}} }`);
    expect(reply.status).toBe(400);
    expect(reply.data).toBeUndefined();
    expect(reply.errors).toEqual([
      expect.objectContaining({
        message: `Syntax Error: Token limit of ${QUERY_LIMITS.tokens} exceeded.`,
        extensions: expect.objectContaining({ code: 'GRAPHQL_PARSE_FAILED' }),
      }),
    ]);
  });

  test("GraphiQL's introspection query is answered (in development, where GraphiQL is)", async () => {
    const development = await startTestServer({ env: 'development', database: server.database });
    const document = getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, inputValueDeprecation: true });
    const reply = await post(development.url, document, { accept: 'application/graphql-response+json' });
    expect(reply.errors).toBeUndefined();
  });
});

describe('over graphql-ws', () => {
  test('a subscription nested too deep is refused when subscribing, with the same error, and the connection stays open', async () => {
    const viewer = await createUser(server.database.db);
    const client = openSocket(server.url, bearer(await tokenFor(viewer)));
    await client.connected;
    const subscription = subscribe(client, `subscription ${nested(QUERY_LIMITS.depth + 1, 'userUpdated')}`);
    const { error } = await subscription.ended;
    expect(error).toEqual([
      expect.objectContaining({
        message: `Syntax Error: Query depth limit of ${QUERY_LIMITS.depth} exceeded, found ${QUERY_LIMITS.depth + 1}.`,
        extensions: expect.objectContaining({ code: 'GRAPHQL_VALIDATION_FAILED' }),
      }),
    ]);
    expect(await subscribe(client, nested(QUERY_LIMITS.depth)).next()).toEqual({ data: { user: { currentLiveSession: null } } });
  });

  test(`a connection holds at most ${MAX_SUBSCRIPTIONS_PER_CONNECTION} subscriptions: one more is refused, and completing one makes room`, async () => {
    const viewer = await createUser(server.database.db);
    const token = await tokenFor(viewer);
    const client = openSocket(server.url, bearer(token));
    await client.connected;
    const held = Array.from({ length: MAX_SUBSCRIPTIONS_PER_CONNECTION }, () => subscribe(client, UserUpdated));

    const { error } = await within(subscribe(client, UserUpdated).ended, 'the subscription over the limit to be refused', 10_000);
    expect(error).toEqual([
      expect.objectContaining({
        message: `A connection may hold at most ${MAX_SUBSCRIPTIONS_PER_CONNECTION} subscriptions at once: complete one first`,
        extensions: { code: 'TOO_MANY_SUBSCRIPTIONS' },
      }),
    ]);

    held[0]!.unsubscribe();
    const replacement = subscribe(client, UserUpdated);
    const update = { input: { displayName: 'Room Made' } };
    const received = await publishUntilReceived(() => ok(server.url, UpdateProfile, update, { token }), replacement.results, (result) => result.data?.userUpdated.displayName === 'Room Made');
    expect(received.errors).toBeUndefined();
    // The ones held all along still run.
    expect((await held.at(-1)!.next()).data?.userUpdated.displayName).toBe('Room Made');
  });
});

describe('query cost', () => {
  // Each level of a room's latest gifts leads back to the room: 40 × 40 × 40 gifts in 200 bytes.
  const GiftsOfGiftsOfGifts = `{ liveSession(id: "${sessionId}") { recentGifts(last: 40) { liveSession { recentGifts(last: 40) { liveSession { recentGifts(last: 40) { id } } } } } } }`;
  const costRefusal = (cost: number, limit = DEFAULT_MAX_COST) =>
    expect.objectContaining({
      message: `Query cost of ${cost} exceeds the limit of ${limit}: ask for fewer items (first, last, ids) or nest fewer lists.`,
      extensions: expect.objectContaining({ code: 'GRAPHQL_VALIDATION_FAILED' }),
    });

  test('every field that takes `first` or `last` is costed by what they ask for', () => {
    const fields = Object.values(schema.getTypeMap()).flatMap((type) => (isObjectType(type) ? Object.values(type.getFields()).map((field) => ({ type, field })) : []));
    const sized = fields.filter(({ field }) => field.args.some(({ name }) => name === 'first' || name === 'last'));
    expect(sized.length).toBeGreaterThan(0);
    expect(sized.filter(({ field }) => typeof field.extensions.complexity !== 'function').map(({ type, field }) => `${type.name}.${field.name}`)).toEqual([]);
  });

  test('lists nested in lists are refused before anything runs, with an error naming the cost and the limit', async () => {
    const reply = await query(GiftsOfGiftsOfGifts);
    expect(reply.status).toBe(400);
    expect(reply.data).toBeUndefined();
    expect(reply.errors).toEqual([costRefusal(67_282)]);
  });

  test('the cost counts what `first` and `last` ask for: one document is answered or refused by its variables, each time', async () => {
    const GiftersGifts = `query GiftersGifts($id: ID!, $gifters: Int, $gifts: Int!) {
      liveSession(id: $id) { topGifters(first: $gifters) { edges { node { user { currentLiveSession { recentGifts(last: $gifts) { id } } } } } } }
    }`;
    const ask = (gifters: number, gifts = 100) => post(server.url, GiftersGifts, {}, { id: sessionId, gifters, gifts });
    expect((await ask(10)).errors).toBeUndefined();
    expect((await ask(100)).errors).toEqual([costRefusal(10_502)]);
    // The refusal was this request's, not the document's.
    expect((await ask(10)).errors).toBeUndefined();
    // A connection counts its page at most (Pothos returns 100 at most); so does recentGifts.
    expect((await ask(100_000, 1)).errors).toBeUndefined();
  });

  test('a document whose cost no variable sizes costs the same every time, each of its operations its own', async () => {
    const SmallAndLarge = `query Small($id: ID!) { liveSession(id: $id) { id } }
      query Large($id: ID!) { liveSession(id: $id) { recentGifts(last: 40) { liveSession { recentGifts(last: 40) { liveSession { recentGifts(last: 40) { id } } } } } } }`;
    const ask = async (operationName: string) => {
      const response = await fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: SmallAndLarge, operationName, variables: { id: sessionId } }),
      });
      return ((await response.json()) as { errors?: unknown[] }).errors;
    };
    for (let time = 0; time < 2; time++) {
      expect(await ask('Small')).toBeUndefined();
      expect(await ask('Large')).toEqual([costRefusal(67_282)]);
    }
  });

  test('nodes(ids:) counts each id', async () => {
    const ids = Array.from({ length: 100 }, () => sessionId);
    const NodesGifts = 'query NodesGifts($ids: [ID!]!, $gifts: Int!) { nodes(ids: $ids) { ... on LiveSession { recentGifts(last: $gifts) { id } } } }';
    expect((await post(server.url, NodesGifts, {}, { ids, gifts: 10 })).errors).toBeUndefined();
    expect((await post(server.url, NodesGifts, {}, { ids, gifts: 100 })).errors).toEqual([costRefusal(10_101)]);
  });

  test(`the room page query costs 3,325 at its largest (100 gifters, 100 gifts): answered under the default limit of ${DEFAULT_MAX_COST}, refused under GRAPHQL_MAX_COST=3324`, async () => {
    const variables = { id: sessionId, gifters: 100, gifts: 100 };
    expect((await ok(server.url, RoomPage, variables)).liveSession?.id).toBe(sessionId);

    const strict = await startTestServer({ database: server.database, variables: { GRAPHQL_MAX_COST: '3324' } });
    expect((await post(strict.url, print(RoomPage), {}, variables)).errors).toEqual([costRefusal(3325, 3324)]);
    // As it opens (10 gifters, 50 gifts) it costs 1,115.
    expect((await ok(strict.url, RoomPage, { id: sessionId })).liveSession?.id).toBe(sessionId);
  });

  const WatchedProfileGifts = `subscription { userUpdated { currentLiveSession { recentGifts(last: 100) { liveSession { recentGifts(last: 100) { id } } } } } }`;

  test('a subscription over the limit is refused over SSE before it starts', async () => {
    const viewer = await createUser(server.db);
    const stream = await subscribeOverSse(server.url, parse(WatchedProfileGifts) as TypedDocumentNode<unknown, Record<string, never>>, {}, { token: await tokenFor(viewer) });
    const refused = await stream.frames.next();
    expect(JSON.parse(refused.data)).toEqual({ errors: [costRefusal(10_203)] });
    expect(await stream.frames.next()).toEqual({ event: 'complete', data: '' });
  });

  test('over graphql-ws too, when subscribing, and the connection stays open', async () => {
    const viewer = await createUser(server.db);
    const client = openSocket(server.url, bearer(await tokenFor(viewer)));
    await client.connected;
    expect((await subscribe(client, WatchedProfileGifts).ended).error).toEqual([costRefusal(10_203)]);
    expect((await subscribe(client, GiftsOfGiftsOfGifts).ended).error).toEqual([costRefusal(67_282)]);
    expect(await subscribe(client, `{ liveSession(id: "${sessionId}") { recentGifts(last: 100) { id } } }`).next()).toEqual({ data: { liveSession: { recentGifts: [] } } });
  });
});
