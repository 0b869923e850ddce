import { Redis } from 'ioredis';
import { createPubSub } from 'graphql-yoga';
import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';

/**
 * The typed topics. Payloads carry ids, never rows: subscribers refetch what they show, so an event
 * never leaks fields the subscriber may not read, and it survives JSON through Redis.
 */
export type Topics = {
  userUpdated: [userId: string, event: { userId: string }];
};

export type PubSub = ReturnType<typeof createPubSub<Topics>> & { close(): Promise<void> };

/**
 * In-process by default; through Redis when a URL is given, so every instance sees every event.
 * Yoga's pub/sub fails a subscriber that falls 1024 events behind (RepeaterOverflowError) rather than
 * buffering for it without bound.
 */
export function createEventBus(redisUrl?: string): PubSub {
  if (!redisUrl) {
    return Object.assign(createPubSub<Topics>(), { close: async () => {} });
  }
  // Redis needs one connection to publish and a separate one to subscribe.
  const publishClient = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
  const subscribeClient = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
  const pubsub = createPubSub<Topics>({ eventTarget: createRedisEventTarget({ publishClient, subscribeClient }) });
  return Object.assign(pubsub, {
    close: async () => {
      await Promise.all([publishClient.quit(), subscribeClient.quit()]);
    },
  });
}
