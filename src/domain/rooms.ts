import { failedCheck, failUnless } from '../db/combine.js';
import { Prisma, type SentGift } from '../generated/prisma/client.js';
import { diamondsInUsd } from './policy.js';
import { spendDay } from './safeguards.js';
import type { RoomMatch } from './brands/matching.js';

/** Who appears in a room event: a snapshot, so replaying an old event shows what the room saw. */
export type Profile = { id: string; handle: string; displayName: string };

/**
 * One committed gift as the room hears of it, stored in RoomEvent and published after commit.
 * Plain JSON (amounts as strings) so it crosses Redis and replays unchanged. When the gift moved the
 * top three or the goal, the event says so.
 */
export type RoomGiftEvent = {
  liveSessionId: string;
  creatorId: string;
  sequence: number;
  sentGift: {
    id: string;
    sender: Profile;
    gift: { id: string; name: string; imageUrl: string; animationUrl: string | null };
    quantity: number;
    comboId: string | null;
    coins: string;
    diamonds: string;
    cashValueUsd: string;
    sentAt: string;
  };
  leaderboard?: { sender: Profile; coins: string }[];
  goal?: { goalCoins: string; progressCoins: string; reached: boolean };
  /** Brands' campaigns that matched the gift with it (src/domain/brands/matching.ts), in the order they applied. */
  matches?: RoomMatch[];
  /**
   * Set on a brand's later match of the gift (matchGift): then the event is that match, with a sequence of
   * its own, and `sentGift` is a copy of the gift it matched (src/domain/brands/manual-matching.ts).
   */
  manualMatch?: RoomMatch;
};

export type RoomGift = { sentGift: SentGift; sender: Profile; gift: RoomGiftEvent['sentGift']['gift']; matches?: RoomMatch[] };

export class SessionEndedMeanwhileError extends Error {
  override name = 'SessionEndedMeanwhileError';
}

/**
 * The statements that add gifts to the supporter totals (the session's leaderboard and the creator's
 * day); to be combined with the gift's other writes. The creator's all-time totals take a session's
 * when it ends (leaderboards.ts, foldSessionSupporters), not per gift.
 */
export function supportWrites(gifts: RoomGift[], now: Date): Record<string, Prisma.Sql> {
  const column = <T>(pick: (gift: RoomGift) => T) => gifts.map(pick);
  return {
    given: Prisma.sql`
      SELECT * FROM unnest(${column((g) => g.sentGift.liveSessionId)}::uuid[], ${column((g) => g.sentGift.creatorId)}::uuid[],
                           ${column((g) => g.sentGift.senderId)}::uuid[], ${column((g) => g.sentGift.coins.toString())}::bigint[])
        AS g(session, creator, sender, coins)`,
    session_support: Prisma.sql`
      INSERT INTO "SessionSupporter" ("liveSessionId", "senderId", coins, gifts, "lastGiftAt")
      SELECT session, sender, sum(coins), count(*), ${now}::timestamptz FROM given GROUP BY session, sender
      ON CONFLICT ("liveSessionId", "senderId") DO UPDATE
        SET coins = "SessionSupporter".coins + EXCLUDED.coins, gifts = "SessionSupporter".gifts + EXCLUDED.gifts, "lastGiftAt" = EXCLUDED."lastGiftAt"`,
    day_support: Prisma.sql`
      INSERT INTO "CreatorSupportDay" ("creatorId", day, "senderId", coins)
      SELECT creator, ${spendDay(now)}::date, sender, sum(coins) FROM given GROUP BY creator, sender
      ON CONFLICT ("creatorId", day, "senderId") DO UPDATE SET coins = "CreatorSupportDay".coins + EXCLUDED.coins`,
  };
}

const STILL_LIVE_CHECK = 'sessions-live';

/**
 * The statement clauses that number committed gifts in their rooms and keep the rooms' totals,
 * leaderboards and goals, inside the gifts' transaction (in a statement after supportWrites, whose
 * totals they read: a gifter is new to the room when their session total counts only this batch's
 * gifts). Locking the session's row to take the next sequences holds it until commit, so numbers follow
 * commit order and a rolled-back gift never gets one. The room's last gift of the batch carries the top
 * three when they moved and the goal's progress while it is open; reaching the goal is recorded once.
 * `room_events` returns the events as stored. `allLive` is a select column that fails the statement
 * unless every session was still live; `roomFailure` reports that as SessionEndedMeanwhileError (the
 * caller retries its gifts one by one). One statement, with the balance writes: these rows are the
 * hottest there are, and each further round trip would hold them locked for a turn of the event loop.
 */
export function roomEventWrites(gifts: RoomGift[], now: Date): { writes: Record<string, Prisma.Sql>; allLive: Prisma.Sql } {
  const bySession = Map.groupBy(gifts, (gift) => gift.sentGift.liveSessionId);
  const ids = [...bySession.keys()].sort();
  const sum = (id: string, pick: (gift: RoomGift) => bigint) => bySession.get(id)!.reduce((total, gift) => total + pick(gift), 0n).toString();
  const events = ids.flatMap((id) => bySession.get(id)!.map((gift, index) => ({ ordinal: index + 1, event: eventOf(gift) })));
  return {
    allLive: failUnless(Prisma.sql`(SELECT count(*) FROM room_sessions) = ${ids.length}`, STILL_LIVE_CHECK),
    writes: {
      new_gifters: Prisma.sql`
        SELECT g.session, count(*)::int AS n
        FROM (SELECT session, sender, count(*) AS gifts
              FROM unnest(${gifts.map((g) => g.sentGift.liveSessionId)}::uuid[], ${gifts.map((g) => g.sentGift.senderId)}::uuid[]) AS g(session, sender)
              GROUP BY session, sender) g
        JOIN "SessionSupporter" t ON t."liveSessionId" = g.session AND t."senderId" = g.sender AND t.gifts = g.gifts
        GROUP BY g.session`,
      room_state: Prisma.sql`
        SELECT s.id, s."lastSequence", s."totalCoins" + d.coins AS "totalCoins", s."goalCoins", d.n, d.diamonds, coalesce(f.n, 0) AS new_gifters,
          top.ids AS top_ids, top.board, top.ids <> s."topGifterIds" AS top_moved,
          s."goalCoins" IS NOT NULL AND s."goalReachedAt" IS NULL AS goal_open,
          s."goalCoins" IS NOT NULL AND s."goalReachedAt" IS NULL AND s."totalCoins" + d.coins >= s."goalCoins" AS goal_reached
        FROM "LiveSession" s
        JOIN unnest(${ids}::uuid[], ${ids.map((id) => bySession.get(id)!.length)}::int[], ${ids.map((id) => sum(id, (g) => g.sentGift.coins))}::bigint[],
                    ${ids.map((id) => sum(id, (g) => g.sentGift.diamonds))}::bigint[])
          AS d(id, n, coins, diamonds) ON d.id = s.id
        LEFT JOIN new_gifters f ON f.session = s.id
        CROSS JOIN LATERAL (
          SELECT coalesce(array_agg(t."senderId" ORDER BY t.coins DESC, t."senderId"), '{}') AS ids,
            coalesce(jsonb_agg(jsonb_build_object('sender', jsonb_build_object('id', u.id, 'handle', u.handle, 'displayName', u."displayName"), 'coins', t.coins::text)
              ORDER BY t.coins DESC, t."senderId"), '[]') AS board
          FROM (SELECT "senderId", coins FROM "SessionSupporter" WHERE "liveSessionId" = s.id ORDER BY coins DESC, "senderId" LIMIT 3) t
          JOIN "User" u ON u.id = t."senderId") top
        WHERE s.status = 'LIVE'
        ORDER BY s.id
        FOR NO KEY UPDATE OF s`,
      room_sessions: Prisma.sql`
        UPDATE "LiveSession" AS s SET
          "lastSequence" = r."lastSequence" + r.n, "giftCount" = s."giftCount" + r.n, "totalCoins" = r."totalCoins",
          "totalDiamonds" = s."totalDiamonds" + r.diamonds, "uniqueGifters" = s."uniqueGifters" + r.new_gifters, "topGifterIds" = r.top_ids,
          "goalReachedAt" = CASE WHEN r.goal_reached THEN ${now}::timestamptz ELSE s."goalReachedAt" END
        FROM room_state r WHERE s.id = r.id
        RETURNING s.id`,
      room_events: Prisma.sql`
        INSERT INTO "RoomEvent" ("liveSessionId", sequence, "sentGiftId", payload, "createdAt")
        SELECT r.id, r."lastSequence" + e.ordinal, e.gift,
          e.payload || jsonb_build_object('sequence', r."lastSequence" + e.ordinal)
            || CASE WHEN e.ordinal = r.n AND r.top_moved THEN jsonb_build_object('leaderboard', r.board) ELSE '{}' END
            || CASE WHEN e.ordinal = r.n AND r.goal_open
                 THEN jsonb_build_object('goal', jsonb_build_object('goalCoins', r."goalCoins"::text, 'progressCoins', r."totalCoins"::text, 'reached', r.goal_reached))
                 ELSE '{}' END,
          ${now}::timestamptz
        FROM jsonb_to_recordset(${eventRows(events)}::jsonb) AS e(session uuid, ordinal int, gift uuid, payload jsonb)
        JOIN room_state r ON r.id = e.session
        RETURNING "liveSessionId", sequence, payload`,
    },
  };
}

/**
 * The events as one JSON parameter rather than a jsonb[]: an array's elements go as quoted strings, and
 * the driver escapes every quote of every payload (docs/benchmarks.md, "Issue 26").
 */
function eventRows(events: { ordinal: number; event: Omit<RoomGiftEvent, 'sequence'> }[]): string {
  return JSON.stringify(events.map(({ ordinal, event }) => ({ session: event.liveSessionId, ordinal, gift: event.sentGift.id, payload: event })));
}

/** The select column that reads roomEventWrites' events, in room order. */
export const roomEventsWritten = Prisma.sql`(SELECT coalesce(json_agg(payload ORDER BY "liveSessionId", sequence), '[]') FROM room_events) AS events`;

/** The error to report for a statement that failed: SessionEndedMeanwhileError when allLive failed it, else itself. */
export function roomFailure(error: unknown): unknown {
  return failedCheck(error) === STILL_LIVE_CHECK ? new SessionEndedMeanwhileError() : error;
}

/** An event as the room will hear it, but for what the database adds: its sequence, leaderboard and goal. */
function eventOf({ sentGift, sender, gift, matches }: RoomGift): Omit<RoomGiftEvent, 'sequence'> {
  return {
    liveSessionId: sentGift.liveSessionId,
    creatorId: sentGift.creatorId,
    sentGift: {
      id: sentGift.id,
      sender,
      gift,
      quantity: sentGift.quantity,
      comboId: sentGift.comboId,
      coins: sentGift.coins.toString(),
      diamonds: sentGift.diamonds.toString(),
      cashValueUsd: diamondsInUsd(sentGift.diamonds),
      sentAt: sentGift.createdAt.toISOString(),
    },
    ...(matches ? { matches } : {}),
  };
}
