import { campaignState, changeCampaign, createMatchingCampaign, settledOnRead, type CampaignAction } from '../domain/brands/campaigns.js';
import {
  CampaignTransitionError,
  ForbiddenError,
  IdempotencyConflictError,
  MatchRefusedError,
  InsufficientBudgetError,
  NotAuthenticatedError,
  NotFoundError,
  ValidationError,
} from '../domain/errors.js';
import { matchGift } from '../domain/brands/manual-matching.js';
import { CampaignStatus, RemainderRule } from '../generated/prisma/client.js';
import { callerOf, mayOnBrand } from './brands.js';
import { builder } from './builder.js';
import { ErrorInterface } from './errors.js';
import { connectionCost } from './cost.js';
import { idOf } from './ids.js';
import { cashValueOf, CashValue } from './money.js';

const CampaignStateEnum = builder.enumType(CampaignStatus, {
  name: 'CampaignState',
  description:
    'DRAFT (nothing reserved), SCHEDULED (reserved, before its start), ACTIVE (matching), PAUSED, EXHAUSTED (all of the budget matched), ENDED (past its end or ended), SETTLED (the remainder rule applied, once).',
});
const RemainderRuleEnum = builder.enumType(RemainderRule, {
  name: 'RemainderRule',
  description: 'What happens to unmatched budget at settlement: back to the brand, or to the creator (diamonds at the published rate).',
});

builder.objectType(InsufficientBudgetError, {
  name: 'InsufficientBudgetError',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    neededCoins: t.field({ type: 'BigInt', resolve: (error) => BigInt(error.neededCoins) }),
    availableCoins: t.field({ type: 'BigInt', resolve: (error) => BigInt(error.availableCoins) }),
  }),
});
builder.objectType(CampaignTransitionError, {
  name: 'CampaignTransitionError',
  interfaces: [ErrorInterface],
  fields: (t) => ({ state: t.field({ type: CampaignStateEnum, resolve: (error) => error.state as CampaignStatus }) }),
});

export const MatchingCampaignRef = builder.prismaNode('MatchingCampaign', {
  id: { field: 'id' },
  nullable: true,
  description: "A brand's matching campaign on a creator (or one of their live sessions). Its terms and totals are public, as sponsors are.",
  fields: (t) => ({
    name: t.exposeString('name'),
    brand: t.relation('brand'),
    creator: t.relation('creator'),
    liveSession: t.relation('liveSession', { nullable: true, description: 'When the campaign matches in this session only.' }),
    ratioPercent: t.exposeInt('ratioPercent', { description: '100 matches coin for coin; 50 half; 200 double (rounded down).' }),
    perGiftCapCoins: t.expose('perGiftCapCoins', { type: 'BigInt', nullable: true }),
    perViewerCapCoins: t.expose('perViewerCapCoins', { type: 'BigInt', nullable: true }),
    budgetCoins: t.expose('budgetCoins', { type: 'BigInt' }),
    matchedCoins: t.expose('matchedCoins', { type: 'BigInt' }),
    giftsMatched: t.exposeInt('giftsMatched'),
    remainingCoins: t.field({
      type: 'BigInt',
      description: 'Budget not yet matched (0 once settled or before it is reserved).',
      resolve: (campaign) => (campaign.accountId && !campaign.settledAt ? campaign.budgetCoins - campaign.matchedCoins : 0n),
    }),
    startsAt: t.expose('startsAt', { type: 'DateTime' }),
    endsAt: t.expose('endsAt', { type: 'DateTime' }),
    remainderRule: t.expose('remainderRule', { type: RemainderRuleEnum }),
    remainderCoins: t.expose('remainderCoins', { type: 'BigInt', nullable: true, description: 'What settlement did with the remainder (null until settled).' }),
    settledAt: t.expose('settledAt', { type: 'DateTime', nullable: true }),
    state: t.field({ type: CampaignStateEnum, description: 'As of now.', resolve: (campaign) => campaignState(campaign, new Date()) }),
    viewersReached: t.relationCount('viewers', { description: 'Viewers whose gifts it matched.' }),
    creatorsReached: t.int({
      description: 'Creators whose gifts it matched (0 or 1: a campaign is on one creator).',
      resolve: (campaign) => (campaign.giftsMatched > 0 ? 1 : 0),
    }),
  }),
});

builder.prismaObjectField('Brand', 'matches', (t) =>
  t.prismaConnection({
    type: 'GiftMatch',
    cursor: 'id',
    description: "The brand's matches, newest first, of one campaign or all (its people and keys with READ).",
    args: { campaignId: t.arg.id({ required: false }) },
    complexity: connectionCost,
    resolve: async (query, brand, { campaignId }, context) => {
      await mayOnBrand(context, brand.id, 'read');
      return context.db.giftMatch.findMany({
        ...query,
        where: { brandId: brand.id, ...(campaignId ? { campaignId: idOf(campaignId, 'MatchingCampaign', 'campaignId') } : {}) },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      });
    },
  }),
);

builder.prismaObjectField('LiveSession', 'sponsors', (t) =>
  t.prismaField({
    type: ['MatchingCampaign'],
    description: "Brands' campaigns matching gifts in this session now, with their budget left (what an overlay shows), in the order they match.",
    resolve: (query, session, _args, context) => {
      const now = new Date();
      return context.db.matchingCampaign.findMany({
        ...query,
        where: {
          creatorId: session.creatorId,
          OR: [{ liveSessionId: null }, { liveSessionId: session.id }],
          status: { in: [CampaignStatus.SCHEDULED, CampaignStatus.ACTIVE] },
          startsAt: { lte: now },
          endsAt: { gt: now },
          settledAt: null,
        },
        orderBy: [{ endsAt: 'asc' }, { startsAt: 'asc' }, { id: 'asc' }],
        take: 20,
      }).then((campaigns) => campaigns.filter((campaign) => campaign.matchedCoins < campaign.budgetCoins));
    },
  }),
);

export const GiftMatchRef = builder.prismaNode('GiftMatch', {
  id: { field: 'id' },
  nullable: true,
  description: "A brand's match of a gift (or part of it): coins of the campaign's budget, diamonds to the creator at the published rate.",
  fields: (t) => ({
    campaign: t.relation('campaign'),
    brand: t.relation('brand'),
    sentGift: t.relation('sentGift'),
    viewer: t.relation('viewer', { description: 'Who sent the gift.' }),
    creator: t.relation('creator'),
    coins: t.expose('coins', { type: 'BigInt' }),
    diamonds: t.expose('diamonds', { type: 'BigInt' }),
    cashValue: t.field({ type: CashValue, resolve: (match) => cashValueOf(match.diamonds) }),
    manual: t.exposeBoolean('manual', { description: 'Made by matchGift, after the gift, rather than with it.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.prismaObjectField('SentGift', 'matches', (t) =>
  t.relation('matches', { description: "Brands' matches of this gift, in the order they applied.", query: { orderBy: [{ campaign: { endsAt: 'asc' } }, { campaign: { startsAt: 'asc' } }, { campaignId: 'asc' }] } }),
);

builder.prismaObjectField('Brand', 'campaigns', (t) =>
  t.prismaField({
    type: ['MatchingCampaign'],
    description: "The brand's campaigns, newest first (its people and keys with READ).",
    resolve: async (query, brand, _args, context) => {
      await mayOnBrand(context, brand.id, 'read');
      const campaigns = await context.db.matchingCampaign.findMany({ ...query, where: { brandId: brand.id }, orderBy: { createdAt: 'desc' }, take: 100 });
      return settledOnRead(context.db, context.announcer, campaigns);
    },
  }),
);

const CreateMatchingCampaignInput = builder.inputType('CreateMatchingCampaignInput', {
  fields: (t) => ({
    brandId: t.id(),
    name: t.string(),
    creatorId: t.id({ required: false, description: "Match the creator's gifts in any of their live sessions; or give liveSessionId." }),
    liveSessionId: t.id({ required: false, description: 'Match gifts in this live session only.' }),
    ratioPercent: t.int({ description: '100 = 1:1, 50, 200, ... (1-10000).' }),
    perGiftCapCoins: t.field({ type: 'BigInt', required: false, description: 'The most one gift is matched.' }),
    perViewerCapCoins: t.field({ type: 'BigInt', required: false, description: "The most one viewer's gifts are matched in all." }),
    budgetCoins: t.field({ type: 'BigInt', description: "Reserved from the brand's available coins when scheduled or activated." }),
    startsAt: t.field({ type: 'DateTime' }),
    endsAt: t.field({ type: 'DateTime' }),
    remainderRule: t.field({ type: RemainderRuleEnum }),
  }),
});

const CAMPAIGN_ERRORS = [NotAuthenticatedError, ForbiddenError, NotFoundError, ValidationError];

const actionMutation = (action: CampaignAction, description: string) => {
  const name = `${action[0]!.toUpperCase()}${action.slice(1)}MatchingCampaignInput`;
  const input = builder.inputType(name, { fields: (t) => ({ campaignId: t.id() }) });
  return builder.mutationField(`${action}MatchingCampaign`, (t) =>
    t.prismaField({
      type: 'MatchingCampaign',
      description,
      args: { input: t.arg({ type: input }) },
      errors: { types: [...CAMPAIGN_ERRORS, ...(action === 'end' ? [] : [CampaignTransitionError]), ...(action === 'schedule' || action === 'activate' ? [InsufficientBudgetError] : [])] },
      resolve: (_query, _root, { input }, context) =>
        changeCampaign(context.db, context.announcer, callerOf(context), action, { campaignId: idOf(input.campaignId, 'MatchingCampaign', 'campaignId') }),
    }),
  );
};

actionMutation('schedule', "Reserves the budget from the brand's available coins; matching starts at startsAt.");
actionMutation('activate', 'Reserves the budget (if not yet) and starts matching now.');
actionMutation('pause', 'Stops matching until resumed; the budget stays reserved.');
actionMutation('resume', 'Matching again (until endsAt).');
actionMutation('end', 'Ends it now and settles it: the remainder rule applies, once. Ending an ended campaign changes nothing.');

builder.queryFields((t) => ({
  matchingCampaign: t.prismaField({
    type: 'MatchingCampaign',
    nullable: true,
    args: { id: t.arg.id() },
    resolve: async (query, _root, { id }, context) => {
      const campaign = await context.db.matchingCampaign.findUnique({ ...query, where: { id: idOf(id, 'MatchingCampaign', 'id') } });
      return campaign && (await settledOnRead(context.db, context.announcer, [campaign]))[0]!;
    },
  }),
}));

const MatchGiftInput = builder.inputType('MatchGiftInput', {
  fields: (t) => ({
    campaignId: t.id(),
    sentGiftId: t.id(),
    coins: t.field({ type: 'BigInt', required: false, description: "Coins to match; by default what the campaign's ratio gives for the gift, less what it matched of it already." }),
    idempotencyKey: t.string({ description: 'Unique per attempt (within the brand); a retry with the same key returns the first result.' }),
  }),
});

builder.objectType(MatchRefusedError, { name: 'MatchRefusedError', interfaces: [ErrorInterface], fields: () => ({}) });

builder.mutationFields((t) => ({
  matchGift: t.prismaField({
    type: 'GiftMatch',
    description:
      "A brand matches a specific gift (or part of it) from an ACTIVE campaign's budget (a key with MATCH, or its people). The room hears it as a GiftMatchedEvent with a sequence of its own. Refused, changing nothing, outside the campaign's scope, window, caps or budget.",
    args: { input: t.arg({ type: MatchGiftInput }) },
    errors: { types: [...CAMPAIGN_ERRORS, IdempotencyConflictError, MatchRefusedError] },
    resolve: (_query, _root, { input }, context) =>
      matchGift(context.db, context.announcer, callerOf(context), {
        campaignId: idOf(input.campaignId, 'MatchingCampaign', 'campaignId'),
        sentGiftId: idOf(input.sentGiftId, 'SentGift', 'sentGiftId'),
        coins: input.coins,
        idempotencyKey: input.idempotencyKey,
      }),
  }),
  createMatchingCampaign: t.prismaField({
    type: 'MatchingCampaign',
    description: 'A brand drafts a matching campaign (a key with CAMPAIGNS, or its people). Nothing is reserved until it is scheduled or activated.',
    args: { input: t.arg({ type: CreateMatchingCampaignInput }) },
    errors: { types: CAMPAIGN_ERRORS },
    resolve: (_query, _root, { input }, context) =>
      createMatchingCampaign(context.db, callerOf(context), {
        ...input,
        brandId: idOf(input.brandId, 'Brand', 'brandId'),
        creatorId: input.creatorId ? idOf(input.creatorId, 'User', 'creatorId') : null,
        liveSessionId: input.liveSessionId ? idOf(input.liveSessionId, 'LiveSession', 'liveSessionId') : null,
      }),
  }),
}));
