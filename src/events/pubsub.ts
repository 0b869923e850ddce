import { setMaxListeners } from 'node:events';
import { Redis } from 'ioredis';
import { createPubSub, Repeater, SlidingBuffer } from 'graphql-yoga';
import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import type { RoomGiftEvent } from '../domain/rooms.js';
import type { Logger } from '../logger.js';

/**
 * The typed topics. Payloads are plain JSON (they cross Redis). Private data travels as ids only, and
 * subscribers refetch it with their own permissions; room events are public to the room, so they carry
 * what the room shows, which spares ten thousand viewers a read each.
 */
export type Topics = {
  userUpdated: [userId: string, event: { userId: string }];
  /** Everything a live room hears, in one topic per room so ordering holds within it. */
  room: [liveSessionId: string, message: RoomMessage];
  /** A user's coins or diamonds changed. */
  walletUpdated: [userId: string, event: { userId: string }];
  /** One of a creator's payouts changed: its status, an approval or a hold. */
  payoutUpdated: [creatorId: string, event: { payoutId: string }];
  /** An account's roles or standing changed; one topic every instance listens to, to forget it. */
  accountChanged: [event: { userId: string }];
};

/** Gift events are the durable, numbered ones; viewer counts and the end are announcements. */
export type RoomMessage =
  | { kind: 'gifts'; events: RoomGiftEvent[] }
  | { kind: 'viewers'; viewers: number }
  /** `atSequence`: the room's last gift when the goal was set. */
  | { kind: 'goalSet'; goalCoins: string; progressCoins: string; atSequence: number }
  | { kind: 'ended'; lastSequence: number };

export type PubSub = ReturnType<typeof createPubSub<Topics>> & {
  /**
   * The newest event of a topic, for subscribers that refetch state (a profile, a wallet): a slow one
   * skips to the latest instead of queueing, so it can neither fall behind nor hold memory.
   */
  latest<K extends 'userUpdated' | 'walletUpdated'>(topic: K, id: string): AsyncIterableIterator<Topics[K][1]>;
  /** Whether events can reach the other instances (always, in-process). */
  ready(): Promise<boolean>;
  close(): Promise<void>;
};

/** The event bus as subscribers see it; publishing is the Announcer's alone (announcer.ts). */
export type EventSubscriptions = Pick<PubSub, 'subscribe' | 'latest' | 'ready'>;

/**
 * In-process by default; through Redis when a URL is given, so every instance sees every event.
 * Room streams drain their subscription at once into a bounded buffer of their own (fanout/room-stream.ts);
 * state topics keep only the latest event (`latest`).
 */
export function createEventBus(redisUrl: string | undefined, log: Logger): PubSub {
  if (!redisUrl) {
    // A popular room has thousands of listeners on one topic; that is the design, not a leak.
    const eventTarget = new EventTarget();
    setMaxListeners(0, eventTarget);
    return Object.assign(createPubSub<Topics>({ eventTarget: eventTarget as never }), {
      latest: latestOn(eventTarget),
      ready: async () => true,
      close: async () => {},
    });
  }
  // Redis needs one connection to publish and a separate one to subscribe. ioredis reconnects by itself;
  // while it is down, /readyz says so.
  const publishClient = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
  const subscribeClient = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
  for (const client of [publishClient, subscribeClient]) client.on('error', (error) => log.warn({ err: error }, 'redis connection error'));
  const eventTarget = createRedisEventTarget({ publishClient, subscribeClient });
  const pubsub = createPubSub<Topics>({ eventTarget });
  return Object.assign(pubsub, {
    latest: latestOn(eventTarget as unknown as EventTarget),
    ready: async () => publishClient.status === 'ready' && subscribeClient.status === 'ready',
    close: async () => {
      await Promise.all([publishClient.quit(), subscribeClient.quit()]);
    },
  });
}

/**
 * A topic's events with a buffer of one that keeps the newest: what a subscriber has not taken yet is
 * replaced, not queued. Topic names as Yoga's pub/sub spells them, so it hears what `publish` sends.
 */
function latestOn(target: EventTarget) {
  return <T>(topic: string, id: string): AsyncIterableIterator<T> =>
    new Repeater<T>(async (push, stop) => {
      const listener = (event: Event) => void push((event as CustomEvent<T>).detail);
      target.addEventListener(`${topic}:${id}`, listener);
      await stop;
      target.removeEventListener(`${topic}:${id}`, listener);
    }, new SlidingBuffer(1));
}
