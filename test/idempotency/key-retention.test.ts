import { describe, expect, test } from 'vitest';
import { LiveSessionEndedError } from '../../src/domain/errors.js';
import { createGiftSender } from '../../src/domain/gifting.js';
import { forgetExpiredKeys } from '../../src/domain/idempotency.js';
import { endLiveSession } from '../../src/domain/live-sessions.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { silentAnnouncer } from '../../src/events/announcer.js';
import { createTestDatabase } from '../support/database.js';
import { balances, createCatalogGift, createFundedViewer, createLiveCreator, expectCleanAudit, uniqueKey } from '../support/money.js';

// A money mutation's idempotency key is kept for a retention period (IDEMPOTENCY_KEY_HOURS, at least
// 24 hours; a week by default): within it a retry replays the first result; after it the key is
// forgotten, so the table does not grow by a row per gift forever, and the same key is a new request.

const { db } = await createTestDatabase();
const KEPT_HOURS = 168;
const gifts = createGiftSender(db, silentAnnouncer, DEFAULT_POLICY);
const { session } = await createLiveCreator(db);
const rose = await createCatalogGift(db, 5n);

const keyAged = (key: string, minutes: number) =>
  db.$executeRaw`UPDATE "IdempotencyKey" SET "createdAt" = now() - make_interval(mins => ${minutes}) WHERE key = ${key}`;
const keyExists = async (key: string) => (await db.idempotencyKey.count({ where: { key } })) === 1;

describe('an idempotency key', () => {
  test('is kept through its retention: a retry a minute before it ends replays the first gift', async () => {
    const viewer = await createFundedViewer(db, 10n);
    const key = uniqueKey();
    const input = { liveSessionId: session.id, giftId: rose.id, quantity: 1, idempotencyKey: key };
    const first = await gifts.send(viewer.id, input);
    await keyAged(key, KEPT_HOURS * 60 - 1);

    await forgetExpiredKeys(db, KEPT_HOURS);

    expect(await keyExists(key)).toBe(true);
    expect(await gifts.send(viewer.id, input)).toEqual(first);
    expect(await balances(db, viewer)).toMatchObject({ coins: 5n });
    await expectCleanAudit(db);
  });

  test('is forgotten after its retention, and the same key is then a new gift', async () => {
    const viewer = await createFundedViewer(db, 10n);
    const key = uniqueKey();
    const input = { liveSessionId: session.id, giftId: rose.id, quantity: 1, idempotencyKey: key };
    const first = await gifts.send(viewer.id, input);
    await keyAged(key, KEPT_HOURS * 60 + 1);

    expect(await forgetExpiredKeys(db, KEPT_HOURS)).toBeGreaterThanOrEqual(1);

    expect(await keyExists(key)).toBe(false);
    const second = await gifts.send(viewer.id, input);
    expect(second.id).not.toBe(first.id);
    expect(await balances(db, viewer)).toMatchObject({ coins: 0n });
    await expectCleanAudit(db);
  });

  test('of a call that never finished is kept, however old', async () => {
    const viewer = await createFundedViewer(db, 0n);
    const key = uniqueKey();
    await db.idempotencyKey.create({ data: { callerId: viewer.id, key, operation: 'sendGift', requestHash: 'unfinished' } });
    await keyAged(key, KEPT_HOURS * 60 * 10);

    await forgetExpiredKeys(db, KEPT_HOURS);

    expect(await keyExists(key)).toBe(true);
  });

  test("of a refusal stored under an error's former name replays it under the current name", async () => {
    const viewer = await createFundedViewer(db, 10n);
    const ended = await createLiveCreator(db);
    await endLiveSession(db, silentAnnouncer, ended.creator.id, ended.session.id);
    const input = { liveSessionId: ended.session.id, giftId: rose.id, quantity: 1, idempotencyKey: uniqueKey() };
    await expect(gifts.send(viewer.id, input)).rejects.toBeInstanceOf(LiveSessionEndedError);
    // As it was stored before LiveSessionEndedError had its name.
    await db.$executeRaw`
      UPDATE "IdempotencyKey" SET outcome = '{"error":{"type":"SessionNotLiveError","code":"SESSION_NOT_LIVE","message":"The live session has ended"}}'
      WHERE key = ${input.idempotencyKey}`;

    const replayed = await gifts.send(viewer.id, input).catch((error: unknown) => error);
    expect(replayed).toBeInstanceOf(LiveSessionEndedError);
    expect(replayed).toMatchObject({ code: 'LIVE_SESSION_ENDED', message: 'The live session has ended' });
  });

  test('expired keys are forgotten however many there are, a batch at a time', async () => {
    const viewer = await createFundedViewer(db, 0n);
    await db.$executeRaw`
      INSERT INTO "IdempotencyKey" ("callerId", key, operation, "requestHash", outcome, "createdAt")
      SELECT ${viewer.id}::uuid, 'old-key-' || n, 'sendGift', 'hash', '{"ok":{}}', now() - interval '200 hours'
      FROM generate_series(1, 12000) AS n`;

    expect(await forgetExpiredKeys(db, KEPT_HOURS)).toBe(12000);
    expect(await db.idempotencyKey.count({ where: { callerId: viewer.id } })).toBe(0);
  });
});
