import type { PubSub, RoomMessage } from './pubsub.js';

type Hub = { listeners: Set<(message: RoomMessage) => void>; stop: () => Promise<void> };

const hubs = new WeakMap<PubSub, Map<string, Hub>>();

/**
 * Hears a room's messages. All of an instance's subscribers to one room share a single pub/sub
 * subscription, so a message costs one delivery per room, then a function call per viewer (not a
 * queue, an event listener and a Redis subscription each). Returns the way to stop listening.
 */
export function listenToRoom(pubsub: PubSub, liveSessionId: string, listener: (message: RoomMessage) => void): () => Promise<void> {
  let rooms = hubs.get(pubsub);
  if (!rooms) hubs.set(pubsub, (rooms = new Map()));
  let hub = rooms.get(liveSessionId);
  if (!hub) {
    const messages = pubsub.subscribe('room', liveSessionId);
    const listeners = new Set<(message: RoomMessage) => void>();
    const pump = (async () => {
      for await (const message of messages) for (const hear of listeners) hear(message);
    })();
    hub = {
      listeners,
      stop: async () => {
        await messages.return?.();
        await pump;
      },
    };
    rooms.set(liveSessionId, hub);
  }
  const joined = hub;
  joined.listeners.add(listener);
  return async () => {
    joined.listeners.delete(listener);
    if (joined.listeners.size === 0 && rooms.get(liveSessionId) === joined) {
      rooms.delete(liveSessionId);
      await joined.stop();
    }
  };
}
