import type { FormattedExecutionResult } from 'graphql';
import { describe, expect, test } from 'vitest';
import type { UserUpdatedSubscription } from '../generated/graphql.js';
import { ok } from '../support/graphql.js';
import { startTestServer } from '../support/server.js';
import { subscribeOverSse, type SseFrame } from '../support/sse.js';
import { createUser, tokenFor } from '../support/users.js';
import { publishUntilReceived } from '../support/wait.js';
import { UpdateProfile, UserUpdated } from './profile-documents.js';

const server = await startTestServer();

const result = (frame: SseFrame) => JSON.parse(frame.data) as FormattedExecutionResult<UserUpdatedSubscription>;

describe('live profile updates over Server-Sent Events', () => {
  test('a signed-in user streams their profile changes on the same /graphql path', async () => {
    const user = await createUser(server.db, { displayName: 'Before' });
    const token = await tokenFor(user);
    const stream = await subscribeOverSse(server.url, UserUpdated, {}, { token });
    expect(stream.status).toBe(200);
    expect(stream.contentType).toMatch(/^text\/event-stream/);

    const frame = await publishUntilReceived(
      () => ok(server.url, UpdateProfile, { input: { displayName: 'Grace Hopper' } }, { token }),
      stream.frames,
      (frame) => frame.event === 'next' && result(frame).data?.userUpdated.displayName === 'Grace Hopper',
    );

    expect(result(frame)).toEqual({ data: { userUpdated: { id: expect.any(String), handle: user.handle, displayName: 'Grace Hopper', country: 'US', pendingCountry: null } } });
    stream.close();
  });

  test('an anonymous SSE subscription is refused with UNAUTHENTICATED and the stream completes', async () => {
    const stream = await subscribeOverSse(server.url, UserUpdated, {});
    expect(stream.status).toBe(401);

    const refused = await stream.frames.next();
    expect(refused.event).toBe('next');
    expect(result(refused).errors?.[0]).toMatchObject({ path: ['userUpdated'], extensions: { code: 'UNAUTHENTICATED' } });
    expect(await stream.frames.next()).toEqual({ event: 'complete', data: '' });
  });
});
