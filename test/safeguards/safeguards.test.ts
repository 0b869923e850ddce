import { describe, expect, test } from 'vitest';
import { AgeRestrictedError, type SpendingLimitError } from '../../src/domain/errors.js';
import { createGiftSender } from '../../src/domain/gifting.js';
import { DEFAULT_POLICY, type Policy } from '../../src/domain/policy.js';
import { changeRestriction, personalDailyLimit, setDailyLimit } from '../../src/domain/safeguards.js';
import { silentAnnouncer } from '../../src/events/announcer.js';
import { Role, type User } from '../../src/generated/prisma/client.js';
import { GiftingWallet, LiftRestriction, RestrictAccount, SendGift, SetDailySpendingLimit, StartLiveSession } from '../gifting/documents.js';
import { aged, countTypes, fundWalletUnder, gid, moneySnapshot, NO_AGE_GATE, settleAll } from '../support/gifting.js';
import { ok } from '../support/graphql.js';
import { balances, createCatalogGift, createFundedViewer, createLiveCreator, expectCleanAudit, fundWallet, uniqueKey } from '../support/money.js';
import { startTestServer } from '../support/server.js';
import { createUser, tokenFor } from '../support/users.js';

// The safeguards of product.md: age gates, operator restrictions, spending limits. Every refusal moves
// nothing; time-dependent rules are tested through the domain with a clock, the rest over GraphQL.

const server = await startTestServer();
const { db } = server;

const [rose, heart] = await Promise.all([createCatalogGift(db, 1n, { name: 'Rose' }), createCatalogGift(db, 5n, { name: 'Finger Heart' })]);
const admin = await createUser(db, { roles: [Role.VIEWER, Role.ADMIN] });
const adminToken = await tokenFor(admin);
/** A creator live throughout, for the spending-limit tests. */
const room = await createLiveCreator(db);

const sendHeart = async (sender: Pick<User, 'id' | 'roles'>, liveSessionId: string) =>
  (
    await ok(
      server.url,
      SendGift,
      { input: { liveSessionId: gid('LiveSession', liveSessionId), giftId: gid('Gift', heart.id), idempotencyKey: uniqueKey('safeguard') } },
      { token: await tokenFor(sender) },
    )
  ).sendGift;

describe('age gates', () => {
  /** A viewer of the given age and country who holds coins (bought where and when they were allowed to). */
  async function viewerAged(years: number, country: string) {
    const viewer = await createUser(db, { birthDate: aged(years), country });
    await fundWalletUnder(NO_AGE_GATE, db, viewer, 50n);
    return viewer;
  }

  describe('sending gifts takes 18 years (19 in South Korea)', () => {
    test.each([
      [17, 'US', 18],
      [18, 'KR', 19],
    ])('a %i-year-old in %s holding coins is refused, and nothing moves', async (years, country, minimumAge) => {
      const viewer = await viewerAged(years, country);
      const { creator, session } = await createLiveCreator(db);
      const before = await moneySnapshot(db);

      const result = await sendHeart(viewer, session.id);

      expect(result).toMatchObject({ __typename: 'AgeRestrictedError', code: 'AGE_RESTRICTED', minimumAge, message: `You must be ${minimumAge} or older to send gifts` });
      expect(await moneySnapshot(db)).toEqual(before);
      expect(await balances(db, viewer)).toEqual({ coins: 50n, diamonds: 0n });
      expect(await balances(db, creator)).toEqual({ coins: 0n, diamonds: 0n });
      await expectCleanAudit(db);
    });

    test.each([
      [18, 'US'],
      [19, 'KR'],
    ])('a %i-year-old in %s may send', async (years, country) => {
      const viewer = await viewerAged(years, country);
      const { creator, session } = await createLiveCreator(db);
      expect(await sendHeart(viewer, session.id)).toMatchObject({ __typename: 'SentGift', coins: '5' });
      expect(await balances(db, creator)).toEqual({ coins: 0n, diamonds: 5n });
      await expectCleanAudit(db);
    });

    test('the gate opens on the 18th birthday, to the second (UTC)', async () => {
      const teen = await createUser(db, { birthDate: new Date('2012-03-10'), country: 'US' });
      await fundWalletUnder(NO_AGE_GATE, db, teen, 50n);
      const { creator, session } = await createLiveCreator(db);
      let now = new Date('2030-03-09T23:59:59.999Z');
      const sender = createGiftSender(db, silentAnnouncer, DEFAULT_POLICY, { now: () => now });
      const gift = () => sender.send(teen.id, { liveSessionId: session.id, giftId: heart.id, quantity: 1, idempotencyKey: uniqueKey('birthday') });

      await expect(gift()).rejects.toThrow(new AgeRestrictedError(18, 'send gifts'));
      expect(await balances(db, teen)).toEqual({ coins: 50n, diamonds: 0n });

      now = new Date('2030-03-10T00:00:00.000Z');
      await expect(gift()).resolves.toMatchObject({ senderId: teen.id, coins: 5n });
      expect(await balances(db, teen)).toEqual({ coins: 45n, diamonds: 0n });
      expect(await balances(db, creator)).toEqual({ coins: 0n, diamonds: 5n });
      await expectCleanAudit(db);
    });

    test('the gates are configured per region', async () => {
      const strict: Policy = { ...DEFAULT_POLICY, ageGates: { DEFAULT: 18, KR: 19, JP: 20 } };
      const sender = createGiftSender(db, silentAnnouncer, strict);
      const { session } = await createLiveCreator(db);
      const japanese = await viewerAged(19, 'JP');
      const american = await viewerAged(19, 'US');
      const gift = (userId: string) => sender.send(userId, { liveSessionId: session.id, giftId: heart.id, quantity: 1, idempotencyKey: uniqueKey('region') });

      await expect(gift(japanese.id)).rejects.toMatchObject({ code: 'AGE_RESTRICTED', minimumAge: 20 });
      await expect(gift(american.id)).resolves.toMatchObject({ coins: 5n });
      expect(await balances(db, japanese)).toEqual({ coins: 50n, diamonds: 0n });
      await expectCleanAudit(db);
    });
  });

  describe('creators must be of age to go live and to receive gifts', () => {
    test.each([
      [17, 'US', 18],
      [18, 'KR', 19],
    ])('a %i-year-old creator in %s cannot go live', async (years, country, minimumAge) => {
      const creator = await createUser(db, { birthDate: aged(years), country, roles: [Role.VIEWER, Role.CREATOR] });
      const { startLiveSession } = await ok(server.url, StartLiveSession, { input: { title: 'My first stream' } }, { token: await tokenFor(creator) });
      expect(startLiveSession).toMatchObject({ __typename: 'AgeRestrictedError', minimumAge, message: `You must be ${minimumAge} or older to go live` });
      expect(await db.liveSession.count({ where: { creatorId: creator.id } })).toBe(0);
    });

    test('an adult creator goes live', async () => {
      const creator = await createUser(db, { birthDate: aged(18), country: 'US', roles: [Role.VIEWER, Role.CREATOR] });
      const { startLiveSession } = await ok(server.url, StartLiveSession, { input: { title: 'Hello' } }, { token: await tokenFor(creator) });
      expect(startLiveSession).toMatchObject({ __typename: 'LiveSession', status: 'LIVE', title: 'Hello' });
    });

    test('an under-age creator with a live session (one that predates the gate) receives nothing', async () => {
      const creator = await createUser(db, { birthDate: aged(17), country: 'US', roles: [Role.VIEWER, Role.CREATOR] });
      const session = await db.liveSession.create({ data: { creatorId: creator.id, title: 'Old session' } });
      const viewer = await createFundedViewer(db, 50n);
      const before = await moneySnapshot(db);

      const result = await sendHeart(viewer, session.id);

      expect(result).toMatchObject({ __typename: 'AgeRestrictedError', minimumAge: 18, message: 'You must be 18 or older to receive gifts' });
      expect(await moneySnapshot(db)).toEqual(before);
      expect(await balances(db, creator)).toEqual({ coins: 0n, diamonds: 0n });
      await expectCleanAudit(db);
    });

    test('an 18-year-old creator who moves to South Korea mid-stream stops receiving gifts', async () => {
      const { creator, session } = await createLiveCreator(db, { birthDate: aged(18), country: 'US' });
      const viewer = await createFundedViewer(db, 50n);
      expect(await sendHeart(viewer, session.id)).toMatchObject({ __typename: 'SentGift' });

      await db.user.update({ where: { id: creator.id }, data: { country: 'KR' } });
      const before = await moneySnapshot(db);
      expect(await sendHeart(viewer, session.id)).toMatchObject({ __typename: 'AgeRestrictedError', minimumAge: 19, message: 'You must be 19 or older to receive gifts' });
      expect(await moneySnapshot(db)).toEqual(before);
      expect(await balances(db, creator)).toEqual({ coins: 0n, diamonds: 5n });
      await expectCleanAudit(db);
    });
  });
});

describe('operator restrictions', () => {
  const restrict = (user: User, kind: 'GIFTING' | 'RECEIVING' | 'BUYING' | 'PAYOUTS', reason: string, token: string | null = adminToken) =>
    ok(server.url, RestrictAccount, { input: { userId: gid('User', user.id), kind, reason } }, { token: token ?? undefined }).then((data) => data.restrictAccount);

  const lift = (user: User, kind: 'GIFTING' | 'RECEIVING', reason: string, token: string | null = adminToken) =>
    ok(server.url, LiftRestriction, { input: { userId: gid('User', user.id), kind, reason } }, { token: token ?? undefined }).then((data) => data.liftRestriction);

  describe('an operator can stop an account from gifting', () => {
    test('a restricted sender is refused and nothing moves; once lifted, they can gift again', async () => {
      const viewer = await createFundedViewer(db, 50n);
      const { creator, session } = await createLiveCreator(db);

      expect(await restrict(viewer, 'GIFTING', 'chargeback fraud under review')).toMatchObject({ __typename: 'User', id: gid('User', viewer.id) });
      const before = await moneySnapshot(db);
      expect(await sendHeart(viewer, session.id)).toMatchObject({
        __typename: 'AccountRestrictedError',
        code: 'ACCOUNT_RESTRICTED',
        restriction: 'GIFTING',
        message: 'This account may not send gifts',
      });
      expect(await moneySnapshot(db)).toEqual(before);

      expect(await lift(viewer, 'GIFTING', 'review cleared the account')).toMatchObject({ __typename: 'User' });
      expect(await sendHeart(viewer, session.id)).toMatchObject({ __typename: 'SentGift', coins: '5' });
      expect(await balances(db, viewer)).toEqual({ coins: 45n, diamonds: 0n });
      expect(await balances(db, creator)).toEqual({ coins: 0n, diamonds: 5n });

      const history = await db.restrictionChange.findMany({ where: { userId: viewer.id }, orderBy: { createdAt: 'asc' } });
      expect(history).toMatchObject([
        { kind: 'GIFTING', placed: true, adminId: admin.id, reason: 'chargeback fraud under review' },
        { kind: 'GIFTING', placed: false, adminId: admin.id, reason: 'review cleared the account' },
      ]);
      await expectCleanAudit(db);
    });

    test('a gifting restriction stops only gifting: the same account can still receive', async () => {
      const { creator, session } = await createLiveCreator(db);
      const viewer = await createFundedViewer(db, 50n);
      await restrict(creator, 'GIFTING', 'spam gifting');
      expect(await sendHeart(viewer, session.id)).toMatchObject({ __typename: 'SentGift' });
      expect(await balances(db, creator)).toEqual({ coins: 0n, diamonds: 5n });
      await expectCleanAudit(db);
    });
  });

  describe('an operator can stop a creator from receiving', () => {
    test('gifts to a restricted creator are refused and nothing moves; once lifted, gifts arrive again', async () => {
      const { creator, session } = await createLiveCreator(db);
      const viewer = await createFundedViewer(db, 50n);

      await restrict(creator, 'RECEIVING', 'payout identity check pending');
      const before = await moneySnapshot(db);
      expect(await sendHeart(viewer, session.id)).toMatchObject({
        __typename: 'AccountRestrictedError',
        restriction: 'RECEIVING',
        message: 'This creator may not receive gifts',
      });
      expect(await moneySnapshot(db)).toEqual(before);
      expect(await balances(db, viewer)).toEqual({ coins: 50n, diamonds: 0n });

      await lift(creator, 'RECEIVING', 'identity verified');
      expect(await sendHeart(viewer, session.id)).toMatchObject({ __typename: 'SentGift' });
      expect(await balances(db, creator)).toEqual({ coins: 0n, diamonds: 5n });
      await expectCleanAudit(db);
    });

    test('a creator barred from receiving may still send gifts to others', async () => {
      const barred = await createLiveCreator(db);
      const other = await createLiveCreator(db);
      await fundWallet(db, barred.creator, 10n);
      await restrict(barred.creator, 'RECEIVING', 'payout identity check pending');
      expect(await sendHeart(barred.creator, other.session.id)).toMatchObject({ __typename: 'SentGift' });
      expect(await balances(db, other.creator)).toEqual({ coins: 0n, diamonds: 5n });
      await expectCleanAudit(db);
    });
  });

  describe('only operators place and lift restrictions', () => {
    test('a non-admin gets a ForbiddenError and a signed-out caller a NotAuthenticatedError; nothing is recorded', async () => {
      const viewer = await createFundedViewer(db, 50n);
      const someone = await createUser(db);
      const creatorAsCaller = await createUser(db, { roles: [Role.VIEWER, Role.CREATOR] });

      expect(await restrict(viewer, 'GIFTING', 'I do not like them', await tokenFor(someone))).toMatchObject({ __typename: 'ForbiddenError', code: 'FORBIDDEN' });
      expect(await restrict(viewer, 'GIFTING', 'I do not like them', await tokenFor(creatorAsCaller))).toMatchObject({ __typename: 'ForbiddenError' });
      expect(await restrict(viewer, 'GIFTING', 'I do not like them', null)).toMatchObject({ __typename: 'NotAuthenticatedError', code: 'UNAUTHENTICATED' });

      await restrict(viewer, 'GIFTING', 'operator decision');
      expect(await lift(viewer, 'GIFTING', 'let me out', await tokenFor(viewer))).toMatchObject({ __typename: 'ForbiddenError' });
      expect(await lift(viewer, 'GIFTING', 'let me out', null)).toMatchObject({ __typename: 'NotAuthenticatedError' });

      expect((await db.user.findUniqueOrThrow({ where: { id: viewer.id } })).restrictions).toEqual(['GIFTING']);
      expect(await db.restrictionChange.findMany({ where: { userId: viewer.id } })).toMatchObject([{ placed: true, adminId: admin.id }]);
    });

    test('a restriction needs a reason and a real user', async () => {
      const viewer = await createUser(db);
      const noReason = await restrict(viewer, 'GIFTING', '  ');
      expect(noReason).toMatchObject({ __typename: 'ValidationError', problems: [{ field: 'reason' }] });
      const { restrictAccount } = await ok(
        server.url,
        RestrictAccount,
        { input: { userId: gid('Gift', heart.id), kind: 'GIFTING', reason: 'wrong kind of id' } },
        { token: adminToken },
      );
      expect(restrictAccount).toMatchObject({ __typename: 'ValidationError', problems: [{ field: 'userId' }] });
      const { restrictAccount: unknown } = await ok(
        server.url,
        RestrictAccount,
        { input: { userId: gid('User', '00000000-0000-4000-8000-00000000dead'), kind: 'GIFTING', reason: 'nobody' } },
        { token: adminToken },
      );
      expect(unknown).toMatchObject({ __typename: 'NotFoundError' });
      expect((await db.user.findUniqueOrThrow({ where: { id: viewer.id } })).restrictions).toEqual([]);
      expect(await db.restrictionChange.count({ where: { userId: viewer.id } })).toBe(0);
    });

    test('placing a restriction twice keeps one in force, and each change is in the history', async () => {
      const viewer = await createUser(db);
      await restrict(viewer, 'GIFTING', 'first report');
      await restrict(viewer, 'GIFTING', 'second report');
      await restrict(viewer, 'BUYING', 'card testing');
      expect((await db.user.findUniqueOrThrow({ where: { id: viewer.id } })).restrictions.sort()).toEqual(['BUYING', 'GIFTING']);
      await lift(viewer, 'GIFTING', 'resolved');
      expect((await db.user.findUniqueOrThrow({ where: { id: viewer.id } })).restrictions).toEqual(['BUYING']);
      expect(await db.restrictionChange.count({ where: { userId: viewer.id } })).toBe(4);
    });
  });

  describe('restrictions in the domain', () => {
    test('a restriction applies from the next gift on; lifting it restores gifting', async () => {
      const sender = createGiftSender(db, silentAnnouncer, DEFAULT_POLICY);
      const viewer = await createFundedViewer(db, 20n);
      const { creator, session } = await createLiveCreator(db);
      const gift = () => sender.send(viewer.id, { liveSessionId: session.id, giftId: heart.id, quantity: 1, idempotencyKey: uniqueKey('domain') });

      await gift();
      const restricted = await changeRestriction(db, { adminId: admin.id, userId: viewer.id, kind: 'GIFTING', placed: true, reason: 'domain check' });
      expect(restricted.restrictions).toEqual(['GIFTING']);
      const before = await moneySnapshot(db);
      await expect(gift()).rejects.toMatchObject({ code: 'ACCOUNT_RESTRICTED', restriction: 'GIFTING' });
      expect(await moneySnapshot(db)).toEqual(before);

      const lifted = await changeRestriction(db, { adminId: admin.id, userId: viewer.id, kind: 'GIFTING', placed: false, reason: 'cleared' });
      expect(lifted.restrictions).toEqual([]);
      await gift();
      expect(await balances(db, viewer)).toEqual({ coins: 10n, diamonds: 0n });
      expect(await balances(db, creator)).toEqual({ coins: 0n, diamonds: 10n });
      await expectCleanAudit(db);
    });
  });
});

describe('spending limits', () => {
  const HOUR = 3600_000;
  const DAY = 24 * HOUR;

  /** A gift sender whose clock the test sets, so limits and cooling-off are tested without waiting. */
  function clockedSender(policy: Policy = DEFAULT_POLICY, options: { maxInFlight?: number } = {}) {
    const clock = { now: new Date('2031-05-04T12:00:00.000Z') };
    const sender = createGiftSender(db, silentAnnouncer, policy, { ...options, now: () => clock.now });
    const gift = (user: Pick<User, 'id'>, coins: number) =>
      sender.send(user.id, { liveSessionId: room.session.id, giftId: rose.id, quantity: coins, idempotencyKey: uniqueKey('limit') });
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

    test('a raise racing a lowering cannot undo it: for 30 users at once, the lowered limit is in force', async () => {
      const setAt = new Date('2031-05-04T12:00:00.000Z');
      const viewers = await Promise.all(Array.from({ length: 30 }, () => createUser(db)));
      await Promise.all(viewers.map((viewer) => setDailyLimit(db, DEFAULT_POLICY, viewer.id, 100n, setAt)));

      await Promise.all(
        viewers.flatMap((viewer) => [setDailyLimit(db, DEFAULT_POLICY, viewer.id, 50n, setAt), setDailyLimit(db, DEFAULT_POLICY, viewer.id, 500n, setAt)]),
      );

      // Whichever came first, the lowering holds now; the raise, if it came after, waits out its cooling-off.
      const limits = await db.user.findMany({ where: { id: { in: viewers.map((viewer) => viewer.id) } } });
      expect(limits.map((user) => personalDailyLimit(user, setAt))).toEqual(viewers.map(() => 50n));
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
      const set = await ok(server.url, SetDailySpendingLimit, { input: { dailyLimitCoins: '10' } }, { token });
      expect(set.setDailySpendingLimit).toMatchObject({ __typename: 'SpendingLimits', dailyLimitCoins: '10', pendingDailyLimitCoins: null, spentTodayCoins: '0' });
      const creatorBefore = await balances(db, room.creator);

      const responses = await Promise.all(
        Array.from({ length: 30 }, () =>
          ok(server.url, SendGift, { input: { liveSessionId: gid('LiveSession', room.session.id), giftId: gid('Gift', rose.id), idempotencyKey: uniqueKey('cap') } }, { token }),
        ),
      );

      const results = responses.map((response) => response.sendGift);
      expect(countTypes(results)).toEqual({ SentGift: 10, SpendingLimitError: 20 });
      for (const result of results) {
        if (result.__typename === 'SpendingLimitError') expect(result).toMatchObject({ limit: 'USER_DAILY', limitCoins: '10', remainingCoins: '0' });
      }
      expect(await balances(db, viewer)).toEqual({ coins: 90n, diamonds: 0n });
      expect(await balances(db, room.creator)).toEqual({ coins: 0n, diamonds: creatorBefore.diamonds + 10n });
      const { wallet } = await ok(server.url, GiftingWallet, { first: 1 }, { token });
      expect(wallet.limits).toMatchObject({ dailyLimitCoins: '10', spentTodayCoins: '10' });
      await expectCleanAudit(db);
    });

    test('over GraphQL: a raise shows as pending with the time it takes effect; a negative limit is refused', async () => {
      const viewer = await createFundedViewer(db, 0n);
      const token = await tokenFor(viewer);
      await ok(server.url, SetDailySpendingLimit, { input: { dailyLimitCoins: '10' } }, { token });
      const asked = Date.now();
      const { setDailySpendingLimit } = await ok(server.url, SetDailySpendingLimit, { input: { dailyLimitCoins: '50' } }, { token });
      expect(setDailySpendingLimit).toMatchObject({ __typename: 'SpendingLimits', dailyLimitCoins: '10', pendingDailyLimitCoins: '50' });
      const pendingFrom = setDailySpendingLimit.__typename === 'SpendingLimits' ? Date.parse(setDailySpendingLimit.pendingFrom!) : NaN;
      expect(pendingFrom - asked).toBeGreaterThan(DAY - 60_000);
      expect(pendingFrom - asked).toBeLessThanOrEqual(DAY + 60_000);

      const negative = await ok(server.url, SetDailySpendingLimit, { input: { dailyLimitCoins: '-1' } }, { token });
      expect(negative.setDailySpendingLimit).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION_FAILED' });
      expect((await db.user.findUniqueOrThrow({ where: { id: viewer.id } })).dailyLimitCoins).toBe(10n);
    });
  });

  describe("the platform's caps", () => {
    test('the daily cap holds against concurrent gifts: exactly the cap goes through', async () => {
      const policy: Policy = { ...DEFAULT_POLICY, platformDailyCapCoins: 25n, platformWeeklyCapCoins: 1000n };
      const { gift } = clockedSender(policy, { maxInFlight: 4 });
      const viewer = await createFundedViewer(db, 100n);
      const creatorBefore = await balances(db, room.creator);

      const outcome = await settleAll(Array.from({ length: 40 }, () => gift(viewer, 1)));

      expect(outcome.counts).toEqual({ fulfilled: 25, SpendingLimitError: 15 });
      for (const error of outcome.errors) expect(error).toMatchObject(limitError('PLATFORM_DAILY', 25n, 0n));
      expect(await balances(db, viewer)).toEqual({ coins: 75n, diamonds: 0n });
      expect(await balances(db, room.creator)).toEqual({ coins: 0n, diamonds: creatorBefore.diamonds + 25n });
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
});
