import type { Database } from '../../db/client.js';
import { ValidationError } from '../errors.js';
import { spendDay } from '../safeguards.js';

/** A creator's diamonds, where they are now. */
export type EarningsSummary = {
  /** In the creator's balance: what a payout can take. */
  available: bigint;
  /** Held by payouts in progress (requested, approved, processing). */
  held: bigint;
  /** Earned from gifts in all the creator's live sessions. */
  lifetimeEarned: bigint;
  /** Paid out (payouts PAID and not returned). */
  lifetimePaidOut: bigint;
};

/** One statement, whatever the creator's history: a balance, and sums over their payouts and sessions. */
export async function earningsSummary(db: Database, creatorId: string): Promise<EarningsSummary> {
  const [row] = await db.$queryRaw<EarningsSummary[]>`
    SELECT
      coalesce((SELECT balance FROM "Account" WHERE "userId" = ${creatorId}::uuid AND asset = 'DIAMOND'), 0)::bigint AS available,
      coalesce((SELECT sum(diamonds) FROM "Payout" WHERE "creatorId" = ${creatorId}::uuid AND status IN ('REQUESTED', 'APPROVED', 'PROCESSING')), 0)::bigint AS held,
      coalesce((SELECT sum("totalDiamonds") FROM "LiveSession" WHERE "creatorId" = ${creatorId}::uuid), 0)::bigint AS "lifetimeEarned",
      coalesce((SELECT sum(diamonds) FROM "Payout" WHERE "creatorId" = ${creatorId}::uuid AND status = 'PAID'), 0)::bigint AS "lifetimePaidOut"`;
  return row!;
}

export type EarningsInterval = 'DAY' | 'WEEK' | 'MONTH';

/** Diamonds earned in one UTC day, ISO week (from Monday) or calendar month. */
export type PeriodEarnings = { interval: EarningsInterval; startsOn: Date; endsBefore: Date; diamonds: bigint; gifts: number };

/** The most periods one page lists. */
export const MAX_PERIODS_PER_PAGE = 100;

/** The start of the interval holding `at`, and the start of the next. */
function periodAround(interval: EarningsInterval, at: Date): { start: Date; next: Date } {
  const day = spendDay(at);
  if (interval === 'DAY') return { start: day, next: new Date(day.getTime() + 86_400_000) };
  if (interval === 'WEEK') {
    const start = new Date(day.getTime() - ((day.getUTCDay() + 6) % 7) * 86_400_000);
    return { start, next: new Date(start.getTime() + 7 * 86_400_000) };
  }
  const start = new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), 1));
  return { start, next: new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth() + 1, 1)) };
}

/**
 * A creator's earnings period by period, newest first: the current period, then each before it down to
 * the one of their first gift, empty periods included (a calendar, not a list of gifts). `before` is a
 * period start from an earlier page. One statement per page, over the gifts of the page's periods only.
 */
export async function earningsByPeriod(
  db: Database,
  creatorId: string,
  interval: EarningsInterval,
  { first, before }: { first: number; before?: Date },
  now = new Date(),
): Promise<{ periods: PeriodEarnings[]; hasMore: boolean }> {
  if (!Number.isInteger(first) || first < 0 || first > MAX_PERIODS_PER_PAGE) {
    throw new ValidationError([{ field: 'first', message: `must be a whole number from 0 to ${MAX_PERIODS_PER_PAGE}` }]);
  }
  const newest = periodAround(interval, before ? new Date(before.getTime() - 1) : now);
  const periods: { start: Date; next: Date }[] = [];
  for (let period = newest; periods.length < first; period = periodAround(interval, new Date(period.start.getTime() - 1))) periods.push(period);
  const from = periods.at(-1)?.start ?? newest.start;
  const rows = await db.$queryRaw<{ start: string | null; diamonds: bigint | null; gifts: number; firstGiftAt: Date | null }[]>`
    WITH page AS (
      SELECT to_char(date_trunc(${interval.toLowerCase()}, "createdAt" AT TIME ZONE 'UTC'), 'YYYY-MM-DD') AS start, sum(diamonds)::bigint AS diamonds, count(*)::int AS gifts
      FROM "SentGift"
      WHERE "creatorId" = ${creatorId}::uuid AND "createdAt" >= ${from} AND "createdAt" < ${newest.next}
      GROUP BY 1)
    SELECT page.start, page.diamonds, page.gifts, first_gift."createdAt" AS "firstGiftAt"
    FROM (SELECT min("createdAt") AS "createdAt" FROM "SentGift" WHERE "creatorId" = ${creatorId}::uuid) AS first_gift
    LEFT JOIN page ON true`;
  const firstGiftAt = rows[0]?.firstGiftAt ?? null;
  if (!firstGiftAt) return { periods: [], hasMore: false };
  const earned = new Map(rows.filter((row) => row.start).map((row) => [row.start!, row]));
  const listed = periods.filter((period) => period.next > firstGiftAt);
  return {
    periods: listed.map(({ start, next }) => {
      const row = earned.get(start.toISOString().slice(0, 10));
      return { interval, startsOn: start, endsBefore: next, diamonds: row?.diamonds ?? 0n, gifts: row?.gifts ?? 0 };
    }),
    hasMore: listed.length === periods.length && from > firstGiftAt,
  };
}
