import { describe, expect, test } from 'vitest';
import { createAuth } from '../../src/edge/auth.js';
import { Role } from '../../src/generated/prisma/client.js';
import { globalId } from '../../src/schema/ids.js';
import { UserUpdated } from '../realtime/profile-documents.js';
import { post } from '../support/graphql.js';
import { startTestServer, TEST_JWT_SECRET } from '../support/server.js';
import { createUser, tokenFor } from '../support/users.js';
import { bearer, openSocket, subscribe } from '../support/ws.js';

// A suspended account can do nothing signed in, anywhere, from the moment it is suspended.

const SUSPEND = `mutation ($input: SuspendAccountInput!) { suspendAccount(input: $input) { __typename ... on Error { code } } }`;
const LIFT = `mutation ($input: LiftSuspensionInput!) { liftSuspension(input: $input) { __typename ... on Error { code } } }`;

const server = await startTestServer();
const { db } = server;
const admin = await createUser(db, { roles: [Role.VIEWER, Role.ADMIN] });
const adminAuth = { authorization: `Bearer ${await tokenFor(admin)}` };
const as = (user: { id: string }, reason: string) => ({ input: { userId: globalId('User', user.id), reason } });

describe('suspension', () => {
  test('blocks every signed-in operation over HTTP (403 ACCOUNT_SUSPENDED), closes open sockets with 4403, refuses new ones; lifting restores it', async () => {
    const user = await createUser(db);
    const token = await tokenFor(user);
    expect((await post(server.url, '{ me { id } }', bearer(token) as Record<string, string>)).data).toEqual({ me: { id: globalId('User', user.id) } });
    const socket = openSocket(server.url, bearer(token));
    await socket.connected;
    subscribe(socket, UserUpdated);

    expect((await post(server.url, SUSPEND, adminAuth, as(user, 'fraud review'))).data).toEqual({ suspendAccount: { __typename: 'User' } });

    expect(await socket.nextClose()).toEqual({ code: 4403, reason: 'This account is suspended' });
    const refused = await post(server.url, '{ me { id } }', { authorization: `Bearer ${token}` });
    expect(refused.status).toBe(403);
    expect(refused.errors?.[0]?.extensions?.code).toBe('ACCOUNT_SUSPENDED');
    expect(await openSocket(server.url, bearer(token)).nextClose()).toEqual({ code: 4403, reason: 'This account is suspended' });

    expect((await post(server.url, LIFT, adminAuth, as(user, 'cleared'))).data).toEqual({ liftSuspension: { __typename: 'User' } });
    expect((await post(server.url, '{ me { id } }', { authorization: `Bearer ${token}` })).status).toBe(200);
    const again = openSocket(server.url, bearer(token));
    await again.connected;

    const history = await db.suspensionChange.findMany({ where: { userId: user.id }, orderBy: { createdAt: 'asc' } });
    expect(history.map(({ suspended, reason, adminId }) => ({ suspended, reason, adminId }))).toEqual([
      { suspended: true, reason: 'fraud review', adminId: admin.id },
      { suspended: false, reason: 'cleared', adminId: admin.id },
    ]);
  });

  test('a graphql-ws socket closes with 4401 when its token expires', async () => {
    const user = await createUser(db);
    const shortLived = await createAuth(TEST_JWT_SECRET, 2).issueToken({ userId: user.id });
    const socket = openSocket(server.url, bearer(shortLived));
    await socket.connected;
    expect(await socket.nextClose(5_000)).toEqual({ code: 4401, reason: 'The token has expired' });
  });
});
