import { randomUUID } from 'node:crypto';
import type { Database } from '../db/client.js';
import type { Logger } from '../logger.js';
import type { Announcer } from './announcer.js';

/** How often viewer counts are written and announced: at most once a second per instance. */
const FLUSH_MS = 1000;
/** Rows not refreshed for this long belong to an instance that is gone. */
const STALE_MS = 30_000;
const HEARTBEAT_MS = 10_000;

export type Presence = {
  join(liveSessionId: string): void;
  leave(liveSessionId: string): void;
  /** Viewers of each room across every instance, in the order asked, in one query. */
  viewers(liveSessionIds: readonly string[]): Promise<number[]>;
  /** Subscribers to every room on this instance, now. */
  subscribers(): number;
  close(): Promise<void>;
};

/**
 * Who is watching: a subscriber to a room's stream is present while its subscription lives (a dead
 * socket is found by the WebSocket heartbeat and ends it). Each instance keeps its own counts, writes
 * them to RoomPresence, and announces the room's total when it changed, coalesced to once a second.
 */
export function createPresence(db: Database, announcer: Announcer, log: Logger): Presence {
  const instanceId = randomUUID();
  const local = new Map<string, number>();
  const dirty = new Set<string>();
  const announced = new Map<string, number>();
  let subscribers = 0;
  let lastHeartbeat = Date.now();

  async function total(liveSessionId: string): Promise<number> {
    const [row] = await db.$queryRaw<{ viewers: number }[]>`
      SELECT coalesce(sum(viewers), 0)::int AS viewers FROM "RoomPresence"
      WHERE "liveSessionId" = ${liveSessionId}::uuid AND "updatedAt" > ${new Date(Date.now() - STALE_MS)}::timestamptz`;
    return row?.viewers ?? 0;
  }

  async function totals(liveSessionIds: readonly string[]): Promise<number[]> {
    const rows = await db.$queryRaw<{ id: string; viewers: number }[]>`
      SELECT "liveSessionId" AS id, sum(viewers)::int AS viewers FROM "RoomPresence"
      WHERE "liveSessionId" = ANY(${liveSessionIds}::uuid[]) AND "updatedAt" > ${new Date(Date.now() - STALE_MS)}::timestamptz
      GROUP BY "liveSessionId"`;
    const byRoom = new Map(rows.map((row) => [row.id, row.viewers]));
    return liveSessionIds.map((id) => byRoom.get(id) ?? 0);
  }

  async function flush() {
    const heartbeat = Date.now() - lastHeartbeat > HEARTBEAT_MS;
    const rooms = heartbeat ? new Set([...dirty, ...local.keys()]) : new Set(dirty);
    if (heartbeat) lastHeartbeat = Date.now();
    dirty.clear();
    if (rooms.size === 0) return;
    const ids = [...rooms];
    const counts = ids.map((id) => local.get(id) ?? 0);
    await db.$executeRaw`
      INSERT INTO "RoomPresence" ("liveSessionId", "instanceId", viewers, "updatedAt")
      SELECT id, ${instanceId}, n, now() FROM unnest(${ids}::uuid[], ${counts}::int[]) AS d(id, n)
      WHERE EXISTS (SELECT 1 FROM "LiveSession" WHERE id = d.id)
      ON CONFLICT ("liveSessionId", "instanceId") DO UPDATE SET viewers = EXCLUDED.viewers, "updatedAt" = EXCLUDED."updatedAt"`;
    for (const id of ids) {
      if ((local.get(id) ?? 0) === 0) local.delete(id);
      const viewers = await total(id);
      if (announced.get(id) !== viewers) {
        announced.set(id, viewers);
        announcer.viewerCount(id, viewers);
      }
      if (viewers === 0) announced.delete(id);
    }
  }

  // One flush at a time: a tick while one runs is skipped, and the next takes whatever changed meanwhile.
  // Two at once could announce the count one of them read after the newer count the other read.
  let flushing: Promise<void> | undefined;
  const timer = setInterval(() => {
    flushing ??= flush()
      .catch((error) => log.warn({ err: error }, 'presence flush failed'))
      .finally(() => (flushing = undefined));
  }, FLUSH_MS);
  timer.unref();

  return {
    join(liveSessionId) {
      local.set(liveSessionId, (local.get(liveSessionId) ?? 0) + 1);
      subscribers++;
      dirty.add(liveSessionId);
    },
    leave(liveSessionId) {
      const here = local.get(liveSessionId) ?? 0;
      local.set(liveSessionId, Math.max(0, here - 1));
      if (here > 0) subscribers--;
      dirty.add(liveSessionId);
    },
    viewers: totals,
    subscribers: () => subscribers,
    async close() {
      clearInterval(timer);
      await flushing;
      await db.$executeRaw`DELETE FROM "RoomPresence" WHERE "instanceId" = ${instanceId}`.catch(() => {});
    },
  };
}
