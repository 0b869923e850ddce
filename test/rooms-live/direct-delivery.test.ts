import { describe, expect, test } from 'vitest';
import { createGiftSender } from '../../src/domain/gifting.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import type { RoomGiftEvent } from '../../src/domain/rooms.js';
import { createAnnouncer, silentAnnouncer } from '../../src/events/announcer.js';
import { createEventBus } from '../../src/events/pubsub.js';
import { openRoomStream, type RoomItem } from '../../src/events/fanout/room-stream.js';
import { createLogger } from '../../src/logger.js';
import { createTestDatabase } from '../support/database.js';
import { createCatalogGift, createFundedViewer, createLiveCreator, uniqueKey } from '../support/money.js';
import { eventually, within } from '../support/wait.js';

// A subscriber that has been given everything so far takes the room's gifts straight from it (the fast
// path a live room's 10,000 viewers go by); whatever it cannot take that way (an announcement, a gap, a
// run it refuses) comes through its stream, and either way it gets every event once, in order.

const { db } = await createTestDatabase();
const pubsub = createEventBus(undefined, createLogger('silent'));
const rose = await createCatalogGift(db, 1n, { name: 'Rose' });

/** What a direct consumer was handed, run by run, as sequences; `accept` says whether it takes them. */
function directConsumer(accept = true) {
  const runs: number[][] = [];
  return { runs, take: (run: readonly RoomGiftEvent[]) => (runs.push(run.map((event) => event.sequence)), accept) };
}

const asIs = (gifts: readonly RoomGiftEvent[]) => gifts;
const giftSequence = (item: IteratorResult<RoomItem>) => (item.value as Extract<RoomItem, { kind: 'gift' }>).event.sequence;

describe('a subscriber that keeps up', () => {
  test('is handed consecutive gifts directly, and an announcement heard with them follows through its stream, after them', async () => {
    const { session } = await createLiveCreator(db);
    const event = (sequence: number) => ({ liveSessionId: session.id, sequence }) as RoomGiftEvent;
    const stream = await openRoomStream({ db, pubsub, liveSessionId: session.id, after: null });
    const consumer = directConsumer();
    stream.deliverDirectly(consumer, asIs);
    const waiting = stream.next();

    pubsub.publish('room', session.id, { kind: 'gifts', events: [event(1), event(2)] });
    pubsub.publish('room', session.id, { kind: 'gifts', events: [event(3)] });
    pubsub.publish('room', session.id, { kind: 'viewers', viewers: 7 });

    expect(await within(waiting, 'the announcement')).toEqual({ done: false, value: { kind: 'viewers', viewers: 7, sequence: 3 } });
    expect(consumer.runs.flat()).toEqual([1, 2, 3]);
    await stream.return?.();
  });

  test('gets the gifts it refuses through its stream instead, in order', async () => {
    const { session } = await createLiveCreator(db);
    const event = (sequence: number) => ({ liveSessionId: session.id, sequence }) as RoomGiftEvent;
    const stream = await openRoomStream({ db, pubsub, liveSessionId: session.id, after: null });
    const consumer = directConsumer(false);
    stream.deliverDirectly(consumer, asIs);
    const waiting = stream.next();

    pubsub.publish('room', session.id, { kind: 'gifts', events: [event(1), event(2)] });

    expect(giftSequence(await within(waiting, 'the first gift'))).toBe(1);
    expect(giftSequence(await within(stream.next(), 'the second gift'))).toBe(2);
    expect(consumer.runs).toEqual([[1, 2]]);
    await stream.return?.();
  });

  test('is not handed a gift past a gap: its stream fills the gap from storage first, then the fast path goes on', async () => {
    const { session } = await createLiveCreator(db);
    const fan = await createFundedViewer(db, 100n);
    const send = (sender: ReturnType<typeof createGiftSender>) =>
      sender.send(fan.id, { liveSessionId: session.id, giftId: rose.id, quantity: 1, idempotencyKey: uniqueKey('gift') });
    const quiet = createGiftSender(db, silentAnnouncer, DEFAULT_POLICY);
    const announcing = createGiftSender(db, createAnnouncer(pubsub), DEFAULT_POLICY);
    const stream = await openRoomStream({ db, pubsub, liveSessionId: session.id, after: null });
    const consumer = directConsumer();
    stream.deliverDirectly(consumer, asIs);

    // Gifts 1 and 2 commit but their announcements never arrive; gift 3's does.
    await send(quiet);
    await send(quiet);
    const waiting = stream.next();
    await send(announcing);

    expect(giftSequence(await within(waiting, 'the first missed gift'))).toBe(1);
    expect(giftSequence(await stream.next())).toBe(2);
    expect(giftSequence(await stream.next())).toBe(3);
    expect(consumer.runs).toEqual([]);

    // Caught up and waiting again: the next gift goes straight to the consumer.
    const idle = stream.next();
    await send(announcing);
    await eventually(async () => consumer.runs.length > 0 || undefined, 'gift 4 to be handed over directly');
    expect(consumer.runs).toEqual([[4]]);
    await stream.return?.();
    expect(await idle).toEqual({ done: true, value: undefined });
  });
});
