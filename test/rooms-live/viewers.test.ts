import { describe, expect, test } from 'vitest';
import type { RoomEventsSubscription } from '../generated/graphql.js';
import { createLiveCreator } from '../support/money.js';
import { startTestServer } from '../support/server.js';
import { openSocket, type Subscription } from '../support/ws.js';
import { isViewerCount, readUntil, watchRoom, type ViewerCount } from './support.js';

// Subscribing to a room makes you a viewer; the room hears how many watch, at most about once a second.

const server = await startTestServer();
const { db } = server;

/** Viewer counts the subscription hears until one says `viewers` (within `ms`). */
async function countsUntil(room: Subscription<RoomEventsSubscription>, viewers: number, ms = 3_000): Promise<number[]> {
  const events = await readUntil(room, (read) => read.some((event) => isViewerCount(event) && event.viewers === viewers), { ms });
  return events.filter(isViewerCount).map((event: ViewerCount) => event.viewers);
}

describe('viewer counts', () => {
  test('two subscribers make 2 viewers within about two seconds; one disconnecting makes 1', async () => {
    const { session } = await createLiveCreator(db);
    const first = watchRoom(openSocket(server.url), session);
    const secondSocket = openSocket(server.url);
    watchRoom(secondSocket, session);

    const started = Date.now();
    expect((await countsUntil(first, 2)).at(-1)).toBe(2);
    expect(Date.now() - started).toBeLessThan(2_500);

    // The second client goes away (its socket closes); its subscription ends at once, not at the next gift.
    await secondSocket.dispose();
    const left = Date.now();
    expect(await countsUntil(first, 1)).toEqual([1]);
    expect(Date.now() - left).toBeLessThan(2_500);
  });

  test('20 joining at once are announced coalesced, not once per join; and so are 20 leaving', async () => {
    const { session } = await createLiveCreator(db);
    const observer = watchRoom(openSocket(server.url), session);
    await countsUntil(observer, 1);

    const crowd = openSocket(server.url);
    const joiners = Array.from({ length: 20 }, () => watchRoom(crowd, session));
    const joined = await countsUntil(observer, 21);
    expect(joined.length).toBeLessThan(20);
    expect(joined.length).toBeLessThanOrEqual(5);
    // Every joiner hears the same count.
    for (const joiner of joiners) expect((await countsUntil(joiner, 21)).at(-1)).toBe(21);

    await crowd.dispose();
    const left = await countsUntil(observer, 1);
    expect(left.length).toBeLessThanOrEqual(5);
    // What the instance keeps written: the observer alone, one anonymous subscription from its address.
    expect(await db.roomPresence.findMany({ where: { liveSessionId: session.id }, select: { accounts: true, addressSubscriptions: true } })).toEqual([
      { accounts: [], addressSubscriptions: [1] },
    ]);
  });
});
