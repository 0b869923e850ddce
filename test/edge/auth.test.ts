import { afterEach, describe, expect, it, vi } from 'vitest';
import { createAuth } from '../../src/edge/auth.js';

// A token names the account only: roles are read from the database (src/edge/accounts.ts).
const viewer = { userId: '7f1c8f5e-3d6b-4c1a-9a52-0d7c2f1b6e11' };
const subject = { kind: 'account', userId: viewer.userId, expiresAtMs: new Date('2026-11-22T12:01:00Z').getTime() };

describe('a verified token is trusted again only until it expires', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('accepts the same token twice, then refuses it once expired', async () => {
    vi.useFakeTimers({ now: new Date('2026-11-22T12:00:00Z') });
    const auth = createAuth('a-test-secret-a-test-secret-a-test', 60);
    const token = await auth.issueToken(viewer);
    expect(await auth.verifyToken(token)).toEqual(subject);
    expect(await auth.verifyToken(token)).toEqual(subject);
    vi.setSystemTime(new Date('2026-11-22T12:01:01Z'));
    await expect(auth.verifyToken(token)).rejects.toThrow('The token has expired');
  });

  it('never trusts a token signed with another secret, however often it is shown', async () => {
    const token = await createAuth('another-secret-another-secret-xx', 60).issueToken(viewer);
    const auth = createAuth('a-test-secret-a-test-secret-a-test', 60);
    for (let i = 0; i < 3; i++) await expect(auth.verifyToken(token)).rejects.toThrow('The token signature is invalid');
  });
});
