import type { Database } from '../../src/db/client.js';
import { createGiftSender } from '../../src/domain/gifting.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { silentAnnouncer } from '../../src/events/announcer.js';
import type { Gift, LiveSession, User } from '../../src/generated/prisma/client.js';
import { uniqueKey } from '../support/money.js';

export type Gifting = { sender: User; gift: Gift; quantity?: number };

/**
 * Sends gifts into a session one after another, in the order given (so room sequences follow it), as
 * of `now` (a gift's day decides which leaderboards it counts in).
 */
export async function sendInOrder(db: Database, session: Pick<LiveSession, 'id'>, gifts: Gifting[], now?: Date): Promise<void> {
  const sender = createGiftSender(db, silentAnnouncer, DEFAULT_POLICY, now ? { now: () => now } : {});
  for (const { sender: user, gift, quantity = 1 } of gifts) {
    await sender.send(user.id, { liveSessionId: session.id, giftId: gift.id, quantity, idempotencyKey: uniqueKey('room') });
  }
}

export const daysAgo = (days: number, from = new Date()) => new Date(from.getTime() - days * 24 * 3600 * 1000);
