import { describe, expect, test } from 'vitest';
import { SpendingLimitError } from '../../src/domain/errors.js';
import { createGiftSender } from '../../src/domain/gifting.js';
import { DEFAULT_POLICY, type Policy } from '../../src/domain/policy.js';
import { setDailyLimit } from '../../src/domain/safeguards.js';
import type { User } from '../../src/generated/prisma/client.js';
import { GiftingWallet, SendGift, SetDailySpendingLimit } from '../gifting/documents.js';
import { countTypes, gid, moneySnapshot, settleAll } from '../support/gifting.js';
import { ok } from '../support/graphql.js';
import { balances, createCatalogGift, createFundedViewer, createLiveCreator, expectCleanAudit, uniqueKey } from '../support/money.js';
import { startTestServer } from '../support/server.js';
import { tokenFor } from '../support/users.js';

const server = await startTestServer();
const { db } = server;

const rose = await createCatalogGift(db, 1n, { name: 'Rose' });
const { creator, session } = await createLiveCreator(db);

const HOUR = 3600_000;
const DAY = 24 * HOUR;

/** A gift sender whose clock the test sets, so limits and cooling-off are tested without waiting. */
function clockedSender(policy: Policy = DEFAULT_POLICY, options: { maxInFlight?: number } = {}) {
  const clock = { now: new Date('2031-05-04T12:00:00.000Z') };
  const sender = createGiftSender(db, policy, { ...options, now: () => clock.now });
  const gift = (user: Pick<User, 'id'>, coins: number) =>
    sender.send(user.id, { liveSessionId: session.id, giftId: rose.id, quantity: coins, idempotencyKey: uniqueKey('limit') });
  return { clock, gift };
}

const limitError = (limit: SpendingLimitError['limit'], limitCoins: bigint, remainingCoins: bigint) => ({
  code: 'SPENDING_LIMIT_REACHED',
  limit,
  limitCoins,
  remainingCoins,
});

describe("a user's own daily limit", () => {
  test('lowering it applies at once', async () => {
    const viewer = await createFundedViewer(db, 200n);
    const { clock, gift } = clockedSender();
    await setDailyLimit(db, DEFAULT_POLICY, viewer.id, 50n, clock.now);
    await gift(viewer, 30);

    const lowered = await setDailyLimit(db, DEFAULT_POLICY, viewer.id, 40n, clock.now);
    expect(lowered).toMatchObject({ dailyLimitCoins: 40n, pendingDailyLimit: null, pendingLimitActiveAt: null });
    const before = await moneySnapshot(db);
    await expect(gift(viewer, 20)).rejects.toMatchObject(limitError('USER_DAILY', 40n, 10n));
    expect(await moneySnapshot(db)).toEqual(before);

    await expect(gift(viewer, 10)).resolves.toMatchObject({ coins: 10n });
    await expect(gift(viewer, 1)).rejects.toMatchObject(limitError('USER_DAILY', 40n, 0n));
    expect(await balances(db, viewer)).toEqual({ coins: 160n, diamonds: 0n });
    await expectCleanAudit(db);
  });

  test('raising it applies only after the cooling-off period', async () => {
    const viewer = await createFundedViewer(db, 200n);
    const { clock, gift } = clockedSender();
    const setAt = clock.now;
    await setDailyLimit(db, DEFAULT_POLICY, viewer.id, 10n, setAt);

    const raised = await setDailyLimit(db, DEFAULT_POLICY, viewer.id, 100n, setAt);
    expect(raised).toMatchObject({ dailyLimitCoins: 10n, pendingDailyLimit: 100n, pendingLimitActiveAt: new Date(setAt.getTime() + DAY) });
    await expect(gift(viewer, 20)).rejects.toMatchObject(limitError('USER_DAILY', 10n, 10n));

    clock.now = new Date(setAt.getTime() + DAY - 1);
    await expect(gift(viewer, 20)).rejects.toMatchObject(limitError('USER_DAILY', 10n, 10n));

    clock.now = new Date(setAt.getTime() + DAY);
    await expect(gift(viewer, 20)).resolves.toMatchObject({ coins: 20n });
    await expect(gift(viewer, 81)).rejects.toMatchObject(limitError('USER_DAILY', 100n, 80n));
    expect(await balances(db, viewer)).toEqual({ coins: 180n, diamonds: 0n });
    await expectCleanAudit(db);
  });

  test('removing it is a raise too: it waits out the cooling-off', async () => {
    const viewer = await createFundedViewer(db, 1000n);
    const { clock, gift } = clockedSender();
    const setAt = clock.now;
    await setDailyLimit(db, DEFAULT_POLICY, viewer.id, 10n, setAt);
    await setDailyLimit(db, DEFAULT_POLICY, viewer.id, null, setAt);

    await expect(gift(viewer, 11)).rejects.toMatchObject(limitError('USER_DAILY', 10n, 10n));
    clock.now = new Date(setAt.getTime() + DAY);
    await expect(gift(viewer, 99)).resolves.toMatchObject({ coins: 99n });
    await expectCleanAudit(db);
  });

  test('lowering it while a raise is pending cancels the raise', async () => {
    const viewer = await createFundedViewer(db, 200n);
    const { clock, gift } = clockedSender();
    const setAt = clock.now;
    await setDailyLimit(db, DEFAULT_POLICY, viewer.id, 10n, setAt);
    await setDailyLimit(db, DEFAULT_POLICY, viewer.id, 100n, setAt);
    const lowered = await setDailyLimit(db, DEFAULT_POLICY, viewer.id, 5n, new Date(setAt.getTime() + HOUR));
    expect(lowered).toMatchObject({ dailyLimitCoins: 5n, pendingDailyLimit: null, pendingLimitActiveAt: null });

    clock.now = new Date(setAt.getTime() + 2 * DAY);
    await expect(gift(viewer, 6)).rejects.toMatchObject(limitError('USER_DAILY', 5n, 5n));
    await expect(gift(viewer, 5)).resolves.toMatchObject({ coins: 5n });
    await expectCleanAudit(db);
  });

  test('it counts per UTC day: what was spent yesterday does not count today', async () => {
    const viewer = await createFundedViewer(db, 100n);
    const { clock, gift } = clockedSender();
    clock.now = new Date('2031-05-04T23:59:59.000Z');
    await setDailyLimit(db, DEFAULT_POLICY, viewer.id, 10n, clock.now);
    await gift(viewer, 10);
    await expect(gift(viewer, 1)).rejects.toMatchObject(limitError('USER_DAILY', 10n, 0n));

    clock.now = new Date('2031-05-05T00:00:00.000Z');
    await expect(gift(viewer, 10)).resolves.toMatchObject({ coins: 10n });
    expect(await balances(db, viewer)).toEqual({ coins: 80n, diamonds: 0n });
    await expectCleanAudit(db);
  });

  test('a limit of 10 coins holds against 30 concurrent 1-coin gifts: exactly 10 go through', async () => {
    const viewer = await createFundedViewer(db, 100n);
    const token = await tokenFor(viewer);
    const set = await ok(server.url, SetDailySpendingLimit, { dailyLimitCoins: '10' }, { token });
    expect(set.setDailySpendingLimit).toMatchObject({ __typename: 'SpendingLimits', dailyLimitCoins: '10', pendingDailyLimitCoins: null, spentTodayCoins: '0' });
    const creatorBefore = await balances(db, creator);

    const responses = await Promise.all(
      Array.from({ length: 30 }, () =>
        ok(server.url, SendGift, { input: { liveSessionId: gid('LiveSession', session.id), giftId: gid('Gift', rose.id), idempotencyKey: uniqueKey('cap') } }, { token }),
      ),
    );

    const results = responses.map((response) => response.sendGift);
    expect(countTypes(results)).toEqual({ SentGift: 10, SpendingLimitError: 20 });
    for (const result of results) {
      if (result.__typename === 'SpendingLimitError') expect(result).toMatchObject({ limit: 'USER_DAILY', limitCoins: '10', remainingCoins: '0' });
    }
    expect(await balances(db, viewer)).toEqual({ coins: 90n, diamonds: 0n });
    expect(await balances(db, creator)).toEqual({ coins: 0n, diamonds: creatorBefore.diamonds + 10n });
    const { wallet } = await ok(server.url, GiftingWallet, { first: 1 }, { token });
    expect(wallet.limits).toMatchObject({ dailyLimitCoins: '10', spentTodayCoins: '10' });
    await expectCleanAudit(db);
  });

  test('over GraphQL: a raise shows as pending with the time it takes effect; a negative limit is refused', async () => {
    const viewer = await createFundedViewer(db, 0n);
    const token = await tokenFor(viewer);
    await ok(server.url, SetDailySpendingLimit, { dailyLimitCoins: '10' }, { token });
    const asked = Date.now();
    const { setDailySpendingLimit } = await ok(server.url, SetDailySpendingLimit, { dailyLimitCoins: '50' }, { token });
    expect(setDailySpendingLimit).toMatchObject({ __typename: 'SpendingLimits', dailyLimitCoins: '10', pendingDailyLimitCoins: '50' });
    const pendingFrom = setDailySpendingLimit.__typename === 'SpendingLimits' ? Date.parse(setDailySpendingLimit.pendingFrom!) : NaN;
    expect(pendingFrom - asked).toBeGreaterThan(DAY - 60_000);
    expect(pendingFrom - asked).toBeLessThanOrEqual(DAY + 60_000);

    const negative = await ok(server.url, SetDailySpendingLimit, { dailyLimitCoins: '-1' }, { token });
    expect(negative.setDailySpendingLimit).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION_FAILED' });
    expect((await db.user.findUniqueOrThrow({ where: { id: viewer.id } })).dailyLimitCoins).toBe(10n);
  });
});

describe("the platform's caps", () => {
  test('the daily cap holds against concurrent gifts: exactly the cap goes through', async () => {
    const policy: Policy = { ...DEFAULT_POLICY, platformDailyCapCoins: 25n, platformWeeklyCapCoins: 1000n };
    const { gift } = clockedSender(policy, { maxInFlight: 4 });
    const viewer = await createFundedViewer(db, 100n);
    const creatorBefore = await balances(db, creator);

    const outcome = await settleAll(Array.from({ length: 40 }, () => gift(viewer, 1)));

    expect(outcome.counts).toEqual({ fulfilled: 25, SpendingLimitError: 15 });
    for (const error of outcome.errors) expect(error).toMatchObject(limitError('PLATFORM_DAILY', 25n, 0n));
    expect(await balances(db, viewer)).toEqual({ coins: 75n, diamonds: 0n });
    expect(await balances(db, creator)).toEqual({ coins: 0n, diamonds: creatorBefore.diamonds + 25n });
    expect((await db.dailySpend.findMany({ where: { userId: viewer.id } })).map((spend) => spend.coins)).toEqual([25n]);
    await expectCleanAudit(db);
  });

  test('a combo that would pass the cap is refused whole', async () => {
    const policy: Policy = { ...DEFAULT_POLICY, platformDailyCapCoins: 10n };
    const { gift } = clockedSender(policy);
    const viewer = await createFundedViewer(db, 100n);
    await gift(viewer, 8);
    const before = await moneySnapshot(db);
    await expect(gift(viewer, 3)).rejects.toMatchObject(limitError('PLATFORM_DAILY', 10n, 2n));
    expect(await moneySnapshot(db)).toEqual(before);
    await expect(gift(viewer, 2)).resolves.toMatchObject({ coins: 2n });
    await expectCleanAudit(db);
  });

  test('the weekly cap counts the last 7 days', async () => {
    const policy: Policy = { ...DEFAULT_POLICY, platformDailyCapCoins: 20n, platformWeeklyCapCoins: 30n };
    const { clock, gift } = clockedSender(policy);
    const viewer = await createFundedViewer(db, 100n);
    const on = (day: string) => (clock.now = new Date(`${day}T10:00:00.000Z`));

    on('2031-03-01');
    await gift(viewer, 20);
    on('2031-03-02');
    await expect(gift(viewer, 15)).rejects.toMatchObject(limitError('PLATFORM_WEEKLY', 30n, 10n));
    await gift(viewer, 10);
    on('2031-03-07');
    await expect(gift(viewer, 1)).rejects.toMatchObject(limitError('PLATFORM_WEEKLY', 30n, 0n));
    // Seven days on, March 1 has left the window; March 2 has not.
    on('2031-03-08');
    await expect(gift(viewer, 21)).rejects.toMatchObject(limitError('PLATFORM_DAILY', 20n, 20n));
    await expect(gift(viewer, 20)).resolves.toMatchObject({ coins: 20n });
    expect(await balances(db, viewer)).toEqual({ coins: 50n, diamonds: 0n });
    await expectCleanAudit(db);
  });
});
