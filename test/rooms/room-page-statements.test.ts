import { describe, expect, test } from 'vitest';
import { createGiftSender } from '../../src/domain/gifting.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { silentAnnouncer } from '../../src/events/announcer.js';
import { createTestDatabase } from '../support/database.js';
import { gid } from '../support/gifting.js';
import { createCatalogGift, createFundedViewer, createLiveCreator, uniqueKey } from '../support/money.js';
import { recordingSchema } from '../support/statements.js';
import { RoomPage } from './documents.js';

// The room page (session, creator, goal, top 10 gifters with profiles, last 50 gifts with senders and
// gifts) costs the same few SQL statements for a small room and a busy one: no N+1 anywhere in it.

const { url, db } = await createTestDatabase();

const record = recordingSchema(url);

const gifts = await Promise.all([1n, 5n, 10n, 99n].map((coins) => createCatalogGift(db, coins)));

/** A live room with `gifters` distinct senders and `count` gifts among them, and a goal. */
async function room(gifters: number, count: number) {
  const { session } = await createLiveCreator(db);
  await db.liveSession.update({ where: { id: session.id }, data: { goalCoins: 1_000_000n } });
  const senders = await Promise.all(Array.from({ length: gifters }, () => createFundedViewer(db, 10_000n)));
  const sender = createGiftSender(db, silentAnnouncer, DEFAULT_POLICY, { maxInFlight: 4 });
  await Promise.all(
    Array.from({ length: count }, (_, i) =>
      sender.send(senders[i % gifters]!.id, { liveSessionId: session.id, giftId: gifts[i % gifts.length]!.id, quantity: 1 + (i % 3), idempotencyKey: uniqueKey('page') }),
    ),
  );
  return session;
}

/** Runs the room page query against the schema and returns its data and the SQL it took. */
async function openRoomPage(liveSessionId: string) {
  const { data, statements } = await record(RoomPage, { id: gid('LiveSession', liveSessionId) });
  return { page: data.liveSession!, statements };
}

describe('the room page query', () => {
  test('runs the same small number of SQL statements for 3 gifters / 5 gifts as for 30 gifters / 80 gifts', async () => {
    const small = await openRoomPage((await room(3, 5)).id);
    const busy = await openRoomPage((await room(30, 80)).id);

    expect(small.page).toMatchObject({ giftCount: 5, uniqueGifters: 3, topGifters: { totalCount: 3 } });
    expect(small.page.topGifters.edges).toHaveLength(3);
    expect(small.page.recentGifts).toHaveLength(5);
    expect(busy.page).toMatchObject({ giftCount: 80, uniqueGifters: 30, topGifters: { totalCount: 30 }, goal: { goalCoins: '1000000', reached: false } });
    expect(busy.page.topGifters.edges).toHaveLength(10);
    expect(busy.page.recentGifts).toHaveLength(50);
    // Every nested object was there, not left to a per-row query.
    for (const edge of busy.page.topGifters.edges) expect(edge.node.user.handle).toMatch(/^user_/);
    for (const gift of busy.page.recentGifts) expect(gift.sender.handle && gift.gift.name).toBeTruthy();

    expect(busy.statements.length, busy.statements.join('\n')).toBe(small.statements.length);
    expect(busy.statements.length, busy.statements.join('\n')).toBeLessThanOrEqual(10);
  });
});
