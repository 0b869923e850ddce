import { randomUUID } from 'node:crypto';
import type { FormattedExecutionResult } from 'graphql';
import { describe, expect, test } from 'vitest';
import type { RoomEventsSubscription, WalletUpdatesSubscription } from '../generated/graphql.js';
import { gid } from '../support/gifting.js';
import { ok } from '../support/graphql.js';
import { createCatalogGift, createFundedViewer, createLiveCreator, expectCleanAudit } from '../support/money.js';
import { startTestServer } from '../support/server.js';
import { subscribeOverSse } from '../support/sse.js';
import { createUser, tokenFor } from '../support/users.js';
import { publishUntilReceived } from '../support/wait.js';
import { bearer, openSocket, subscribe, type Subscription } from '../support/ws.js';
import { RoomEvents, RoomSetGoal, WalletUpdates } from './documents.js';
import { endSession, isGiftSent, isViewerCount, readToCompletion, readUntil, sendGift, sequencesOf, watchRoom, type RoomEvent } from './support.js';

// What a live room's clients see, event by event, over graphql-ws (and SSE).

const server = await startTestServer();
const { db } = server;

const [rose, heart, lion] = await Promise.all([
  createCatalogGift(db, 1n, { name: 'Rose' }),
  createCatalogGift(db, 5n, { name: 'Finger Heart' }),
  createCatalogGift(db, 10n, { name: 'Lion', imageUrl: 'https://cdn.example/lion.png', animationUrl: 'https://cdn.example/lion.webm' }),
]);

/** Everything a room's stream says from its start until the creator ends the session, viewer counts left out. */
async function wholeSession(room: Subscription<RoomEventsSubscription>, creator: Parameters<typeof endSession>[1], session: { id: string }) {
  expect(await endSession(server.url, creator, session)).toMatchObject({ __typename: 'LiveSession', status: 'ENDED' });
  return (await readToCompletion(room)).filter((event) => !isViewerCount(event));
}

describe('what a gift looks like in the room', () => {
  test('GiftSentEvent carries the sender, the gift, quantity, combo id, coins, diamonds and cash value', async () => {
    const { creator, session } = await createLiveCreator(db);
    const fan = await createFundedViewer(db, 100n, { displayName: 'Big Fan' });
    const room = watchRoom(openSocket(server.url), session, 0);

    const sent = await sendGift(server.url, fan, session, lion!, { quantity: 3, comboId: 'streak-9' });
    expect(sent.__typename).toBe('SentGift');
    const [event] = (await wholeSession(room, creator, session)).filter(isGiftSent);

    expect(event).toEqual({
      __typename: 'GiftSentEvent',
      sequence: 1,
      sentGiftId: sent.__typename === 'SentGift' ? sent.id : null,
      sender: { userId: gid('User', fan.id), handle: fan.handle, displayName: 'Big Fan' },
      gift: { giftId: gid('Gift', lion!.id), name: 'Lion', imageUrl: 'https://cdn.example/lion.png', animationUrl: 'https://cdn.example/lion.webm' },
      quantity: 3,
      comboId: 'streak-9',
      coins: '30',
      diamonds: '30',
      // 30 diamonds at 0.5 US cents each, as the mutation itself reported.
      cashValue: { currency: 'USD', amount: '0.15' },
      sentAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(sent).toMatchObject({ coins: '30', diamonds: '30', cashValue: event!.cashValue });
    await expectCleanAudit(db);
  });

  test('a combo is visible: gifts sharing a combo id, and one gift of many taps', async () => {
    const { creator, session } = await createLiveCreator(db);
    const fan = await createFundedViewer(db, 100n);
    const room = watchRoom(openSocket(server.url), session, 0);

    for (let tap = 0; tap < 3; tap++) await sendGift(server.url, fan, session, rose!, { comboId: 'tap-streak' });
    await sendGift(server.url, fan, session, heart!, { quantity: 5 });
    await sendGift(server.url, fan, session, rose!);
    const gifts = (await wholeSession(room, creator, session)).filter(isGiftSent);

    expect(gifts.map(({ sequence, gift, quantity, comboId, coins }) => ({ sequence, gift: gift.name, quantity, comboId, coins }))).toEqual([
      { sequence: 1, gift: 'Rose', quantity: 1, comboId: 'tap-streak', coins: '1' },
      { sequence: 2, gift: 'Rose', quantity: 1, comboId: 'tap-streak', coins: '1' },
      { sequence: 3, gift: 'Rose', quantity: 1, comboId: 'tap-streak', coins: '1' },
      { sequence: 4, gift: 'Finger Heart', quantity: 5, comboId: null, coins: '25' },
      { sequence: 5, gift: 'Rose', quantity: 1, comboId: null, coins: '1' },
    ]);
    await expectCleanAudit(db);
  });

  test('LeaderboardChangedEvent follows exactly the gifts that changed the top three', async () => {
    const { creator, session } = await createLiveCreator(db);
    const [a, b, c, d] = await Promise.all(Array.from({ length: 4 }, () => createFundedViewer(db, 100n)));
    const room = watchRoom(openSocket(server.url), session, 0);

    // Distinct totals, so ties (broken by id) never decide the order.
    const plan = [
      [a, heart, 1], // A 5: [A]
      [b, rose, 3], // B 3: [A, B]
      [c, rose, 1], // C 1: [A, B, C]
      [d, rose, 2], // D 2: [A, B, D], C drops out
      [a, rose, 1], // A 6: unchanged
      [d, heart, 1], // D 7: [D, A, B]
    ] as const;
    for (const [sender, gift, quantity] of plan) await sendGift(server.url, sender!, session, gift!, { quantity });
    const events = await wholeSession(room, creator, session);

    const boards = events.flatMap((event) =>
      event.__typename === 'LeaderboardChangedEvent' ? [[event.sequence, event.top.map(({ rank, user, coins }) => `${rank}:${user.handle}:${coins}`)]] : [],
    );
    expect(boards).toEqual([
      [1, [`1:${a!.handle}:5`]],
      [2, [`1:${a!.handle}:5`, `2:${b!.handle}:3`]],
      [3, [`1:${a!.handle}:5`, `2:${b!.handle}:3`, `3:${c!.handle}:1`]],
      [4, [`1:${a!.handle}:5`, `2:${b!.handle}:3`, `3:${d!.handle}:2`]],
      [6, [`1:${d!.handle}:7`, `2:${a!.handle}:6`, `3:${b!.handle}:3`]],
    ]);
    // Each follows its gift.
    for (const [sequence] of boards) {
      const at = events.findIndex((event) => event.__typename === 'LeaderboardChangedEvent' && event.sequence === sequence);
      expect(events[at - 1]).toMatchObject({ __typename: 'GiftSentEvent', sequence });
    }
    await expectCleanAudit(db);
  });

  test('GoalProgressEvent reports progress and says reached: true exactly once, even when gifts cross it at once', async () => {
    const { creator, session } = await createLiveCreator(db);
    // Set directly: the goal's own mutation is not what this test is about.
    await db.liveSession.update({ where: { id: session.id }, data: { goalCoins: 50n } });
    const fans = await Promise.all(Array.from({ length: 20 }, () => createFundedViewer(db, 20n)));
    const room = watchRoom(openSocket(server.url), session, 0);

    await sendGift(server.url, fans[0]!, session, heart!);
    await Promise.all(fans.map((fan) => sendGift(server.url, fan, session, heart!)));
    await sendGift(server.url, fans[1]!, session, heart!);
    const events = await wholeSession(room, creator, session);

    const goals = events.flatMap((event) => (event.__typename === 'GoalProgressEvent' ? [event] : []));
    expect(goals[0]).toEqual({ __typename: 'GoalProgressEvent', sequence: 1, goalCoins: '50', progressCoins: '5', reached: false });
    const reached = goals.filter((goal) => goal.reached);
    expect(reached).toHaveLength(1);
    // Nothing after the goal is reached; before it, progress below the goal and growing.
    expect(goals.at(-1)).toBe(reached[0]);
    const progress = goals.map((goal) => Number(goal.progressCoins));
    expect(progress).toEqual([...progress].sort((x, y) => x - y));
    expect(progress.slice(0, -1).every((coins) => coins < 50)).toBe(true);
    expect(progress.at(-1)).toBeGreaterThanOrEqual(50);
    // The reaching event's progress is the room's total through its gift.
    const coinsThrough = events.filter(isGiftSent).filter((gift) => gift.sequence <= reached[0]!.sequence).reduce((sum, gift) => sum + Number(gift.coins), 0);
    expect(progress.at(-1)).toBe(coinsThrough);
    expect(sequencesOf(events)).toHaveLength(22);
    expect((await db.liveSession.findUniqueOrThrow({ where: { id: session.id } })).goalReachedAt).not.toBeNull();
    await expectCleanAudit(db);
  });
});

describe('a goal the creator sets', () => {
  test('is heard in the room at once, with the progress so far, before any gift towards it', async () => {
    const { creator, session } = await createLiveCreator(db);
    const fan = await createFundedViewer(db, 100n);
    await sendGift(server.url, fan, session, heart!);
    const room = watchRoom(openSocket(server.url), session, 1);
    await readUntil(room, (events) => events.some(isViewerCount));

    const set = await ok(server.url, RoomSetGoal, { input: { liveSessionId: gid('LiveSession', session.id), goalCoins: '40' } }, { token: await tokenFor(creator) });
    expect(set.setLiveSessionGoal.__typename).toBe('LiveSession');

    const events = await readUntil(room, (seen) => seen.some((event) => event.__typename === 'GoalProgressEvent'));
    expect(events.filter((event) => event.__typename === 'GoalProgressEvent')).toEqual([
      { __typename: 'GoalProgressEvent', sequence: 1, goalCoins: '40', progressCoins: '5', reached: false },
    ]);
    await expectCleanAudit(db);
  });
});

describe('opening and closing a room stream', () => {
  test('without `after`, the stream starts live: only gifts committed after it opened', async () => {
    const { creator, session } = await createLiveCreator(db);
    const fan = await createFundedViewer(db, 100n);
    await sendGift(server.url, fan, session, rose!);
    await sendGift(server.url, fan, session, rose!);

    const room = watchRoom(openSocket(server.url), session);
    // The first viewer count proves the stream is open; it is numbered with the room's last gift.
    const opened = await readUntil(room, (events) => events.some(isViewerCount));
    expect(opened).toEqual<RoomEvent[]>([{ __typename: 'ViewerCountChangedEvent', sequence: 2, viewers: 1 }]);
    const sent = await sendGift(server.url, fan, session, heart!);
    const events = await wholeSession(room, creator, session);

    expect(events.map((event) => [event.__typename, event.sequence])).toEqual([
      ['GiftSentEvent', 3],
      ['LiveSessionEndedEvent', 3],
    ]);
    expect(events[0]).toMatchObject({ sentGiftId: sent.__typename === 'SentGift' && sent.id, gift: { name: 'Finger Heart' } });
    await expectCleanAudit(db);
  });

  test('endLiveSession ends every stream with a LiveSessionEndedEvent numbered with the last gift, then completes it', async () => {
    const { creator, session } = await createLiveCreator(db);
    const fan = await createFundedViewer(db, 100n);
    const socket = openSocket(server.url);
    const fromStart = watchRoom(socket, session, 0);
    const live = watchRoom(socket, session);
    for (let i = 0; i < 3; i++) await sendGift(server.url, fan, session, rose!);
    await readUntil(fromStart, (events) => sequencesOf(events).length === 3);

    expect(await endSession(server.url, creator, session)).toMatchObject({ status: 'ENDED' });

    const rest = (await readToCompletion(fromStart)).filter((event) => !isViewerCount(event));
    expect(rest).toEqual<RoomEvent[]>([{ __typename: 'LiveSessionEndedEvent', sequence: 3 }]);
    expect(await fromStart.ended).toEqual({});
    expect((await readToCompletion(live)).at(-1)).toEqual<RoomEvent>({ __typename: 'LiveSessionEndedEvent', sequence: 3 });
    expect(await live.ended).toEqual({});
    await expectCleanAudit(db);
  });

  test.each([
    ['an unknown session', 'NOT_FOUND', 'Live session not found'],
    ['an ended session', 'LIVE_SESSION_ENDED', 'The live session has ended'],
  ])('subscribing to %s is a typed error (%s), and the subscription completes', async (which, code, message) => {
    let liveSessionId = gid('LiveSession', randomUUID());
    if (which === 'an ended session') {
      const { creator, session } = await createLiveCreator(db);
      await endSession(server.url, creator, session);
      liveSessionId = gid('LiveSession', session.id);
    }
    const room = subscribe(openSocket(server.url), RoomEvents, { liveSessionId, after: 0 });

    expect(await room.next()).toEqual({ errors: [{ message, locations: expect.any(Array), path: ['liveSessionEvents'], extensions: { code } }] });
    expect(await room.ended).toEqual({});
  });

  test('resuming after a sequence the room has not reached is refused, not a silent skip', async () => {
    const { session } = await createLiveCreator(db);
    const fan = await createFundedViewer(db, 100n);
    await sendGift(server.url, fan, session, rose!);
    const liveSessionId = gid('LiveSession', session.id);

    for (const after of [2, -1]) {
      const room = subscribe(openSocket(server.url), RoomEvents, { liveSessionId, after });
      expect((await room.next()).errors).toEqual([
        expect.objectContaining({ message: expect.stringContaining('after: must be a sequence this room has reached (0 to 1)'), extensions: { code: 'VALIDATION_FAILED' } }),
      ]);
      expect(await room.ended).toEqual({});
    }
    const resumed = subscribe(openSocket(server.url), RoomEvents, { liveSessionId, after: 1 });
    await sendGift(server.url, fan, session, rose!);
    expect(sequencesOf(await readUntil(resumed, (events) => sequencesOf(events).length === 1))).toEqual([2]);
    await expectCleanAudit(db);
  });

  test('an id that is not a live session id is refused as invalid input', async () => {
    const user = await createUser(db);
    const room = subscribe(openSocket(server.url), RoomEvents, { liveSessionId: gid('User', user.id) });
    expect((await room.next()).errors).toEqual([expect.objectContaining({ extensions: { code: 'VALIDATION_FAILED' } })]);
  });
});

describe('other ways to listen', () => {
  test('an SSE subscriber receives the gift events too', async () => {
    const { session } = await createLiveCreator(db);
    const fan = await createFundedViewer(db, 100n);
    await sendGift(server.url, fan, session, rose!);

    const stream = await subscribeOverSse(server.url, RoomEvents, { liveSessionId: gid('LiveSession', session.id), after: 0 });
    expect(stream.status).toBe(200);
    const gifts: string[] = [];
    const readGift = async () => {
      for (;;) {
        const frame = await stream.frames.next();
        expect(frame.event).toBe('next');
        const event = (JSON.parse(frame.data) as FormattedExecutionResult<RoomEventsSubscription>).data!.liveSessionEvents;
        if (isGiftSent(event)) return gifts.push(`${event.sequence}:${event.gift.name}:${event.sender.handle}`);
      }
    };
    await readGift(); // replayed
    await sendGift(server.url, fan, session, lion!);
    await readGift(); // live
    expect(gifts).toEqual([`1:Rose:${fan.handle}`, `2:Lion:${fan.handle}`]);
    stream.close();
  });

  test('walletUpdated: after a gift, the sender and the creator each receive their new balances', async () => {
    const { creator, session } = await createLiveCreator(db);
    const fan = await createFundedViewer(db, 100n);
    const fanToken = await tokenFor(fan);
    const fanWallet = subscribe(openSocket(server.url, bearer(fanToken)), WalletUpdates);
    const creatorWallet = subscribe(openSocket(server.url, bearer(await tokenFor(creator))), WalletUpdates);
    // No "now listening" signal on a subscription: roses go out until both wallets have heard one.
    let roses = 0;
    const rose1 = async () => {
      roses++;
      await sendGift(server.url, fanToken, session, rose!);
    };
    await publishUntilReceived(rose1, fanWallet.results, () => true);
    await publishUntilReceived(rose1, creatorWallet.results, () => true);

    await sendGift(server.url, fanToken, session, lion!, { quantity: 2 });
    type Wallet = WalletUpdatesSubscription['walletUpdated'];
    const heard = async (wallet: Subscription<WalletUpdatesSubscription>, matches: (wallet: Wallet) => boolean) => {
      for (;;) {
        const result = await wallet.next();
        expect(result.errors).toBeUndefined();
        if (matches(result.data!.walletUpdated)) return result.data!.walletUpdated;
      }
    };
    expect(await heard(fanWallet, (wallet) => wallet.coins === String(100 - roses - 20))).toEqual({
      coins: String(100 - roses - 20),
      diamonds: '0',
      diamondsCashValue: { currency: 'USD', amount: '0' },
    });
    const diamonds = roses + 20;
    expect(await heard(creatorWallet, (wallet) => wallet.diamonds === String(diamonds))).toEqual({
      coins: '0',
      diamonds: String(diamonds),
      // Half a US cent each, exactly: 21 diamonds are "0.105".
      diamondsCashValue: { currency: 'USD', amount: String(diamonds * 5).padStart(4, '0').replace(/(\d{3})$/, '.$1').replace(/\.?0+$/, '') },
    });
    await expectCleanAudit(db);
  });
});
