import { getIntrospectionQuery } from 'graphql';
import { describe, expect, test } from 'vitest';
import { QUERY_LIMITS } from '../../src/edge/query-limits.js';
import { MAX_SUBSCRIPTIONS_PER_CONNECTION } from '../../src/edge/server.js';
import { UpdateProfile, UserUpdated } from '../realtime/profile-documents.js';
import { ok, post } from '../support/graphql.js';
import { startTestServer } from '../support/server.js';
import { createUser, tokenFor } from '../support/users.js';
import { publishUntilReceived, within } from '../support/wait.js';
import { bearer, openSocket, subscribe } from '../support/ws.js';

// A public GraphQL API answers whatever a client can write. Documents nested too deep, repeating a field
// under too many aliases or simply too long are refused before anything runs, whichever way they come.

const server = await startTestServer();
const creator = await createUser(server.database.db, { handle: 'nested_creator' });

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

  test("GraphiQL's introspection query is answered", async () => {
    const reply = await query(getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, inputValueDeprecation: true }));
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
