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
 * subscriptions it holds, on however many instances; anonymous subscribers count per client address, at
 * most ANONYMOUS_VIEWERS_PER_ADDRESS from one address across every instance.
 */
export type Watcher = { account: string } | { address: string };

export type Presence = {
  /** A subscriber opened the room; returns what `leave` takes when it closes. */
  join(liveSessionId: string, watcher: Watcher): string;
  leave(liveSessionId: string, key: string): void;
  /** Viewers of each room across every instance, in the order asked, in one query. */
  viewers(liveSessionIds: readonly string[]): Promise<number[]>;
  /** Subscribers to every room on this instance, now. */
  subscribers(): number;
  close(): Promise<void>;
};

/**
 * Who is watching: a subscriber to a room's stream is present while its subscription lives (a dead
 * socket is found by the WebSocket heartbeat and ends it). Each instance writes who watches through it
 * to RoomPresence (accounts, and anonymous subscriptions per address), the count is taken across every
 * instance's row, and the room's total is announced when it changed, coalesced to once a second.
 */
export function createPresence(db: Database, announcer: Announcer, log: Logger, { anonymousPerAddress = 3 } = {}): Presence {
  const instanceId = randomUUID();
  // Room -> watcher key ("account:<id>" or "address:<address>") -> its subscriptions on this instance.
  const watching = new Map<string, Map<string, number>>();
  const dirty = new Set<string>();
  const announced = new Map<string, number>();
  let subscribers = 0;
  let lastHeartbeat = Date.now();

  async function totals(liveSessionIds: readonly string[]): Promise<number[]> {
    const rows = await db.$queryRaw<{ id: string; viewers: number }[]>`
      WITH live AS (
        SELECT * FROM "RoomPresence"
        WHERE "liveSessionId" = ANY(${liveSessionIds}::uuid[]) AND "updatedAt" > ${new Date(Date.now() - STALE_MS)}::timestamptz
      )
      SELECT id, sum(n)::int AS viewers FROM (
        SELECT "liveSessionId" AS id, count(DISTINCT account) AS n FROM live, unnest(live.accounts) AS account GROUP BY 1
        UNION ALL
        SELECT id, least(sum(subscriptions), ${anonymousPerAddress}) FROM (
          SELECT "liveSessionId" AS id, address, subscriptions FROM live, unnest(live.addresses, live."addressSubscriptions") AS a(address, subscriptions)
        ) anonymous GROUP BY id, address
      ) counted GROUP BY id`;
    const byRoom = new Map(rows.map((row) => [row.id, row.viewers]));
    return liveSessionIds.map((id) => byRoom.get(id) ?? 0);
  }

  /** What this instance writes for a room: its accounts, and its anonymous subscriptions by address. */
  function rowOf(liveSessionId: string) {
    const row = { id: liveSessionId, accounts: [] as string[], addresses: [] as string[], subscriptions: [] as number[] };
    for (const [key, count] of watching.get(liveSessionId) ?? []) {
      if (key.startsWith('account:')) row.accounts.push(key.slice(8));
      else {
        row.addresses.push(key.slice(8));
        row.subscriptions.push(count);
      }
    }
    return row;
  }

  async function flush() {
    const heartbeat = Date.now() - lastHeartbeat > HEARTBEAT_MS;
    const rooms = heartbeat ? new Set([...dirty, ...watching.keys()]) : new Set(dirty);
    if (heartbeat) lastHeartbeat = Date.now();
    dirty.clear();
    if (rooms.size === 0) return;
    const ids = [...rooms];
    const rows = ids.map(rowOf);
    await db.$executeRaw`
      INSERT INTO "RoomPresence" ("liveSessionId", "instanceId", accounts, addresses, "addressSubscriptions", "updatedAt")
      SELECT d.id, ${instanceId}, d.accounts, d.addresses, d.subscriptions, now()
      FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS d(id uuid, accounts uuid[], addresses text[], subscriptions int[])
      WHERE EXISTS (SELECT 1 FROM "LiveSession" WHERE id = d.id)
      ON CONFLICT ("liveSessionId", "instanceId") DO UPDATE
      SET accounts = EXCLUDED.accounts, addresses = EXCLUDED.addresses, "addressSubscriptions" = EXCLUDED."addressSubscriptions", "updatedAt" = EXCLUDED."updatedAt"`;
    for (const id of ids) if (watching.get(id)?.size === 0) watching.delete(id);
    const counts = await totals(ids);
    ids.forEach((id, i) => {
      const viewers = counts[i]!;
      if (announced.get(id) !== viewers) {
        announced.set(id, viewers);
        announcer.viewerCount(id, viewers);
      }
      if (viewers === 0) announced.delete(id);
    });
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
      const key = 'account' in watcher ? `account:${watcher.account}` : `address:${watcher.address}`;
      const room = watching.get(liveSessionId) ?? new Map<string, number>();
      watching.set(liveSessionId, room.set(key, (room.get(key) ?? 0) + 1));
      subscribers++;
      dirty.add(liveSessionId);
      return key;
    },
    leave(liveSessionId, key) {
      const room = watching.get(liveSessionId);
      const here = room?.get(key) ?? 0;
      if (here > 1) room!.set(key, here - 1);
      else if (here === 1) room!.delete(key);
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
