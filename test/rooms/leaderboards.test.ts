import { describe, expect, test } from 'vitest';
import { ok, request } from '../support/graphql.js';
import { gid } from '../support/gifting.js';
import { createCatalogGift, createFundedViewer, createLiveCreator, expectCleanAudit } from '../support/money.js';
import { startTestServer } from '../support/server.js';
import { TopCreators, TopSupporters } from './documents.js';
import { daysAgo, sendInOrder } from './support.js';

// Creator leaderboards over UTC days: today, the last 7 and 30 days, all time; and the top creators.
// This file's database holds only the gifts below, so every list is known exactly.

const server = await startTestServer();
const { db } = server;

const coin = await createCatalogGift(db, 1n, { name: 'Coin' });
const [s1, s2, s3] = await Promise.all([createFundedViewer(db, 2_000n), createFundedViewer(db, 2_000n), createFundedViewer(db, 2_000n)]);
const maya = await createLiveCreator(db, { handle: 'maya' });
const noah = await createLiveCreator(db, { handle: 'noah' });
await createLiveCreator(db, { handle: 'ollie' });

const now = new Date();
const give = (creator: typeof maya, sender: typeof s1, coins: number, days: number) =>
  sendInOrder(db, creator.session, [{ sender, gift: coin, quantity: coins }], daysAgo(days, now));

// Combos of at most 99 coins each: bigger amounts are several gifts on the same day.
for (const [creator, sender, coins, days] of [
  [maya, s1, 10, 0],
  [maya, s1, 5, 3],
  [maya, s1, 100, 10],
  [maya, s1, 1000, 40],
  [maya, s2, 20, 0],
  [maya, s2, 5, 40],
  [maya, s3, 30, 3],
  [noah, s1, 7, 0],
  [noah, s3, 100, 3],
  [noah, s3, 50, 10],
] as const) {
  for (let left = coins; left > 0; left -= 99) await give(creator, sender, Math.min(left, 99), days);
}

const supporters = async (creator: typeof maya, period: 'DAY' | 'WEEK' | 'MONTH' | 'ALL_TIME', first?: number) =>
  (await ok(server.url, TopSupporters, { creatorId: gid('User', creator.creator.id), period, first })).topSupporters.map((line) => [
    line.rank,
    line.user.id,
    line.coins,
  ]);
const id = (user: typeof s1) => gid('User', user.id);

describe("a creator's top supporters", () => {
  test('today: only what was gifted on this UTC day', async () => {
    expect(await supporters(maya, 'DAY')).toEqual([
      [1, id(s2), '20'],
      [2, id(s1), '10'],
    ]);
  });

  test('this week: the last 7 UTC days, summed per supporter', async () => {
    expect(await supporters(maya, 'WEEK')).toEqual([
      [1, id(s3), '30'],
      [2, id(s2), '20'],
      [3, id(s1), '15'],
    ]);
  });

  test('this month: the last 30 UTC days', async () => {
    expect(await supporters(maya, 'MONTH')).toEqual([
      [1, id(s1), '115'],
      [2, id(s3), '30'],
      [3, id(s2), '20'],
    ]);
  });

  test('all time', async () => {
    expect(await supporters(maya, 'ALL_TIME')).toEqual([
      [1, id(s1), '1115'],
      [2, id(s3), '30'],
      [3, id(s2), '25'],
    ]);
    expect(await supporters(noah, 'ALL_TIME')).toEqual([
      [1, id(s3), '150'],
      [2, id(s1), '7'],
    ]);
  });

  test('`first` cuts the list; a creator nobody gifted has an empty one', async () => {
    expect(await supporters(maya, 'ALL_TIME', 1)).toEqual([[1, id(s1), '1115']]);
    expect(await supporters(maya, 'MONTH', 0)).toEqual([]);
    const ollie = (await db.user.findUniqueOrThrow({ where: { handle: 'ollie' } })).id;
    const { topSupporters } = await ok(server.url, TopSupporters, { creatorId: gid('User', ollie), period: 'ALL_TIME' });
    expect(topSupporters).toEqual([]);
  });

  test('each supporter comes with their profile', async () => {
    const { topSupporters } = await ok(server.url, TopSupporters, { creatorId: gid('User', maya.creator.id), period: 'DAY' });
    expect(topSupporters.map((line) => line.user)).toEqual([
      { id: id(s2), handle: s2.handle },
      { id: id(s1), handle: s1.handle },
    ]);
  });

  test('a negative `first` or an id that is not a user is refused', async () => {
    const negative = await request(server.url, TopSupporters, { creatorId: gid('User', maya.creator.id), period: 'DAY', first: -1 });
    expect(negative.errors?.[0]).toMatchObject({ path: ['topSupporters'], extensions: { code: 'VALIDATION_FAILED' } });
    const notUser = await request(server.url, TopSupporters, { creatorId: gid('LiveSession', maya.session.id), period: 'DAY' });
    expect(notUser.errors?.[0]).toMatchObject({ message: 'creatorId: is not a User id', extensions: { code: 'VALIDATION_FAILED' } });
  });
});

describe('top creators', () => {
  const creators = async (period: 'DAY' | 'WEEK', first?: number) =>
    (await ok(server.url, TopCreators, { period, first })).topCreators.map((line) => [line.rank, line.user.handle, line.coins]);

  test('today', async () => {
    expect(await creators('DAY')).toEqual([
      [1, 'maya', '30'],
      [2, 'noah', '7'],
    ]);
  });

  test('this week, where the order turns', async () => {
    expect(await creators('WEEK')).toEqual([
      [1, 'noah', '107'],
      [2, 'maya', '65'],
    ]);
    expect(await creators('WEEK', 1)).toEqual([[1, 'noah', '107']]);
  });

  test('the leaderboards add up to what the ledger says was gifted', async () => {
    const allTime = await db.creatorSupporter.aggregate({ _sum: { coins: true } });
    const gifted = await db.sentGift.aggregate({ _sum: { coins: true } });
    expect(allTime._sum.coins).toBe(gifted._sum.coins);
    expect(gifted._sum.coins).toBe(1115n + 25n + 30n + 157n);
    await expectCleanAudit(db);
  });
});
