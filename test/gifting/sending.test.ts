import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, test } from 'vitest';
import { createBundle } from '../../src/domain/bundles.js';
import { SANDBOX_METHODS, sandboxPaymentId } from '../../src/domain/payments/sandbox.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { applyPaymentEvent, purchaseCoins } from '../../src/domain/purchases.js';
import { silentAnnouncer } from '../../src/events/announcer.js';
import { ok, request } from '../support/graphql.js';
import { gid, moneySnapshot, type MoneySnapshot } from '../support/gifting.js';
import { balances, createCatalogGift, createFundedViewer, createLiveCreator, expectCleanAudit, fundWallet, sandbox, uniqueKey } from '../support/money.js';
import { startTestServer } from '../support/server.js';
import { createUser, tokenFor } from '../support/users.js';
import { EndLiveSession, GiftingWallet, PublishedExchangeRates, RetireGift, SendGift } from './documents.js';

// One gift at a time: what it costs and earns, what the wallet shows, and every refusal (which moves nothing).

const server = await startTestServer();
const { db } = server;

const [rose, heart] = await Promise.all([createCatalogGift(db, 1n, { name: 'Rose' }), createCatalogGift(db, 5n, { name: 'Finger Heart' })]);
const viewer = await createFundedViewer(db, 100n);
const token = await tokenFor(viewer);
const { creator, session } = await createLiveCreator(db);

const send = (input: { liveSessionId?: string; giftId?: string; quantity?: number; comboId?: string; idempotencyKey?: string }, as = token) =>
  ok(
    server.url,
    SendGift,
    { input: { liveSessionId: gid('LiveSession', session.id), giftId: gid('Gift', heart.id), idempotencyKey: uniqueKey('gift'), ...input } },
    { token: as },
  ).then((data) => data.sendGift);

let before: MoneySnapshot;
beforeEach(async () => {
  before = await moneySnapshot(db);
});

/** Every refusal here ends the same way: not a coin, diamond, entry or gift moved. */
async function expectNothingMoved() {
  expect(await moneySnapshot(db)).toEqual(before);
  await expectCleanAudit(db);
}

describe('a gift with bad input is refused with a ValidationError naming the field', () => {
  test.each([0, -1, 100])('quantity %i', async (quantity) => {
    const result = await send({ quantity });
    expect(result).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION_FAILED' });
    expect(result.__typename === 'ValidationError' && result.problems.map((problem) => problem.field)).toEqual(['quantity']);
    await expectNothingMoved();
  });

  test('a combo of 99 is the most one gift can carry', async () => {
    await fundWallet(db, viewer, 495n);
    const result = await send({ quantity: 99 });
    expect(result).toMatchObject({ __typename: 'SentGift', quantity: 99, coins: '495', diamonds: '495' });
    await expectCleanAudit(db);
  });

  test('a gift to yourself', async () => {
    await fundWallet(db, creator, 50n);
    before = await moneySnapshot(db);
    const result = await send({}, await tokenFor(creator));
    expect(result).toMatchObject({ __typename: 'ValidationError', problems: [{ field: 'liveSessionId', message: 'you cannot send gifts to yourself' }] });
    await expectNothingMoved();
  });

  test.each([
    ['liveSessionId', 'not-a-global-id'],
    ['liveSessionId', gid('Gift', randomUUID())],
    ['liveSessionId', gid('LiveSession', 'not-a-uuid')],
    ['giftId', ''],
    ['giftId', gid('User', randomUUID())],
    ['giftId', gid('Gift', '1234')],
  ])('%s "%s" that is not an id of the right kind', async (field, id) => {
    const result = await send({ [field]: id });
    expect(result).toMatchObject({ __typename: 'ValidationError', problems: [{ field }] });
    await expectNothingMoved();
  });

  test.each([
    ['a too short', 'short'],
    ['a blank', '        '],
    ['a too long', 'k'.repeat(201)],
  ])('%s idempotency key', async (_what, idempotencyKey) => {
    const result = await send({ idempotencyKey });
    expect(result).toMatchObject({ __typename: 'ValidationError', problems: [{ field: 'idempotencyKey' }] });
    await expectNothingMoved();
  });

  test('a combo id over 64 characters', async () => {
    const result = await send({ comboId: 'c'.repeat(65) });
    expect(result).toMatchObject({ __typename: 'ValidationError', problems: [{ field: 'comboId' }] });
    await expectNothingMoved();
  });
});

describe('a gift that cannot be sent where it is aimed', () => {
  test('a live session that does not exist is NotFound', async () => {
    const result = await send({ liveSessionId: gid('LiveSession', randomUUID()) });
    expect(result).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
    await expectNothingMoved();
  });

  test('a gift that does not exist is unavailable', async () => {
    const result = await send({ giftId: gid('Gift', randomUUID()) });
    expect(result).toMatchObject({ __typename: 'GiftUnavailableError', code: 'GIFT_UNAVAILABLE' });
    await expectNothingMoved();
  });

  test('a session the creator has ended takes no more gifts', async () => {
    const ending = await createLiveCreator(db);
    const ended = await ok(server.url, EndLiveSession, { input: { liveSessionId: gid('LiveSession', ending.session.id) } }, { token: await tokenFor(ending.creator) });
    expect(ended.endLiveSession).toMatchObject({ __typename: 'LiveSession', status: 'ENDED' });
    before = await moneySnapshot(db);

    const result = await send({ liveSessionId: gid('LiveSession', ending.session.id) });
    expect(result).toMatchObject({ __typename: 'LiveSessionEndedError', code: 'LIVE_SESSION_ENDED' });
    expect(await balances(db, ending.creator)).toEqual({ coins: 0n, diamonds: 0n });
    await expectNothingMoved();
  });

  test('only the creator can end their session', async () => {
    const live = await createLiveCreator(db);
    const { endLiveSession } = await ok(server.url, EndLiveSession, { input: { liveSessionId: gid('LiveSession', live.session.id) } }, { token });
    expect(endLiveSession).toMatchObject({ __typename: 'NotFoundError' });
    expect(await send({ liveSessionId: gid('LiveSession', live.session.id) })).toMatchObject({ __typename: 'SentGift' });
    await expectCleanAudit(db);
  });

  test('a gift an operator retired from the catalog is unavailable; gifts already sent keep their price', async () => {
    const retiring = await createCatalogGift(db, 7n, { name: 'Retiring' });
    const earlier = await send({ giftId: gid('Gift', retiring.id) });
    expect(earlier).toMatchObject({ __typename: 'SentGift', coins: '7' });

    const notAdmin = await ok(server.url, RetireGift, { giftId: gid('Gift', retiring.id) }, { token });
    expect(notAdmin.updateGift).toMatchObject({ __typename: 'ForbiddenError', code: 'FORBIDDEN' });
    const admin = await createUser(db, { roles: ['VIEWER', 'ADMIN'] });
    const retired = await ok(server.url, RetireGift, { giftId: gid('Gift', retiring.id) }, { token: await tokenFor(admin) });
    expect(retired.updateGift).toMatchObject({ __typename: 'Gift', active: false });
    before = await moneySnapshot(db);

    const result = await send({ giftId: gid('Gift', retiring.id) });
    expect(result).toMatchObject({ __typename: 'GiftUnavailableError', code: 'GIFT_UNAVAILABLE' });
    await expectNothingMoved();
    expect((await db.sentGift.findFirstOrThrow({ where: { giftId: retiring.id } })).coins).toBe(7n);
  });

  test("a gift not offered in the sender's country is unavailable to them, and available where it is offered", async () => {
    const regional = await createCatalogGift(db, 3n, { name: 'Tea', countries: ['GB', 'IE'] });

    const result = await send({ giftId: gid('Gift', regional.id) });
    expect(result).toMatchObject({ __typename: 'GiftUnavailableError', message: 'This gift is not offered in your country' });
    await expectNothingMoved();

    const british = await createFundedViewer(db, 3n, { country: 'GB' });
    expect(await send({ giftId: gid('Gift', regional.id) }, await tokenFor(british))).toMatchObject({ __typename: 'SentGift', coins: '3' });
    expect(await balances(db, british)).toEqual({ coins: 0n, diamonds: 0n });
    await expectCleanAudit(db);
  });

  test('a signed-out visitor cannot send gifts', async () => {
    const { sendGift } = await ok(server.url, SendGift, {
      input: { liveSessionId: gid('LiveSession', session.id), giftId: gid('Gift', heart.id), idempotencyKey: uniqueKey('anon') },
    });
    expect(sendGift).toMatchObject({ __typename: 'NotAuthenticatedError', code: 'UNAUTHENTICATED' });
    await expectNothingMoved();
  });
});

describe('a gift the wallet cannot pay for', () => {
  test('more than the wallet holds: InsufficientCoinsError with what it needs and holds', async () => {
    const poor = await createFundedViewer(db, 4n);
    before = await moneySnapshot(db);
    const result = await send({}, await tokenFor(poor));
    expect(result).toMatchObject({ __typename: 'InsufficientCoinsError', neededCoins: '5', balanceCoins: '4' });
    await expectNothingMoved();
  });

  test('a chargeback debt blocks gifting until purchases cover it', async () => {
    const debtor = await createFundedViewer(db, 0n);
    const debtorToken = await tokenFor(debtor);
    const bundle = await createBundle(db, { name: '20 coins', coins: 20n, prices: [{ region: 'DEFAULT', amountMinor: 29n, currency: 'USD' }] });
    const purchase = await purchaseCoins(db, silentAnnouncer, DEFAULT_POLICY, sandbox, debtor.id, { bundleId: bundle.id, paymentMethod: SANDBOX_METHODS.succeeds, idempotencyKey: uniqueKey('buy') });
    expect(await send({ quantity: 3 }, debtorToken)).toMatchObject({ __typename: 'SentGift', coins: '15' });
    await applyPaymentEvent(db, silentAnnouncer, sandbox, { eventId: uniqueKey('evt'), type: 'payment.charged_back', providerPaymentId: sandboxPaymentId(purchase.id) });
    expect(await balances(db, debtor)).toEqual({ coins: -15n, diamonds: 0n });
    expect((await ok(server.url, GiftingWallet, { first: 1 }, { token: debtorToken })).wallet).toMatchObject({ coins: '0', debtCoins: '15' });

    before = await moneySnapshot(db);
    expect(await send({}, debtorToken)).toMatchObject({ __typename: 'OutstandingDebtError', code: 'OUTSTANDING_DEBT', debtCoins: '15' });
    await expectNothingMoved();

    await fundWallet(db, debtor, 20n);
    expect(await send({}, debtorToken)).toMatchObject({ __typename: 'SentGift', coins: '5' });
    expect(await balances(db, debtor)).toEqual({ coins: 0n, diamonds: 0n });
    await expectCleanAudit(db);
  });
});

describe('every gift shows what it cost and what the creator earned', () => {
  test('a 5-coin gift: 5 coins, 5 diamonds, worth 0.025 USD', async () => {
    const viewer = await createFundedViewer(db, 5n);
    const { creator, session } = await createLiveCreator(db);
    const { sendGift } = await ok(
      server.url,
      SendGift,
      { input: { liveSessionId: gid('LiveSession', session.id), giftId: gid('Gift', heart.id), idempotencyKey: uniqueKey('heart') } },
      { token: await tokenFor(viewer) },
    );
    expect(sendGift).toMatchObject({
      __typename: 'SentGift',
      quantity: 1,
      comboId: null,
      coins: '5',
      diamonds: '5',
      cashValue: { currency: 'USD', amount: '0.025' },
      gift: { id: gid('Gift', heart.id), name: 'Finger Heart' },
      sender: { id: gid('User', viewer.id) },
      creator: { id: gid('User', creator.id) },
      liveSession: { id: gid('LiveSession', session.id) },
    });
    await expectCleanAudit(db);
  });

  test('a combo is priced per tap and keeps its combo id', async () => {
    const viewer = await createFundedViewer(db, 15n);
    const { session } = await createLiveCreator(db);
    const { sendGift } = await ok(
      server.url,
      SendGift,
      { input: { liveSessionId: gid('LiveSession', session.id), giftId: gid('Gift', heart.id), quantity: 3, comboId: 'streak-7', idempotencyKey: uniqueKey('combo') } },
      { token: await tokenFor(viewer) },
    );
    expect(sendGift).toMatchObject({ __typename: 'SentGift', quantity: 3, comboId: 'streak-7', coins: '15', diamonds: '15', cashValue: { currency: 'USD', amount: '0.075' } });
    await expectCleanAudit(db);
  });

  test('the published exchange rates: 1 diamond per coin, half a US cent per diamond; no sign-in needed', async () => {
    expect(await ok(server.url, PublishedExchangeRates)).toEqual({
      exchangeRates: { diamondsPerCoin: { numerator: '1', denominator: '1' }, usdCentsPerDiamond: { numerator: '1', denominator: '2' } },
    });
  });
});

describe('the wallet', () => {
  test("after a purchase and three gifts: the viewer's balances and full history, newest first, page by page", async () => {
    const viewer = await createFundedViewer(db, 100n);
    const { creator, session } = await createLiveCreator(db);
    const token = await tokenFor(viewer);
    const sent: string[] = [];
    for (const [gift, quantity] of [[heart, 1], [rose, 3], [heart, 2]] as const) {
      const { sendGift } = await ok(
        server.url,
        SendGift,
        { input: { liveSessionId: gid('LiveSession', session.id), giftId: gid('Gift', gift.id), quantity, idempotencyKey: uniqueKey('w') } },
        { token },
      );
      if (sendGift.__typename !== 'SentGift') throw new Error(`expected a SentGift, got ${sendGift.__typename}`);
      sent.push(sendGift.id);
    }

    const firstPage = (await ok(server.url, GiftingWallet, { first: 2 }, { token })).wallet;
    expect(firstPage).toMatchObject({
      coins: '82',
      diamonds: '0',
      diamondsCashValue: { currency: 'USD', amount: '0' },
      debtCoins: '0',
      limits: { dailyLimitCoins: null, pendingDailyLimitCoins: null, spentTodayCoins: '18', platformDailyCapCoins: '35000', platformWeeklyCapCoins: '140000' },
    });
    expect(firstPage.history.edges.map(({ node }) => node)).toMatchObject([
      { asset: 'COIN', amount: '-10', kind: 'GIFT', cashValue: null, sentGift: { id: sent[2], coins: '10', quantity: 2 } },
      { asset: 'COIN', amount: '-3', kind: 'GIFT', cashValue: null, sentGift: { id: sent[1], coins: '3', quantity: 3 } },
    ]);
    expect(firstPage.history.pageInfo.hasNextPage).toBe(true);

    const secondPage = (await ok(server.url, GiftingWallet, { first: 2, after: firstPage.history.pageInfo.endCursor }, { token })).wallet.history;
    expect(secondPage.edges.map(({ node }) => node)).toMatchObject([
      { asset: 'COIN', amount: '-5', kind: 'GIFT', sentGift: { id: sent[0], coins: '5' } },
      { asset: 'COIN', amount: '100', kind: 'PURCHASE', sentGift: null },
    ]);
    expect(secondPage.pageInfo.hasNextPage).toBe(false);

    const lastPage = (await ok(server.url, GiftingWallet, { first: 2, after: secondPage.pageInfo.endCursor }, { token })).wallet.history;
    expect(lastPage.edges).toEqual([]);

    // The history adds up to the balance, and never shows anyone else's postings.
    const whole = (await ok(server.url, GiftingWallet, { first: 50 }, { token })).wallet.history.edges;
    expect(whole).toHaveLength(4);
    expect(whole.reduce((sum, { node }) => sum + BigInt(node.amount), 0n)).toBe(82n);
    expect(new Set(whole.map(({ node }) => node.id)).size).toBe(4);

    const creatorWallet = (await ok(server.url, GiftingWallet, { first: 10 }, { token: await tokenFor(creator) })).wallet;
    expect(creatorWallet).toMatchObject({ coins: '0', diamonds: '18', diamondsCashValue: { currency: 'USD', amount: '0.09' } });
    expect(creatorWallet.history.edges.map(({ node }) => node)).toMatchObject([
      { asset: 'DIAMOND', amount: '10', kind: 'GIFT', cashValue: { currency: 'USD', amount: '0.05' }, sentGift: { id: sent[2], diamonds: '10' } },
      { asset: 'DIAMOND', amount: '3', kind: 'GIFT', cashValue: { currency: 'USD', amount: '0.015' }, sentGift: { id: sent[1], diamonds: '3' } },
      { asset: 'DIAMOND', amount: '5', kind: 'GIFT', cashValue: { currency: 'USD', amount: '0.025' }, sentGift: { id: sent[0], diamonds: '5' } },
    ]);
    expect(creatorWallet.history.pageInfo.hasNextPage).toBe(false);
    await expectCleanAudit(db);
  });

  test('a new account has an empty wallet', async () => {
    const viewer = await createFundedViewer(db, 0n);
    const { wallet } = await ok(server.url, GiftingWallet, { first: 10 }, { token: await tokenFor(viewer) });
    expect(wallet).toMatchObject({ coins: '0', diamonds: '0', debtCoins: '0', history: { edges: [], pageInfo: { hasNextPage: false } } });
  });

  test('the wallet is private: signed out, there is none', async () => {
    const response = await request(server.url, GiftingWallet, { first: 10 });
    expect(response.data).toBeNull();
    expect(response.errors?.map((error) => error.extensions?.code)).toEqual(['UNAUTHENTICATED']);
  });
});
