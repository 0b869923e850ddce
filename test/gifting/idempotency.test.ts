import { describe, expect, test } from 'vitest';
import { OvationError } from '../../src/domain/errors.js';
import { createGiftSender } from '../../src/domain/gifting.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { ok } from '../support/graphql.js';
import { countTypes, gid, moneySnapshot, settleAll } from '../support/gifting.js';
import { balances, createCatalogGift, createFundedViewer, createLiveCreator, expectCleanAudit, fundWallet, uniqueKey } from '../support/money.js';
import { startTestServer } from '../support/server.js';
import { tokenFor } from '../support/users.js';
import { SendGift } from './documents.js';

const server = await startTestServer();
const { db } = server;

const [rose, heart] = await Promise.all([createCatalogGift(db, 1n, { name: 'Rose' }), createCatalogGift(db, 5n, { name: 'Finger Heart' })]);

const giftEntries = (senderId: string) => db.sentGift.count({ where: { senderId } });

describe('a retried gift with the same idempotency key', () => {
  test('sent 10 times at once, it moves money once and all ten get the same gift back', async () => {
    const viewer = await createFundedViewer(db, 10n);
    const { creator, session } = await createLiveCreator(db);
    const token = await tokenFor(viewer);
    const input = { liveSessionId: gid('LiveSession', session.id), giftId: gid('Gift', heart!.id), idempotencyKey: uniqueKey('retry') };
    const journalBefore = await db.journalEntry.count();

    const responses = await Promise.all(Array.from({ length: 10 }, () => ok(server.url, SendGift, { input }, { token })));

    expect(countTypes(responses.map((response) => response.sendGift))).toEqual({ SentGift: 10 });
    expect(new Set(responses.map((response) => JSON.stringify(response.sendGift))).size).toBe(1);
    const [sent] = await db.sentGift.findMany({ where: { senderId: viewer.id } });
    expect(responses[0]!.sendGift).toMatchObject({ id: gid('SentGift', sent!.id), coins: '5', diamonds: '5' });
    expect(await giftEntries(viewer.id)).toBe(1);
    expect(await db.journalEntry.count()).toBe(journalBefore + 1);
    expect(await db.idempotencyKey.count({ where: { callerId: viewer.id, operation: 'sendGift' } })).toBe(1);
    expect(await balances(db, viewer)).toEqual({ coins: 5n, diamonds: 0n });
    expect(await balances(db, creator)).toEqual({ coins: 0n, diamonds: 5n });
    await expectCleanAudit(db);
  });

  test('reused with different input, it is a typed conflict and moves nothing; the original input still replays', async () => {
    const viewer = await createFundedViewer(db, 50n);
    const { session } = await createLiveCreator(db);
    const other = await createLiveCreator(db);
    const token = await tokenFor(viewer);
    const input = { liveSessionId: gid('LiveSession', session.id), giftId: gid('Gift', heart!.id), quantity: 1, idempotencyKey: uniqueKey('reuse') };
    const first = await ok(server.url, SendGift, { input }, { token });
    expect(first.sendGift.__typename).toBe('SentGift');
    const before = await moneySnapshot(db);

    for (const changed of [
      { ...input, quantity: 2 },
      { ...input, giftId: gid('Gift', rose!.id) },
      { ...input, liveSessionId: gid('LiveSession', other.session.id) },
      { ...input, comboId: 'streak-1' },
    ]) {
      const { sendGift } = await ok(server.url, SendGift, { input: changed }, { token });
      expect(sendGift).toMatchObject({ __typename: 'IdempotencyConflictError', code: 'IDEMPOTENCY_CONFLICT' });
    }
    expect(await moneySnapshot(db)).toEqual(before);

    const again = await ok(server.url, SendGift, { input }, { token });
    expect(again.sendGift).toEqual(first.sendGift);
    expect(await moneySnapshot(db)).toEqual(before);
    await expectCleanAudit(db);
  });

  test('a key is unique per caller: two viewers using the same key each send their own gift', async () => {
    const [alice, bob] = await Promise.all([createFundedViewer(db, 5n), createFundedViewer(db, 5n)]);
    const { creator, session } = await createLiveCreator(db);
    const input = { liveSessionId: gid('LiveSession', session.id), giftId: gid('Gift', heart!.id), idempotencyKey: 'my-first-gift' };

    const [fromAlice, fromBob] = await Promise.all([
      ok(server.url, SendGift, { input }, { token: await tokenFor(alice!) }),
      ok(server.url, SendGift, { input }, { token: await tokenFor(bob!) }),
    ]);

    expect(fromAlice.sendGift.__typename).toBe('SentGift');
    expect(fromBob.sendGift.__typename).toBe('SentGift');
    expect(fromAlice.sendGift).not.toEqual(fromBob.sendGift);
    expect(await balances(db, creator)).toEqual({ coins: 0n, diamonds: 10n });
    await expectCleanAudit(db);
  });

  test('a refused first call is the answer for that key: topping up the wallet does not change it', async () => {
    const viewer = await createFundedViewer(db, 3n);
    const { creator, session } = await createLiveCreator(db);
    const token = await tokenFor(viewer);
    const input = { liveSessionId: gid('LiveSession', session.id), giftId: gid('Gift', heart!.id), idempotencyKey: uniqueKey('refused') };

    const first = await ok(server.url, SendGift, { input }, { token });
    expect(first.sendGift).toMatchObject({ __typename: 'InsufficientCoinsError', code: 'INSUFFICIENT_COINS', neededCoins: '5', balanceCoins: '3' });

    await fundWallet(db, viewer, 100n);
    const before = await moneySnapshot(db);
    const retried = await Promise.all(Array.from({ length: 3 }, () => ok(server.url, SendGift, { input }, { token })));
    for (const { sendGift } of retried) expect(sendGift).toEqual(first.sendGift);
    expect(await moneySnapshot(db)).toEqual(before);
    expect(await giftEntries(viewer.id)).toBe(0);

    const fresh = await ok(server.url, SendGift, { input: { ...input, idempotencyKey: uniqueKey('fresh') } }, { token });
    expect(fresh.sendGift.__typename).toBe('SentGift');
    expect(await balances(db, viewer)).toEqual({ coins: 98n, diamonds: 0n });
    expect(await balances(db, creator)).toEqual({ coins: 0n, diamonds: 5n });
    await expectCleanAudit(db);
  });
});

describe('a gift that does not commit', () => {
  test('a refused gift moves nothing: no entry, no gift, no spend, same balances', async () => {
    const viewer = await createFundedViewer(db, 4n);
    const { session } = await createLiveCreator(db);
    const before = await moneySnapshot(db);

    const { sendGift } = await ok(
      server.url,
      SendGift,
      { input: { liveSessionId: gid('LiveSession', session.id), giftId: gid('Gift', heart!.id), idempotencyKey: uniqueKey('short') } },
      { token: await tokenFor(viewer) },
    );

    expect(sendGift.__typename).toBe('InsufficientCoinsError');
    expect(await moneySnapshot(db)).toEqual(before);
    await expectCleanAudit(db);
  });

  test('a gift whose transaction fails part-way is rolled back whole, does not sink the gifts batched with it, and its key stays free', async () => {
    const commits: number[] = [];
    const sender = createGiftSender(db, DEFAULT_POLICY, { maxInFlight: 1, onCommitted: (committed) => commits.push(committed.length) });
    const { creator, session } = await createLiveCreator(db);
    const [first, unlucky, ...others] = await Promise.all(Array.from({ length: 7 }, () => createFundedViewer(db, 10n)));
    // A failure after the ledger entries are written (the gift row insert), as a crash or constraint would cause.
    await db.$executeRawUnsafe(`
      CREATE FUNCTION fail_unlucky_gift() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW."senderId" = '${unlucky!.id}'::uuid THEN RAISE EXCEPTION 'the database failed this gift'; END IF;
        RETURN NEW;
      END $$`);
    await db.$executeRawUnsafe(`CREATE TRIGGER fail_unlucky_gift BEFORE INSERT ON "SentGift" FOR EACH ROW EXECUTE FUNCTION fail_unlucky_gift()`);
    const before = await moneySnapshot(db);
    const unluckyInput = { liveSessionId: session.id, giftId: heart!.id, quantity: 1, idempotencyKey: uniqueKey('unlucky') };

    // One transaction at a time: while the first gift is written, the next six queue up and go in one batch.
    const [, unluckyOutcome, othersOutcome] = await Promise.all([
      sender.send(first!.id, { liveSessionId: session.id, giftId: heart!.id, quantity: 1, idempotencyKey: uniqueKey('first') }),
      settleAll([sender.send(unlucky!.id, unluckyInput)]),
      settleAll(others.map((other) => sender.send(other.id, { liveSessionId: session.id, giftId: heart!.id, quantity: 1, idempotencyKey: uniqueKey('lucky') }))),
    ]);

    expect(unluckyOutcome.errors).toHaveLength(1);
    expect(unluckyOutcome.errors[0]).not.toBeInstanceOf(OvationError);
    expect(String(unluckyOutcome.errors[0])).toContain('the database failed this gift');
    expect(othersOutcome.counts).toEqual({ fulfilled: 5 });
    // Six gifts committed (the first, alone, and the five that were queued with the failing one), none twice.
    expect(commits.reduce((sum, count) => sum + count, 0)).toBe(6);
    const after = await moneySnapshot(db);
    expect(after.journalEntries).toBe(before.journalEntries + 6);
    expect(after.sentGifts).toBe(before.sentGifts + 6);
    expect(await balances(db, unlucky!)).toEqual({ coins: 10n, diamonds: 0n });
    expect(await giftEntries(unlucky!.id)).toBe(0);
    expect(await db.idempotencyKey.count({ where: { callerId: unlucky!.id, operation: 'sendGift' } })).toBe(0);
    expect(await balances(db, creator)).toEqual({ coins: 0n, diamonds: 30n });
    await expectCleanAudit(db);

    // Nothing of the failed attempt was kept, so the client's retry with the same key goes through once.
    await db.$executeRawUnsafe(`DROP TRIGGER fail_unlucky_gift ON "SentGift"`);
    const retried = await sender.send(unlucky!.id, unluckyInput);
    expect(await sender.send(unlucky!.id, unluckyInput)).toEqual(retried);
    expect(await balances(db, unlucky!)).toEqual({ coins: 5n, diamonds: 0n });
    expect(await balances(db, creator)).toEqual({ coins: 0n, diamonds: 35n });
    await expectCleanAudit(db);
  });
});
