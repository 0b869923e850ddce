import { describe, expect, test } from 'vitest';
import { InsufficientCoinsError, LiveSessionEndedError, OvationError } from '../../src/domain/errors.js';
import { createGiftSender } from '../../src/domain/gifting.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { silentAnnouncer } from '../../src/events/announcer.js';
import { ok } from '../support/graphql.js';
import { countTypes, gid, moneySnapshot, settleAll } from '../support/gifting.js';
import { balances, createCatalogGift, createFundedViewer, createLiveCreator, expectCleanAudit, fundWallet, uniqueKey } from '../support/money.js';
import { startTestServer } from '../support/server.js';
import { tokenFor } from '../support/users.js';
import { eventually, within } from '../support/wait.js';
import { SendGift } from './documents.js';

// Money under concurrency and retries: bursts from one wallet, busy rooms, several instances, the same
// idempotency key sent again and again, a transaction that fails part-way, and a session that ends
// while its gifts are being written.

const server = await startTestServer();
const { db } = server;

const [rose, heart, lion] = await Promise.all([
  createCatalogGift(db, 1n, { name: 'Rose' }),
  createCatalogGift(db, 5n, { name: 'Finger Heart' }),
  createCatalogGift(db, 10n, { name: 'Lion' }),
]);

const giftEntries = (senderId: string) => db.sentGift.count({ where: { senderId } });

describe('one wallet under a burst of gifts', () => {
  test('100 concurrent 1-coin gifts from a wallet holding 37 coins: exactly 37 go through, 63 are refused', async () => {
    const viewer = await createFundedViewer(db, 37n);
    const { creator, session } = await createLiveCreator(db);
    const token = await tokenFor(viewer);

    const responses = await Promise.all(
      Array.from({ length: 100 }, () =>
        ok(server.url, SendGift, { input: { liveSessionId: gid('LiveSession', session.id), giftId: gid('Gift', rose!.id), idempotencyKey: uniqueKey('burst') } }, { token }),
      ),
    );
    const results = responses.map((response) => response.sendGift);

    expect(countTypes(results)).toEqual({ SentGift: 37, InsufficientCoinsError: 63 });
    for (const result of results) {
      if (result.__typename === 'InsufficientCoinsError') expect(result).toMatchObject({ code: 'INSUFFICIENT_COINS', neededCoins: '1', balanceCoins: '0' });
      if (result.__typename === 'SentGift') expect(result).toMatchObject({ coins: '1', diamonds: '1' });
    }
    const sentIds = results.flatMap((result) => (result.__typename === 'SentGift' ? [result.id] : []));
    expect(new Set(sentIds).size).toBe(37);

    expect(await balances(db, viewer)).toEqual({ coins: 0n, diamonds: 0n });
    expect(await balances(db, creator)).toEqual({ coins: 0n, diamonds: 37n });
    expect(await db.sentGift.count({ where: { senderId: viewer.id } })).toBe(37);
    expect(await db.sentGift.count({ where: { creatorId: creator.id } })).toBe(37);
    expect((await db.dailySpend.findMany({ where: { userId: viewer.id } })).map((spend) => spend.coins)).toEqual([37n]);
    await expectCleanAudit(db);
  });

  test('a sender with several gifts in flight never spends more than the wallet holds, while others gift alongside', async () => {
    const sender = createGiftSender(db, silentAnnouncer, DEFAULT_POLICY, { maxInFlight: 4 });
    const { creator, session } = await createLiveCreator(db);
    const [tight, ...others] = await Promise.all([createFundedViewer(db, 10n), ...Array.from({ length: 10 }, () => createFundedViewer(db, 20n))]);

    const tightGifts = Array.from({ length: 8 }, () =>
      sender.send(tight!.id, { liveSessionId: session.id, giftId: rose!.id, quantity: 3, idempotencyKey: uniqueKey('tight') }),
    );
    const otherGifts = others.flatMap((other) =>
      Array.from({ length: 4 }, () => sender.send(other.id, { liveSessionId: session.id, giftId: heart!.id, quantity: 1, idempotencyKey: uniqueKey('other') })),
    );
    const [tightOutcome, otherOutcome] = await Promise.all([settleAll(tightGifts), settleAll(otherGifts)]);

    expect(tightOutcome.counts).toEqual({ fulfilled: 3, InsufficientCoinsError: 5 });
    for (const error of tightOutcome.errors) expect(error).toBeInstanceOf(InsufficientCoinsError);
    expect(otherOutcome.counts).toEqual({ fulfilled: 40 });
    expect(await balances(db, tight!)).toEqual({ coins: 1n, diamonds: 0n });
    for (const other of others) expect(await balances(db, other)).toEqual({ coins: 0n, diamonds: 0n });
    expect(await balances(db, creator)).toEqual({ coins: 0n, diamonds: 9n + 200n });
    await expectCleanAudit(db);
  });

  test('gifts through two instances at once (the server and a second sender) still never overspend', async () => {
    const secondInstance = createGiftSender(db, silentAnnouncer, DEFAULT_POLICY, { maxInFlight: 3 });
    const viewer = await createFundedViewer(db, 20n);
    const { creator, session } = await createLiveCreator(db);
    const token = await tokenFor(viewer);

    const overHttp = Array.from({ length: 30 }, () =>
      ok(server.url, SendGift, { input: { liveSessionId: gid('LiveSession', session.id), giftId: gid('Gift', rose!.id), idempotencyKey: uniqueKey('http') } }, { token }),
    );
    const direct = settleAll(
      Array.from({ length: 30 }, () => secondInstance.send(viewer.id, { liveSessionId: session.id, giftId: rose!.id, quantity: 1, idempotencyKey: uniqueKey('direct') })),
    );
    const [httpResults, directOutcome] = await Promise.all([Promise.all(overHttp), direct]);

    const httpSent = httpResults.filter((result) => result.sendGift.__typename === 'SentGift').length;
    expect(httpSent + directOutcome.values.length).toBe(20);
    expect(httpResults.length - httpSent + directOutcome.errors.length).toBe(40);
    expect(directOutcome.errors.every((error) => error instanceof InsufficientCoinsError)).toBe(true);
    expect(await balances(db, viewer)).toEqual({ coins: 0n, diamonds: 0n });
    expect(await balances(db, creator)).toEqual({ coins: 0n, diamonds: 20n });
    await expectCleanAudit(db);
  });
});

describe('group commit is fair to every sender in a busy room', () => {
  test('50 senders x 5 gifts into one creator at once: every gift commits and the creator earns exactly their sum', async () => {
    const { creator, session } = await createLiveCreator(db);
    const senders = await Promise.all(Array.from({ length: 50 }, () => createFundedViewer(db, 100n)));
    const tokens = await Promise.all(senders.map((sender) => tokenFor(sender)));
    // Each sender mixes gifts and combos, so the batches hold different amounts.
    const plan = (index: number) => [
      { gift: rose!, quantity: 1 },
      { gift: heart!, quantity: 1 },
      { gift: rose!, quantity: (index % 5) + 1 },
      { gift: heart!, quantity: 2 },
      { gift: lion!, quantity: 1 },
    ];
    const planned = senders.map((_, index) => plan(index).reduce((sum, { gift, quantity }) => sum + gift.coins * BigInt(quantity), 0n));

    const responses = await Promise.all(
      senders.flatMap((_, index) =>
        plan(index).map(({ gift, quantity }) =>
          ok(
            server.url,
            SendGift,
            { input: { liveSessionId: gid('LiveSession', session.id), giftId: gid('Gift', gift.id), quantity, idempotencyKey: uniqueKey('room') } },
            { token: tokens[index] },
          ),
        ),
      ),
    );

    expect(countTypes(responses.map((response) => response.sendGift))).toEqual({ SentGift: 250 });
    const total = planned.reduce((sum, coins) => sum + coins, 0n);
    const reported = responses.reduce((sum, { sendGift }) => sum + (sendGift.__typename === 'SentGift' ? BigInt(sendGift.diamonds) : 0n), 0n);
    expect(reported).toBe(total);
    expect(await balances(db, creator)).toEqual({ coins: 0n, diamonds: total });
    for (const [index, sender] of senders.entries()) {
      expect(await balances(db, sender)).toEqual({ coins: 100n - planned[index]!, diamonds: 0n });
    }
    expect(await db.sentGift.count({ where: { liveSessionId: session.id } })).toBe(250);
    await expectCleanAudit(db);
  });
});

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

  // A viewer who never bought coins has no wallet to lock, so nothing queues their retries: every
  // attempt but the first loses the race to store the key, and is answered with the first one's outcome.
  test('sent 10 times at once by a viewer who has no wallet yet, all ten get the same refusal and one key is kept', async () => {
    const viewer = await createFundedViewer(db, 0n);
    const { session } = await createLiveCreator(db);
    const token = await tokenFor(viewer);
    const input = { liveSessionId: gid('LiveSession', session.id), giftId: gid('Gift', heart!.id), idempotencyKey: uniqueKey('no-wallet') };
    const before = await moneySnapshot(db);

    const responses = await Promise.all(Array.from({ length: 10 }, () => ok(server.url, SendGift, { input }, { token })));

    for (const { sendGift } of responses) expect(sendGift).toMatchObject({ __typename: 'InsufficientCoinsError', code: 'INSUFFICIENT_COINS', neededCoins: '5', balanceCoins: '0' });
    expect(await db.idempotencyKey.count({ where: { callerId: viewer.id, operation: 'sendGift' } })).toBe(1);
    expect(await moneySnapshot(db)).toEqual(before);
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
    const sender = createGiftSender(db, { ...silentAnnouncer, giftsCommitted: (committed) => commits.push(committed.length) }, DEFAULT_POLICY, { maxInFlight: 1 });
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

describe('a session that ends while its gifts are being written', () => {
  test('the gifts already checked are refused as not live, and move nothing', async () => {
    const sender = createGiftSender(db, silentAnnouncer, DEFAULT_POLICY);
    const { session } = await createLiveCreator(db);
    const viewers = await Promise.all(Array.from({ length: 3 }, () => createFundedViewer(db, 10n)));
    const before = await moneySnapshot(db);

    // The creator's "end" holds the session's row while the gifts pass their checks (the session is
    // still live to them) and reach the statement that numbers them in the room.
    const ending = await db.driver.connect();
    try {
      await ending.query('BEGIN');
      await ending.query(`SELECT 1 FROM "LiveSession" WHERE id = $1 FOR NO KEY UPDATE`, [session.id]);
      const outcome = settleAll(viewers.map((viewer) => sender.send(viewer.id, { liveSessionId: session.id, giftId: rose!.id, quantity: 1, idempotencyKey: uniqueKey('ending') })));
      await eventually(
        async () => ((await db.$queryRaw<{ waiting: number }[]>`
          SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`)[0]!.waiting > 0 || undefined),
        'the gifts to wait for the session row',
      );
      await ending.query(`UPDATE "LiveSession" SET status = 'ENDED', "endedAt" = now() WHERE id = $1`, [session.id]);
      await ending.query('COMMIT');

      const { errors, counts } = await within(outcome, 'the gifts to be answered');
      expect(counts).toEqual({ LiveSessionEndedError: 3 });
      expect(errors[0]).toBeInstanceOf(LiveSessionEndedError);
    } finally {
      ending.release();
    }
    expect(await moneySnapshot(db)).toEqual(before);
    expect(await db.liveSession.findUniqueOrThrow({ where: { id: session.id } })).toMatchObject({ lastSequence: 0, giftCount: 0, totalCoins: 0n });
    expect(await db.roomEvent.count({ where: { liveSessionId: session.id } })).toBe(0);
    await expectCleanAudit(db);
  });
});
