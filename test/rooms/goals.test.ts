import pg from 'pg';
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
import { eventually } from '../support/wait.js';
import { openSocket } from '../support/ws.js';
import { isViewerCount, readUntil, sendGift, watchRoom, type RoomEvent } from '../rooms-live/support.js';
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
    ok(server.url, SetLiveSessionGoal, { input: { liveSessionId: id, goalCoins } }, { token: as }).then((data) => data.setLiveSessionGoal);
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

/** Holds a session's row locked, as a gift batch does while it commits, until the returned release is called. */
async function holdSessionRow(liveSessionId: string): Promise<() => Promise<void>> {
  const client = new pg.Client({ connectionString: server.database.url });
  await client.connect();
  await client.query('BEGIN');
  await client.query('SELECT id FROM "LiveSession" WHERE id = $1 FOR NO KEY UPDATE', [liveSessionId]);
  return async () => {
    await client.query('COMMIT');
    await client.end();
  };
}

/** Until `count` statements of this database wait for a lock: they then get it in the order they asked. */
const lockWaiters = (count: number) =>
  eventually(async () => {
    const [row] = await db.$queryRaw<{ waiting: number }[]>`
      SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`;
    return row!.waiting >= count ? true : undefined;
  }, `${count} statements waiting for a lock`);

describe('the goal a creator sets, as the room hears it', () => {
  test('is announced with the progress it was set against, and never heard after a gift that reached it', async () => {
    const { session, setGoal } = await liveCreator();
    const room = watchRoom(openSocket(server.url), session);
    await readUntil(room, (events) => events.some(isViewerCount));

    // Each round, a goal 5 coins above the progress and a 10-coin gift wait together for the session's row
    // (held here as a gift batch holds it while it commits). Either may get it first: when the gift does,
    // the goal is refused as already passed; when the goal does, the gift reaches it right behind it.
    const reachedRight = new Map<string, string>();
    let progress = 0;
    for (let round = 0; reachedRight.size < 3 && round < 40; round++, progress += 10) {
      const release = await holdSessionRow(session.id);
      const goalCoins = String(progress + 5);
      const setting = setGoal(goalCoins);
      await lockWaiters(1);
      const gifting = sendGift(server.url, fan, session, lion);
      await lockWaiters(2);
      await release();
      expect(await gifting).toMatchObject({ __typename: 'SentGift' });
      const set = await setting;
      if (set.__typename === 'ValidationError') continue;
      expect(set).toMatchObject({ __typename: 'LiveSession' });
      reachedRight.set(goalCoins, String(progress));
    }
    expect(reachedRight.size).toBeGreaterThan(0);
    // A last goal, heard once everything announced before it has been.
    const last = String(progress + 1000);
    await setGoal(last);

    type Goal = Extract<RoomEvent, { __typename: 'GoalProgressEvent' }>;
    const isGoal = (event: RoomEvent): event is Goal => event.__typename === 'GoalProgressEvent';
    const heard = (await readUntil(room, (events) => events.some((event) => isGoal(event) && event.goalCoins === last))).filter(isGoal);
    for (const [goalCoins, before] of reachedRight) {
      const reached = { goalCoins, progressCoins: String(Number(before) + 10), reached: true };
      const ofGoal = heard.filter((event) => event.goalCoins === goalCoins).map(({ goalCoins, progressCoins, reached }) => ({ goalCoins, progressCoins, reached }));
      // As set (below the goal, not reached), unless the gift's own was heard first; then reached, once.
      expect([[{ goalCoins, progressCoins: before, reached: false }, reached], [reached]]).toContainEqual(ofGoal);
    }
    await expectCleanAudit(db);
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
    expect(await setGoal('50')).toMatchObject({ __typename: 'LiveSessionEndedError', code: 'LIVE_SESSION_ENDED' });
  });

  test('an unknown session is NotFound; an id of another type is a ValidationError', async () => {
    const { creator } = await liveCreator();
    const token = await tokenFor(creator);
    const unknown = await ok(server.url, SetLiveSessionGoal, { input: { liveSessionId: gid('LiveSession', crypto.randomUUID()), goalCoins: '5' } }, { token });
    expect(unknown.setLiveSessionGoal).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
    const wrongType = await ok(server.url, SetLiveSessionGoal, { input: { liveSessionId: gid('User', creator.id), goalCoins: '5' } }, { token });
    expect(wrongType.setLiveSessionGoal).toMatchObject({ __typename: 'ValidationError', problems: [{ field: 'liveSessionId' }] });
  });
});
