import { randomUUID } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { createAnnouncer } from '../../src/events/announcer.js';
import { createPresence } from '../../src/events/presence.js';
import { createEventBus } from '../../src/events/pubsub.js';
import { createLogger } from '../../src/logger.js';
import { createTestDatabase } from '../support/database.js';
import { createLiveCreator } from '../support/money.js';
import { eventually } from '../support/wait.js';

// Viewer counts are written and announced by a flush about once a second. On a busy database a flush can
// take longer than that; the count it read must still never be announced after a newer one.

const { db } = await createTestDatabase();
const log = createLogger('silent');

/** Longer than a flush's interval: the next one is due while this one still waits for its read. */
const SLOW_READ_MS = 2_500;

/**
 * The database as the presence sees it, except that the next read armed with `slowNextRead` answers
 * SLOW_READ_MS late, with what it read at once (a database, or an event loop, that is busy for a while).
 */
function withOneSlowRead(database: Database) {
  let armed = false;
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const slowed = new Proxy(database, {
    get(target, key) {
      const value = Reflect.get(target, key) as unknown;
      if (key !== '$queryRaw' || typeof value !== 'function') return typeof value === 'function' ? value.bind(target) : value;
      return async (...args: unknown[]) => {
        const rows = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        if (armed) {
          armed = false;
          await new Promise((resolve) => setTimeout(resolve, SLOW_READ_MS));
          // Once the flush has had its rows (and announced what it read).
          setImmediate(release);
        }
        return rows;
      };
    },
  });
  return { db: slowed, slowNextRead: () => (armed = true), released };
}

describe('viewer counts under a slow flush', () => {
  test('a count read before a newer one is never announced after it', async () => {
    const { session } = await createLiveCreator(db);
    const pubsub = createEventBus(undefined, log);
    const heard: number[] = [];
    const room = pubsub.subscribe('room', session.id);
    void (async () => {
      for await (const message of room) if (message.kind === 'viewers') heard.push(message.viewers);
    })();
    const slow = withOneSlowRead(db);
    const presence = createPresence(slow.db, createAnnouncer(pubsub), log);

    // The first viewer's flush reads 1 and is slow to answer; a second viewer joins meanwhile.
    slow.slowNextRead();
    presence.join(session.id, { account: randomUUID() });
    await eventually(async () => ((await db.roomPresence.count({ where: { liveSessionId: session.id } })) > 0 ? true : undefined), 'the first flush to write');
    presence.join(session.id, { account: randomUUID() });

    await slow.released;
    await eventually(async () => (heard.includes(2) ? true : undefined), 'the count of 2 to be announced');
    // Once announced, 2 stays the last word: nothing older follows it.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(heard).toEqual([1, 2]);

    await presence.close();
    await room.return();
    await pubsub.close();
  });
});
