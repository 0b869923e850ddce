import { describe, expect, test } from 'vitest';
import { createApiKey } from '../../src/domain/brands/brands.js';
import { changeCampaign, createMatchingCampaign } from '../../src/domain/brands/campaigns.js';
import { silentAnnouncer } from '../../src/events/announcer.js';
import { RemainderRule } from '../../src/generated/prisma/client.js';
import { globalId } from '../../src/schema/ids.js';
import { post } from '../support/graphql.js';
import { createCatalogGift, createFundedViewer, createLiveCreator, expectCleanAudit, uniqueKey } from '../support/money.js';
import { startTestServer } from '../support/server.js';
import { tokenFor } from '../support/users.js';
import { createFundedBrand } from './support.js';

const SPONSORS = `query ($id: ID!) { liveSession(id: $id) { sponsors { name ratioPercent remainingCoins brand { name } } } }`;
const TOTALS = `query ($id: ID!, $after: String) { currentBrand { id } brand(id: $id) {
  campaigns { name state matchedCoins giftsMatched viewersReached creatorsReached remainingCoins }
  matches(first: 2, after: $after) { edges { node { coins manual viewer { handle } } } pageInfo { hasNextPage endCursor } } } }`;

describe('what rooms and brands see of campaigns', () => {
  test('a live session shows its sponsors and their budget left; a brand sees its totals and lists its matches', async () => {
    const server = await startTestServer();
    const { db } = server;
    const { creator, session } = await createLiveCreator(db);
    const { brand, caller } = await createFundedBrand(db, 100n);
    const draft = await createMatchingCampaign(db, caller, {
      brandId: brand.id, name: 'Matched 1:1', liveSessionId: session.id, ratioPercent: 100, budgetCoins: 100n,
      startsAt: new Date(Date.now() - 1000), endsAt: new Date(Date.now() + 3600_000), remainderRule: RemainderRule.RETURN_TO_BRAND,
    });
    await changeCampaign(db, silentAnnouncer, caller, 'activate', { campaignId: draft.id });
    const lion = await createCatalogGift(db, 10n);
    const viewers = await Promise.all([createFundedViewer(db, 30n), createFundedViewer(db, 30n)]);
    for (const viewer of [...viewers, viewers[0]!]) {
      await post(server.url, `mutation ($input: SendGiftInput!) { sendGift(input: $input) { __typename } }`, { authorization: `Bearer ${await tokenFor(viewer)}` }, {
        input: { liveSessionId: globalId('LiveSession', session.id), giftId: globalId('Gift', lion.id), idempotencyKey: uniqueKey('gift') },
      });
    }

    const room = await post(server.url, SPONSORS, {}, { id: globalId('LiveSession', session.id) });
    expect(room.data).toEqual({ liveSession: { sponsors: [{ name: 'Matched 1:1', ratioPercent: 100, remainingCoins: '70', brand: { name: brand.name } }] } });

    const { secret } = await createApiKey(db, caller, { brandId: brand.id, name: 'reader', scopes: ['READ'] });
    const asBrand = { authorization: `Bearer ${secret}` };
    const first = await post(server.url, TOTALS, asBrand, { id: globalId('Brand', brand.id) });
    const seen = first.data as { brand: { campaigns: unknown[]; matches: { edges: unknown[]; pageInfo: { hasNextPage: boolean; endCursor: string } } } };
    expect(seen.brand.campaigns).toEqual([
      { name: 'Matched 1:1', state: 'ACTIVE', matchedCoins: '30', giftsMatched: 3, viewersReached: 2, creatorsReached: 1, remainingCoins: '70' },
    ]);
    expect(seen.brand.matches.edges).toHaveLength(2);
    expect(seen.brand.matches.pageInfo.hasNextPage).toBe(true);
    const rest = await post(server.url, TOTALS, asBrand, { id: globalId('Brand', brand.id), after: seen.brand.matches.pageInfo.endCursor });
    expect((rest.data as typeof seen).brand.matches.edges).toHaveLength(1);

    // Anyone else: the room's sponsors, but not the brand's matches.
    const outsider = await post(server.url, TOTALS, { authorization: `Bearer ${await tokenFor(creator)}` }, { id: globalId('Brand', brand.id) });
    expect(outsider.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    await expectCleanAudit(db);
  });
});
