import { describe, expect, test } from 'vitest';
import { ok, request } from '../support/graphql.js';
import { gid } from '../support/gifting.js';
import { createCatalogGift, createFundedViewer, createLiveCreator, expectCleanAudit, uniqueKey } from '../support/money.js';
import { startTestServer } from '../support/server.js';
import { tokenFor } from '../support/users.js';
import { GiftingWallet, PublishedExchangeRates, SendGift } from './documents.js';

const server = await startTestServer();
const { db } = server;

const [rose, heart] = await Promise.all([createCatalogGift(db, 1n, { name: 'Rose' }), createCatalogGift(db, 5n, { name: 'Finger Heart' })]);

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
