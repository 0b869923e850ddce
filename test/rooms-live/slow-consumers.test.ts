import { setImmediate as tick } from 'node:timers/promises';
import { describe, expect, test } from 'vitest';
import { createGiftSender } from '../../src/domain/gifting.js';
import { endLiveSession } from '../../src/domain/live-sessions.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import type { RoomGiftEvent } from '../../src/domain/rooms.js';
import { createAnnouncer } from '../../src/events/announcer.js';
import { createEventBus, type PubSub, type RoomMessage } from '../../src/events/pubsub.js';
import { MAX_PENDING_EVENTS, openRoomStream, ResumeRequiredError, type RoomItem } from '../../src/events/fanout/room-stream.js';
import { createLogger } from '../../src/logger.js';
import { createTestDatabase } from '../support/database.js';
import { createCatalogGift, createFundedViewer, createLiveCreator, uniqueKey } from '../support/money.js';
import { eventually, within } from '../support/wait.js';

// A room stream buffers at most MAX_PENDING_EVENTS for a subscriber that does not keep up; past that it
// stops listening and ends the subscriber with ResumeRequiredError, naming the last sequence it got. And
// a stream lets go of its room at once when the subscriber leaves, and never misses the room's end.

const { db } = await createTestDatabase();
const pubsub = createEventBus(undefined, createLogger('silent'));
const announcer = createAnnouncer(pubsub);
const gifts = createGiftSender(db, announcer, DEFAULT_POLICY);
const rose = await createCatalogGift(db, 1n, { name: 'Rose' });

const sequenceOf = (item: IteratorResult<RoomItem>) => (item.value as Extract<RoomItem, { kind: 'gift' }>).event.sequence;

describe('a subscriber that stops pulling', () => {
  test('is ended with ResumeRequiredError at the last sequence it got, and resuming from it misses nothing', async () => {
    const { session } = await createLiveCreator(db);
    const fan = await createFundedViewer(db, 100n);
    const stream = await openRoomStream({ db, pubsub, liveSessionId: session.id, after: null });
    const next = stream.next();
    for (let i = 0; i < 5; i++) await gifts.send(fan.id, { liveSessionId: session.id, giftId: rose.id, quantity: 1, idempotencyKey: uniqueKey('gift') });
    expect([sequenceOf(await next), sequenceOf(await stream.next())]).toEqual([1, 2]);

    // It stops pulling while the room goes on: more than MAX_PENDING_EVENTS announcements arrive.
    for (let i = 1; i <= MAX_PENDING_EVENTS + 1; i++) {
      pubsub.publish('room', session.id, { kind: 'viewers', viewers: i });
      if (i % 100 === 0) await tick();
    }
    await tick();

    const error = await stream.next().then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(error).toBeInstanceOf(ResumeRequiredError);
    expect(error).toMatchObject({ code: 'RESUME_REQUIRED', lastSequence: 2, message: 'Too far behind the room: reconnect with after: 2' });
    expect(await stream.next()).toEqual({ done: true, value: undefined });

    const resumed = await openRoomStream({ db, pubsub, liveSessionId: session.id, after: 2 });
    expect([sequenceOf(await resumed.next()), sequenceOf(await resumed.next()), sequenceOf(await resumed.next())]).toEqual([3, 4, 5]);
    await resumed.return?.();
  });

  test('buffers a bounded number of events (whole gift batches count by their events), then lets go of the room', async () => {
    const { session } = await createLiveCreator(db);
    let pulled = 0;
    let released = false;
    const event = (sequence: number) => ({ liveSessionId: session.id, sequence }) as RoomGiftEvent;
    // A room in a storm once the subscriber is in: an endless run of 100-gift batches, as fast as the stream takes them.
    let open!: () => void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    async function* storm(): AsyncGenerator<RoomMessage> {
      try {
        await opened;
        for (let batch = 0; ; batch++) {
          pulled++;
          yield { kind: 'gifts', events: Array.from({ length: 100 }, (_, i) => event(batch * 100 + i + 1)) };
        }
      } finally {
        released = true;
      }
    }
    const room = { subscribe: () => storm() } as unknown as PubSub;
    const stream = await openRoomStream({ db, pubsub: room, liveSessionId: session.id, after: null, onOpen: () => open() });

    expect(sequenceOf(await stream.next())).toBe(1);
    await eventually(async () => released || undefined, 'the stream to let go of the room');
    // What it holds: the batch it is in, plus just over MAX_PENDING_EVENTS events.
    expect(pulled).toBeLessThanOrEqual(MAX_PENDING_EVENTS / 100 + 2);

    // It still delivers the batch it was in the middle of, then says where to resume.
    const delivered = [1];
    const error = await (async () => {
      for (;;) {
        try {
          const item = await stream.next();
          if (item.done) return undefined;
          delivered.push(sequenceOf(item));
        } catch (failure) {
          return failure;
        }
      }
    })();
    expect(delivered).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(error).toMatchObject({ code: 'RESUME_REQUIRED', lastSequence: 100 });
  });

  test('leaving a quiet room ends the stream at once: the viewer is let go and the room unsubscribed', async () => {
    const { session } = await createLiveCreator(db);
    let viewers = 0;
    const stream = await openRoomStream({ db, pubsub, liveSessionId: session.id, after: 0, onOpen: () => viewers++, onClose: () => viewers-- });
    const waiting = stream.next();
    await eventually(async () => (viewers === 1 ? true : undefined), 'the stream to open');

    await within(stream.return!(), 'return() while the stream waits for an event', 1_000);
    expect(await waiting).toEqual({ done: true, value: undefined });
    expect(viewers).toBe(0);
  });

  test('a session that ends while the stream is opening still ends the stream (it listens before it reads)', async () => {
    const { creator, session } = await createLiveCreator(db);
    // The session ends, and says so, while the stream's read of it is on its way back (still LIVE).
    const racing = new Proxy(db, {
      get(target, property, receiver) {
        if (property !== 'liveSession') return Reflect.get(target, property, receiver);
        return {
          findUnique: async (args: Parameters<typeof db.liveSession.findUnique>[0]) => {
            const row = await db.liveSession.findUnique(args);
            await endLiveSession(db, announcer, creator.id, session.id);
            return row;
          },
        };
      },
    });
    const stream = await openRoomStream({ db: racing, pubsub, liveSessionId: session.id, after: null });

    expect(await within(stream.next(), 'the stream to hear the end', 2_000)).toEqual({ done: false, value: { kind: 'ended', sequence: 0 } });
    expect(await stream.next()).toEqual({ done: true, value: undefined });
  });
});
