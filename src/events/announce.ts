import type { PayoutAnnouncer } from '../domain/payouts/lifecycle.js';
import type { RoomGiftEvent } from '../domain/rooms.js';
import type { PubSub } from './pubsub.js';

/** After a gift batch commits: one message per room (in sequence order) and a wallet update per person. */
export function announceGifts(pubsub: PubSub, events: RoomGiftEvent[]): void {
  const byRoom = new Map<string, RoomGiftEvent[]>();
  const wallets = new Set<string>();
  for (const event of events) {
    byRoom.set(event.liveSessionId, [...(byRoom.get(event.liveSessionId) ?? []), event]);
    wallets.add(event.sentGift.sender.id).add(event.creatorId);
  }
  for (const [liveSessionId, roomEvents] of byRoom) pubsub.publish('room', liveSessionId, { kind: 'gifts', events: roomEvents });
  for (const userId of wallets) pubsub.publish('walletUpdated', userId, { userId });
}

/** Payouts' announcements, after each commit: the creator's payoutUpdated and the wallet it moved. */
export function announcePayouts(pubsub: PubSub): PayoutAnnouncer {
  return {
    payoutChanged: (creatorId, payoutId) => pubsub.publish('payoutUpdated', creatorId, { payoutId }),
    walletChanged: (userId) => pubsub.publish('walletUpdated', userId, { userId }),
  };
}
