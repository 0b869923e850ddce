import { describe, expect, test } from 'vitest';
import { ok } from '../support/graphql.js';
import { startTestServer } from '../support/server.js';
import { createUser, tokenFor } from '../support/users.js';
import { publishUntilReceived } from '../support/wait.js';
import { bearer, openSocket, subscribe } from '../support/ws.js';
import { UpdateProfile, UserUpdated } from './profile-documents.js';

const redisUrl = process.env.REDIS_URL;

describe.skipIf(!redisUrl)('two instances sharing Redis', () => {
  test('a save on one instance reaches a subscriber connected to the other', async () => {
    const first = await startTestServer({ redisUrl });
    const second = await startTestServer({ database: first.database, redisUrl });
    const user = await createUser(first.db, { displayName: 'Before' });
    const token = await tokenFor(user);

    const socket = openSocket(second.url, bearer(token));
    const updates = subscribe(socket, UserUpdated);
    const received = await publishUntilReceived(
      () => ok(first.url, UpdateProfile, { input: { displayName: 'Saved On A' } }, { token }),
      updates.results,
      (result) => result.data?.userUpdated.displayName === 'Saved On A',
    );

    expect(received.errors).toBeUndefined();
    expect(received.data?.userUpdated).toMatchObject({ handle: user.handle, displayName: 'Saved On A' });
  });
});
