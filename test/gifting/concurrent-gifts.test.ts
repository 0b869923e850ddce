import { describe, expect, test } from 'vitest';
import { InsufficientCoinsError } from '../../src/domain/errors.js';
import { createGiftSender } from '../../src/domain/gifting.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { ok } from '../support/graphql.js';
import { countTypes, gid, settleAll } from '../support/gifting.js';
import { balances, createCatalogGift, createFundedViewer, createLiveCreator, expectCleanAudit, uniqueKey } from '../support/money.js';
import { startTestServer } from '../support/server.js';
import { tokenFor } from '../support/users.js';
import { SendGift } from './documents.js';

const server = await startTestServer();
const { db } = server;

const [rose, heart, lion] = await Promise.all([
  createCatalogGift(db, 1n, { name: 'Rose' }),
  createCatalogGift(db, 5n, { name: 'Finger Heart' }),
  createCatalogGift(db, 10n, { name: 'Lion' }),
]);

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
    const sender = createGiftSender(db, DEFAULT_POLICY, { maxInFlight: 4 });
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
    const secondInstance = createGiftSender(db, DEFAULT_POLICY, { maxInFlight: 3 });
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
