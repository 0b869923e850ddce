import { describe, expect, test } from 'vitest';
import { brandBudget } from '../../src/domain/brands/budgets.js';
import { campaignState, changeCampaign, createMatchingCampaign, settleCampaign, settleDueCampaigns, type CreateCampaignInput } from '../../src/domain/brands/campaigns.js';
import { silentAnnouncer } from '../../src/events/announcer.js';
import { CampaignStatus, RemainderRule } from '../../src/generated/prisma/client.js';
import { createTestDatabase } from '../support/database.js';
import { balances, createLiveCreator, expectCleanAudit } from '../support/money.js';
import { createFundedBrand } from './support.js';

const { db } = await createTestDatabase();
const HOUR = 3600_000;

async function draft(budgetCoins: bigint, terms: Partial<CreateCampaignInput> = {}) {
  const funded = await createFundedBrand(db, 10_000n);
  const { creator, session } = await createLiveCreator(db);
  const now = Date.now();
  const campaign = await createMatchingCampaign(db, funded.caller, {
    brandId: funded.brand.id, name: 'Summer match', creatorId: creator.id, ratioPercent: 100, budgetCoins,
    startsAt: new Date(now - 1000), endsAt: new Date(now + HOUR), remainderRule: RemainderRule.RETURN_TO_BRAND, ...terms,
  });
  const act = (action: Parameters<typeof changeCampaign>[3], at = new Date()) => changeCampaign(db, silentAnnouncer, funded.caller, action, { campaignId: campaign.id }, at);
  return { ...funded, creator, session, campaign, act };
}

describe('matching campaigns', () => {
  test('a campaign reserves its budget when activated, pauses and resumes, and reads its state from the clock', async () => {
    const { brand, campaign, act } = await draft(3000n, { startsAt: new Date(Date.now() + HOUR), endsAt: new Date(Date.now() + 2 * HOUR) });
    expect(campaignState(campaign, new Date())).toBe(CampaignStatus.DRAFT);
    const scheduled = await act('schedule');
    expect(campaignState(scheduled, new Date())).toBe(CampaignStatus.SCHEDULED);
    expect(campaignState(scheduled, new Date(Date.now() + HOUR + 1))).toBe(CampaignStatus.ACTIVE);
    expect(campaignState(scheduled, new Date(Date.now() + 3 * HOUR))).toBe(CampaignStatus.ENDED);
    expect(await brandBudget(db, brand.id)).toMatchObject({ availableCoins: 7000n, reservedCoins: 3000n });
    const active = await act('activate');
    expect(campaignState(active, new Date())).toBe(CampaignStatus.ACTIVE);
    expect(campaignState(await act('pause'), new Date())).toBe(CampaignStatus.PAUSED);
    expect(campaignState(await act('resume'), new Date())).toBe(CampaignStatus.ACTIVE);
    // Activating again reserves nothing more.
    await act('activate');
    expect(await brandBudget(db, brand.id)).toMatchObject({ availableCoins: 7000n, reservedCoins: 3000n });
    await expectCleanAudit(db);
  });

  test('a campaign larger than the available coins is refused and reserves nothing', async () => {
    const { brand, act } = await draft(20_000n);
    await expect(act('activate')).rejects.toMatchObject({ code: 'INSUFFICIENT_BUDGET', neededCoins: 20_000n, availableCoins: 10_000n });
    expect(await brandBudget(db, brand.id)).toMatchObject({ availableCoins: 10_000n, reservedCoins: 0n });
    await expect(act('pause')).rejects.toMatchObject({ code: 'CAMPAIGN_TRANSITION_NOT_ALLOWED' });
    await expectCleanAudit(db);
  });

  test('ending a campaign twice at once applies the remainder rule exactly once (given to the creator)', async () => {
    const { creator, campaign, act } = await draft(2500n, { remainderRule: RemainderRule.GIVE_TO_CREATOR });
    await act('activate');
    const before = await balances(db, creator);
    const ended = await Promise.all([act('end'), act('end'), settleCampaign(db, silentAnnouncer, campaign.id), settleDueCampaigns(db, silentAnnouncer)]);
    expect(ended[0].status).toBe(CampaignStatus.SETTLED);
    expect(ended[1].status).toBe(CampaignStatus.SETTLED);
    expect((await balances(db, creator)).diamonds - before.diamonds).toBe(2500n);
    const settled = await db.matchingCampaign.findUniqueOrThrow({ where: { id: campaign.id } });
    expect(settled).toMatchObject({ status: CampaignStatus.SETTLED, remainderCoins: 2500n });
    expect(await db.journalEntry.count({ where: { kind: 'CAMPAIGN_REMAINDER', memo: { contains: campaign.id } } })).toBe(1);
    await expectCleanAudit(db);
  });

  test('a campaign past its end is settled by housekeeping, once, and its remainder returns to the brand', async () => {
    const { brand, campaign, act } = await draft(4000n);
    await act('activate');
    const later = new Date(Date.now() + 2 * HOUR);
    expect(campaignState(await db.matchingCampaign.findUniqueOrThrow({ where: { id: campaign.id } }), later)).toBe(CampaignStatus.ENDED);
    await settleDueCampaigns(db, silentAnnouncer, later);
    await settleDueCampaigns(db, silentAnnouncer, later);
    expect(await settleCampaign(db, silentAnnouncer, campaign.id, later)).toBe(false);
    expect((await db.matchingCampaign.findUniqueOrThrow({ where: { id: campaign.id } })).status).toBe(CampaignStatus.SETTLED);
    expect(await brandBudget(db, brand.id)).toMatchObject({ availableCoins: 10_000n, reservedCoins: 0n });
    await expectCleanAudit(db);
  });
});
