import type { Database } from '../db/client.js';
import type { Tx } from '../db/transaction.js';
import type { Prisma, User } from '../generated/prisma/client.js';
import { ValidationError } from './errors.js';
import { spendDay } from './safeguards.js';

/**
 * Leaderboards, read from the totals that gift batches keep (src/domain/rooms.ts): SessionSupporter per
 * session, CreatorSupportDay per creator and UTC day; and CreatorSupporter per creator for all time,
 * which takes a session's totals when it ends (foldSessionSupporters), so the gift path writes two
 * totals rather than three (docs/money.md, "What a gift writes"). Every query here reads one creator's
 * (or one window's) rows through an index, never the whole table.
 *
 * A rank is a position: coins, highest first, ties in a stable order (the supporter's id), as the room's
 * live top three is announced.
 */

export type LeaderboardPeriod = 'DAY' | 'WEEK' | 'MONTH' | 'ALL_TIME';
export type CreatorLeaderboardPeriod = 'DAY' | 'WEEK';

/** A line of any leaderboard: who, their position and their coins. */
export type LeaderboardEntry = { rank: number; user: User; coins: bigint };

/** What to load with each user on a leaderboard (a caller's relations, e.g. their live session). */
export type UserQuery = Pick<Prisma.UserFindManyArgs, 'include'>;

/** The longest list one leaderboard returns; larger requests get this many, as connections do. */
export const MAX_LEADERBOARD_SIZE = 100;

/** UTC days in each rolling window, today included. */
const WINDOW_DAYS = { DAY: 1, WEEK: 7, MONTH: 30 } as const;

const DAY_MS = 24 * 3600 * 1000;

/** The first and last UTC day of a window ending today. */
export function periodDays(period: keyof typeof WINDOW_DAYS, now: Date): { from: Date; to: Date } {
  const to = spendDay(now);
  return { from: new Date(to.getTime() - (WINDOW_DAYS[period] - 1) * DAY_MS), to };
}

function listSize(first: number): number {
  if (!Number.isInteger(first) || first < 0) throw new ValidationError([{ field: 'first', message: 'must be a whole number, 0 or more' }]);
  return Math.min(first, MAX_LEADERBOARD_SIZE);
}

/** A creator's biggest supporters: today, the last 7 or 30 UTC days, or all time. */
export async function topSupporters(
  db: Database,
  creatorId: string,
  period: LeaderboardPeriod,
  first: number,
  userQuery: UserQuery = {},
  now = new Date(),
): Promise<LeaderboardEntry[]> {
  const take = listSize(first);
  if (take === 0) return [];
  let rows: { userId: string; coins: bigint }[];
  if (period === 'ALL_TIME') {
    rows = await allTimeSupporters(db, creatorId, take);
  } else {
    const { from, to } = periodDays(period, now);
    const sums = await db.creatorSupportDay.groupBy({
      by: ['senderId'],
      where: { creatorId, day: { gte: from, lte: to } },
      _sum: { coins: true },
      orderBy: [{ _sum: { coins: 'desc' } }, { senderId: 'asc' }],
      take,
    });
    rows = sums.map((row) => ({ userId: row.senderId, coins: row._sum.coins ?? 0n }));
  }
  const users = await usersById(db, rows.map((row) => row.userId), userQuery);
  return rows.map((row, index) => ({ rank: index + 1, user: users.get(row.userId)!, coins: row.coins }));
}

/**
 * A creator's all-time top `take`: their ended sessions' totals (CreatorSupporter) plus their live
 * session's (SessionSupporter), in one statement, so one snapshot sees a session on exactly one side.
 * Only two kinds of supporter can be in the top: those in CreatorSupporter's own top `take` (a supporter
 * who gave nothing live keeps their folded total, and everyone ahead of them there is ahead in the sum
 * too) and those who gave in the live session; the sum is taken over those alone, each candidate's
 * ended sessions' total looked up by key (a join would read the creator's whole history).
 */
async function allTimeSupporters(db: Database, creatorId: string, take: number): Promise<{ userId: string; coins: bigint }[]> {
  return db.$queryRaw`
    WITH live AS (
      SELECT t."senderId", sum(t.coins) AS coins
      FROM "LiveSession" s JOIN "SessionSupporter" t ON t."liveSessionId" = s.id
      WHERE s."creatorId" = ${creatorId}::uuid AND s.status = 'LIVE'
      GROUP BY t."senderId"),
    candidates AS (
      (SELECT "senderId" FROM "CreatorSupporter" WHERE "creatorId" = ${creatorId}::uuid ORDER BY coins DESC, "senderId" LIMIT ${take})
      UNION SELECT "senderId" FROM live)
    SELECT c."senderId" AS "userId",
      (coalesce((SELECT f.coins FROM "CreatorSupporter" f WHERE f."creatorId" = ${creatorId}::uuid AND f."senderId" = c."senderId"), 0)
        + coalesce(l.coins, 0))::bigint AS coins
    FROM candidates c LEFT JOIN live l ON l."senderId" = c."senderId"
    ORDER BY 2 DESC, 1
    LIMIT ${take}`;
}

/**
 * Adds an ending session's supporters to its creator's all-time totals, in the transaction that ends
 * it: after its status changed, so no gift commits into it any more (a batch holding its row commits
 * first, and one waiting for the row finds it ended and rolls back).
 */
export async function foldSessionSupporters(tx: Tx, liveSessionId: string): Promise<void> {
  await tx.$executeRaw`
    INSERT INTO "CreatorSupporter" ("creatorId", "senderId", coins)
    SELECT s."creatorId", t."senderId", t.coins
    FROM "SessionSupporter" t JOIN "LiveSession" s ON s.id = t."liveSessionId"
    WHERE t."liveSessionId" = ${liveSessionId}::uuid
    ON CONFLICT ("creatorId", "senderId") DO UPDATE SET coins = "CreatorSupporter".coins + EXCLUDED.coins`;
}

/** The creators who received the most coins today or over the last 7 UTC days. */
export async function topCreators(
  db: Database,
  period: CreatorLeaderboardPeriod,
  first: number,
  userQuery: UserQuery = {},
  now = new Date(),
): Promise<LeaderboardEntry[]> {
  const take = listSize(first);
  if (take === 0) return [];
  const { from, to } = periodDays(period, now);
  const sums = await db.creatorSupportDay.groupBy({
    by: ['creatorId'],
    where: { day: { gte: from, lte: to } },
    _sum: { coins: true },
    orderBy: [{ _sum: { coins: 'desc' } }, { creatorId: 'asc' }],
    take,
  });
  const users = await usersById(db, sums.map((row) => row.creatorId), userQuery);
  return sums.map((row, index) => ({ rank: index + 1, user: users.get(row.creatorId)!, coins: row._sum.coins ?? 0n }));
}

/** A session's leaderboard order, the one its index ("SessionSupporter" by coins desc, senderId) serves. */
const SESSION_ORDER = [{ coins: 'desc' }, { senderId: 'asc' }] satisfies Prisma.SessionSupporterOrderByWithRelationInput[];
const SESSION_ORDER_REVERSED = [{ coins: 'asc' }, { senderId: 'desc' }] satisfies Prisma.SessionSupporterOrderByWithRelationInput[];

/** How to read one page of a session's leaderboard, and the rank of the page's first row. */
export type SessionLeaderboardPage = {
  where: Prisma.SessionSupporterWhereInput;
  orderBy: Prisma.SessionSupporterOrderByWithRelationInput[];
  take: number;
  /** The rows come in reverse order (a page before a point): put them back in leaderboard order. */
  reversed: boolean;
  /** The rank of the first row of the page, given how many rows it holds. */
  firstRank(rows: number): number;
};

/**
 * One page of a session's leaderboard as a keyset range of its index: `take` rows after the cursor's
 * gifter (negative: the rows before it), or from the top (negative: the bottom) without a cursor.
 * Null when the cursor's gifter is not on this leaderboard. (Prisma's own cursor pagination sends no
 * LIMIT with a cursor on a non-unique order, prisma/orm#27094: every page after the first would read
 * the rest of the leaderboard.)
 */
export async function sessionLeaderboardPage(
  db: Database,
  session: { id: string; uniqueGifters: number },
  { take, cursorSenderId }: { take: number; cursorSenderId?: string },
): Promise<SessionLeaderboardPage | null> {
  const reversed = take < 0;
  const page = { take: Math.abs(take), reversed, orderBy: reversed ? SESSION_ORDER_REVERSED : SESSION_ORDER };
  if (!cursorSenderId) {
    // uniqueGifters counts the leaderboard's rows (kept with them in the gift's transaction).
    return { ...page, where: { liveSessionId: session.id }, firstRank: (rows) => (reversed ? session.uniqueGifters - rows + 1 : 1) };
  }
  const [at] = await db.$queryRaw<{ coins: bigint; senderId: string; ahead: number }[]>`
    SELECT c.coins, c."senderId",
      (SELECT count(*) FROM "SessionSupporter" s
       WHERE s."liveSessionId" = c."liveSessionId" AND s.coins >= c.coins AND (s.coins > c.coins OR s."senderId" < c."senderId"))::int AS ahead
    FROM "SessionSupporter" c WHERE c."liveSessionId" = ${session.id}::uuid AND c."senderId" = ${cursorSenderId}::uuid`;
  if (!at) return null;
  const rank = at.ahead + 1;
  // Strictly after (or before) the gifter in (coins desc, senderId) order; the coins bound is the
  // index range, the rest a filter on it.
  const where: Prisma.SessionSupporterWhereInput = reversed
    ? { liveSessionId: session.id, coins: { gte: at.coins }, OR: [{ coins: { gt: at.coins } }, { senderId: { lt: at.senderId } }] }
    : { liveSessionId: session.id, coins: { lte: at.coins }, OR: [{ coins: { lt: at.coins } }, { senderId: { gt: at.senderId } }] };
  return { ...page, where, firstRank: (rows) => (reversed ? rank - rows : rank + 1) };
}

/** Users by id in one query, with what `userQuery` includes. */
async function usersById(db: Database, ids: string[], userQuery: UserQuery): Promise<Map<string, User>> {
  if (ids.length === 0) return new Map();
  const users = await db.user.findMany({ ...userQuery, where: { id: { in: ids } } });
  return new Map(users.map((user) => [user.id, user]));
}
