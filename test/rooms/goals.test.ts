import { describe, expect, test } from 'vitest';
import { createGiftSender } from '../../src/domain/gifting.js';
import { endLiveSession } from '../../src/domain/live-sessions.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { silentAnnouncer } from '../../src/events/announcer.js';
import { ok } from '../support/graphql.js';
import { gid } from '../support/gifting.js';
import { createCatalogGift, createFundedViewer, createLiveCreator, expectCleanAudit, uniqueKey } from '../support/money.js';
import { startTestServer } from '../support/server.js';
import { tokenFor } from '../support/users.js';
import { SessionGoal, SetLiveSessionGoal } from './documents.js';
import { sendInOrder } from './support.js';

// A creator's coin goal for a live session: progress is part of the session, and reaching it is
// announced with the gift that reached it, once.

const server = await startTestServer();
const { db } = server;

const [rose, lion] = await Promise.all([createCatalogGift(db, 1n, { name: 'Rose' }), createCatalogGift(db, 10n, { name: 'Lion' })]);
const fan = await createFundedViewer(db, 10_000n);

async function liveCreator() {
  const { creator, session } = await createLiveCreator(db);
  const token = await tokenFor(creator);
  const id = gid('LiveSession', session.id);
  const setGoal = (goalCoins: string, as: string | undefined = token) =>
    ok(server.url, SetLiveSessionGoal, { liveSessionId: id, goalCoins }, { token: as }).then((data) => data.setLiveSessionGoal);
  const goal = async () => (await ok(server.url, SessionGoal, { id })).liveSession!;
  return { creator, session, token, setGoal, goal };
}

/** The goal part of the room events stored for a session, in sequence order. */
async function announcedGoals(liveSessionId: string) {
  const events = await db.roomEvent.findMany({ where: { liveSessionId }, orderBy: { sequence: 'asc' } });
  return events.flatMap((event) => {
    const goal = (event.payload as { goal?: { goalCoins: string; progressCoins: string; reached: boolean } }).goal;
    return goal ? [{ sequence: event.sequence, ...goal }] : [];
  });
}

describe('a creator sets a goal and the gifts fill it', () => {
  test('progress is the coins gifted; the gift that reaches the goal marks it reached, once', async () => {
    const { session, setGoal, goal } = await liveCreator();
    expect(await goal()).toEqual({ totalCoins: '0', goal: null });

    expect(await setGoal('25')).toMatchObject({
      __typename: 'LiveSession',
      goal: { goalCoins: '25', progressCoins: '0', reached: false, reachedAt: null },
    });

    await sendInOrder(db, session, [{ sender: fan, gift: lion }]);
    expect((await goal()).goal).toEqual({ goalCoins: '25', progressCoins: '10', reached: false, reachedAt: null });

    await sendInOrder(db, session, [{ sender: fan, gift: lion, quantity: 2 }]);
    const reached = (await goal()).goal!;
    expect(reached).toMatchObject({ goalCoins: '25', progressCoins: '30', reached: true });
    const reachedGift = await db.sentGift.findFirstOrThrow({ where: { liveSessionId: session.id }, orderBy: { createdAt: 'desc' } });
    expect(reached.reachedAt).toBe(reachedGift.createdAt.toISOString());

    await sendInOrder(db, session, [{ sender: fan, gift: rose }]);
    expect((await goal()).goal).toEqual({ ...reached, progressCoins: '31' });
    expect(await announcedGoals(session.id)).toEqual([
      { sequence: 1, goalCoins: '25', progressCoins: '10', reached: false },
      { sequence: 2, goalCoins: '25', progressCoins: '30', reached: true },
    ]);
    await expectCleanAudit(db);
  });

  test('a new goal above the progress starts afresh, and is reached (and announced) once in its turn', async () => {
    const { session, setGoal, goal } = await liveCreator();
    await setGoal('5');
    await sendInOrder(db, session, [{ sender: fan, gift: lion }]);
    expect((await goal()).goal).toMatchObject({ goalCoins: '5', reached: true });

    expect(await setGoal('15')).toMatchObject({ goal: { goalCoins: '15', progressCoins: '10', reached: false, reachedAt: null } });
    await sendInOrder(db, session, [{ sender: fan, gift: rose }, { sender: fan, gift: lion }, { sender: fan, gift: lion }]);
    expect((await goal()).goal).toMatchObject({ goalCoins: '15', progressCoins: '31', reached: true });
    expect((await announcedGoals(session.id)).filter((announced) => announced.reached)).toEqual([
      { sequence: 1, goalCoins: '5', progressCoins: '10', reached: true },
      { sequence: 3, goalCoins: '15', progressCoins: '21', reached: true },
    ]);
  });

  test('a goal at or below the coins already gifted is refused, naming the progress, and changes nothing', async () => {
    const { session, setGoal, goal } = await liveCreator();
    await setGoal('100');
    await sendInOrder(db, session, [{ sender: fan, gift: lion, quantity: 3 }]);
    const before = await goal();
    for (const goalCoins of ['30', '12']) {
      expect(await setGoal(goalCoins)).toEqual({
        __typename: 'ValidationError',
        code: 'VALIDATION_FAILED',
        message: 'goalCoins: must be above the 30 coins already gifted in this session',
        problems: [{ field: 'goalCoins', message: 'must be above the 30 coins already gifted in this session' }],
      });
    }
    expect(await goal()).toEqual(before);
  });

  test.each(['0', '-5', '1000000000001'])('a goal of %s coins is refused', async (goalCoins) => {
    const { setGoal, goal } = await liveCreator();
    const result = await setGoal(goalCoins);
    expect(result).toMatchObject({ __typename: 'ValidationError', problems: [{ field: 'goalCoins' }] });
    expect((await goal()).goal).toBeNull();
  });

  test('gifts racing to the goal: exactly one of them reaches it, the one that takes it over', async () => {
    const { session, setGoal, goal } = await liveCreator();
    await setGoal('15');
    const racers = await Promise.all(Array.from({ length: 20 }, () => createFundedViewer(db, 1n)));
    const sender = createGiftSender(db, silentAnnouncer, DEFAULT_POLICY, { maxInFlight: 4 });
    await Promise.all(racers.map((racer) => sender.send(racer.id, { liveSessionId: session.id, giftId: rose.id, quantity: 1, idempotencyKey: uniqueKey('race') })));

    expect((await goal()).goal).toMatchObject({ goalCoins: '15', progressCoins: '20', reached: true });
    const reached = (await announcedGoals(session.id)).filter((announced) => announced.reached);
    expect(reached).toHaveLength(1);
    // Batches announce once per room, on their last gift: the goal fell somewhere in the batch that crossed 15.
    expect(Number(reached[0]!.progressCoins)).toBeGreaterThanOrEqual(15);
    expect(reached[0]!.sequence).toBe(Number(reached[0]!.progressCoins));
  });
});

describe('only the session creator sets its goal', () => {
  test('a viewer (even one who gifted) is refused with a ForbiddenError', async () => {
    const { session, setGoal, goal } = await liveCreator();
    await sendInOrder(db, session, [{ sender: fan, gift: rose }]);
    expect(await setGoal('50', await tokenFor(fan))).toMatchObject({ __typename: 'ForbiddenError', code: 'FORBIDDEN' });
    expect((await goal()).goal).toBeNull();
  });

  test('another creator is refused too', async () => {
    const { setGoal } = await liveCreator();
    const other = await liveCreator();
    expect(await setGoal('50', other.token)).toMatchObject({ __typename: 'ForbiddenError' });
  });

  test('signed out, the answer is NotAuthenticatedError', async () => {
    const { setGoal } = await liveCreator();
    expect(await setGoal('50', '')).toMatchObject({ __typename: 'NotAuthenticatedError', code: 'UNAUTHENTICATED' });
  });

  test('an ended session takes no goal', async () => {
    const { creator, session, setGoal } = await liveCreator();
    await endLiveSession(db, silentAnnouncer, creator.id, session.id);
    expect(await setGoal('50')).toMatchObject({ __typename: 'SessionNotLiveError', code: 'SESSION_NOT_LIVE' });
  });

  test('an unknown session is NotFound; an id of another type is a ValidationError', async () => {
    const { creator } = await liveCreator();
    const token = await tokenFor(creator);
    const unknown = await ok(server.url, SetLiveSessionGoal, { liveSessionId: gid('LiveSession', crypto.randomUUID()), goalCoins: '5' }, { token });
    expect(unknown.setLiveSessionGoal).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
    const wrongType = await ok(server.url, SetLiveSessionGoal, { liveSessionId: gid('User', creator.id), goalCoins: '5' }, { token });
    expect(wrongType.setLiveSessionGoal).toMatchObject({ __typename: 'ValidationError', problems: [{ field: 'liveSessionId' }] });
  });
});
