import { describe, expect, test } from 'vitest';
import { createApiKey } from '../../src/domain/brands/brands.js';
import { changeCampaign, createMatchingCampaign, type CreateCampaignInput } from '../../src/domain/brands/campaigns.js';
import { matchGift } from '../../src/domain/brands/manual-matching.js';
import { createGiftSender } from '../../src/domain/gifting.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { silentAnnouncer } from '../../src/events/announcer.js';
import { RemainderRule } from '../../src/generated/prisma/client.js';
import { globalId, parseGlobalId } from '../../src/schema/ids.js';
import type { User } from '../../src/generated/prisma/client.js';
import { tokenFor } from '../support/users.js';
import { post } from '../support/graphql.js';
import { balances, createCatalogGift, createFundedViewer, createLiveCreator, expectCleanAudit, uniqueKey } from '../support/money.js';
import { startTestServer } from '../support/server.js';
import { openSocket, subscribe, type Subscription } from '../support/ws.js';
import { createFundedBrand } from './support.js';

const server = await startTestServer();
const { db } = server;
const gifts = createGiftSender(db, silentAnnouncer, DEFAULT_POLICY);
const lion = await createCatalogGift(db, 10n, { name: 'Lion' });
const HOUR = 3600_000;

async function campaignOn(budgetCoins: bigint, terms: Partial<CreateCampaignInput> = {}) {
  const live = await createLiveCreator(db);
  const funded = await createFundedBrand(db, budgetCoins);
  const draft = await createMatchingCampaign(db, funded.caller, {
    brandId: funded.brand.id, name: 'Match', creatorId: live.creator.id, ratioPercent: 100, budgetCoins,
    startsAt: new Date(Date.now() - 1000), endsAt: new Date(Date.now() + HOUR), remainderRule: RemainderRule.RETURN_TO_BRAND, ...terms,
  });
  const campaign = await changeCampaign(db, silentAnnouncer, funded.caller, 'activate', { campaignId: draft.id });
  return { ...live, ...funded, campaign };
}

const send = (senderId: string, liveSessionId: string) => gifts.send(senderId, { liveSessionId, giftId: lion.id, quantity: 1, idempotencyKey: uniqueKey('gift') });

/** A gift sent as a client sends it, through the server, so that its room hears it live. */
async function sendLive(sender: Pick<User, 'id'>, liveSessionId: string): Promise<{ id: string }> {
  const reply = await post(server.url, `mutation ($input: SendGiftInput!) { sendGift(input: $input) { ... on SentGift { id } } }`, { authorization: `Bearer ${await tokenFor(sender)}` }, {
    input: { liveSessionId: globalId('LiveSession', liveSessionId), giftId: globalId('Gift', lion.id), idempotencyKey: uniqueKey('gift') },
  });
  return { id: parseGlobalId((reply.data as { sendGift: { id: string } }).sendGift.id).id };
}

type Heard = { __typename: string; sequence: number; sentGiftId?: string; coins?: string; brand?: { name: string } };
const ROOM = (sessionId: string, after: number) => `subscription { liveSessionEvents(liveSessionId: "${globalId('LiveSession', sessionId)}", after: ${after}) {
  __typename sequence ... on GiftSentEvent { sentGiftId } ... on GiftMatchedEvent { sentGiftId coins brand { name } } } }`;
/** The next `count` gifts and matches the room tells of (leaderboard and viewer counts are not what this is about). */
async function read(room: Subscription<unknown>, count: number): Promise<Heard[]> {
  const heard: Heard[] = [];
  while (heard.length < count) {
    const event = ((await room.next()).data as { liveSessionEvents: Heard }).liveSessionEvents;
    if (event.__typename === 'GiftSentEvent' || event.__typename === 'GiftMatchedEvent') heard.push(event);
  }
  return heard;
}
const MATCH_GIFT = `mutation ($input: MatchGiftInput!) { matchGift(input: $input) { __typename ... on GiftMatch { coins manual } ... on Error { code message } } }`;

describe('manual matching', () => {
  test('a brand matches a gift by mutation with its key: a stored event with its own sequence, and resuming across it hears every event once, in order', async () => {
    const { creator, session, campaign, brand, caller } = await campaignOn(1000n, { perGiftCapCoins: 30n });
    const { secret } = await createApiKey(db, caller, { brandId: brand.id, name: 'back-end', scopes: ['MATCH'] });
    const viewer = await createFundedViewer(db, 100n);
    const socket = openSocket(server.url);
    const live = subscribe(socket, ROOM(session.id, 0));

    const first = await sendLive(viewer, session.id); // sequence 1, matched 10 with it
    const input = { campaignId: globalId('MatchingCampaign', campaign.id), sentGiftId: globalId('SentGift', first.id), coins: '15', idempotencyKey: uniqueKey('match') };
    const before = await balances(db, creator);
    const matched = await post(server.url, MATCH_GIFT, { authorization: `Bearer ${secret}` }, { input });
    expect(matched.data).toEqual({ matchGift: { __typename: 'GiftMatch', coins: '15', manual: true } });
    // The same key again: the same match, nothing more.
    expect((await post(server.url, MATCH_GIFT, { authorization: `Bearer ${secret}` }, { input })).data).toEqual(matched.data);
    expect((await balances(db, creator)).diamonds - before.diamonds).toBe(15n);
    const second = await sendLive(viewer, session.id); // sequence 3

    const heard = await read(live, 5);
    const gift1 = globalId('SentGift', first.id);
    const gift2 = globalId('SentGift', second.id);
    expect(heard).toEqual([
      { __typename: 'GiftSentEvent', sequence: 1, sentGiftId: gift1 },
      { __typename: 'GiftMatchedEvent', sequence: 1, sentGiftId: gift1, coins: '10', brand: { name: brand.name } },
      { __typename: 'GiftMatchedEvent', sequence: 2, sentGiftId: gift1, coins: '15', brand: { name: brand.name } },
      { __typename: 'GiftSentEvent', sequence: 3, sentGiftId: gift2 },
      { __typename: 'GiftMatchedEvent', sequence: 3, sentGiftId: gift2, coins: '10', brand: { name: brand.name } },
    ]);
    live.unsubscribe();
    // A client that saw up to 1 resumes with the manual match, then the next gift: each once, in order.
    const fromOne = subscribe(socket, ROOM(session.id, 1));
    expect(await read(fromOne, 3)).toEqual(heard.slice(2));
    fromOne.unsubscribe();
    const fromTwo = subscribe(socket, ROOM(session.id, 2));
    expect(await read(fromTwo, 2)).toEqual(heard.slice(3));
    fromTwo.unsubscribe();
    await socket.dispose();
    await expectCleanAudit(db);
  });

  test('manual matches racing automatic ones never spend more than the budget, and every event keeps its place', async () => {
    const { session, campaign, caller } = await campaignOn(300n);
    const viewers = await Promise.all(Array.from({ length: 30 }, () => createFundedViewer(db, 10n)));
    const first = await send(viewers[0]!.id, session.id); // matched 10 with it
    const racing = await Promise.allSettled([
      ...viewers.slice(1).map((viewer) => send(viewer.id, session.id)),
      ...Array.from({ length: 20 }, () => matchGift(db, silentAnnouncer, caller, { campaignId: campaign.id, sentGiftId: first.id, coins: 7n, idempotencyKey: uniqueKey('match') })),
    ]);
    // Gifts all go through; a manual match is refused only for want of budget.
    for (const outcome of racing) if (outcome.status === 'rejected') expect(outcome.reason).toMatchObject({ code: 'MATCH_REFUSED' });
    expect(racing.slice(0, 29).every((outcome) => outcome.status === 'fulfilled')).toBe(true);
    const matched = await db.giftMatch.aggregate({ where: { campaignId: campaign.id }, _sum: { coins: true } });
    expect(matched._sum.coins! <= 300n).toBe(true);
    expect((await db.matchingCampaign.findUniqueOrThrow({ where: { id: campaign.id } })).matchedCoins).toBe(matched._sum.coins);
    await expectCleanAudit(db);
  });

  test("a match outside the campaign's scope, window, caps or budget is refused and changes nothing", async () => {
    const { session, campaign, caller } = await campaignOn(25n, { perGiftCapCoins: 12n });
    const viewer = await createFundedViewer(db, 100n);
    const gift = await send(viewer.id, session.id); // matched 10 with it: 15 left
    const elsewhere = await createLiveCreator(db);
    const other = await send(viewer.id, elsewhere.session.id);
    const attempt = (sentGiftId: string, coins?: bigint) => matchGift(db, silentAnnouncer, caller, { campaignId: campaign.id, sentGiftId, coins, idempotencyKey: uniqueKey('match') });

    await expect(attempt(other.id)).rejects.toMatchObject({ code: 'MATCH_REFUSED', message: expect.stringContaining('scope') });
    await expect(attempt(gift.id, 3n)).rejects.toMatchObject({ code: 'MATCH_REFUSED', message: expect.stringContaining('at most 2') });
    expect((await attempt(gift.id, 2n)).coins).toBe(2n);
    const next = await send(viewer.id, session.id); // matched 10 with it: 3 left
    await expect(attempt(next.id, 2n + 2n)).rejects.toMatchObject({ code: 'MATCH_REFUSED', message: expect.stringContaining('at most 2') });
    await changeCampaign(db, silentAnnouncer, caller, 'pause', { campaignId: campaign.id });
    await expect(attempt(next.id, 1n)).rejects.toMatchObject({ code: 'MATCH_REFUSED', message: expect.stringContaining('PAUSED') });
    expect(await db.giftMatch.count({ where: { campaignId: campaign.id, manual: true } })).toBe(1);
    await expectCleanAudit(db);
  });
});
