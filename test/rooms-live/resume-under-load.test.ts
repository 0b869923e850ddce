import { describe, expect, test } from 'vitest';
import { gid } from '../support/gifting.js';
import { request } from '../support/graphql.js';
import { createCatalogGift, createFundedViewer, createLiveCreator, expectCleanAudit, uniqueKey } from '../support/money.js';
import { startTestServer } from '../support/server.js';
import { tokenFor } from '../support/users.js';
import { openSocket } from '../support/ws.js';
import { SendRoomGift } from './documents.js';
import { committedIn, endSession, isGiftSent, range, readToCompletion, readUntil, sendGift, sequencesOf, watchRoom, type RoomEvent } from './support.js';

// What a live client relies on (product.md): every committed gift is one event in its room, numbered in
// commit order; a client that reconnects with the last sequence it saw gets every missed event once.

const server = await startTestServer();
const { db } = server;

const [rose, heart, lion] = await Promise.all([
  createCatalogGift(db, 1n, { name: 'Rose' }),
  createCatalogGift(db, 5n, { name: 'Finger Heart' }),
  createCatalogGift(db, 10n, { name: 'Lion' }),
]);

describe('a subscriber that drops and resumes while the room is busy', () => {
  test('500 gifts sent at once: the resumed stream is exactly the missed events, 1..N with N the committed gifts', async () => {
    const { creator, session } = await createLiveCreator(db);
    // 50 senders x 10 gifts (38 coins' worth each); the last 5 hold only 20 coins, so some of theirs are refused.
    const senders = await Promise.all(range(1, 50).map((i) => createFundedViewer(db, i > 45 ? 20n : 100n)));
    const tokens = await Promise.all(senders.map((sender) => tokenFor(sender)));
    const plan = [
      { gift: rose!, quantity: 1 },
      { gift: heart!, quantity: 1 },
      { gift: rose!, quantity: 3 },
      { gift: heart!, quantity: 1 },
      { gift: lion!, quantity: 1 },
      { gift: rose!, quantity: 1 },
      { gift: rose!, quantity: 1 },
      { gift: heart!, quantity: 1 },
      { gift: rose!, quantity: 2 },
      { gift: heart!, quantity: 1 },
    ];

    const socket = openSocket(server.url);
    const first = watchRoom(socket, session, 0);
    let sendingDone = false;
    const sending = Promise.all(
      tokens.flatMap((token) => plan.map(({ gift, quantity }) => sendGift(server.url, token, session, gift, { quantity }))),
    ).finally(() => (sendingDone = true));

    // Mid-stream, the connection drops.
    const beforeDrop = await readUntil(first, (events) => sequencesOf(events).length >= 40, { ms: 10_000 });
    await socket.dispose();
    const sendingWhenDropped = !sendingDone;
    const lastSeen = sequencesOf(beforeDrop).at(-1)!;

    // The client reconnects at once with the last sequence it saw, while gifts are still arriving.
    const resumed = watchRoom(openSocket(server.url), session, lastSeen);
    const results = await sending;
    const committed = await committedIn(db, session);
    const afterResume = await readUntil(resumed, (events) => sequencesOf(events).at(-1) === committed.lastSequence, { ms: 10_000 });
    // Then the creator ends the session: the stream completes, so nothing else was (or will be) sent.
    expect(await endSession(server.url, creator, session)).toMatchObject({ __typename: 'LiveSession', status: 'ENDED' });
    await readToCompletion(resumed, afterResume);

    expect(sendingWhenDropped).toBe(true);
    const refused = results.filter((result) => result.__typename !== 'SentGift');
    expect(refused.length).toBeGreaterThan(0);
    for (const result of refused) expect(result).toMatchObject({ __typename: 'InsufficientCoinsError', code: 'INSUFFICIENT_COINS' });
    const sentIds = results.flatMap((result) => (result.__typename === 'SentGift' ? [result.id] : []));
    expect(committed.sentGifts).toBe(sentIds.length);
    expect(committed.lastSequence).toBe(committed.sentGifts);

    // Before the drop: 1..lastSeen; after: lastSeen+1..N. Together each committed gift exactly once, in order.
    expect(sequencesOf(beforeDrop)).toEqual(range(1, lastSeen));
    expect(sequencesOf(afterResume)).toEqual(range(lastSeen + 1, committed.sentGifts));
    const gifts = [...beforeDrop, ...afterResume].filter(isGiftSent);
    expect(gifts.map((event) => event.sentGiftId)).toEqual(committed.roomEvents.map((row) => gid('SentGift', row.sentGiftId!)));
    expect(new Set(gifts.map((event) => event.sentGiftId))).toEqual(new Set(sentIds));
    expect(afterResume.at(-1)).toEqual({ __typename: 'LiveSessionEndedEvent', sequence: committed.sentGifts });
    await expectCleanAudit(db);
  });
});

describe('a gift that does not commit', () => {
  test('is never announced: neither a refused gift (insufficient coins) nor one whose transaction rolled back', async () => {
    const { creator, session } = await createLiveCreator(db);
    const [fan, short, unlucky] = await Promise.all([createFundedViewer(db, 100n), createFundedViewer(db, 3n), createFundedViewer(db, 100n)]);
    const room = watchRoom(openSocket(server.url), session, 0);

    const opening = await sendGift(server.url, fan!, session, heart!);
    const events = await readUntil(room, (read) => sequencesOf(read).length === 1);

    const refused = await sendGift(server.url, short!, session, heart!);
    expect(refused).toMatchObject({ __typename: 'InsufficientCoinsError', code: 'INSUFFICIENT_COINS' });
    // A failure inside the gift's transaction, after its ledger entry was written: all of it rolls back.
    await db.$executeRawUnsafe(`
      CREATE FUNCTION fail_room_gift() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW."senderId" = '${unlucky!.id}'::uuid THEN RAISE EXCEPTION 'the database failed this gift'; END IF;
        RETURN NEW;
      END $$`);
    await db.$executeRawUnsafe(`CREATE TRIGGER fail_room_gift BEFORE INSERT ON "SentGift" FOR EACH ROW EXECUTE FUNCTION fail_room_gift()`);
    try {
      const failed = await request(
        server.url,
        SendRoomGift,
        { input: { liveSessionId: gid('LiveSession', session.id), giftId: gid('Gift', lion!.id), idempotencyKey: uniqueKey('unlucky') } },
        { token: await tokenFor(unlucky!) },
      );
      expect(failed.errors?.length).toBe(1);
    } finally {
      await db.$executeRawUnsafe(`DROP TRIGGER fail_room_gift ON "SentGift"`);
    }

    const closing = await sendGift(server.url, fan!, session, rose!);
    await readUntil(room, (read) => sequencesOf(read).length === 2, { into: events });
    await endSession(server.url, creator, session);
    await readToCompletion(room, events);

    // The next event after the first gift is the next committed gift, numbered 2: nothing in between.
    const gifts = events.filter(isGiftSent);
    expect(gifts.map((event) => [event.sequence, event.sentGiftId])).toEqual([
      [1, opening.__typename === 'SentGift' && opening.id],
      [2, closing.__typename === 'SentGift' && closing.id],
    ]);
    expect(gifts.map((event) => event.sender.handle)).toEqual([fan!.handle, fan!.handle]);
    expect(events.at(-1)).toEqual<RoomEvent>({ __typename: 'LiveSessionEndedEvent', sequence: 2 });
    const committed = await committedIn(db, session);
    expect(committed).toMatchObject({ sentGifts: 2, lastSequence: 2 });
    expect(committed.roomEvents.map((row) => row.sequence)).toEqual([1, 2]);
    await expectCleanAudit(db);
  });
});
