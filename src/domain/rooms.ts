import type { SqlTx } from '../db/driver.js';
import { Prisma, type SentGift } from '../generated/prisma/client.js';
import { diamondsInUsd } from './policy.js';
import { spendDay } from './safeguards.js';

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
};

export type RoomGift = { sentGift: SentGift; sender: Profile; gift: RoomGiftEvent['sentGift']['gift'] };

export class SessionEndedMeanwhileError extends Error {
  override name = 'SessionEndedMeanwhileError';
}

/**
 * The statements that add gifts to the supporter totals (session leaderboard, the creator's day and
 * all-time leaderboards), and a select of how many first-time gifters each session got; to be combined
 * with the gift's other writes.
 */
export function supportWrites(gifts: RoomGift[], now: Date): { writes: Record<string, Prisma.Sql>; newGifters: Prisma.Sql } {
  const column = <T>(pick: (gift: RoomGift) => T) => gifts.map(pick);
  const given = Prisma.sql`
    SELECT * FROM unnest(${column((g) => g.sentGift.liveSessionId)}::uuid[], ${column((g) => g.sentGift.creatorId)}::uuid[],
                         ${column((g) => g.sentGift.senderId)}::uuid[], ${column((g) => g.sentGift.coins.toString())}::bigint[])
      AS g(session, creator, sender, coins)`;
  return {
    writes: {
      given,
      session_support: Prisma.sql`
        INSERT INTO "SessionSupporter" ("liveSessionId", "senderId", coins, gifts, "lastGiftAt")
        SELECT session, sender, sum(coins), count(*), ${now}::timestamptz FROM given GROUP BY session, sender
        ON CONFLICT ("liveSessionId", "senderId") DO UPDATE
          SET coins = "SessionSupporter".coins + EXCLUDED.coins, gifts = "SessionSupporter".gifts + EXCLUDED.gifts, "lastGiftAt" = EXCLUDED."lastGiftAt"
        RETURNING "liveSessionId", xmax = 0 AS first`,
      day_support: Prisma.sql`
        INSERT INTO "CreatorSupportDay" ("creatorId", day, "senderId", coins)
        SELECT creator, ${spendDay(now)}::date, sender, sum(coins) FROM given GROUP BY creator, sender
        ON CONFLICT ("creatorId", day, "senderId") DO UPDATE SET coins = "CreatorSupportDay".coins + EXCLUDED.coins`,
      all_time_support: Prisma.sql`
        INSERT INTO "CreatorSupporter" ("creatorId", "senderId", coins)
        SELECT creator, sender, sum(coins) FROM given GROUP BY creator, sender
        ON CONFLICT ("creatorId", "senderId") DO UPDATE SET coins = "CreatorSupporter".coins + EXCLUDED.coins`,
    },
    newGifters: Prisma.sql`
      SELECT coalesce(json_object_agg("liveSessionId", n), '{}') AS "newGifters"
      FROM (SELECT "liveSessionId", count(*)::int AS n FROM session_support WHERE first GROUP BY "liveSessionId") firsts`,
  };
}

/**
 * Numbers committed gifts in their rooms and keeps the rooms' totals, leaderboards and goals, inside
 * the gifts' transaction (after supportWrites). Taking the next sequence locks the session's row until
 * commit, so numbers follow commit order and a rolled-back gift never gets one. Throws
 * SessionEndedMeanwhileError if a session ended after the gifts were checked (the caller then retries
 * them one by one).
 */
export async function recordRoomEvents(tx: SqlTx, gifts: RoomGift[], newGifters: Record<string, number>, now: Date): Promise<RoomGiftEvent[]> {
  if (gifts.length === 0) return [];
  const bySession = new Map<string, RoomGift[]>();
  for (const gift of gifts) bySession.set(gift.sentGift.liveSessionId, [...(bySession.get(gift.sentGift.liveSessionId) ?? []), gift]);
  const ids = [...bySession.keys()].sort();
  const sum = (id: string, pick: (gift: RoomGift) => bigint) => bySession.get(id)!.reduce((total, gift) => total + pick(gift), 0n).toString();
  const sessions = await tx.$queryRaw<
    { id: string; lastSequence: number; totalCoins: bigint; goalCoins: bigint | null; goalReachedAt: Date | null; topGifterIds: string[]; top: { sender: Profile; coins: string }[] }[]
  >`
    UPDATE "LiveSession" AS s SET
      "lastSequence" = s."lastSequence" + d.n, "giftCount" = s."giftCount" + d.n,
      "totalCoins" = s."totalCoins" + d.coins, "totalDiamonds" = s."totalDiamonds" + d.diamonds,
      "uniqueGifters" = s."uniqueGifters" + d.new_gifters
    FROM unnest(${ids}::uuid[], ${ids.map((id) => bySession.get(id)!.length)}::int[], ${ids.map((id) => sum(id, (g) => g.sentGift.coins))}::bigint[],
                ${ids.map((id) => sum(id, (g) => g.sentGift.diamonds))}::bigint[],
                ${ids.map((id) => newGifters[id] ?? 0)}::int[]) AS d(id, n, coins, diamonds, new_gifters)
    WHERE s.id = d.id AND s.status = 'LIVE'
    RETURNING s.id, s."lastSequence", s."totalCoins", s."goalCoins", s."goalReachedAt", s."topGifterIds"::text[] AS "topGifterIds",
      (SELECT coalesce(json_agg(json_build_object('sender', json_build_object('id', u.id, 'handle', u.handle, 'displayName', u."displayName"), 'coins', t.coins::text) ORDER BY t.coins DESC, t."senderId"), '[]')
       FROM (SELECT "senderId", coins FROM "SessionSupporter" WHERE "liveSessionId" = s.id ORDER BY coins DESC, "senderId" LIMIT 3) t
       JOIN "User" u ON u.id = t."senderId") AS top`;
  if (sessions.length !== ids.length) throw new SessionEndedMeanwhileError();

  const events: RoomGiftEvent[] = [];
  const announced: { id: string; top: string[]; goalReached: boolean }[] = [];
  for (const session of sessions) {
    const roomGifts = bySession.get(session.id)!;
    const first = session.lastSequence - roomGifts.length + 1;
    roomGifts.forEach((roomGift, i) => events.push(eventOf(roomGift, first + i)));
    const last = events[events.length - 1]!;
    const top = session.top.map((entry) => entry.sender.id);
    const topMoved = top.join() !== session.topGifterIds.join();
    if (topMoved) last.leaderboard = session.top;
    if (session.goalCoins !== null && session.goalReachedAt === null) {
      const reached = session.totalCoins >= session.goalCoins;
      last.goal = { goalCoins: session.goalCoins.toString(), progressCoins: session.totalCoins.toString(), reached };
      if (topMoved || reached) announced.push({ id: session.id, top, goalReached: reached });
    } else if (topMoved) {
      announced.push({ id: session.id, top, goalReached: false });
    }
  }
  await tx.$executeRaw`
    WITH announced AS (
      UPDATE "LiveSession" AS s SET "topGifterIds" = d.top,
        "goalReachedAt" = CASE WHEN d."goalReached" THEN ${now}::timestamptz ELSE s."goalReachedAt" END
      FROM json_to_recordset(${JSON.stringify(announced)}::json) AS d(id uuid, top uuid[], "goalReached" boolean)
      WHERE s.id = d.id)
    INSERT INTO "RoomEvent" ("liveSessionId", sequence, "sentGiftId", payload, "createdAt")
    SELECT * FROM unnest(${events.map((e) => e.liveSessionId)}::uuid[], ${events.map((e) => e.sequence)}::int[],
                         ${events.map((e) => e.sentGift.id)}::uuid[], ${events.map((e) => JSON.stringify(e))}::jsonb[],
                         ${events.map(() => now)}::timestamptz[])`;
  return events;
}

function eventOf({ sentGift, sender, gift }: RoomGift, sequence: number): RoomGiftEvent {
  return {
    liveSessionId: sentGift.liveSessionId,
    creatorId: sentGift.creatorId,
    sequence,
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
  };
}
