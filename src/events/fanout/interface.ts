import type { GraphQLField } from 'graphql';
import type { RoomGiftEvent } from '../../domain/rooms.js';
import type { RoomMessage } from '../pubsub.js';

// The fan-out's parts and what each promises the others. The design, the reasons for its unusual choices
// and what they measured: docs/fan-out.md.
//
//   pub/sub ──message──> hub.ts ──Heard──> room-stream.ts ──items──> shared-subscriptions.ts ──frames──> socket
//   (a topic per room)   (a sweep          (one per                  (SocketSubscriber, a
//                         per room)         subscriber)               DirectSubscriber)
//
// A shared field (src/schema/rooms.ts) returns the room stream as a SharedStream of its own items. Byte
// framing belongs to the subscriber alone (websocket-frames.ts): streams hand over objects, never bytes,
// and know nothing of GraphQL, graphql-ws or WebSocket. Identity is relied on only where this file says so
// (Heard, DirectSubscriber, SharedStream).

/**
 * What the hub hands a listener on a visit: every message it has not heard yet, in order. One object for
 * all the listeners of a slice that had heard the same before (most of a round), and never changed, so
 * what every listener derives from it alike is derived once and kept on it: its gift run (`run`) and
 * that run shaped into a field's items (`shaped`).
 */
export class Heard {
  #run: GiftRun | null | undefined = undefined;
  #shape: ((gifts: readonly RoomGiftEvent[]) => readonly unknown[]) | undefined = undefined;
  #shaped: readonly unknown[] = [];

  constructor(readonly messages: readonly RoomMessage[]) {}

  /**
   * The gift events the messages begin with, numbered one after another (the direct path's unit), and
   * how many messages they fill; null when the first message is no such run.
   */
  get run(): GiftRun | null {
    if (this.#run === undefined) this.#run = giftRun(this.messages);
    return this.#run;
  }

  /** `shape(run.events)`, computed once for all the listeners handed this object with the same `shape`. */
  shaped<Item>(run: GiftRun, shape: (gifts: readonly RoomGiftEvent[]) => readonly Item[]): readonly Item[] {
    if (this.#shape !== shape) {
      this.#shape = shape;
      this.#shaped = shape(run.events);
    }
    return this.#shaped as readonly Item[];
  }
}

export type GiftRun = { events: readonly RoomGiftEvent[]; first: number; last: number; messages: number };

function giftRun(messages: readonly RoomMessage[]): GiftRun | null {
  const events: RoomGiftEvent[] = [];
  let filled = 0;
  for (const message of messages) {
    if (message.kind !== 'gifts' || message.events.length === 0) break;
    const before = events.length > 0 ? events.at(-1)!.sequence : message.events[0]!.sequence - 1;
    if (!message.events.every((event, index) => event.sequence === before + 1 + index)) break;
    events.push(...message.events);
    filled++;
  }
  return filled === 0 ? null : { events, first: events[0]!.sequence, last: events.at(-1)!.sequence, messages: filled };
}

/**
 * What a subscriber that keeps up receives: a run of a field's items, straight from the hub's sweep, with
 * no promise per subscriber. The same array for every subscriber handed the same run (see Heard), so a
 * subscriber may keep what it derives from it (the run's bytes) by its identity. `take` runs for every
 * viewer and gift: it refuses (false) a run it cannot send now, and the stream then yields the items one
 * by one instead. The subscriber owns the framing: it turns items into bytes.
 */
export interface DirectSubscriber<Item> {
  take(items: readonly Item[]): boolean;
}

const SHARED_STREAM = Symbol('fan-out shared stream');

/**
 * What a shared subscription field's `subscribe` returns: its items one by one, as any subscription's
 * (SSE, a subscriber catching up), and the direct path for a subscriber that takes runs of them. Every
 * subscriber is given the same item objects for the same event, so an item is executed once for all.
 */
export type SharedStream<Item> = AsyncIterableIterator<Item> & {
  readonly [SHARED_STREAM]: true;
  deliverDirectly(subscriber: DirectSubscriber<Item>): void;
};

/** Declares `stream` a shared stream: the fan-out refuses a shared field's source that is not one. */
export const sharedStream = <Item>(stream: AsyncIterableIterator<Item> & Pick<SharedStream<Item>, 'deliverDirectly'>): SharedStream<Item> =>
  Object.assign(stream, { [SHARED_STREAM]: true as const });

export const isSharedStream = (source: unknown): source is SharedStream<unknown> =>
  typeof source === 'object' && source !== null && (source as Partial<SharedStream<unknown>>)[SHARED_STREAM] === true;

/**
 * Pothos field `extensions` marking a subscription field as shared: its events are the same for every
 * subscriber, executed once with a context that has no viewer (see `withoutViewer`), and its `subscribe`
 * returns a SharedStream.
 */
export const sharedSubscription = { fanout: 'shared' } as const;

export const isSharedField = (field: GraphQLField<unknown, unknown> | undefined): boolean => field?.extensions.fanout === sharedSubscription.fanout;

/** A shared field's resolver read what only one subscriber's context has. */
export class SharedFieldReadViewerError extends Error {
  constructor(key: string) {
    super(`A shared subscription's fields are executed once for every subscriber, with no viewer: one read context.${key}`);
  }
}

/**
 * The context a shared field's events are executed with: the instance's services from `context`, and
 * each of `viewerKeys` a getter that throws. A field that depended on the viewer would otherwise show
 * the first subscriber's data to all; this way it fails at once, in the tests.
 */
export function withoutViewer<Context extends object>(context: Context, viewerKeys: readonly string[]): Context {
  const shared = { ...context };
  for (const key of viewerKeys) {
    Object.defineProperty(shared, key, {
      enumerable: false,
      get() {
        throw new SharedFieldReadViewerError(key);
      },
    });
  }
  return shared;
}
