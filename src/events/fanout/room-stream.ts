import type { Database } from '../../db/client.js';
import { LiveSessionEndedError, NotFoundError, OvationError, ValidationError } from '../../domain/errors.js';
import type { RoomGiftEvent } from '../../domain/rooms.js';
import { LiveSessionStatus } from '../../generated/prisma/client.js';
import type { EventSubscriptions, RoomMessage } from '../pubsub.js';
import { listenToRoom, RoomHearer, weight } from './hub.js';
import type { DirectSubscriber, Heard } from './interface.js';

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
 * A room's stream for one subscriber, which can also hand runs of its gifts' stored events straight to a
 * subscriber that keeps up (see `hear`), shaped on the way into a field's items by `shape`: one function
 * for every subscriber of a field, so a run is shaped once for all (interface.ts, Heard).
 */
export type RoomStream = AsyncIterableIterator<RoomItem> & {
  deliverDirectly<Item>(subscriber: DirectSubscriber<Item>, shape: (gifts: readonly RoomGiftEvent[]) => readonly Item[]): void;
};

/**
 * What one subscriber's stream and the room's hub share. The hub's sweep visits it for every viewer and
 * message, so everything the fast path reads is in this one object, and `hear` is one method for all:
 * in a big room each separate object a visit touches (a closure, its scope) is a likely cache miss, and
 * those misses dominate the fan-out's own CPU time (docs/fan-out.md, "What a visit touches").
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
  subscriber: DirectSubscriber<unknown> | undefined = undefined;
  shape: (gifts: readonly RoomGiftEvent[]) => readonly unknown[] = (gifts) => gifts;
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
  hear(heard: Heard) {
    if (this.overflowed || this.closed) return;
    const { messages } = heard;
    let taken = 0;
    // Compared with undefined, not tested for truth: a test of an object reads the object itself, one more
    // likely cache miss per viewer.
    if (this.subscriber !== undefined && this.wake !== undefined) {
      const run = heard.run;
      if (run !== null && run.first === this.last + 1 && this.subscriber.take(heard.shaped(run, this.shape))) {
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
    deliverDirectly(subscriber, shape) {
      listener.subscriber = subscriber as DirectSubscriber<unknown>;
      listener.shape = shape;
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
