import { getNamedType, isAbstractType, isLeafType, isNonNullType, type FormattedExecutionResult, type GraphQLOutputType } from 'graphql';
import { describe, expect, test } from 'vitest';
import type { RoomEventsSubscription } from '../generated/graphql.js';
import { schema } from '../../src/schema/index.js';
import { gid } from '../support/gifting.js';
import { ok } from '../support/graphql.js';
import { recordingLogger } from '../support/logs.js';
import { scrape } from '../support/metrics.js';
import { createCatalogGift, createFundedViewer, createLiveCreator, expectCleanAudit } from '../support/money.js';
import { startTestServer } from '../support/server.js';
import { subscribeOverSse } from '../support/sse.js';
import { tokenFor } from '../support/users.js';
import { bearer, openSocket, subscribe } from '../support/ws.js';
import { RoomEvents, RoomSetGoal } from './documents.js';
import { changeCampaign, createMatchingCampaign } from '../../src/domain/brands/campaigns.js';
import { silentAnnouncer } from '../../src/events/announcer.js';
import { RemainderRule } from '../../src/generated/prisma/client.js';
import { createFundedBrand } from '../brands/support.js';
import { endSession, isGiftSent, isViewerCount, readUntil, sendGift, watchRoom, type RoomEvent } from './support.js';

// Which way a live room's events leave the server (docs/fan-out.md): to a graphql-ws viewer that keeps
// up, straight from the room's sweep (the direct path); over SSE, the ordinary way, through Yoga.

const METRICS_TOKEN = 'fanout-paths-metrics-token';
// Errors the server logs: a shared field that read the viewer is masked for the client, and named here.
const { log, lines } = recordingLogger('error');
const server = await startTestServer({ variables: { METRICS_TOKEN }, log });
const { db } = server;
const rose = await createCatalogGift(db, 1n, { name: 'Rose' });

/** Messages the fan-out has sent to graphql-ws subscribers so far, by path. */
async function sent() {
  const metrics = await scrape(server.metricsUrl!, METRICS_TOKEN);
  expect(metrics.status).toBe(200);
  return { direct: metrics.value('ovation_fanout_messages_total', { path: 'direct' }), stream: metrics.value('ovation_fanout_messages_total', { path: 'stream' }) };
}

describe('a live session over graphql-ws', () => {
  test('a viewer that keeps up is sent each gift by the direct path, not through its stream', async () => {
    const { session } = await createLiveCreator(db);
    const fan = await createFundedViewer(db, 100n);
    const room = watchRoom(openSocket(server.url, bearer(await tokenFor(fan))), session, 0);
    // Settled first: the viewer's own count (an announcement, which goes through the stream) and a gift.
    const events = await readUntil(room, (seen) => seen.some(isViewerCount));
    await sendGift(server.url, fan, session, rose);
    await readUntil(room, (seen) => seen.some(isGiftSent), { into: events });
    const before = await sent();

    const heard: RoomEvent[] = [];
    for (let gift = 2; gift <= 4; gift++) {
      await sendGift(server.url, fan, session, rose);
      await readUntil(room, (seen) => seen.filter(isGiftSent).length === gift - 1, { into: heard });
    }
    const after = await sent();

    // Gift 1's leaderboard may come after it was read, and was sent before `before`.
    const live = heard.filter((event) => event.sequence >= 2);
    expect(live.filter(isGiftSent).map((event) => event.sequence)).toEqual([2, 3, 4]);
    expect(live.every((event) => !isViewerCount(event))).toBe(true);
    expect(after.direct - before.direct).toBe(live.length);
    expect(after.stream).toBe(before.stream);
    await expectCleanAudit(db);
  });

  test('every field of every event kind resolves with no viewer, for a signed-in viewer', async () => {
    const { creator, session } = await createLiveCreator(db);
    const fan = await createFundedViewer(db, 100n);
    const id = gid('LiveSession', session.id);
    const field = schema.getSubscriptionType()!.getFields().liveSessionEvents!;
    const room = subscribe(openSocket(server.url, bearer(await tokenFor(fan))), `subscription { liveSessionEvents(liveSessionId: "${id}", after: 0) ${everyField(field.type)} }`);

    const kinds = new Set<string>();
    const read = async (until: string) => {
      while (!kinds.has(until)) {
        const result = await room.next();
        expect(result.errors, JSON.stringify(lines.map((line) => line.err ?? line.msg))).toBeUndefined();
        kinds.add((result.data as { liveSessionEvents: { __typename: string } }).liveSessionEvents.__typename);
      }
    };
    await read('ViewerCountChangedEvent');
    const goal = await ok(server.url, RoomSetGoal, { input: { liveSessionId: id, goalCoins: '2' } }, { token: await tokenFor(creator) });
    expect(goal.setLiveSessionGoal.__typename).toBe('LiveSession');
    await read('GoalProgressEvent');
    // A brand's campaign on the creator matches the gift: its GiftMatchedEvent follows.
    const funded = await createFundedBrand(db, 100n);
    const draft = await createMatchingCampaign(db, funded.caller, {
      brandId: funded.brand.id, name: 'Match', creatorId: creator.id, ratioPercent: 100, budgetCoins: 100n,
      startsAt: new Date(Date.now() - 1000), endsAt: new Date(Date.now() + 3600_000), remainderRule: RemainderRule.RETURN_TO_BRAND,
    });
    await changeCampaign(db, silentAnnouncer, funded.caller, 'activate', { campaignId: draft.id });
    await sendGift(server.url, fan, session, rose, { quantity: 2 });
    await read('LeaderboardChangedEvent');
    await read('GiftMatchedEvent');
    await endSession(server.url, creator, session);
    await read('LiveSessionEndedEvent');

    expect([...kinds].sort()).toEqual(schema.getPossibleTypes(getNamedType(field.type) as never).map((type) => type.name).sort());
    await expectCleanAudit(db);
  });
});

describe('a live session over SSE', () => {
  test('goes the ordinary way and still hears every gift, replayed then live', async () => {
    const { session } = await createLiveCreator(db);
    const fan = await createFundedViewer(db, 100n);
    await sendGift(server.url, fan, session, rose);
    const before = await sent();

    const stream = await subscribeOverSse(server.url, RoomEvents, { liveSessionId: gid('LiveSession', session.id), after: 0 }, { token: await tokenFor(fan) });
    expect(stream.status).toBe(200);
    const gifts: number[] = [];
    const readGift = async () => {
      for (;;) {
        const frame = await stream.frames.next();
        expect(frame.event).toBe('next');
        const result = JSON.parse(frame.data) as FormattedExecutionResult<RoomEventsSubscription>;
        expect(result.errors).toBeUndefined();
        const event = result.data!.liveSessionEvents;
        if (isGiftSent(event)) return gifts.push(event.sequence);
      }
    };
    await readGift(); // replayed
    await sendGift(server.url, fan, session, rose);
    await readGift(); // live
    stream.close();

    expect(gifts).toEqual([1, 2]);
    expect(await sent()).toEqual(before);
    await expectCleanAudit(db);
  });
});

/**
 * A selection of every field reachable from `type` (those without required arguments), every possible
 * type of an interface or union spelled out: what a client could ask a shared field for.
 */
function everyField(type: GraphQLOutputType, depth = 0): string {
  const named = getNamedType(type);
  if (isLeafType(named)) return '';
  if (depth > 5) throw new Error(`${named.name} nests too deep to select everything`);
  if (isAbstractType(named)) return `{ __typename ${schema.getPossibleTypes(named).map((possible) => `... on ${possible.name} ${everyField(possible, depth + 1)}`).join(' ')} }`;
  const fields = Object.values(named.getFields()).filter((field) => field.args.every((arg) => !isNonNullType(arg.type)));
  return `{ __typename ${fields.map((field) => `${field.name} ${everyField(field.type, depth + 1)}`).join(' ')} }`;
}
