import { describe, expect, test } from 'vitest';
import { ok, request } from '../support/graphql.js';
import { gid } from '../support/gifting.js';
import { createCatalogGift, createFundedViewer, createLiveCreator, expectCleanAudit } from '../support/money.js';
import { startTestServer } from '../support/server.js';
import { RoomPage, TopGiftersPage } from './documents.js';
import { sendInOrder } from './support.js';

// What a room page shows about its session: totals, the gifters leaderboard and the latest gifts, exact.

const server = await startTestServer();
const { db } = server;

const [rose, heart, lion] = await Promise.all([
  createCatalogGift(db, 1n, { name: 'Rose' }),
  createCatalogGift(db, 5n, { name: 'Finger Heart' }),
  createCatalogGift(db, 10n, { name: 'Lion', animationUrl: 'https://cdn.example/lion.webm' }),
]);
const [alice, bob, carol] = await Promise.all([
  createFundedViewer(db, 1_000n, { displayName: 'Alice' }),
  createFundedViewer(db, 1_000n, { displayName: 'Bob' }),
  createFundedViewer(db, 1_000n, { displayName: 'Carol' }),
]);
const profile = (user: typeof alice) => ({ id: gid('User', user.id), handle: user.handle, displayName: user.displayName });

const { creator, session } = await createLiveCreator(db, { displayName: 'Maya' });
await sendInOrder(db, session, [
  { sender: alice, gift: heart },
  { sender: bob, gift: lion, quantity: 2 },
  { sender: carol, gift: rose, quantity: 3 },
  { sender: alice, gift: lion },
  { sender: bob, gift: rose },
]);

describe('a session after gifts from several senders', () => {
  test('its totals count every coin, diamond, gift and gifter', async () => {
    const { liveSession } = await ok(server.url, RoomPage, { id: gid('LiveSession', session.id) });
    expect(liveSession).toMatchObject({
      id: gid('LiveSession', session.id),
      status: 'LIVE',
      totalCoins: '39',
      totalDiamonds: '39',
      totalCashValue: { currency: 'USD', amount: '0.195' },
      giftCount: 5,
      uniqueGifters: 3,
      lastSequence: 5,
      viewerCount: 0,
      creator: profile(creator),
      goal: null,
    });
    await expectCleanAudit(db);
  });

  test('its top gifters are ranked by coins, with their profiles and gift counts', async () => {
    const { liveSession } = await ok(server.url, RoomPage, { id: gid('LiveSession', session.id) });
    expect(liveSession!.topGifters.totalCount).toBe(3);
    expect(liveSession!.topGifters.pageInfo.hasNextPage).toBe(false);
    expect(liveSession!.topGifters.edges.map((edge) => ({ ...edge.node, gifts: edge.gifts }))).toEqual([
      { rank: 1, coins: '21', gifts: 2, user: profile(bob) },
      { rank: 2, coins: '15', gifts: 2, user: profile(alice) },
      { rank: 3, coins: '3', gifts: 1, user: profile(carol) },
    ]);
  });

  test('its recent gifts come newest first, with sender and gift', async () => {
    const { liveSession } = await ok(server.url, RoomPage, { id: gid('LiveSession', session.id), gifts: 4 });
    const gifts = liveSession!.recentGifts;
    expect(gifts.map((gift) => [gift.sender.displayName, gift.gift.name, gift.quantity, gift.coins, gift.diamonds])).toEqual([
      ['Bob', 'Rose', 1, '1', '1'],
      ['Alice', 'Lion', 1, '10', '10'],
      ['Carol', 'Rose', 3, '3', '3'],
      ['Bob', 'Lion', 2, '20', '20'],
    ]);
    expect(gifts[1]).toMatchObject({
      cashValue: { currency: 'USD', amount: '0.05' },
      sender: profile(alice),
      gift: { id: gid('Gift', lion.id), coins: '10', imageUrl: 'https://cdn.example/gift.png', animationUrl: 'https://cdn.example/lion.webm' },
    });
  });

  test('the leaderboard pages forward and backward, and every page knows its ranks', async () => {
    const id = gid('LiveSession', session.id);
    const first = (await ok(server.url, TopGiftersPage, { id, first: 2 })).liveSession!.topGifters;
    expect(first.edges.map((edge) => [edge.node.rank, edge.node.user.id])).toEqual([
      [1, gid('User', bob.id)],
      [2, gid('User', alice.id)],
    ]);
    expect(first.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });

    const second = (await ok(server.url, TopGiftersPage, { id, first: 2, after: first.pageInfo.endCursor })).liveSession!.topGifters;
    expect(second.edges.map((edge) => [edge.node.rank, edge.node.coins, edge.node.user.id])).toEqual([[3, '3', gid('User', carol.id)]]);
    expect(second.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });

    const last = (await ok(server.url, TopGiftersPage, { id, last: 2 })).liveSession!.topGifters;
    expect(last.edges.map((edge) => [edge.node.rank, edge.node.user.id])).toEqual([
      [2, gid('User', alice.id)],
      [3, gid('User', carol.id)],
    ]);
    expect(last.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });

    const before = (await ok(server.url, TopGiftersPage, { id, last: 1, before: last.pageInfo.startCursor })).liveSession!.topGifters;
    expect(before.edges.map((edge) => [edge.node.rank, edge.node.user.id])).toEqual([[1, gid('User', bob.id)]]);
    expect(before.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
  });

  test('a page of recent gifts is at most 100, and never a negative number', async () => {
    const refused = await request(server.url, RoomPage, { id: gid('LiveSession', session.id), gifts: -1 });
    expect(refused.errors?.[0]).toMatchObject({ path: ['liveSession', 'recentGifts'], extensions: { code: 'VALIDATION_FAILED' } });
    const capped = await ok(server.url, RoomPage, { id: gid('LiveSession', session.id), gifts: 1000 });
    expect(capped.liveSession!.recentGifts).toHaveLength(5);
  });
});

// Three gifters tied on 5 coins between one above them and one below.
const { session: tied } = await createLiveCreator(db);
const twins = await Promise.all([createFundedViewer(db, 10n), createFundedViewer(db, 10n), createFundedViewer(db, 10n)]);
await sendInOrder(db, tied, [...[...twins].reverse().map((sender) => ({ sender, gift: heart })), { sender: carol, gift: lion }, { sender: alice, gift: rose }]);

describe('gifters with the same coins', () => {
  const id = gid('LiveSession', tied.id);
  const expected = [
    [1, '10', gid('User', carol.id)],
    ...twins.map((twin) => twin.id).sort().map((twinId, index) => [index + 2, '5', gid('User', twinId)]),
    [5, '1', gid('User', alice.id)],
  ];

  test('keep a stable order (by id) and distinct ranks, as the live top three does', async () => {
    const { liveSession } = await ok(server.url, RoomPage, { id });
    expect(liveSession!.topGifters.edges.map((edge) => [edge.node.rank, edge.node.coins, edge.node.user.id])).toEqual(expected);
  });

  test('paging one by one, forward or backward, meets each of them once, in that order', async () => {
    const forward = [];
    let after: string | null | undefined;
    for (let page = 0; page < 6; page++) {
      const { topGifters } = (await ok(server.url, TopGiftersPage, { id, first: 1, after })).liveSession!;
      forward.push(...topGifters.edges.map((edge) => [edge.node.rank, edge.node.coins, edge.node.user.id]));
      after = topGifters.pageInfo.endCursor;
      if (!topGifters.pageInfo.hasNextPage) break;
    }
    expect(forward).toEqual(expected);

    const backward = [];
    let before: string | null | undefined;
    for (let page = 0; page < 6; page++) {
      const { topGifters } = (await ok(server.url, TopGiftersPage, { id, last: 2, before })).liveSession!;
      backward.unshift(...topGifters.edges.map((edge) => [edge.node.rank, edge.node.coins, edge.node.user.id]));
      before = topGifters.pageInfo.startCursor;
      if (!topGifters.pageInfo.hasPreviousPage) break;
    }
    expect(backward).toEqual(expected);
  });
});

describe('a session nobody has gifted in yet', () => {
  test('shows zeros, an empty leaderboard and no gifts', async () => {
    const { session } = await createLiveCreator(db);
    const { liveSession } = await ok(server.url, RoomPage, { id: gid('LiveSession', session.id) });
    expect(liveSession).toMatchObject({
      totalCoins: '0',
      totalDiamonds: '0',
      totalCashValue: { currency: 'USD', amount: '0' },
      giftCount: 0,
      uniqueGifters: 0,
      lastSequence: 0,
      topGifters: { totalCount: 0, edges: [], pageInfo: { hasNextPage: false } },
      recentGifts: [],
    });
  });
});
