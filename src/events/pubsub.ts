import { Redis } from 'ioredis';
import { createPubSub } from 'graphql-yoga';
import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import type { Logger } from '../logger.js';

/**
 * The typed topics. Payloads carry ids, never rows: subscribers refetch what they show, so an event
 * never leaks fields the subscriber may not read, and it survives JSON through Redis.
 */
export type Topics = {
  userUpdated: [userId: string, event: { userId: string }];
};

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
    return Object.assign(createPubSub<Topics>(), { ready: async () => true, close: async () => {} });
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
