import { randomUUID } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { startLiveSession } from '../../src/domain/live-sessions.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { Role, type User } from '../../src/generated/prisma/client.js';
import type { OverlayEventsSubscription } from '../generated/graphql.js';
import { endSession, sendGift } from '../rooms-live/support.js';
import { gid } from '../support/gifting.js';
import { ok, post } from '../support/graphql.js';
import { createCatalogGift, createFundedViewer, createLiveCreator, expectCleanAudit } from '../support/money.js';
import { startTestServer } from '../support/server.js';
import { createUser, tokenFor } from '../support/users.js';
import { TimedOut } from '../support/wait.js';
import { changeCampaign, createMatchingCampaign } from '../../src/domain/brands/campaigns.js';
import { silentAnnouncer } from '../../src/events/announcer.js';
import { RemainderRule } from '../../src/generated/prisma/client.js';
import { changeSuspension } from '../../src/domain/roles.js';
import { uniqueKey } from '../support/money.js';
import { globalId } from '../../src/schema/ids.js';
import { createFundedBrand } from '../brands/support.js';
import { openSocket, subscribe, type Subscription } from '../support/ws.js';
import { CreateOverlayToken, MyOverlayTokens, OverlayEvents, RevokeOverlayToken } from './documents.js';

// What a stream overlay hears through overlayEvents: gifts folded into streaks on the server, resumable,
// following the creator's sessions, and stopped by revoking its token.

const server = await startTestServer();
const { db } = server;
const rose = await createCatalogGift(db, 1n, { name: 'Rose' });
const lion = await createCatalogGift(db, 10n, { name: 'Lion' });

type OverlayEvent = OverlayEventsSubscription['overlayEvents'];

async function overlayTokenOf(creator: Pick<User, 'id'>, label = 'OBS') {
  const created = (await ok(server.url, CreateOverlayToken, { input: { label } }, { token: await tokenFor(creator) })).createOverlayToken;
  if (created.__typename !== 'CreatedOverlayToken') throw new Error(`No overlay token: ${JSON.stringify(created)}`);
  return created;
}

function watchOverlay(secret: string, variables: { liveSessionId?: string; after?: number; streakQuietMs?: number } = {}) {
  return subscribe(openSocket(server.url), OverlayEvents, { overlayToken: secret, streakQuietMs: 500, ...variables });
}

/** Reads overlay events (viewer counts left out) until `done` holds. */
async function readUntil(overlay: Subscription<OverlayEventsSubscription>, done: (events: OverlayEvent[]) => boolean, into: OverlayEvent[] = []) {
  while (!done(into)) {
    const result = await overlay.next(5_000).catch((error: unknown) => {
      throw new Error(`${String(error)}; heard so far: ${typesOf(into).join(', ')}`);
    });
    if (result.errors?.length || !result.data) throw new Error(`An overlay event failed: ${JSON.stringify(result)}`);
    if (result.data.overlayEvents.__typename !== 'OverlayViewersEvent') into.push(result.data.overlayEvents);
  }
  return into;
}
const has = (typename: OverlayEvent['__typename'], count = 1) => (events: OverlayEvent[]) => events.filter((event) => event.__typename === typename).length >= count;
const typesOf = (events: OverlayEvent[]) => events.map((event) => event.__typename);

describe('overlay tokens', () => {
  test('a creator creates, lists and revokes them; only creators have them; the secret is never listed', async () => {
    const { creator } = await createLiveCreator(db);
    const created = await overlayTokenOf(creator, 'Main scene');
    expect(created.secret).toMatch(/^ovl_[\w-]{32}$/);
    const token = await tokenFor(creator);
    const listed = (await ok(server.url, MyOverlayTokens, {}, { token })).overlayTokens;
    expect(listed).toEqual([{ id: created.overlayToken.id, label: 'Main scene', revokedAt: null }]);
    const revoked = (await ok(server.url, RevokeOverlayToken, { input: { overlayTokenId: created.overlayToken.id } }, { token })).revokeOverlayToken;
    expect(revoked).toMatchObject({ __typename: 'OverlayToken', revokedAt: expect.any(String) });

    const viewer = await createUser(db);
    const refused = (await ok(server.url, CreateOverlayToken, { input: { label: 'x' } }, { token: await tokenFor(viewer) })).createOverlayToken;
    expect(refused).toMatchObject({ __typename: 'ForbiddenError' });
    // Someone else's token is not found, not revoked.
    const other = (await ok(server.url, RevokeOverlayToken, { input: { overlayTokenId: created.overlayToken.id } }, { token: await tokenFor(viewer) })).revokeOverlayToken;
    expect(other).toMatchObject({ __typename: 'NotFoundError' });
  });

  test('an unknown or revoked token is refused before any event', async () => {
    const unknown = watchOverlay('ovl_nothing');
    expect((await unknown.next()).errors).toMatchObject([{ extensions: { code: 'UNAUTHENTICATED' } }]);
    const { creator } = await createLiveCreator(db);
    const created = await overlayTokenOf(creator);
    await ok(server.url, RevokeOverlayToken, { input: { overlayTokenId: created.overlayToken.id } }, { token: await tokenFor(creator) });
    const revoked = watchOverlay(created.secret);
    expect((await revoked.next()).errors).toMatchObject([{ extensions: { code: 'OVERLAY_TOKEN_REVOKED' } }]);
    // A quiet time out of bounds, or a resume point missing its session, is refused as such.
    for (const variables of [{ streakQuietMs: 100 }, { streakQuietMs: 60_000 }, { after: 3 }]) {
      const refused = watchOverlay(created.secret, variables);
      expect((await refused.next()).errors).toMatchObject([{ extensions: { code: 'VALIDATION_FAILED' } }]);
    }
  });
});

describe('streaks folded on the server', () => {
  test('a combo is one streak that grows, and ends once after the quiet time; a new combo of the sender ends it at once', async () => {
    const { creator, session } = await createLiveCreator(db);
    const fan = await createFundedViewer(db, 1_000n, { displayName: '<b>Fan</b>' });
    const { secret } = await overlayTokenOf(creator);
    const overlay = watchOverlay(secret);
    await readUntil(overlay, has('OverlayStateEvent'));
    const comboId = randomUUID();
    for (let tap = 0; tap < 5; tap++) expect(await sendGift(server.url, fan, session, rose, { comboId })).toMatchObject({ __typename: 'SentGift' });
    const events = await readUntil(overlay, has('StreakEndedEvent'));
    const streaks = events.filter((event) => event.__typename.startsWith('Streak'));
    expect(typesOf(streaks)).toEqual(['StreakStartedEvent', 'StreakGrewEvent', 'StreakGrewEvent', 'StreakGrewEvent', 'StreakGrewEvent', 'StreakEndedEvent']);
    expect(streaks.at(-1)).toMatchObject({ streak: { streakId: streaks[0]!.__typename === 'StreakStartedEvent' && streaks[0]!.streak.streakId, comboId, count: 5, coins: '5' } });
    expect(streaks[0]).toMatchObject({ streak: { sender: { displayName: '<b>Fan</b>' }, gift: { name: 'Rose' } } });

    // A second combo, then a third before the quiet time: the third's first gift ends the second.
    const [second, third] = [randomUUID(), randomUUID()];
    await sendGift(server.url, fan, session, lion, { comboId: second, quantity: 3 });
    await sendGift(server.url, fan, session, lion, { comboId: third });
    const more = await readUntil(overlay, has('StreakEndedEvent', 3), events);
    const ends = more.filter((event) => event.__typename === 'StreakEndedEvent');
    expect(ends.map((event) => 'streak' in event && event.streak.comboId)).toEqual([comboId, second, third]);
    expect(ends[1]).toMatchObject({ streak: { count: 3, coins: '30' } });
    await expect(overlay.next(1_000)).rejects.toBeInstanceOf(TimedOut);

    // A comboId is the client's own: two senders who pick the same one have two streaks.
    const other = await createFundedViewer(db, 1_000n);
    await sendGift(server.url, fan, session, rose, { comboId: 'tap' });
    await sendGift(server.url, other, session, rose, { comboId: 'tap' });
    const both = await readUntil(overlay, has('StreakEndedEvent', 5), more);
    const started = both.filter((event) => event.__typename === 'StreakStartedEvent').slice(-2);
    expect(started.map((event) => 'streak' in event && [event.streak.comboId, event.streak.count])).toEqual([
      ['tap', 1],
      ['tap', 1],
    ]);
    await expectCleanAudit(db);
  });

  test('a gift outside a combo is a streak of one; goal and top gifters follow the gifts', async () => {
    const { creator, session } = await createLiveCreator(db);
    await db.liveSession.update({ where: { id: session.id }, data: { goalCoins: 100n } });
    const fan = await createFundedViewer(db, 1_000n, { handle: `fan${Date.now()}` });
    const { secret } = await overlayTokenOf(creator);
    const overlay = watchOverlay(secret);
    const [state] = await readUntil(overlay, has('OverlayStateEvent'));
    expect(state).toMatchObject({ goal: { goalCoins: '100', progressCoins: '0', reached: false }, top: [], viewers: 0 });
    await sendGift(server.url, fan, session, lion);
    const events = await readUntil(overlay, (all) => has('StreakEndedEvent')(all) && has('OverlayGoalEvent')(all) && has('OverlayTopGiftersEvent')(all));
    expect(typesOf(events.filter((event) => event.__typename.startsWith('Streak')))).toEqual(['StreakStartedEvent', 'StreakEndedEvent']);
    expect(events.find((event) => event.__typename === 'OverlayGoalEvent')).toMatchObject({ progressCoins: '10', reached: false });
    expect(events.find((event) => event.__typename === 'OverlayTopGiftersEvent')).toMatchObject({ top: [{ rank: 1, coins: '10', user: { handle: fan.handle } }] });
  });
});

describe('resuming and following the creator', () => {
  test('resumed with liveSessionId and after, every gift missed is heard once, in order, and a combo open at the resume point grows', async () => {
    const { creator, session } = await createLiveCreator(db);
    const fan = await createFundedViewer(db, 1_000n);
    const { secret } = await overlayTokenOf(creator);
    const first = watchOverlay(secret, { streakQuietMs: 30_000 });
    await readUntil(first, has('OverlayStateEvent'));
    const comboId = randomUUID();
    await sendGift(server.url, fan, session, rose, { comboId });
    const [started] = await readUntil(first, has('StreakStartedEvent'));
    first.unsubscribe();

    await sendGift(server.url, fan, session, rose, { comboId });
    for (let i = 0; i < 3; i++) await sendGift(server.url, await createFundedViewer(db, 100n), session, lion);
    const resumed = watchOverlay(secret, { streakQuietMs: 30_000, liveSessionId: started!.liveSessionId!, after: started!.sequence });
    const events = await readUntil(resumed, has('StreakStartedEvent', 3));
    const gifts = events.filter((event) => event.__typename === 'StreakStartedEvent' || event.__typename === 'StreakGrewEvent');
    expect(gifts.map((event) => event.sequence)).toEqual([2, 3, 4, 5]);
    expect(gifts[0]).toMatchObject({ __typename: 'StreakGrewEvent', streak: { comboId, count: 2 } });
  });

  test('between sessions it waits quietly; the next session is heard from its first gift; overlays are not viewers', async () => {
    const creator = await createUser(db, { roles: [Role.VIEWER, Role.CREATOR] });
    const fan = await createFundedViewer(db, 1_000n);
    const { secret, overlayToken } = await overlayTokenOf(creator);
    const overlay = watchOverlay(secret);
    expect(await readUntil(overlay, has('OverlayWaitingEvent'))).toMatchObject([{ liveSessionId: null, sequence: 0 }]);
    const session = await startLiveSession(db, DEFAULT_POLICY, creator.id, { title: 'Back' });
    await readUntil(overlay, has('OverlayStateEvent'));
    await sendGift(server.url, fan, session, rose);
    const events = await readUntil(overlay, has('StreakEndedEvent'));
    expect(events.find((event) => event.__typename === 'StreakStartedEvent')).toMatchObject({ liveSessionId: gid('LiveSession', session.id), sequence: 1 });
    // Presence flushes once a second: two seconds on, the overlay still counts for nothing.
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    const presence = await db.roomPresence.findMany({ where: { liveSessionId: session.id } });
    expect(presence.flatMap((row) => [...row.accounts, ...row.addresses])).toEqual([]);

    await endSession(server.url, creator, session);
    await readUntil(overlay, (all) => has('OverlaySessionEndedEvent')(all) && has('OverlayWaitingEvent')(all), events);

    // Revoked: the open overlay is told within the check interval, and its stream completes.
    await ok(server.url, RevokeOverlayToken, { input: { overlayTokenId: overlayToken.id } }, { token: await tokenFor(creator) });
    await readUntil(overlay, has('OverlayTokenRevokedEvent'), events);
    expect(await overlay.ended).toEqual({});
  });
});

describe("brands' matches", () => {
  test("a match made with its gift follows the gift's alert; a brand's later match is an alert of its own, never another tap", async () => {
    const { creator, session } = await createLiveCreator(db);
    const { brand, caller, owner } = await createFundedBrand(db, 1_000n);
    const now = Date.now();
    const draft = await createMatchingCampaign(db, caller, {
      brandId: brand.id, name: 'Double up', creatorId: creator.id, ratioPercent: 50, budgetCoins: 1_000n,
      startsAt: new Date(now - 1000), endsAt: new Date(now + 3600_000), remainderRule: RemainderRule.RETURN_TO_BRAND,
    });
    const campaign = await changeCampaign(db, silentAnnouncer, caller, 'activate', { campaignId: draft.id });
    const { secret } = await overlayTokenOf(creator);
    const overlay = watchOverlay(secret);
    await readUntil(overlay, has('OverlayStateEvent'));
    const fan = await createFundedViewer(db, 100n);

    const gift = await sendGift(server.url, fan, session, lion);
    const events = await readUntil(overlay, has('OverlayMatchEvent'));
    const alerts = (heard: OverlayEvent[]) => typesOf(heard).filter((type) => type.startsWith('Streak') || type === 'OverlayMatchEvent');
    expect(alerts(events)).toEqual(['StreakStartedEvent', 'StreakEndedEvent', 'OverlayMatchEvent']);
    expect(events.at(-1)).toMatchObject({ sequence: 1, coins: '5', manual: false, brand: { name: brand.name }, sender: { handle: fan.handle }, gift: { name: 'Lion' } });

    // Matched again later by the brand's back-end: a match alert with its own sequence, and no new streak.
    if (gift.__typename !== 'SentGift') throw new Error(`The gift was refused: ${JSON.stringify(gift)}`);
    const MATCH = `mutation ($input: MatchGiftInput!) { matchGift(input: $input) { __typename } }`;
    const matched = await post(server.url, MATCH, { authorization: `Bearer ${await tokenFor(owner)}` }, {
      input: { campaignId: globalId('MatchingCampaign', campaign.id), sentGiftId: gift.id, coins: '3', idempotencyKey: uniqueKey('match') },
    });
    expect(matched.data).toEqual({ matchGift: { __typename: 'GiftMatch' } });
    const later = await readUntil(overlay, has('OverlayMatchEvent', 2), events);
    expect(later.at(-1)).toMatchObject({ sequence: 2, coins: '3', manual: true, brand: { name: brand.name } });
    expect(typesOf(later).filter((type) => type.startsWith('Streak'))).toEqual(['StreakStartedEvent', 'StreakEndedEvent']);

    // Resumed from before the gift: the gift once, its match, the later match; still one streak.
    const resumed = watchOverlay(secret, { liveSessionId: gid('LiveSession', session.id), after: 0 });
    const replayed = await readUntil(resumed, has('OverlayMatchEvent', 2));
    expect(alerts(replayed)).toEqual(['StreakStartedEvent', 'StreakEndedEvent', 'OverlayMatchEvent', 'OverlayMatchEvent']);
    await expectCleanAudit(db);
  });
});

describe("a suspended creator's overlays", () => {
  test('stop within the check interval and are refused with ACCOUNT_SUSPENDED until the suspension is lifted', async () => {
    const { creator } = await createLiveCreator(db);
    const admin = await createUser(db, { roles: [Role.VIEWER, Role.ADMIN] });
    const { secret } = await overlayTokenOf(creator);
    const overlay = watchOverlay(secret);
    await readUntil(overlay, has('OverlayStateEvent'));
    await changeSuspension(db, silentAnnouncer, { adminId: admin.id, userId: creator.id, suspended: true, reason: 'fraud review' });
    expect(await overlay.ended).toEqual({});
    expect((await watchOverlay(secret).next()).errors).toMatchObject([{ extensions: { code: 'ACCOUNT_SUSPENDED' } }]);
    await changeSuspension(db, silentAnnouncer, { adminId: admin.id, userId: creator.id, suspended: false, reason: 'cleared' });
    await readUntil(watchOverlay(secret), has('OverlayStateEvent'));
  });
});
