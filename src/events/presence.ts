import { randomUUID } from 'node:crypto';
import type { Database } from '../db/client.js';
import type { Logger } from '../logger.js';
import type { Announcer } from './announcer.js';

/** How often viewer counts are written and announced: at most once a second per instance. */
const FLUSH_MS = 1000;
/** Rows not refreshed for this long belong to an instance that is gone. */
const STALE_MS = 30_000;
const HEARTBEAT_MS = 10_000;

/**
 * Who a room subscriber is, for the viewer count: a signed-in account counts once however many
 * subscriptions it holds; anonymous subscribers count per client address, at most
 * ANONYMOUS_VIEWERS_PER_ADDRESS from one address. Undefined: the subscriber counts on its own.
 */
export type Watcher = { account: string } | { address: string } | undefined;

export type Presence = {
  /** A subscriber opened the room; returns what `leave` takes when it closes. */
  join(liveSessionId: string, watcher?: Watcher): string;
  leave(liveSessionId: string, key?: string): void;
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
export function createPresence(db: Database, announcer: Announcer, log: Logger, { anonymousPerAddress = 3 } = {}): Presence {
  const instanceId = randomUUID();
  // Room -> watcher key -> its subscriptions on this instance.
  const watching = new Map<string, Map<string, number>>();
  const local = {
    get(liveSessionId: string): number | undefined {
      const room = watching.get(liveSessionId);
      if (!room) return undefined;
      let viewers = 0;
      for (const [key, subscriptions] of room) viewers += key.startsWith('address:') ? Math.min(subscriptions, anonymousPerAddress) : 1;
      return viewers;
    },
    keys: () => watching.keys(),
    delete: (liveSessionId: string) => watching.delete(liveSessionId),
  };
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
    join(liveSessionId, watcher) {
      const key = !watcher ? `once:${randomUUID()}` : 'account' in watcher ? `account:${watcher.account}` : `address:${watcher.address}`;
      const room = watching.get(liveSessionId) ?? new Map<string, number>();
      watching.set(liveSessionId, room.set(key, (room.get(key) ?? 0) + 1));
      subscribers++;
      dirty.add(liveSessionId);
      return key;
    },
    leave(liveSessionId, key) {
      const room = watching.get(liveSessionId);
      // Without a key (callers that joined without a watcher and kept none), any one subscriber leaves.
      const leaving = key ?? [...(room?.keys() ?? [])].find((name) => name.startsWith('once:'));
      const here = leaving === undefined ? 0 : (room?.get(leaving) ?? 0);
      if (here > 1) room!.set(leaving!, here - 1);
      else if (here === 1) room!.delete(leaving!);
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
