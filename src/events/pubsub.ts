import { setMaxListeners } from 'node:events';
import { Redis } from 'ioredis';
import { createPubSub } from 'graphql-yoga';
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
};

/** Gift events are the durable, numbered ones; viewer counts and the end are announcements. */
export type RoomMessage =
  | { kind: 'gifts'; events: RoomGiftEvent[] }
  | { kind: 'viewers'; viewers: number }
  | { kind: 'ended'; lastSequence: number };

export type PubSub = ReturnType<typeof createPubSub<Topics>> & {
  /** Whether events can reach the other instances (always, in-process). */
  ready(): Promise<boolean>;
  close(): Promise<void>;
};

/**
 * In-process by default; through Redis when a URL is given, so every instance sees every event.
 * Yoga's pub/sub fails a subscriber that falls 1024 events behind (RepeaterOverflowError) rather than
 * buffering for it without bound.
 */
export function createEventBus(redisUrl: string | undefined, log: Logger): PubSub {
  if (!redisUrl) {
    // A popular room has thousands of listeners on one topic; that is the design, not a leak.
    const eventTarget = new EventTarget();
    setMaxListeners(0, eventTarget);
    return Object.assign(createPubSub<Topics>({ eventTarget: eventTarget as never }), { ready: async () => true, close: async () => {} });
  }
  // Redis needs one connection to publish and a separate one to subscribe. ioredis reconnects by itself;
  // while it is down, /readyz says so.
  const publishClient = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
  const subscribeClient = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
  for (const client of [publishClient, subscribeClient]) client.on('error', (error) => log.warn({ err: error }, 'redis connection error'));
  const pubsub = createPubSub<Topics>({ eventTarget: createRedisEventTarget({ publishClient, subscribeClient }) });
  return Object.assign(pubsub, {
    ready: async () => publishClient.status === 'ready' && subscribeClient.status === 'ready',
    close: async () => {
      await Promise.all([publishClient.quit(), subscribeClient.quit()]);
    },
  });
}
