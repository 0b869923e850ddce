import type { RoomGiftEvent } from '../domain/rooms.js';
import type { PubSub } from './pubsub.js';

/**
 * The one way anything is published. Domain functions take it and call it after their transaction has
 * committed, with what that transaction wrote (never a later read, which could already hold someone
 * else's change), so nothing is announced for work that rolled back. See docs/architecture.md.
 */
export type Announcer = {
  /** These users' coins or diamonds changed: their wallet subscribers refetch. */
  walletChanged(userIds: Iterable<string>): void;
  /** The user's profile changed. */
  profileChanged(userId: string): void;
  /** A batch of gifts committed: each room hears its events in sequence order; senders' and creators' wallets changed. */
  giftsCommitted(events: RoomGiftEvent[]): void;
  /** The creator set the session's goal, at the progress (and after the gift numbered `atSequence`) it was checked against. */
  goalSet(liveSessionId: string, goal: { goalCoins: bigint; progressCoins: bigint; atSequence: number }): void;
  /** The session ended after its gift numbered `lastSequence`: the room's streams complete. */
  liveSessionEnded(liveSessionId: string, lastSequence: number): void;
  /** How many watch the room now, across every instance. */
  viewerCount(liveSessionId: string, viewers: number): void;
  /** One of the creator's payouts changed (status, approval or hold). */
  payoutChanged(creatorId: string, payoutId: string): void;
  /** The account's roles or standing changed: every instance forgets what it remembered of it (src/edge/accounts.ts). */
  accountChanged(userId: string): void;
};

export function createAnnouncer(pubsub: PubSub): Announcer {
  const walletChanged = (userIds: Iterable<string>) => {
    for (const userId of userIds) pubsub.publish('walletUpdated', userId, { userId });
  };
  return {
    walletChanged,
    profileChanged: (userId) => pubsub.publish('userUpdated', userId, { userId }),
    giftsCommitted(events) {
      // One message per room per batch: the room's fan-out then runs once for all of the batch's gifts.
      const wallets = new Set<string>();
      for (const event of events) wallets.add(event.sentGift.sender.id).add(event.creatorId);
      for (const [liveSessionId, roomEvents] of Map.groupBy(events, (event) => event.liveSessionId)) pubsub.publish('room', liveSessionId, { kind: 'gifts', events: roomEvents });
      walletChanged(wallets);
    },
    goalSet: (liveSessionId, { goalCoins, progressCoins, atSequence }) =>
      pubsub.publish('room', liveSessionId, { kind: 'goalSet', goalCoins: goalCoins.toString(), progressCoins: progressCoins.toString(), atSequence }),
    liveSessionEnded: (liveSessionId, lastSequence) => pubsub.publish('room', liveSessionId, { kind: 'ended', lastSequence }),
    viewerCount: (liveSessionId, viewers) => pubsub.publish('room', liveSessionId, { kind: 'viewers', viewers }),
    payoutChanged: (creatorId, payoutId) => pubsub.publish('payoutUpdated', creatorId, { payoutId }),
    accountChanged: (userId) => pubsub.publish('accountChanged', { userId }),
  };
}

/** For work nobody can be listening to yet (demo data seeded before the server starts) and for tools. */
export const silentAnnouncer: Announcer = {
  walletChanged: () => {},
  profileChanged: () => {},
  giftsCommitted: () => {},
  goalSet: () => {},
  liveSessionEnded: () => {},
  viewerCount: () => {},
  payoutChanged: () => {},
  accountChanged: () => {},
};
