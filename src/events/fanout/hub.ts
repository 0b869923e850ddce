import type { EventSubscriptions, RoomMessage } from '../pubsub.js';
import { Heard } from './interface.js';

/**
 * A viewer as the room's hub knows it. The sweep visits it for every viewer and message, so it is one
 * object (see room-stream.ts): `hear` takes the viewer's unheard messages, in order, all at once, in a
 * Heard shared with the viewers that had heard the same (interface.ts); `next` and `listening` are the
 * hub's own: the absolute index in its log of the first message not yet heard, and whether it still listens.
 */
export abstract class RoomHearer {
  abstract hear(heard: Heard): void;
  next = 0;
  listening = true;
}

type Hub = { hearers: Set<RoomHearer>; end: () => number; stop: () => Promise<void> };

const hubs = new WeakMap<EventSubscriptions, Map<string, Hub>>();

/**
 * Viewers the sweep visits before the hub lets other work run: a few ms of writes, short enough that a gift
 * sent into a big room is not held up by the sweep (docs/fan-out.md, "A sweep in slices of 250").
 */
const SLICE = 250;
/** Gift events (or announcements) the hub reads ahead of its slowest viewer at most. */
const AHEAD_EVENTS = 100;

/** How many events a message carries: a gift batch counts by its gifts, an announcement as one. */
export const weight = (message: RoomMessage) => (message.kind === 'gifts' ? message.events.length : 1);

const LATER = Symbol('later');
const soon = () => new Promise<typeof LATER>((resolve) => setImmediate(resolve, LATER));

/**
 * Hears a room's messages. All of an instance's subscribers to one room share a single pub/sub
 * subscription, so a message costs one delivery per room, then a function call per viewer (not a
 * queue, an event listener and a Redis subscription each). Returns the way to stop listening.
 */
export function listenToRoom(pubsub: EventSubscriptions, liveSessionId: string, hearer: RoomHearer): () => Promise<void> {
  let rooms = hubs.get(pubsub);
  if (!rooms) hubs.set(pubsub, (rooms = new Map()));
  let hub = rooms.get(liveSessionId);
  if (!hub) rooms.set(liveSessionId, (hub = openHub(pubsub, liveSessionId)));
  const joined = hub;
  // A newcomer hears what arrives from now on; what came before, its stream reads from the database.
  hearer.next = joined.end();
  hearer.listening = true;
  joined.hearers.add(hearer);
  return async () => {
    hearer.listening = false;
    joined.hearers.delete(hearer);
    if (joined.hearers.size === 0 && rooms.get(liveSessionId) === joined) {
      rooms.delete(liveSessionId);
      await joined.stop();
    }
  };
}

/**
 * A room's messages go to its viewers by a sweep that goes round them in slices, the event loop's other
 * work (gifts' database round trips, requests) let through between slices: a round of a big room takes far
 * longer than a gift's round trip, and slicing keeps gifts from waiting on it. Each viewer the sweep
 * reaches hears every message it has not heard yet, so a message that arrives while the sweep is under way
 * goes to the viewers still ahead of it in this round, and to the rest in the next: a message waits at most
 * one round for any viewer. (Handing out a message only once the round before it had ended made it wait up
 * to two.) A viewer hears all its messages of one visit in one call, so they can leave in one write: a room
 * that falls behind catches up with fewer, larger writes. The hub reads at most AHEAD_EVENTS events past
 * what its slowest viewer has heard: a storm of messages waits in the pub/sub, not here.
 */
function openHub(pubsub: EventSubscriptions, liveSessionId: string): Hub {
  const messages = pubsub.subscribe('room', liveSessionId);
  const hearers = new Set<RoomHearer>();
  // Messages not yet heard by every viewer; log[0] has the absolute index `base`.
  const log: RoomMessage[] = [];
  let base = 0;
  let logged = 0; // events in the log
  const end = () => base + log.length;

  let upcoming: Promise<IteratorResult<RoomMessage>> | undefined;
  /**
   * Appends what has already arrived (with `wait`, waiting for the room's next message first); false
   * once the room's subscription ended.
   */
  async function read(wait: boolean): Promise<boolean> {
    for (;;) {
      if (logged >= AHEAD_EVENTS) return true;
      upcoming ??= messages.next();
      const next = wait ? await upcoming : await Promise.race([upcoming, soon()]);
      if (next === LATER) return true;
      upcoming = undefined;
      if (next.done) return false;
      log.push(next.value);
      logged += weight(next.value);
      wait = false;
    }
  }

  /** Drops the messages before absolute index `to`: everyone has heard them. */
  function forget(to: number) {
    for (const message of log.splice(0, to - base)) logged -= weight(message);
    base = to;
  }

  const sweep = (async () => {
    for (;;) {
      // A round: the viewers listening now, in turn. When it ends, everyone in it has heard all that
      // was logged when it began.
      const heardByAll = end();
      const round = [...hearers];
      for (let at = 0; at < round.length; at += SLICE) {
        if (at > 0) await soon();
        if (!(await read(false))) return;
        const upTo = end();
        // Viewers next to each other in a round have mostly heard the same: their slice of the log is shared.
        let from = -1;
        let unheard: Heard | undefined;
        for (const hearer of round.slice(at, at + SLICE)) {
          if (hearer.next >= upTo || !hearer.listening) continue;
          if (unheard === undefined || hearer.next !== from) unheard = new Heard(log.slice((from = hearer.next) - base, upTo - base));
          hearer.next = upTo;
          hearer.hear(unheard);
        }
      }
      forget(heardByAll);
      // Nothing left that anyone has not heard: wait for the room's next message.
      if (log.length === 0 && !(await read(true))) return;
    }
  })();

  return {
    hearers,
    end,
    stop: async () => {
      await messages.return?.();
      await sweep;
    },
  };
}
