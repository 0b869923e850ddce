import { describe, expect, test } from 'vitest';
import { ok, request } from '../support/graphql.js';
import { gid } from '../support/gifting.js';
import { createGiftSender } from '../../src/domain/gifting.js';
import { endLiveSession, startLiveSession } from '../../src/domain/live-sessions.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { silentAnnouncer } from '../../src/events/announcer.js';
import type { LiveSession } from '../../src/generated/prisma/client.js';
import { createCatalogGift, createFundedViewer, createLiveCreator, expectCleanAudit, uniqueKey } from '../support/money.js';
import { startTestServer } from '../support/server.js';
import { TopCreators, TopSupporters } from './documents.js';
import { daysAgo, sendInOrder } from './support.js';

// Creator leaderboards over UTC days: today, the last 7 and 30 days, all time; and the top creators.
// This file's database holds only the gifts below, so every list is known exactly.

const server = await startTestServer();
const { db } = server;

const coin = await createCatalogGift(db, 1n, { name: 'Coin' });
const [s1, s2, s3] = await Promise.all([createFundedViewer(db, 2_000n), createFundedViewer(db, 2_000n), createFundedViewer(db, 2_000n)]);
const mayaBefore = await createLiveCreator(db, { handle: 'maya' });
const noah = await createLiveCreator(db, { handle: 'noah' });
await createLiveCreator(db, { handle: 'ollie' });

const now = new Date();
const give = (session: LiveSession, sender: typeof s1, coins: number, days: number) =>
  sendInOrder(db, session, [{ sender, gift: coin, quantity: coins }], daysAgo(days, now));
// Combos of at most 99 coins each: bigger amounts are several gifts on the same day.
async function giveAll(gifts: (readonly [LiveSession, typeof s1, number, number])[]) {
  for (const [session, sender, coins, days] of gifts) {
    for (let left = coins; left > 0; left -= 99) await give(session, sender, Math.min(left, 99), days);
  }
}

// Maya's older gifts went to a session she has ended since; the rest to the one she is live in now.
await giveAll([
  [mayaBefore.session, s1, 100, 10],
  [mayaBefore.session, s1, 1000, 40],
  [mayaBefore.session, s2, 5, 40],
]);
await endLiveSession(db, silentAnnouncer, mayaBefore.creator.id, mayaBefore.session.id);
const maya = { creator: mayaBefore.creator, session: await startLiveSession(db, DEFAULT_POLICY, mayaBefore.creator.id, { title: 'Back' }) };
await giveAll([
  [maya.session, s1, 10, 0],
  [maya.session, s1, 5, 3],
  [maya.session, s2, 20, 0],
  [maya.session, s3, 30, 3],
  [noah.session, s1, 7, 0],
  [noah.session, s3, 100, 3],
  [noah.session, s3, 50, 10],
]);

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

  test("all time: the sessions she ended and the one she is live in, added up", async () => {
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
    const allTime = await Promise.all([maya, noah].map((creator) => supporters(creator, 'ALL_TIME')));
    const gifted = await db.sentGift.aggregate({ _sum: { coins: true } });
    expect(allTime.flat().reduce((sum, line) => sum + BigInt(line[2]!), 0n)).toBe(gifted._sum.coins);
    expect(gifted._sum.coins).toBe(1115n + 25n + 30n + 157n);
    await expectCleanAudit(db);
  });
});

// A creator's all-time totals take a session's when it ends; until then its own totals count.
describe('all time, across sessions', () => {
  const long = daysAgo(400, now);

  test("an ended session's supporters stay; a live session's gifts count at once, and can overtake them", async () => {
    const pia = await createLiveCreator(db, { handle: 'pia' });
    await sendInOrder(db, pia.session, [{ sender: s1, gift: coin, quantity: 50 }, { sender: s2, gift: coin, quantity: 40 }], long);
    await endLiveSession(db, silentAnnouncer, pia.creator.id, pia.session.id);
    expect(await supporters(pia, 'ALL_TIME')).toEqual([[1, id(s1), '50'], [2, id(s2), '40']]);

    const again = { ...pia, session: await startLiveSession(db, DEFAULT_POLICY, pia.creator.id, { title: 'Again' }) };
    await sendInOrder(db, again.session, [{ sender: s3, gift: coin, quantity: 45 }], long);
    expect(await supporters(again, 'ALL_TIME')).toEqual([[1, id(s1), '50'], [2, id(s3), '45'], [3, id(s2), '40']]);
    // Second before, first with what they give live, even when only one line is asked for.
    await sendInOrder(db, again.session, [{ sender: s2, gift: coin, quantity: 20 }], long);
    expect(await supporters(again, 'ALL_TIME', 1)).toEqual([[1, id(s2), '60']]);

    await endLiveSession(db, silentAnnouncer, pia.creator.id, again.session.id);
    expect(await supporters(again, 'ALL_TIME')).toEqual([[1, id(s2), '60'], [2, id(s1), '50'], [3, id(s3), '45']]);
    await expectCleanAudit(db);
  });

  test("a session ended five times at once joins the all-time leaderboard once", async () => {
    const rae = await createLiveCreator(db, { handle: 'rae' });
    await sendInOrder(db, rae.session, [{ sender: s1, gift: coin, quantity: 9 }], long);
    const ended = await Promise.all(Array.from({ length: 5 }, () => endLiveSession(db, silentAnnouncer, rae.creator.id, rae.session.id)));
    expect(ended.map((session) => session.status)).toEqual(Array(5).fill('ENDED'));
    expect(await supporters(rae, 'ALL_TIME')).toEqual([[1, id(s1), '9']]);
    await expectCleanAudit(db);
  });

  test('a session ending while 20 viewers send gifts: each gift that committed counts once, none that was refused', async () => {
    const quinn = await createLiveCreator(db, { handle: 'quinn' });
    const viewers = await Promise.all(Array.from({ length: 20 }, () => createFundedViewer(db, 100n)));
    const sender = createGiftSender(db, silentAnnouncer, DEFAULT_POLICY, { now: () => long });
    let sent = 0;
    let twentySent: () => void;
    const ending = new Promise<void>((resolve) => (twentySent = resolve)).then(() => endLiveSession(db, silentAnnouncer, quinn.creator.id, quinn.session.id));
    const sending = viewers.map(async (viewer) => {
      const outcomes: string[] = [];
      for (let i = 0; i < 5; i++) {
        const input = { liveSessionId: quinn.session.id, giftId: coin.id, quantity: 3, idempotencyKey: uniqueKey('race') };
        const outcome = await sender.send(viewer.id, input).then(() => 'sent', (error: { code?: string }) => error.code ?? String(error));
        if (outcome === 'sent' && ++sent === 20) twentySent!();
        outcomes.push(outcome);
      }
      return outcomes;
    });
    const outcomes = (await Promise.all(sending)).flat();
    await ending;

    expect(new Set(outcomes)).toEqual(new Set(['sent', 'LIVE_SESSION_ENDED']));
    const lines = await supporters(quinn, 'ALL_TIME', 100);
    expect(lines.reduce((sum, line) => sum + BigInt(line[2]!), 0n)).toBe(BigInt(sent * 3));
    const gifted = await db.sentGift.aggregate({ where: { liveSessionId: quinn.session.id }, _sum: { coins: true } });
    expect(gifted._sum.coins ?? 0n).toBe(BigInt(sent * 3));
    await expectCleanAudit(db);
  });
});
