import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Database } from '../../db/client.js';
import { transaction, type Tx } from '../../db/transaction.js';
import type { Announcer } from '../../events/announcer.js';
import { AccountOwner, Asset, BrandEventType, CampaignStatus, EntryKind, LiveSessionStatus, RemainderRule, type MatchingCampaign } from '../../generated/prisma/client.js';
import { CampaignTransitionError, InsufficientBudgetError, NotFoundError, ValidationError } from '../errors.js';
import { PLATFORM, record, userAccountIds, type PostingDraft } from '../ledger.js';
import { convertDown, DIAMONDS_PER_COIN } from '../policy.js';
import { validate } from '../validation.js';
import { authorizeBrand, type BrandCaller } from './access.js';
import { recordBrandEvents, type BrandEventInput } from './webhooks/events.js';

/** The longest a campaign may run (Tiltify's challenges run up to 5 days; brands asked for seasons). */
const MAX_CAMPAIGN_DAYS = 90;
const coins = (field: string) => z.bigint().positive(`${field} must be more than 0`).max(10n ** 12n, `${field} is too large`);

const createInput = z
  .object({
    brandId: z.uuid('is not a brand id'),
    name: z.string().trim().min(1, 'must not be empty').max(120, 'must be at most 120 characters'),
    creatorId: z.uuid('is not a user id').nullish(),
    liveSessionId: z.uuid('is not a live session id').nullish(),
    ratioPercent: z.number().int('must be a whole number').min(1, 'must be at least 1').max(10_000, 'must be at most 10000'),
    perGiftCapCoins: coins('the cap').nullish(),
    perViewerCapCoins: coins('the cap').nullish(),
    budgetCoins: coins('the budget'),
    startsAt: z.date(),
    endsAt: z.date(),
    remainderRule: z.enum(RemainderRule),
  })
  .refine((input) => !input.creatorId !== !input.liveSessionId, { path: ['creatorId'], message: 'give a creator or a live session, not both' })
  .refine((input) => input.endsAt > input.startsAt, { path: ['endsAt'], message: 'must be after startsAt' })
  .refine((input) => input.endsAt.getTime() - input.startsAt.getTime() <= MAX_CAMPAIGN_DAYS * 86_400_000, {
    path: ['endsAt'],
    message: `a campaign runs at most ${MAX_CAMPAIGN_DAYS} days`,
  });

export type CreateCampaignInput = z.input<typeof createInput>;

/** A brand drafts a campaign (nothing is reserved until it is scheduled or activated). */
export async function createMatchingCampaign(db: Database, caller: BrandCaller, input: CreateCampaignInput, now = new Date()): Promise<MatchingCampaign> {
  const data = validate(createInput, input);
  if (data.endsAt <= now) throw new ValidationError([{ field: 'endsAt', message: 'must be in the future' }]);
  return transaction(db, async (tx) => {
    if (!(await tx.brand.findUnique({ where: { id: data.brandId }, select: { id: true } }))) throw new NotFoundError('Brand');
    await authorizeBrand(tx, caller, data.brandId, 'campaigns');
    let creatorId = data.creatorId ?? null;
    if (data.liveSessionId) {
      const session = await tx.liveSession.findUnique({ where: { id: data.liveSessionId }, select: { creatorId: true, status: true } });
      if (!session) throw new NotFoundError('Live session');
      if (session.status !== LiveSessionStatus.LIVE) throw new ValidationError([{ field: 'liveSessionId', message: 'the live session has ended' }]);
      creatorId = session.creatorId;
    } else if (!(await tx.user.findUnique({ where: { id: creatorId! }, select: { id: true } }))) {
      throw new NotFoundError('Creator');
    }
    return tx.matchingCampaign.create({
      data: {
        brandId: data.brandId, name: data.name, creatorId: creatorId!, liveSessionId: data.liveSessionId ?? null, ratioPercent: data.ratioPercent,
        perGiftCapCoins: data.perGiftCapCoins ?? null, perViewerCapCoins: data.perViewerCapCoins ?? null, budgetCoins: data.budgetCoins,
        startsAt: data.startsAt, endsAt: data.endsAt, remainderRule: data.remainderRule,
      },
    });
  });
}

type Campaign = Pick<MatchingCampaign, 'status' | 'startsAt' | 'endsAt' | 'matchedCoins' | 'budgetCoins'>;

/**
 * A campaign's state as of `now`: what was last decided (DRAFT, PAUSED, ENDED, SETTLED), then the
 * clock (SCHEDULED before its start, ENDED from its end) and the budget (EXHAUSTED once all of it is
 * matched). Right whenever it is read; no job needs to run for it.
 */
export function campaignState(campaign: Campaign, now: Date): CampaignStatus {
  if (campaign.status === CampaignStatus.SETTLED || campaign.status === CampaignStatus.DRAFT) return campaign.status;
  if (campaign.status === CampaignStatus.ENDED || now >= campaign.endsAt) return CampaignStatus.ENDED;
  if (campaign.matchedCoins >= campaign.budgetCoins) return CampaignStatus.EXHAUSTED;
  if (campaign.status === CampaignStatus.PAUSED) return CampaignStatus.PAUSED;
  return now < campaign.startsAt ? CampaignStatus.SCHEDULED : CampaignStatus.ACTIVE;
}

/** Due for settlement: ended or exhausted, with a reserved budget not yet settled. */
const isDue = (campaign: Campaign, now: Date) => {
  const state = campaignState(campaign, now);
  return state === CampaignStatus.ENDED || state === CampaignStatus.EXHAUSTED;
};

export type CampaignAction = 'schedule' | 'activate' | 'pause' | 'resume' | 'end';

const actionInput = z.object({ campaignId: z.uuid('is not a campaign id') });

/**
 * A campaign's life: schedule (reserve its budget; it starts at startsAt) or activate (reserve it and
 * start now), pause, resume, end. Ending settles it at once, in the same transaction. Each action on a
 * campaign already where it leads (ending an ended one, say) returns it unchanged, so a retry is
 * harmless; settlement happens exactly once however often, and however concurrently, it is asked for.
 */
export async function changeCampaign(db: Database, announcer: Announcer, caller: BrandCaller, action: CampaignAction, input: z.input<typeof actionInput>, now = new Date()): Promise<MatchingCampaign> {
  const { campaignId } = validate(actionInput, input);
  const { campaign, creditedCreator } = await transaction(db, async (tx) => {
    let campaign = await lockCampaign(tx, campaignId);
    await authorizeBrand(tx, caller, campaign.brandId, 'campaigns');
    const state = campaignState(campaign, now);
    const refuse = () => new CampaignTransitionError(state, { schedule: 'scheduled', activate: 'activated', pause: 'paused', resume: 'resumed', end: 'ended' }[action]);
    switch (action) {
      case 'schedule':
      case 'activate': {
        const target = action === 'schedule' ? CampaignStatus.SCHEDULED : CampaignStatus.ACTIVE;
        if (state === CampaignStatus.DRAFT) {
          if (campaign.endsAt <= now) throw refuse();
          await reserve(tx, campaign);
          campaign = await tx.matchingCampaign.findUniqueOrThrow({ where: { id: campaignId } });
        } else if (!(state === CampaignStatus.SCHEDULED || (action === 'activate' && state === CampaignStatus.ACTIVE))) {
          throw refuse();
        }
        campaign = await tx.matchingCampaign.update({
          where: { id: campaignId },
          data: { status: target, ...(action === 'activate' && campaign.startsAt > now ? { startsAt: now } : {}) },
        });
        break;
      }
      case 'pause':
        if (state === CampaignStatus.PAUSED) break;
        if (state !== CampaignStatus.ACTIVE && state !== CampaignStatus.SCHEDULED) throw refuse();
        campaign = await tx.matchingCampaign.update({ where: { id: campaignId }, data: { status: CampaignStatus.PAUSED } });
        break;
      case 'resume':
        if (state === CampaignStatus.ACTIVE || state === CampaignStatus.SCHEDULED) break;
        if (state !== CampaignStatus.PAUSED) throw refuse();
        campaign = await tx.matchingCampaign.update({ where: { id: campaignId }, data: { status: CampaignStatus.ACTIVE } });
        break;
      case 'end':
        if (state === CampaignStatus.DRAFT) {
          // Nothing was reserved: it ends settled, with no remainder.
          campaign = await tx.matchingCampaign.update({ where: { id: campaignId }, data: { status: CampaignStatus.SETTLED, endedAt: now, settledAt: now } });
          break;
        }
        if (state === CampaignStatus.SETTLED) break;
        if (state !== CampaignStatus.ENDED) campaign = await tx.matchingCampaign.update({ where: { id: campaignId }, data: { status: CampaignStatus.ENDED, endedAt: now } });
        break;
    }
    const told = toldOf(state, campaignState(campaign, now), action);
    if (told) await recordBrandEvents(tx, [campaignEvent(campaign, told)]);
    const creditedCreator = isDue(campaign, now) ? await settleLocked(tx, campaign, now) : null;
    return { campaign: await tx.matchingCampaign.findUniqueOrThrow({ where: { id: campaignId } }), creditedCreator };
  });
  if (creditedCreator) announcer.walletChanged([creditedCreator]);
  return campaign;
}

/**
 * What the brand is told of an action that changed the campaign's state (brand webhooks): activated (or
 * resumed), paused, ended. Scheduling, and an action that changed nothing, tell nothing.
 */
function toldOf(before: CampaignStatus, after: CampaignStatus, action: CampaignAction): BrandEventType | null {
  if (before === after) return null;
  if (action === 'activate' || action === 'resume') return after === CampaignStatus.ACTIVE ? BrandEventType.CAMPAIGN_ACTIVATED : null;
  if (action === 'pause') return BrandEventType.CAMPAIGN_PAUSED;
  if (action === 'end') return BrandEventType.CAMPAIGN_ENDED;
  return null;
}

/** A campaign event's data: where the campaign stands. */
function campaignEvent(campaign: MatchingCampaign, type: BrandEventType, extra: Record<string, unknown> = {}): BrandEventInput {
  return {
    brandId: campaign.brandId,
    campaignId: campaign.id,
    type,
    data: {
      name: campaign.name,
      budgetCoins: campaign.budgetCoins.toString(),
      matchedCoins: campaign.matchedCoins.toString(),
      giftsMatched: campaign.giftsMatched,
      endsAt: campaign.endsAt.toISOString(),
      ...extra,
    },
  };
}

/**
 * Locks a campaign for a change: its budget account first, then its row, the order the gift path takes
 * them in (it locks the account, then adds to the row's totals), so the two never deadlock.
 */
async function lockCampaign(tx: Tx, campaignId: string): Promise<MatchingCampaign> {
  await tx.$queryRaw`
    SELECT a.id FROM "Account" a JOIN "MatchingCampaign" c ON c."accountId" = a.id WHERE c.id = ${campaignId}::uuid FOR NO KEY UPDATE OF a`;
  const [row] = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM "MatchingCampaign" WHERE id = ${campaignId}::uuid FOR NO KEY UPDATE`;
  if (!row) throw new NotFoundError('Campaign');
  return tx.matchingCampaign.findUniqueOrThrow({ where: { id: campaignId } });
}

/** Moves the campaign's budget from the brand's available coins into an account of its own. */
async function reserve(tx: Tx, campaign: MatchingCampaign): Promise<void> {
  const [brand] = await tx.$queryRaw<{ id: string; balance: bigint }[]>`
    SELECT a.id, a.balance FROM "Account" a JOIN "Brand" b ON b."budgetAccountId" = a.id WHERE b.id = ${campaign.brandId}::uuid FOR NO KEY UPDATE OF a`;
  if (brand!.balance < campaign.budgetCoins) throw new InsufficientBudgetError(campaign.budgetCoins, brand!.balance);
  const account = await tx.account.create({ data: { id: randomUUID(), owner: AccountOwner.CAMPAIGN, code: `campaign:${campaign.id}`, asset: Asset.COIN } });
  const [entryId] = await record(tx, [
    {
      kind: EntryKind.CAMPAIGN_RESERVE,
      memo: `Campaign ${campaign.id} reserved`,
      postings: [
        { accountId: brand!.id, asset: Asset.COIN, amount: -campaign.budgetCoins },
        { accountId: account.id, asset: Asset.COIN, amount: campaign.budgetCoins },
      ],
    },
  ]);
  await tx.matchingCampaign.update({ where: { id: campaign.id }, data: { accountId: account.id, reserveEntryId: entryId } });
}

/**
 * Settles a locked campaign that is due: what its account still holds goes back to the brand, or to the
 * creator as one last match at the published rate (RemainderRule); then it is SETTLED, once. Returns
 * the creator credited, for the caller to announce after commit.
 */
async function settleLocked(tx: Tx, campaign: MatchingCampaign, now: Date): Promise<string | null> {
  if (campaign.settledAt || !campaign.accountId) return null;
  const { balance: remainder } = await tx.account.findUniqueOrThrow({ where: { id: campaign.accountId }, select: { balance: true } });
  let entryId: string | null = null;
  let creditedCreator: string | null = null;
  if (remainder > 0n) {
    const postings: PostingDraft[] = [{ accountId: campaign.accountId, asset: Asset.COIN, amount: -remainder }];
    if (campaign.remainderRule === RemainderRule.RETURN_TO_BRAND) {
      const { budgetAccountId } = await tx.brand.findUniqueOrThrow({ where: { id: campaign.brandId }, select: { budgetAccountId: true } });
      postings.push({ accountId: budgetAccountId, asset: Asset.COIN, amount: remainder });
    } else {
      const diamonds = convertDown(remainder, DIAMONDS_PER_COIN);
      postings.push({ accountId: PLATFORM.coinRevenue, asset: Asset.COIN, amount: remainder });
      if (diamonds > 0n) {
        const creatorDiamonds = (await userAccountIds(tx, [campaign.creatorId], Asset.DIAMOND)).get(campaign.creatorId)!;
        postings.push({ accountId: PLATFORM.diamondIssuance, asset: Asset.DIAMOND, amount: -diamonds }, { accountId: creatorDiamonds, asset: Asset.DIAMOND, amount: diamonds });
      }
      creditedCreator = campaign.creatorId;
    }
    entryId = (await record(tx, [{ kind: EntryKind.CAMPAIGN_REMAINDER, memo: `Campaign ${campaign.id} remainder: ${campaign.remainderRule}`, postings }]))[0]!;
  }
  const settled = await tx.matchingCampaign.update({
    where: { id: campaign.id },
    data: { status: CampaignStatus.SETTLED, settledAt: now, endedAt: campaign.endedAt ?? now, remainderCoins: remainder, remainderEntryId: entryId },
  });
  // Its end by the clock is told here, with the settlement it leads to (an end by the brand was told then).
  await recordBrandEvents(tx, [
    ...(campaign.endedAt === null && campaign.endsAt <= now ? [campaignEvent(settled, BrandEventType.CAMPAIGN_ENDED)] : []),
    campaignEvent(settled, BrandEventType.CAMPAIGN_SETTLED, { remainderCoins: remainder.toString(), remainderRule: campaign.remainderRule }),
  ]);
  return creditedCreator;
}

/** Settles one campaign if it is due (each read or write of a campaign after its end or exhaustion does). */
export async function settleCampaign(db: Database, announcer: Announcer, campaignId: string, now = new Date()): Promise<boolean> {
  const creditedCreator = await transaction(db, async (tx) => {
    const campaign = await lockCampaign(tx, campaignId);
    if (!isDue(campaign, now) || campaign.settledAt) return undefined;
    return settleLocked(tx, campaign, now);
  });
  if (creditedCreator) announcer.walletChanged([creditedCreator]);
  return creditedCreator !== undefined;
}

/** Settles every campaign read here that is due, so that what is shown is settled. */
export async function settledOnRead<T extends MatchingCampaign>(db: Database, announcer: Announcer, campaigns: T[], now = new Date()): Promise<T[]> {
  const due = campaigns.filter((campaign) => !campaign.settledAt && campaign.status !== CampaignStatus.DRAFT && isDue(campaign, now));
  if (due.length === 0) return campaigns;
  for (const campaign of due) await settleCampaign(db, announcer, campaign.id, now);
  const fresh = new Map((await db.matchingCampaign.findMany({ where: { id: { in: due.map((c) => c.id) } } })).map((c) => [c.id, c]));
  return campaigns.map((campaign) => ({ ...campaign, ...fresh.get(campaign.id) }));
}

const SETTLE_BATCH = 100;

/**
 * Housekeeping, on every instance each minute: settles campaigns past their end or exhausted that
 * nobody has read or written since. Safe on many instances at once (each settlement locks its campaign
 * and settles it only if it is still unsettled). Returns how many it settled.
 */
export async function settleDueCampaigns(db: Database, announcer: Announcer, now = new Date()): Promise<number> {
  const due = await db.$queryRaw<{ id: string }[]>`
    SELECT id FROM "MatchingCampaign"
    WHERE status IN ('SCHEDULED', 'ACTIVE', 'PAUSED', 'ENDED') AND ("endsAt" <= ${now}::timestamptz OR status = 'ENDED' OR "matchedCoins" >= "budgetCoins")
    ORDER BY "endsAt" LIMIT ${SETTLE_BATCH}`;
  let settled = 0;
  for (const { id } of due) if (await settleCampaign(db, announcer, id, now)) settled++;
  return settled;
}
