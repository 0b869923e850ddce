import type { Database } from '../db/client.js';
import { LiveSessionEndedError, NotFoundError, OvationError, ValidationError } from '../domain/errors.js';
import type { RoomGiftEvent } from '../domain/rooms.js';
import { LiveSessionStatus } from '../generated/prisma/client.js';
import type { EventSubscriptions, RoomMessage } from './pubsub.js';
import { listenToRoom, RoomHearer, weight } from './room-hub.js';

export type RoomItem =
  | { kind: 'gift'; event: RoomGiftEvent }
  | { kind: 'viewers'; viewers: number; sequence: number }
  | { kind: 'goalSet'; goalCoins: string; progressCoins: string; sequence: number }
  | { kind: 'ended'; sequence: number };

/**
 * A subscriber that fell this far behind (gift events, or announcements, received but not yet taken) is
 * dropped and told where to resume, rather than buffered. Counted in events, not messages: one message
 * carries a whole gift batch (up to 100 events), so a count of messages would not bound memory.
 */
export const MAX_PENDING_EVENTS = 1000;
const REPLAY_PAGE = 500;

export class ResumeRequiredError extends OvationError {
  readonly code = 'RESUME_REQUIRED';
  constructor(readonly lastSequence: number) {
    super(`Too far behind the room: reconnect with after: ${lastSequence}`);
  }
}

type Options = { db: Database; pubsub: EventSubscriptions; liveSessionId: string; after: number | null; onOpen?: () => void; onClose?: () => void };

/**
 * Takes a run of gift events straight from the room, in order, when the consumer is idle; `take` returns
 * false for a run it cannot take now (the stream then yields it as usual).
 */
export type DirectTarget<R> = { take(run: R): boolean };

/**
 * A room's stream for one subscriber, which can also hand runs of its gifts' stored events straight to a
 * consumer (see `hear`), adapted on the way (as `adapt` makes them: the same for every viewer).
 */
export type RoomStream = AsyncIterableIterator<RoomItem> & {
  deliverDirectly<R>(target: DirectTarget<R>, adapt: (gifts: readonly RoomGiftEvent[]) => R): void;
};

/**
 * What one subscriber's stream and the room's hub share. The hub's sweep visits it for every viewer and
 * message, so everything the fast path reads is in this one object, and `hear` is one method for all:
 * in a big room each separate object a visit touches (a closure, its scope) is a likely cache miss, and
 * those misses dominate the fan-out's own CPU time (docs/architecture.md, "Rooms and the fan-out").
 */
class RoomListener extends RoomHearer {
  readonly pending: RoomMessage[] = [];
  pendingEvents = 0;
  overflowed = false;
  closed = false;
  /**
   * Set while the stream waits for the room, which it does only with nothing pending; whatever is put in
   * `pending` wakes it (`hear`), so while this is set `pending` is empty.
   */
  wake: (() => void) | undefined = undefined;
  /** The last sequence the subscriber was given (set once the session is read). */
  last = 0;
  target: DirectTarget<unknown> | undefined = undefined;
  adapt: (gifts: readonly RoomGiftEvent[]) => unknown = (gifts) => gifts;
  readonly stopListening: () => Promise<void>;

  // Listens at once, so nothing committed (and no end announced) from the session's read on can be missed.
  constructor(pubsub: EventSubscriptions, liveSessionId: string) {
    super();
    this.stopListening = listenToRoom(pubsub, liveSessionId, this);
  }

  /**
   * The fast path, for a consumer that takes runs directly: while the stream waits with nothing pending
   * (so the consumer has been given everything before), gifts that continue the sequence go straight to
   * it, with no promise or object per subscriber. What is left (a gap, an announcement, a run the
   * consumer refused) waits in `pending` for the stream to yield.
   */
  hear(messages: readonly RoomMessage[]) {
    if (this.overflowed || this.closed) return;
    let taken = 0;
    // Compared with undefined, not tested for truth: a test of an object reads the object itself, one more
    // likely cache miss per viewer.
    if (this.target !== undefined && this.wake !== undefined) {
      const run = giftRun(messages);
      if (run && run.first === this.last + 1 && this.target.take(this.adapt(run.events))) {
        this.last = run.last;
        taken = run.messages;
      }
    }
    if (taken === messages.length) return;
    for (const message of messages.slice(taken)) {
      this.pending.push(message);
      this.pendingEvents += weight(message);
    }
    // Past the limit it lets go of the room: memory stays bounded, and the stream tells the subscriber
    // to resume.
    if (this.pendingEvents > MAX_PENDING_EVENTS) {
      this.overflowed = true;
      void this.stopListening();
    }
    this.wakeUp();
  }

  wakeUp() {
    const waiting = this.wake;
    this.wake = undefined;
    waiting?.();
  }
}

/**
 * A room's stream for one subscriber: with `after`, every gift event after that sequence from the
 * database, then live; without, live from now. Exactly once and in order: live events already replayed
 * are skipped, and a gap (an event overtaken in transit) is filled from the database, where every
 * committed event is. Validates the session before the first event, so a bad id fails the subscription.
 *
 * `return()` ends the stream at once, even while it waits for the room's next event (an async
 * generator's own return() would wait for that event, so a viewer who left a quiet room would stay
 * counted, and subscribed, until someone gifted).
 */
export async function openRoomStream({ db, pubsub, liveSessionId, after, onOpen, onClose }: Options): Promise<RoomStream> {
  const listener = new RoomListener(pubsub, liveSessionId);
  const { pending } = listener;
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      listener.closed = true;
      listener.wakeUp();
      await listener.stopListening();
    })());
  let session: { status: LiveSessionStatus; lastSequence: number } | null;
  try {
    session = await db.liveSession.findUnique({ where: { id: liveSessionId }, select: { status: true, lastSequence: true } });
    if (!session) throw new NotFoundError('Live session');
    if (session.status !== LiveSessionStatus.LIVE) throw new LiveSessionEndedError();
    // A sequence the room has not reached was never seen by this client: resuming from it would skip
    // the gifts up to it without a word.
    if (after !== null && (after < 0 || after > session.lastSequence)) {
      throw new ValidationError([{ field: 'after', message: `must be a sequence this room has reached (0 to ${session.lastSequence})` }]);
    }
  } catch (error) {
    await close();
    throw error;
  }

  listener.last = after ?? session.lastSequence;
  async function* stream(): AsyncGenerator<RoomItem> {
    onOpen?.();
    try {
      if (after !== null) {
        for await (const event of replay(db, liveSessionId, after, null)) {
          yield { kind: 'gift', event };
          listener.last = event.sequence;
        }
      }
      for (;;) {
        if (listener.closed) return;
        if (listener.overflowed) throw new ResumeRequiredError(listener.last);
        const message = pending.shift();
        if (!message) {
          await new Promise<void>((resolve) => (listener.wake = resolve));
          continue;
        }
        listener.pendingEvents -= weight(message);
        if (message.kind === 'viewers') yield { kind: 'viewers', viewers: message.viewers, sequence: listener.last };
        // A goal set before gifts this subscriber has already heard is old news: their events carry the
        // goal as it stands since (a gift that reached it may have committed right behind it).
        if (message.kind === 'goalSet' && message.atSequence >= listener.last) {
          yield { kind: 'goalSet', goalCoins: message.goalCoins, progressCoins: message.progressCoins, sequence: listener.last };
        }
        if (message.kind === 'ended') {
          for await (const event of replay(db, liveSessionId, listener.last, message.lastSequence)) {
            yield { kind: 'gift', event };
            listener.last = event.sequence;
          }
          yield { kind: 'ended', sequence: listener.last };
          return;
        }
        if (message.kind === 'gifts') {
          for (const event of message.events) {
            if (event.sequence <= listener.last) continue;
            if (event.sequence > listener.last + 1) {
              for await (const missed of replay(db, liveSessionId, listener.last, event.sequence - 1)) {
                yield { kind: 'gift', event: missed };
                listener.last = missed.sequence;
              }
            }
            yield { kind: 'gift', event };
            listener.last = event.sequence;
          }
        }
      }
    } finally {
      await close();
      onClose?.();
    }
  }
  const items = stream();
  const iterator: RoomStream = {
    [Symbol.asyncIterator]: () => iterator,
    next: () => items.next(),
    deliverDirectly(target, adapt) {
      listener.target = target as DirectTarget<unknown>;
      listener.adapt = adapt;
    },
    async return() {
      // Wakes the stream if it is waiting, so its own return (queued behind that wait) runs now; and
      // releases the subscription even if the stream never started.
      const closingNow = close();
      await items.return(undefined);
      await closingNow;
      return { done: true, value: undefined };
    },
    throw: (error?: unknown) => items.throw(error),
  };
  return iterator;
}

/**
 * The gift events a viewer's messages begin with, numbered one after another (the fast path's unit), and
 * how many messages they fill; the messages from the first announcement or gap on are left out.
 */
type GiftRun = { events: readonly RoomGiftEvent[]; first: number; last: number; messages: number };

// The hub hands the viewers of a round the same array of messages (room-hub.ts), so the run derived
// from it last is what the next viewer needs too.
let lastMessages: readonly RoomMessage[] | undefined;
let lastRun: GiftRun | undefined;

function giftRun(messages: readonly RoomMessage[]): GiftRun | undefined {
  if (messages === lastMessages) return lastRun;
  const events: RoomGiftEvent[] = [];
  let filled = 0;
  for (const message of messages) {
    if (message.kind !== 'gifts' || message.events.length === 0) break;
    if (!numberedOn(message.events, events.length > 0 ? events.at(-1)!.sequence : message.events[0]!.sequence - 1)) break;
    events.push(...message.events);
    filled++;
  }
  lastMessages = messages;
  lastRun = filled === 0 ? undefined : { events, first: events[0]!.sequence, last: events.at(-1)!.sequence, messages: filled };
  return lastRun;
}

/** Whether `events` are numbered one after another from just after `before`. */
const numberedOn = (events: readonly RoomGiftEvent[], before: number) => events.every((event, index) => event.sequence === before + 1 + index);

/** Stored gift events after `after`, up to `through` (all when null), in order, a page at a time. */
async function* replay(db: Database, liveSessionId: string, after: number, through: number | null): AsyncGenerator<RoomGiftEvent> {
  for (let from = after; ; ) {
    const rows = await db.roomEvent.findMany({
      where: { liveSessionId, sequence: { gt: from, ...(through === null ? {} : { lte: through }) } },
      orderBy: { sequence: 'asc' },
      take: REPLAY_PAGE,
      select: { payload: true, sequence: true },
    });
    for (const row of rows) yield row.payload as RoomGiftEvent;
    if (rows.length < REPLAY_PAGE) return;
    from = rows[rows.length - 1]!.sequence;
  }
}
