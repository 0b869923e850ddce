import { afterAll, expect, test } from 'vitest';
import { createAnnouncer } from '../../src/events/announcer.js';
import { createGiftSender } from '../../src/domain/gifting.js';
import { createOverlayToken } from '../../src/domain/overlays.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { openOverlayStream, type OverlayItem } from '../../src/events/overlay-stream.js';
import { createPresence } from '../../src/events/presence.js';
import { createEventBus } from '../../src/events/pubsub.js';
import { MAX_PENDING_EVENTS } from '../../src/events/fanout/room-stream.js';
import { createLogger } from '../../src/logger.js';
import { range } from '../rooms-live/support.js';
import { createTestDatabase } from '../support/database.js';
import { createCatalogGift, createFundedViewer, createLiveCreator, expectCleanAudit, uniqueKey } from '../support/money.js';

// An overlay that stops reading while its room keeps gifting is let go by its room stream (past
// MAX_PENDING_EVENTS), and carries on from storage by itself: its page never sees RESUME_REQUIRED.

const { db } = await createTestDatabase();
const log = createLogger('silent');
const pubsub = createEventBus(undefined, log);
const announcer = createAnnouncer(pubsub);
const presence = createPresence(db, announcer, log);
afterAll(() => presence.close());

test('an overlay too slow for its room resumes from storage on its own: every gift once, in order', async () => {
  const { creator, session } = await createLiveCreator(db);
  const rose = await createCatalogGift(db, 1n, { name: 'Rose' });
  const senders = await Promise.all(range(1, 50).map(() => createFundedViewer(db, 100n)));
  const { token } = await createOverlayToken(db, creator.id, { label: 'slow' });
  const overlay = openOverlayStream({ db, pubsub, presence, overlayTokenId: token.id, creatorId: creator.id, after: null, streakQuietMs: 500, checkMs: 100 });
  const gifts = createGiftSender(db, announcer, DEFAULT_POLICY);
  const send = (sender: (typeof senders)[number]) => gifts.send(sender.id, { liveSessionId: session.id, giftId: rose.id, quantity: 1, idempotencyKey: uniqueKey('slow') });
  expect((await overlay.next()).value).toMatchObject({ kind: 'state', sequence: 0 });
  // The overlay is listening to the room once it has passed on a gift.
  await send(senders[0]!);
  expect((await overlay.next()).value).toMatchObject({ kind: 'streakStarted', sequence: 1 });

  // Nobody reads the overlay while more gifts than a room stream holds commit.
  const total = MAX_PENDING_EVENTS + 200;
  await Promise.all(
    senders.map(async (sender, index) => {
      for (let n = index + 2; n <= total; n += senders.length) await send(sender);
    }),
  );

  const started = [1];
  while (started.at(-1) !== total) {
    const { value } = (await overlay.next()) as { value: OverlayItem };
    if (value.kind === 'streakStarted') started.push(value.sequence);
    if (value.kind === 'streakGrew') throw new Error(`A gift outside any combo grew a streak: ${JSON.stringify(value)}`);
  }
  expect(started).toEqual(range(1, total));
  await overlay.return();
  await expectCleanAudit(db);
}, 60_000);
