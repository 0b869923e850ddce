import { describe, expect, test } from 'vitest';
import { brandBudget } from '../../src/domain/brands/budgets.js';
import { campaignState, changeCampaign, createMatchingCampaign, settleCampaign, type CreateCampaignInput } from '../../src/domain/brands/campaigns.js';
import { createGiftSender } from '../../src/domain/gifting.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import type { RoomGiftEvent } from '../../src/domain/rooms.js';
import { silentAnnouncer } from '../../src/events/announcer.js';
import { CampaignStatus, RemainderRule } from '../../src/generated/prisma/client.js';
import { globalId } from '../../src/schema/ids.js';
import { settleAll } from '../support/gifting.js';
import { post } from '../support/graphql.js';
import { balances, createCatalogGift, createFundedViewer, createLiveCreator, expectCleanAudit, uniqueKey } from '../support/money.js';
import { startTestServer } from '../support/server.js';
import { tokenFor } from '../support/users.js';
import { openSocket, subscribe } from '../support/ws.js';
import { createFundedBrand } from './support.js';

const server = await startTestServer();
const { db } = server;
const gifts = createGiftSender(db, silentAnnouncer, DEFAULT_POLICY);
const lion = await createCatalogGift(db, 10n, { name: 'Lion' });
const HOUR = 3600_000;

/** A live creator and an active campaign of a brand holding `budgetCoins` on them. */
async function campaignOn(budgetCoins: bigint, terms: Partial<CreateCampaignInput> = {}, on?: Awaited<ReturnType<typeof createLiveCreator>>) {
  const live = on ?? (await createLiveCreator(db));
  const funded = await createFundedBrand(db, budgetCoins);
  const now = Date.now();
  const draft = await createMatchingCampaign(db, funded.caller, {
    brandId: funded.brand.id, name: 'Match', creatorId: live.creator.id, ratioPercent: 100, budgetCoins,
    startsAt: new Date(now - 1000), endsAt: new Date(now + HOUR), remainderRule: RemainderRule.RETURN_TO_BRAND, ...terms,
  });
  const campaign = await changeCampaign(db, silentAnnouncer, funded.caller, 'activate', { campaignId: draft.id });
  return { ...live, ...funded, campaign };
}

const send = (senderId: string, liveSessionId: string, giftId = lion.id) => gifts.send(senderId, { liveSessionId, giftId, quantity: 1, idempotencyKey: uniqueKey('gift') });
const matchesOf = (campaignId: string) => db.giftMatch.findMany({ where: { campaignId }, orderBy: { createdAt: 'asc' } });

describe('automatic matching', () => {
  test('200 concurrent gifts into a campaign whose budget covers 50.5 of them: exactly the budget is matched, the last match partial', async () => {
    const { creator, session, campaign, brand } = await campaignOn(505n);
    const viewers = await Promise.all(Array.from({ length: 200 }, () => createFundedViewer(db, 10n)));
    const before = await balances(db, creator);
    const { counts } = await settleAll(viewers.map((viewer) => send(viewer.id, session.id)));
    expect(counts).toEqual({ fulfilled: 200 });

    const matches = await matchesOf(campaign.id);
    expect(matches.reduce((sum, match) => sum + match.coins, 0n)).toBe(505n);
    expect(matches.map((match) => match.coins).sort((a, b) => Number(a - b))).toEqual([5n, ...Array<bigint>(50).fill(10n)]);
    const settled = await db.matchingCampaign.findUniqueOrThrow({ where: { id: campaign.id } });
    expect(settled).toMatchObject({ matchedCoins: 505n, giftsMatched: 51 });
    expect(campaignState(settled, new Date())).toBe(CampaignStatus.EXHAUSTED);
    // The creator earned the gifts' diamonds and the matches' at the published rate (1 per coin).
    expect((await balances(db, creator)).diamonds - before.diamonds).toBe(2000n + 505n);
    // Each match is told in its gift's room event, once.
    const events = await db.roomEvent.findMany({ where: { liveSessionId: session.id } });
    const told = events.flatMap((event) => (event.payload as RoomGiftEvent).matches ?? []);
    expect(told.map((match) => match.id).sort()).toEqual(matches.map((match) => match.id).sort());
    await expectCleanAudit(db);

    // Exhausted: settled (nothing left to return) once read.
    expect(await settleCampaign(db, silentAnnouncer, campaign.id)).toBe(true);
    expect(await brandBudget(db, brand.id)).toMatchObject({ availableCoins: 0n, reservedCoins: 0n });
    await expectCleanAudit(db);
  });

  test("a viewer's cap holds under a burst of their gifts, and other viewers are matched as before", async () => {
    const { session, campaign } = await campaignOn(10_000n, { perViewerCapCoins: 25n });
    const [eager, other] = await Promise.all([createFundedViewer(db, 200n), createFundedViewer(db, 10n)]);
    const { counts } = await settleAll([...Array.from({ length: 20 }, () => send(eager.id, session.id)), send(other.id, session.id)]);
    expect(counts).toEqual({ fulfilled: 21 });
    const matches = await matchesOf(campaign.id);
    const total = (viewerId: string) => matches.filter((m) => m.viewerId === viewerId).reduce((sum, m) => sum + m.coins, 0n);
    expect(total(eager.id)).toBe(25n);
    expect(total(other.id)).toBe(10n);
    await expectCleanAudit(db);
  });

  test('a gift above the per-gift cap is matched up to the cap', async () => {
    const { session, campaign } = await campaignOn(1000n, { perGiftCapCoins: 7n, ratioPercent: 150 });
    const viewer = await createFundedViewer(db, 20n);
    const sent = await send(viewer.id, session.id);
    expect((await db.giftMatch.findMany({ where: { sentGiftId: sent.id } })).map((m) => [m.campaignId, m.coins, m.diamonds])).toEqual([[campaign.id, 7n, 7n]]);
    await expectCleanAudit(db);
  });

  test('two campaigns on one creator apply in the documented order: the one ending soonest first', async () => {
    const live = await createLiveCreator(db);
    const later = await campaignOn(1000n, { endsAt: new Date(Date.now() + 2 * HOUR), ratioPercent: 50 }, live);
    const sooner = await campaignOn(7n, { endsAt: new Date(Date.now() + HOUR), ratioPercent: 100 }, live);
    const viewer = await createFundedViewer(db, 20n);
    const sent = await send(viewer.id, live.session.id);
    const matched = await db.giftMatch.findMany({ where: { sentGiftId: sent.id } });
    expect(matched.map((m) => [m.campaignId, m.coins])).toEqual(expect.arrayContaining([[sooner.campaign.id, 7n], [later.campaign.id, 5n]]));
    const [event] = await db.roomEvent.findMany({ where: { sentGiftId: sent.id } });
    expect((event!.payload as RoomGiftEvent).matches!.map((m) => [m.campaignId, m.coins])).toEqual([[sooner.campaign.id, '7'], [later.campaign.id, '5']]);
    // The sooner campaign is spent: the next gift is matched by the later one only.
    const next = await send(viewer.id, live.session.id);
    expect((await db.giftMatch.findMany({ where: { sentGiftId: next.id } })).map((m) => m.campaignId)).toEqual([later.campaign.id]);
    await expectCleanAudit(db);
  });

  test('a paused, scheduled or other creator\'s campaign matches nothing', async () => {
    const paused = await campaignOn(100n);
    await changeCampaign(db, silentAnnouncer, paused.caller, 'pause', { campaignId: paused.campaign.id });
    const viewer = await createFundedViewer(db, 100n);
    await send(viewer.id, paused.session.id);
    const elsewhere = await createLiveCreator(db);
    await send(viewer.id, elsewhere.session.id);
    expect(await db.giftMatch.count({ where: { campaignId: paused.campaign.id } })).toBe(0);
    await expectCleanAudit(db);
  });

  test('the room hears a GiftMatchedEvent naming the brand right after its gift, with its sequence; sendGift shows the match', async () => {
    const { session, brand } = await campaignOn(1000n, { ratioPercent: 200 });
    const viewer = await createFundedViewer(db, 10n);
    const socket = openSocket(server.url);
    const room = subscribe(socket, `subscription { liveSessionEvents(liveSessionId: "${globalId('LiveSession', session.id)}", after: 0) {
      __typename sequence ... on GiftMatchedEvent { brand { name } coins diamonds sentGiftId } } }`);
    const reply = await post(server.url, `mutation ($input: SendGiftInput!) { sendGift(input: $input) { __typename ... on SentGift { id matches { coins diamonds brand { name } } } } }`,
      { authorization: `Bearer ${await tokenFor(viewer)}` },
      { input: { liveSessionId: globalId('LiveSession', session.id), giftId: globalId('Gift', lion.id), idempotencyKey: uniqueKey('gift') } });
    const sent = (reply.data as { sendGift: { id: string; matches: unknown[] } }).sendGift;
    expect(sent.matches).toEqual([{ coins: '20', diamonds: '20', brand: { name: brand.name } }]);
    // Whatever else the room says (a viewer count may come first), the match comes right after its gift.
    const heard: Record<string, unknown>[] = [];
    while (!heard.some((event) => event.__typename === 'GiftMatchedEvent')) heard.push(((await room.next()).data as { liveSessionEvents: Record<string, unknown> }).liveSessionEvents);
    const gift = heard.findIndex((event) => event.__typename === 'GiftSentEvent');
    expect(heard[gift]).toMatchObject({ __typename: 'GiftSentEvent', sequence: 1 });
    expect(heard[gift + 1]).toEqual({ __typename: 'GiftMatchedEvent', sequence: 1, brand: { name: brand.name }, coins: '20', diamonds: '20', sentGiftId: sent.id });
    room.unsubscribe();
    await socket.dispose();
    await expectCleanAudit(db);
  });
});
