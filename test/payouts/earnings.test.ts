import { silentAnnouncer } from '../../src/events/announcer.js';
import { describe, expect, test } from 'vitest';
import { endLiveSession, startLiveSession } from '../../src/domain/live-sessions.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { ok } from '../support/graphql.js';
import { expectCleanAudit } from '../support/money.js';
import { recordingSchema } from '../support/statements.js';
import { Earnings, EarningsPage } from './documents.js';
import { approve, asked, creatorWith, earn, readyMethod, signedInAdmin, startPayoutServer } from './support.js';

const server = await startPayoutServer();
const { db } = server;
const admin = await signedInAdmin(db);
const DAY = 86_400_000;

/** Gifts the creator received, moved back `days` UTC days (as if received then). */
const receivedDaysAgo = (creatorId: string, days: number, diamonds: bigint) =>
  db.$executeRaw`UPDATE "SentGift" SET "createdAt" = "createdAt" - ${days} * interval '1 day' WHERE "creatorId" = ${creatorId}::uuid AND diamonds = ${diamonds}`;

const utcDay = (daysAgo: number) => new Date(Date.now() - daysAgo * DAY).toISOString().slice(0, 10);

describe("a creator's earnings", () => {
  test('available, held by payouts in progress, earned and paid out, each with its cash value; by live session', async () => {
    const { creator, session } = await creatorWith(db, 20_000n);
    await endLiveSession(db, silentAnnouncer, creator.id, session.id);
    const second = await startLiveSession(db, DEFAULT_POLICY, creator.id, { title: 'Encore' });
    await earn(db, creator, second.id, 15_000n);
    const methodId = await readyMethod(server, creator, admin);
    await approve(server, admin, (await asked(server, creator, methodId, 10_000n)).id);
    await asked(server, creator, methodId, 12_000n);

    const { earnings } = await ok(server.url, Earnings, { interval: 'DAY', periods: 1, sessions: 10 }, { token: creator.token });
    expect(earnings).toMatchObject({
      available: { diamonds: '13000', cashValue: { amount: '65', currency: 'USD' } },
      held: { diamonds: '12000', cashValue: { amount: '60' } },
      lifetimeEarned: { diamonds: '35000', cashValue: { amount: '175' } },
      lifetimePaidOut: { diamonds: '10000', cashValue: { amount: '50' } },
    });
    expect(earnings.byLiveSession.edges.map(({ node }) => [node.title, node.totalDiamonds, node.totalCashValue.amount])).toEqual([
      ['Encore', '15000', '75'],
      ['Live now', '20000', '100'],
    ]);
    await expectCleanAudit(db);
  });

  test('by day, week and month: newest first, empty periods included, back to the first gift, page by page', async () => {
    const { creator, session } = await creatorWith(db, 0n);
    await earn(db, creator, session.id, 1_001n);
    await earn(db, creator, session.id, 2_002n);
    await earn(db, creator, session.id, 4_004n);
    await receivedDaysAgo(creator.id, 2, 2_002n);
    await receivedDaysAgo(creator.id, 40, 4_004n);

    const days = async (first: number, after?: string) =>
      (await ok(server.url, Earnings, { interval: 'DAY', periods: first, after, sessions: 1 }, { token: creator.token })).earnings.byPeriod;
    const firstPage = await days(3);
    expect(firstPage.edges.map(({ node }) => [node.startsOn, node.diamonds, node.gifts, node.cashValue.amount])).toEqual([
      [utcDay(0), '1001', 1, '5.005'],
      [utcDay(1), '0', 0, '0'],
      [utcDay(2), '2002', 1, '10.01'],
    ]);
    expect(firstPage.edges[0]!.node).toMatchObject({ interval: 'DAY', endsBefore: utcDay(-1) });
    expect(firstPage.pageInfo).toEqual({ hasNextPage: true, endCursor: utcDay(2) });

    // The rest, a page at a time, ends at the day of the first gift.
    let page = firstPage;
    const all = [...firstPage.edges];
    while (page.pageInfo.hasNextPage) {
      page = await days(30, page.pageInfo.endCursor!);
      all.push(...page.edges);
    }
    expect(all).toHaveLength(41);
    expect(all.at(-1)!.node).toMatchObject({ startsOn: utcDay(40), diamonds: '4004' });
    expect(all.reduce((sum, { node }) => sum + BigInt(node.diamonds), 0n)).toBe(7_007n);

    const months = (await ok(server.url, Earnings, { interval: 'MONTH', periods: 12, sessions: 1 }, { token: creator.token })).earnings.byPeriod;
    expect(months.edges.reduce((sum, { node }) => sum + BigInt(node.diamonds), 0n)).toBe(7_007n);
    expect(months.edges.length).toBeGreaterThanOrEqual(2);
    expect(months.edges.every(({ node }) => node.startsOn.endsWith('-01'))).toBe(true);
    expect(months.pageInfo.hasNextPage).toBe(false);

    const weeks = (await ok(server.url, Earnings, { interval: 'WEEK', periods: 10, sessions: 1 }, { token: creator.token })).earnings.byPeriod;
    expect(weeks.edges.reduce((sum, { node }) => sum + BigInt(node.diamonds), 0n)).toBe(7_007n);
    expect(weeks.edges.every(({ node }) => new Date(node.startsOn).getUTCDay() === 1)).toBe(true);
  });

  test('a creator who has earned nothing has an empty calendar', async () => {
    const { creator } = await creatorWith(db, 0n);
    const { earnings } = await ok(server.url, Earnings, { interval: 'WEEK', periods: 5, sessions: 5 }, { token: creator.token });
    expect(earnings.byPeriod).toEqual({ edges: [], pageInfo: { hasNextPage: false, endCursor: null } });
    expect(earnings.available.diamonds).toBe('0');
  });
});

describe('the earnings page', () => {
  const record = recordingSchema(server.database.url);
  const openPage = async (creatorId: string) => {
    const { data, statements } = await record(EarningsPage, {}, { userId: creatorId, roles: ['VIEWER', 'CREATOR'] });
    return { page: data, statements };
  };

  test('runs the same few SQL statements for a creator with one gift and one payout as for one with many of each', async () => {
    const { creator: small } = await creatorWith(db, 20_000n);
    const smallMethod = await readyMethod(server, small, admin);
    await asked(server, small, smallMethod, 10_000n);

    const { creator: busy, session: busySession } = await creatorWith(db, 100_000n);
    let live = busySession;
    for (let show = 0; show < 4; show++) {
      await endLiveSession(db, silentAnnouncer, busy.id, live.id);
      live = await startLiveSession(db, DEFAULT_POLICY, busy.id, { title: `Show ${show}` });
      for (let gift = 0; gift < 5; gift++) await earn(db, busy, live.id, 1_000n + BigInt(gift));
    }
    await receivedDaysAgo(busy.id, 3, 1_001n);
    const busyMethod = await readyMethod(server, busy, admin);
    for (let i = 0; i < 8; i++) {
      const payout = await asked(server, busy, busyMethod, 10_000n);
      if (i % 3 === 0) await approve(server, admin, payout.id);
    }

    const few = await openPage(small.id);
    const many = await openPage(busy.id);
    expect(few.page.payouts.edges).toHaveLength(1);
    expect(many.page.payouts.edges).toHaveLength(8);
    expect(many.page.earnings.byLiveSession.edges).toHaveLength(5);
    for (const { node } of many.page.payouts.edges) expect(node.method.display && node.history.length).toBeTruthy();

    expect(many.statements.length, many.statements.join('\n')).toBe(few.statements.length);
    expect(many.statements.length, many.statements.join('\n')).toBeLessThanOrEqual(10);
  });
});
