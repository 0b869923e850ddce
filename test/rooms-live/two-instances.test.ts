import { describe, expect, test } from 'vitest';
import { gid } from '../support/gifting.js';
import { createCatalogGift, createFundedViewer, createLiveCreator, expectCleanAudit } from '../support/money.js';
import { startTestServer } from '../support/server.js';
import { tokenFor } from '../support/users.js';
import { openSocket } from '../support/ws.js';
import { committedIn, endSession, isGiftSent, range, readToCompletion, readUntil, sendGift, sequencesOf, watchRoom } from './support.js';

// In production several instances share Redis: a room's events reach its viewers whichever instance a gift
// went through, and a viewer may reconnect to any instance.

const redisUrl = process.env.REDIS_URL;

describe.skipIf(!redisUrl)('two instances sharing Redis', () => {
  test('gifts sent through A reach a subscriber on B in order; it drops, resumes on A with `after`, and misses nothing', async () => {
    const a = await startTestServer({ redisUrl });
    const b = await startTestServer({ database: a.database, redisUrl });
    const { db } = a;
    const [rose, heart] = await Promise.all([createCatalogGift(db, 1n, { name: 'Rose' }), createCatalogGift(db, 5n, { name: 'Finger Heart' })]);
    const { creator, session } = await createLiveCreator(db);
    const senders = await Promise.all(range(1, 20).map(() => createFundedViewer(db, 100n)));
    const tokens = await Promise.all(senders.map((sender) => tokenFor(sender)));

    // On B, the subscriber first hears its own viewer count (through Redis, from B's presence): it is listening.
    const onB = openSocket(b.url);
    const fromB = watchRoom(onB, session, 0);
    await readUntil(fromB, (events) => events.some((event) => event.__typename === 'ViewerCountChangedEvent'));

    const sending = Promise.all(tokens.flatMap((token) => range(1, 10).map((i) => sendGift(a.url, token, session, i % 2 ? rose! : heart!))));
    const beforeDrop = await readUntil(fromB, (events) => sequencesOf(events).length >= 30, { ms: 10_000 });
    await onB.dispose();
    const lastSeen = sequencesOf(beforeDrop).at(-1)!;

    const onA = watchRoom(openSocket(a.url), session, lastSeen);
    const results = await sending;
    const committed = await committedIn(db, session);
    expect(results.every((result) => result.__typename === 'SentGift')).toBe(true);
    expect(committed.sentGifts).toBe(200);
    const afterResume = await readUntil(onA, (events) => sequencesOf(events).at(-1) === 200, { ms: 10_000 });
    // Ended through B: A's subscriber hears it through Redis, after the last gift.
    await endSession(b.url, creator, session);
    await readToCompletion(onA, afterResume);

    expect(sequencesOf(beforeDrop)).toEqual(range(1, lastSeen));
    expect(sequencesOf(afterResume)).toEqual(range(lastSeen + 1, 200));
    expect([...beforeDrop, ...afterResume].filter(isGiftSent).map((event) => event.sentGiftId)).toEqual(
      committed.roomEvents.map((row) => gid('SentGift', row.sentGiftId!)),
    );
    expect(afterResume.at(-1)).toEqual({ __typename: 'LiveSessionEndedEvent', sequence: 200 });
    await expectCleanAudit(db);
  });

  test('a live subscriber on B (without `after`) hears a gift sent through A', async () => {
    const a = await startTestServer({ redisUrl });
    const b = await startTestServer({ database: a.database, redisUrl });
    const rose = await createCatalogGift(a.db, 1n, { name: 'Rose' });
    const { session } = await createLiveCreator(a.db);
    const fan = await createFundedViewer(a.db, 10n);

    const live = watchRoom(openSocket(b.url), session);
    await readUntil(live, (events) => events.some((event) => event.__typename === 'ViewerCountChangedEvent'));
    const sent = await sendGift(a.url, fan, session, rose);

    const [gift] = (await readUntil(live, (events) => sequencesOf(events).length === 1)).filter(isGiftSent);
    expect(gift).toMatchObject({ sequence: 1, sentGiftId: sent.__typename === 'SentGift' && sent.id, sender: { handle: fan.handle } });
    await expectCleanAudit(a.db);
  });
});
