import { describe, expect, test } from 'vitest';
import { createAuth } from '../../src/edge/auth.js';
import { ok } from '../support/graphql.js';
import { startTestServer, TEST_JWT_SECRET } from '../support/server.js';
import { createUser, tokenFor } from '../support/users.js';
import { publishUntilReceived } from '../support/wait.js';
import { bearer, openSocket, subscribe } from '../support/ws.js';
import { UpdateProfile, UserUpdated } from './profile-documents.js';

const server = await startTestServer();

describe('live profile updates over graphql-ws', () => {
  test('a signed-in user sees their own profile change as soon as they save it', async () => {
    const user = await createUser(server.db, { displayName: 'Before' });
    const token = await tokenFor(user);
    const socket = openSocket(server.url, bearer(token));
    const updates = subscribe(socket, UserUpdated);

    const received = await publishUntilReceived(
      () => ok(server.url, UpdateProfile, { input: { displayName: 'Ada Lovelace', country: 'gb' } }, { token }),
      updates.results,
      (result) => result.data?.userUpdated.displayName === 'Ada Lovelace',
    );

    expect(received.errors).toBeUndefined();
    // A new country waits out its cooling-off (COUNTRY_COOLING_OFF_HOURS) before it applies.
    expect(received.data?.userUpdated).toMatchObject({ handle: user.handle, displayName: 'Ada Lovelace', country: 'US', pendingCountry: 'GB' });
    updates.unsubscribe();
  });

  test.each([
    ['a token signed with another key', createAuth('another-secret-another-secret-another-secret', 3600), /signature/],
    ['an expired token', createAuth(TEST_JWT_SECRET, -60), /expired/],
  ])('%s closes the connection with 4401 and a reason naming the problem', async (_case, issuer, problem) => {
    const user = await createUser(server.db);
    const socket = openSocket(server.url, bearer(await issuer.issueToken({ userId: user.id })));
    expect(await socket.nextClose()).toEqual({ code: 4401, reason: expect.stringMatching(problem) });
  });

  test('an Authorization that is not "Bearer <token>" closes the connection with 4401 and says so', async () => {
    const socket = openSocket(server.url, { authorization: 'Token abc' });
    expect(await socket.nextClose()).toEqual({ code: 4401, reason: 'The Authorization header must be "Bearer <token>"' });
  });

  test('an anonymous subscription to a profile is refused with UNAUTHENTICATED', async () => {
    const socket = openSocket(server.url);
    await socket.connected;
    const updates = subscribe(socket, UserUpdated);

    const refused = await updates.next();
    expect(refused.data ?? null).toBeNull();
    expect(refused.errors).toHaveLength(1);
    expect(refused.errors?.[0]).toMatchObject({ path: ['userUpdated'], extensions: { code: 'UNAUTHENTICATED' } });
    expect(await updates.ended).toEqual({});
  });

  test('a malformed subscription is answered with a syntax error and the connection carries on', async () => {
    const user = await createUser(server.db);
    const token = await tokenFor(user);
    const socket = openSocket(server.url, bearer(token));

    const broken = subscribe(socket, 'subscription { userUpdated { id ');
    const { error } = await broken.ended;
    expect(error).toEqual([expect.objectContaining({ message: expect.stringMatching(/^Syntax Error: /) })]);

    // Same socket, next subscription: it still delivers.
    const updates = subscribe(socket, UserUpdated);
    const received = await publishUntilReceived(
      () => ok(server.url, UpdateProfile, { input: { displayName: 'Still Here' } }, { token }),
      updates.results,
      (result) => result.data?.userUpdated.displayName === 'Still Here',
    );
    expect(received.data?.userUpdated.handle).toBe(user.handle);
  });
});
