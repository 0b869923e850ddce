import { randomUUID } from 'node:crypto';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { describe, expect, test } from 'vitest';
import { gid } from '../support/gifting.js';
import { post } from '../support/graphql.js';
import { ERROR_LEVEL, recordingLogger } from '../support/logs.js';
import { createFundedViewer } from '../support/money.js';
import { startTestServer } from '../support/server.js';
import { createUser, tokenFor } from '../support/users.js';

// Relay's object lookup: `node(id:)` answers the object with that id, and null when there is none the
// caller may see (Relay's own rule), whatever the id holds; `nodes(ids:)` does the same for a list.

const { log, lines } = recordingLogger();
const server = await startTestServer({ log });
const { db } = server;

const NodeById = 'query NodeById($id: ID!) { node(id: $id) { __typename id } }';
const NodesByIds = 'query NodesByIds($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }';
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const errorLines = () => lines.filter((line) => line.level >= ERROR_LEVEL);

const namesNothing: [string, string][] = [
  ['an unknown user', gid('User', randomUUID())],
  ['an unknown live session', gid('LiveSession', randomUUID())],
  ['an unknown wallet line', encodeGlobalID('WalletActivity', '900719925474099')],
  ['an id of a type that is not a Node', encodeGlobalID('Wallet', randomUUID())],
  ['an id of a type the API does not have', encodeGlobalID('Account', randomUUID())],
  ['a record id of the wrong shape', encodeGlobalID('User', '42')],
  ['something that is not a global id', 'not-an-id'],
];

describe('an id that names nothing', () => {
  test.each(namesNothing)('%s is null, with no error and no error logged', async (_case, id) => {
    const reply = await post(server.url, NodeById, {}, { id });
    expect(reply.errors).toBeUndefined();
    expect(reply.data).toEqual({ node: null });
    expect(errorLines()).toEqual([]);
  });

  test('nodes(ids:) answers each id in its place: the object, or null', async () => {
    const user = await createUser(db);
    const ids = [gid('User', user.id), ...namesNothing.map(([, id]) => id), gid('User', user.id)];
    const reply = await post(server.url, NodesByIds, {}, { ids });
    expect(reply.errors).toBeUndefined();
    const found = { __typename: 'User', id: gid('User', user.id) };
    expect(reply.data).toEqual({ nodes: [found, ...namesNothing.map(() => null), found] });
    expect(errorLines()).toEqual([]);
  });
});

describe('nodes(ids:)', () => {
  test('takes 100 ids; 101 are refused as invalid input before anything is looked up', async () => {
    const ids = (count: number) => Array.from({ length: count }, () => gid('User', randomUUID()));
    const hundred = await post(server.url, NodesByIds, {}, { ids: ids(100) });
    expect(hundred.errors).toBeUndefined();
    expect(hundred.data).toEqual({ nodes: Array.from({ length: 100 }, () => null) });

    const tooMany = await post(server.url, NodesByIds, {}, { ids: ids(101) });
    expect(tooMany.data).toBeNull();
    expect(tooMany.errors).toEqual([expect.objectContaining({ message: 'ids: at most 100 at once', extensions: { code: 'VALIDATION_FAILED' } })]);
  });
});

describe('a wallet line (WalletActivity)', () => {
  test('its id finds it for its owner; for anyone else, signed in or not, it is null', async () => {
    const owner = await createFundedViewer(db, 70n);
    const ownerToken = await tokenFor(owner);
    const history = await post(server.url, '{ wallet { history(first: 1) { edges { node { id amount kind } } } } }', bearer(ownerToken));
    const line = (history.data as { wallet: { history: { edges: { node: { id: string; amount: string; kind: string } }[] } } }).wallet.history.edges[0]!.node;
    expect(line).toMatchObject({ amount: '70', kind: 'PURCHASE' });

    const WalletLine = 'query WalletLine($id: ID!) { node(id: $id) { __typename id ... on WalletActivity { amount kind } } }';
    const asOwner = await post(server.url, WalletLine, bearer(ownerToken), { id: line.id });
    expect(asOwner.errors).toBeUndefined();
    expect(asOwner.data).toEqual({ node: { __typename: 'WalletActivity', ...line } });
    const inList = await post(server.url, NodesByIds, bearer(ownerToken), { ids: [line.id] });
    expect(inList.data).toEqual({ nodes: [{ __typename: 'WalletActivity', id: line.id }] });

    const stranger = await tokenFor(await createFundedViewer(db, 70n));
    for (const headers of [bearer(stranger), {}]) {
      const peek = await post(server.url, WalletLine, headers, { id: line.id });
      expect(peek.errors).toBeUndefined();
      expect(peek.data).toEqual({ node: null });
      expect((await post(server.url, NodesByIds, headers, { ids: [line.id] })).data).toEqual({ nodes: [null] });
    }
    expect(errorLines()).toEqual([]);
  });
});
