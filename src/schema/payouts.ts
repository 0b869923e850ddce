import { typeBrandKey } from '@pothos/core';
import { encodeGlobalID } from '@pothos/plugin-relay';
import {
  AccountRestrictedError,
  AgeRestrictedError,
  ForbiddenError,
  IdempotencyConflictError,
  InsufficientDiamondsError,
  NotAuthenticatedError,
  NotFoundError,
  OwnPayoutError,
  type OvationError,
  PayoutBelowMinimumError,
  PayoutDailyCapError,
  PayoutHoldError,
  PayoutMethodLockedError,
  PayoutMethodUnverifiedError,
  PayoutOnHoldError,
  PayoutProviderUnavailableError,
  PayoutTransitionError,
  SecondApproverRequiredError,
  ValidationError,
} from '../domain/errors.js';
import { earningsByPeriod, earningsSummary, MAX_PERIODS_PER_PAGE, type EarningsSummary, type PeriodEarnings } from '../domain/payouts/earnings.js';
import {
  approvePayout,
  cancelPayout,
  markPayoutFailed,
  NEXT_STATUSES,
  placePayoutHold,
  rejectPayout,
  releasePayoutHold,
} from '../domain/payouts/lifecycle.js';
import { addPayoutMethod, maskedDestination, removePayoutMethod, verifyPayoutMethod } from '../domain/payouts/methods.js';
import { PAYOUT_CURRENCY, quotePayout, requestPayout, type PayoutQuote } from '../domain/payouts/requests.js';
import { reviewQueue } from '../domain/payouts/review.js';
import { USD_CENTS_PER_DIAMOND } from '../domain/policy.js';
import { hasRole } from '../domain/viewer.js';
import { PayoutActor, PayoutChangeKind, PayoutHoldReason, PayoutMethodKind, PayoutStatus, Role } from '../generated/prisma/client.js';
import { builder } from './builder.js';
import type { Context } from './context.js';
import { connectionCost, itemsCost } from './cost.js';
import { ErrorInterface } from './errors.js';
import { idOf } from './ids.js';
import { cashValueOf, CashValue, Rate } from './money.js';

// Payouts: a creator's earnings, payout methods, quotes and payouts; the operators' review. The rules,
// lifecycle and ledger entries are in src/domain/payouts and docs/payouts.md.

const PayoutStatusEnum = builder.enumType(PayoutStatus, {
  name: 'PayoutStatus',
  description:
    'REQUESTED -> APPROVED | REJECTED | CANCELED; APPROVED -> PROCESSING; PROCESSING -> PAID | FAILED; PAID -> RETURNED. ' +
    'REJECTED, CANCELED, FAILED and RETURNED give the diamonds back.',
});
const PayoutHoldReasonEnum = builder.enumType(PayoutHoldReason, { name: 'PayoutHoldReason', description: 'Why a payout is held.' });
const PayoutMethodKindEnum = builder.enumType(PayoutMethodKind, { name: 'PayoutMethodKind' });
const PayoutActorEnum = builder.enumType(PayoutActor, { name: 'PayoutActor', description: 'Who or what made a change.' });
const PayoutChangeKindEnum = builder.enumType(PayoutChangeKind, { name: 'PayoutChangeKind' });

builder.objectType(PayoutTransitionError, {
  name: 'PayoutTransitionError',
  description: 'The lifecycle has no such move from where the payout is (see `Payout.nextStatuses`). Nothing was changed.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    status: t.field({ type: PayoutStatusEnum, description: 'Where the payout is.', resolve: (error) => error.status as PayoutStatus }),
    attempted: t.field({ type: PayoutStatusEnum, description: 'Where it was asked to go.', resolve: (error) => error.attempted as PayoutStatus }),
  }),
});

builder.objectType(PayoutOnHoldError, {
  name: 'PayoutOnHoldError',
  interfaces: [ErrorInterface],
  fields: (t) => ({ holdReasons: t.field({ type: [PayoutHoldReasonEnum], resolve: (error) => error.holds as PayoutHoldReason[] }) }),
});

const isAdmin = (context: Context) => hasRole(context.viewer, Role.ADMIN);
const ownerOrAdmin = (row: { creatorId: string }, context: Context) => row.creatorId === context.viewer?.userId || isAdmin(context);

export const PayoutMethodRef = builder.prismaNode('PayoutMethod', {
  id: { field: 'id' },
  description: 'Where payouts go: shown masked, to its creator and operators only.',
  authScopes: ownerOrAdmin,
  fields: (t) => ({
    kind: t.expose('kind', { type: PayoutMethodKindEnum }),
    display: t.string({ description: 'The account number or address, masked (e.g. "•••• 6789", "m•••@example.com").', resolve: maskedDestination }),
    holderName: t.exposeString('holderName', { nullable: true, description: 'Bank accounts: the name on the account.' }),
    verified: t.boolean({ description: 'By the payout provider or an operator; payouts need it.', resolve: (method) => method.verifiedAt !== null }),
    verifiedAt: t.expose('verifiedAt', { type: 'DateTime', nullable: true }),
    usableFrom: t.expose('usableFrom', {
      type: 'DateTime',
      description: 'When payouts may use it: a method added or changed while another was verified waits out the cooling-off period.',
    }),
    usable: t.boolean({
      description: 'Verified, not removed, and past its cooling-off period: a payout can be asked for now.',
      resolve: (method) => method.verifiedAt !== null && method.removedAt === null && method.usableFrom <= new Date(),
    }),
    removedAt: t.expose('removedAt', { type: 'DateTime', nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.prismaObject('PayoutHold', {
  description: 'A reason a payout may not move on until an operator releases it.',
  fields: (t) => ({
    reason: t.expose('reason', { type: PayoutHoldReasonEnum }),
    placedAt: t.expose('placedAt', { type: 'DateTime' }),
    placedBySystem: t.boolean({ description: 'Placed by the server (e.g. ACCOUNT_RESTRICTED) rather than an operator.', resolve: (hold) => hold.placedById === null }),
    note: t.string({ nullable: true, description: "The operator's note: operators only.", resolve: (hold, _args, context) => (isAdmin(context) ? hold.note : null) }),
  }),
});

builder.prismaObject('PayoutChange', {
  description: "A line of a payout's history: a move, an approval of two, a hold placed or released.",
  fields: (t) => ({
    kind: t.expose('kind', { type: PayoutChangeKindEnum }),
    fromStatus: t.expose('fromStatus', { type: PayoutStatusEnum, nullable: true }),
    status: t.expose('status', { type: PayoutStatusEnum, description: 'The status after the change.' }),
    holdReason: t.expose('holdReason', { type: PayoutHoldReasonEnum, nullable: true }),
    actor: t.expose('actor', { type: PayoutActorEnum }),
    actorId: t.id({
      nullable: true,
      description: 'The User id of the creator or operator who made it; operators only.',
      resolve: (change, _args, context) => (isAdmin(context) && change.actorId ? encodeGlobalID('User', change.actorId) : null),
    }),
    providerEventId: t.exposeString('providerEventId', { nullable: true, description: "The provider's webhook event that made it." }),
    note: t.string({
      nullable: true,
      description: 'Why: for moves, the reason the payout carries; operators also see their notes on holds and approvals.',
      resolve: (change, _args, context) => (change.kind === PayoutChangeKind.STATUS || isAdmin(context) ? change.note : null),
    }),
    at: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

export const PayoutRef = builder.prismaNode('Payout', {
  id: { field: 'id' },
  description: 'Diamonds cashed out. Its cash amount was fixed when it was asked for; every change is in `history`.',
  // Private: a payout is its creator's and operators' alone (also when found through `node`).
  authScopes: ownerOrAdmin,
  fields: (t) => ({
    status: t.expose('status', { type: PayoutStatusEnum }),
    nextStatuses: t.field({
      type: [PayoutStatusEnum],
      description: 'Where it can go from here (the public lifecycle); empty once it has ended.',
      resolve: (payout) => [...NEXT_STATUSES[payout.status]],
    }),
    diamonds: t.expose('diamonds', { type: 'BigInt', description: 'Held for it, and paid out when PAID.' }),
    amountMinor: t.expose('amountMinor', { type: 'BigInt', description: 'Their cash value, in minor units (US cents).' }),
    feeMinor: t.expose('feeMinor', { type: 'BigInt', description: 'The payout fee, kept from the amount.' }),
    netMinor: t.field({ type: 'BigInt', description: 'What arrives: amount less fee.', resolve: (payout) => payout.amountMinor - payout.feeMinor }),
    currency: t.exposeString('currency', { description: 'ISO 4217.' }),
    method: t.relation('method'),
    creator: t.relation('creator'),
    reason: t.exposeString('reason', { nullable: true, description: "Why it was rejected (the operator's words), failed or was returned." }),
    approvalsNeeded: t.exposeInt('approvalsNeeded', { description: 'Operators who must approve it: 2 above the second-approval amount.' }),
    awaitingSecondApproval: t.boolean({
      description: 'One operator approved it; a second, different one must.',
      resolve: (payout) => payout.status === PayoutStatus.REQUESTED && payout.firstApproverId !== null,
    }),
    holds: t.relation('holds', { description: 'Holds in force: while any is, it does not move on.', query: { where: { releasedAt: null }, orderBy: { placedAt: 'asc' } } }),
    history: t.relation('changes', { description: 'Every change, oldest first.', query: { orderBy: { id: 'asc' } } }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    submittedAt: t.expose('submittedAt', { type: 'DateTime', nullable: true, description: 'When it was sent to the payout provider.' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

/**
 * A refusal as a plain value of its own GraphQL type: graphql-js takes any Error a resolver returns for
 * the field's failure, so the quote lists copies, branded with their type.
 */
const asValue = (error: OvationError): OvationError =>
  Object.assign(Object.create(null) as object, { ...error, code: error.code, message: error.message, [typeBrandKey]: error.constructor }) as OvationError;

const PayoutQuoteRef = builder.objectRef<PayoutQuote>('PayoutQuote').implement({
  description: 'What a payout would be, before you confirm it: the cash amount, the fee, what arrives, and any reason it would be refused.',
  fields: (t) => ({
    askedDiamonds: t.field({ type: 'BigInt', resolve: (quote) => quote.askedDiamonds }),
    diamonds: t.field({ type: 'BigInt', description: 'Held for the payout: as many of those asked for as make whole cents.', resolve: (quote) => quote.diamonds }),
    keptDiamonds: t.field({ type: 'BigInt', description: 'Those that do not make a whole cent: they stay in your balance.', resolve: (quote) => quote.keptDiamonds }),
    amountMinor: t.field({ type: 'BigInt', description: 'Their cash value at the published rate, in US cents.', resolve: (quote) => quote.amountCents }),
    feeMinor: t.field({ type: 'BigInt', resolve: (quote) => quote.feeCents }),
    netMinor: t.field({ type: 'BigInt', description: 'What arrives.', resolve: (quote) => quote.netCents }),
    currency: t.string({ resolve: (quote) => quote.currency }),
    method: t.field({ type: PayoutMethodRef, nullable: true, resolve: (quote) => quote.method }),
    approvalsNeeded: t.int({ description: 'Operators who must approve it; 0 when it would be approved automatically.', resolve: (quote) => quote.approvalsNeeded }),
    refusals: t.field({
      type: [ErrorInterface],
      description: 'Every reason `requestPayout` would refuse it now, in the order it checks them; empty when it would go through.',
      resolve: (quote) => quote.refusals.map(asValue),
    }),
  }),
});

const DiamondsValue = builder.objectRef<{ diamonds: bigint }>('DiamondsValue').implement({
  description: 'Diamonds and their cash value at the published rate.',
  fields: (t) => ({
    diamonds: t.field({ type: 'BigInt', resolve: ({ diamonds }) => diamonds }),
    cashValue: t.field({ type: CashValue, resolve: ({ diamonds }) => cashValueOf(diamonds) }),
  }),
});

const EarningsIntervalEnum = builder.enumType('EarningsInterval', {
  values: {
    DAY: { description: 'A UTC day.' },
    WEEK: { description: 'An ISO week, Monday to Sunday (UTC).' },
    MONTH: { description: 'A calendar month (UTC).' },
  },
});

const PeriodEarningsRef = builder.objectRef<PeriodEarnings>('PeriodEarnings').implement({
  description: 'Diamonds earned from gifts in one day, week or month.',
  fields: (t) => ({
    interval: t.field({ type: EarningsIntervalEnum, resolve: (period) => period.interval }),
    startsOn: t.field({ type: 'Date', resolve: (period) => period.startsOn }),
    endsBefore: t.field({ type: 'Date', resolve: (period) => period.endsBefore }),
    diamonds: t.field({ type: 'BigInt', resolve: (period) => period.diamonds }),
    cashValue: t.field({ type: CashValue, resolve: (period) => cashValueOf(period.diamonds) }),
    gifts: t.int({ description: 'Gifts received (a combo counts once).', resolve: (period) => period.gifts }),
  }),
});

/** Periods a page of `byPeriod` lists when `first` does not say. */
const PERIODS_PAGE = 30;

const Earnings = builder.objectRef<EarningsSummary & { creatorId: string }>('Earnings').implement({
  description: "The signed-in creator's diamonds: where they are, and where they came from.",
  fields: (t) => ({
    available: t.field({ type: DiamondsValue, description: 'In your balance: what a payout can take.', resolve: (earnings) => ({ diamonds: earnings.available }) }),
    held: t.field({ type: DiamondsValue, description: 'Held by payouts in progress (requested, approved, processing).', resolve: (earnings) => ({ diamonds: earnings.held }) }),
    lifetimeEarned: t.field({ type: DiamondsValue, description: 'Earned from gifts, ever.', resolve: (earnings) => ({ diamonds: earnings.lifetimeEarned }) }),
    lifetimePaidOut: t.field({ type: DiamondsValue, description: 'Paid out (and not returned), ever.', resolve: (earnings) => ({ diamonds: earnings.lifetimePaidOut }) }),
    byPeriod: t.connection({
      type: PeriodEarningsRef,
      description: 'Earnings per day, week or month, newest first, from the current one back to that of your first gift (empty periods included).',
      args: { interval: t.arg({ type: EarningsIntervalEnum }) },
      // Only `first` pages it (`last` is refused), and more than the most a page holds is refused too.
      complexity: ({ first }) => itemsCost(Math.min(first ?? PERIODS_PAGE, MAX_PERIODS_PER_PAGE)),
      resolve: async ({ creatorId }, { interval, first, after, last, before }, context) => {
        if (last != null || before != null) throw new ValidationError([{ field: 'last', message: 'pages go back in time: use first and after' }]);
        const since = after ? new Date(after) : undefined;
        if (since && Number.isNaN(since.getTime())) throw new ValidationError([{ field: 'after', message: 'is not a cursor from this list' }]);
        const { periods, hasMore } = await earningsByPeriod(context.db, creatorId, interval, { first: first ?? PERIODS_PAGE, before: since });
        const edges = periods.map((period) => ({ cursor: period.startsOn.toISOString().slice(0, 10), node: period }));
        return {
          edges,
          pageInfo: { hasNextPage: hasMore, hasPreviousPage: !!after, startCursor: edges[0]?.cursor ?? null, endCursor: edges.at(-1)?.cursor ?? null },
        };
      },
    }),
    byLiveSession: t.prismaConnection({
      type: 'LiveSession',
      cursor: 'id',
      description: 'Your live sessions, newest first, each with the diamonds it earned (`totalDiamonds`, `totalCashValue`).',
      complexity: connectionCost,
      resolve: (query, { creatorId }, _args, context) =>
        context.db.liveSession.findMany({ ...query, where: { creatorId }, orderBy: [{ startedAt: 'desc' }, { id: 'desc' }] }),
    }),
  }),
});

const PayoutRules = builder.objectRef<object>('PayoutRules').implement({
  description: 'The published payout rules: nothing about cashing out is hidden.',
  fields: (t) => ({
    currency: t.string({ resolve: () => PAYOUT_CURRENCY }),
    usdCentsPerDiamond: t.field({ type: Rate, resolve: () => USD_CENTS_PER_DIAMOND }),
    minimumDiamonds: t.field({ type: 'BigInt', resolve: (_rules, _args, context) => context.policy.payouts.minimumDiamonds }),
    dailyCapMinor: t.field({ type: 'BigInt', description: 'Per creator and UTC day.', resolve: (_rules, _args, context) => context.policy.payouts.dailyCapCents }),
    feeMinor: t.field({ type: 'BigInt', resolve: (_rules, _args, context) => context.policy.payouts.feeCents }),
    autoApproveMaxMinor: t.field({
      type: 'BigInt',
      nullable: true,
      description: 'Payouts up to this are approved without an operator when nothing holds them; null: every payout is reviewed.',
      resolve: (_rules, _args, context) => context.policy.payouts.autoApproveMaxCents,
    }),
    secondApprovalAboveMinor: t.field({
      type: 'BigInt',
      description: 'Payouts above this need two different operators.',
      resolve: (_rules, _args, context) => context.policy.payouts.secondApprovalAboveCents,
    }),
    methodCoolingOffHours: t.float({ resolve: (_rules, _args, context) => context.policy.payouts.methodCoolingOffMs / 3600_000 }),
  }),
});

const PayoutQueueFilter = builder.inputType('PayoutQueueFilter', {
  fields: (t) => ({
    statuses: t.field({ type: [PayoutStatusEnum], required: false, description: 'Default: REQUESTED (waiting for an operator).' }),
    creatorId: t.id({ required: false }),
    minAmountMinor: t.field({ type: 'BigInt', required: false }),
    maxAmountMinor: t.field({ type: 'BigInt', required: false }),
    requestedBefore: t.field({ type: 'DateTime', required: false, description: 'Older than this.' }),
    requestedAfter: t.field({ type: 'DateTime', required: false }),
    held: t.boolean({ required: false, description: 'Only payouts with (true) or without (false) a hold in force.' }),
  }),
});

builder.queryFields((t) => ({
  earnings: t.field({
    type: Earnings,
    authScopes: { role: Role.CREATOR },
    resolve: async (_root, _args, context) => ({ creatorId: context.viewer!.userId, ...(await earningsSummary(context.db, context.viewer!.userId)) }),
  }),
  payoutRules: t.field({ type: PayoutRules, resolve: () => ({}) }),
  payoutMethods: t.prismaField({
    type: ['PayoutMethod'],
    description: 'Your payout methods, oldest first (removed ones left out).',
    authScopes: { role: Role.CREATOR },
    resolve: (query, _root, _args, context) =>
      context.db.payoutMethod.findMany({ ...query, where: { creatorId: context.viewer!.userId, removedAt: null }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] }),
  }),
  payoutQuote: t.field({
    type: PayoutQuoteRef,
    description: 'What a payout of `diamonds` to a method would be: the cash amount, the fee, what arrives, and any reason it would be refused. Changes nothing.',
    args: { diamonds: t.arg({ type: 'BigInt' }), methodId: t.arg.id() },
    authScopes: { role: Role.CREATOR },
    errors: { types: [NotAuthenticatedError, ForbiddenError, ValidationError] },
    resolve: (_root, { diamonds, methodId }, context) =>
      quotePayout(context.payouts, context.viewer!.userId, { diamonds, methodId: idOf(methodId, 'PayoutMethod', 'methodId') }),
  }),
  payouts: t.prismaConnection({
    type: 'Payout',
    cursor: 'id',
    description: 'Your payouts, newest first.',
    complexity: connectionCost,
    authScopes: { role: Role.CREATOR },
    resolve: (query, _root, _args, context) =>
      context.db.payout.findMany({ ...query, where: { creatorId: context.viewer!.userId }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] }),
  }),
  payoutReviewQueue: t.prismaConnection({
    type: 'Payout',
    cursor: 'id',
    description: 'Operators: payouts to review, oldest first; by default those waiting for an operator.',
    complexity: connectionCost,
    authScopes: { role: Role.ADMIN },
    args: { filter: t.arg({ type: PayoutQueueFilter, required: false }) },
    resolve: (query, _root, { filter }, context) => {
      const queue = reviewQueue({
        statuses: filter?.statuses ?? undefined,
        creatorId: filter?.creatorId ? idOf(filter.creatorId, 'User', 'filter.creatorId') : undefined,
        minAmountCents: filter?.minAmountMinor ?? undefined,
        maxAmountCents: filter?.maxAmountMinor ?? undefined,
        requestedBefore: filter?.requestedBefore ?? undefined,
        requestedAfter: filter?.requestedAfter ?? undefined,
        held: filter?.held ?? undefined,
      });
      return context.db.payout.findMany({ ...query, ...queue });
    },
  }),
}));

const BankAccountInput = builder.inputType('BankAccountInput', {
  description: 'A US bank account.',
  fields: (t) => ({
    holderName: t.string({ description: 'The name on the account.' }),
    routingNumber: t.string({ description: 'The 9-digit ABA routing number.' }),
    accountNumber: t.string({ description: 'Shown only masked once stored.' }),
  }),
});

const EmailWalletInput = builder.inputType('EmailWalletInput', {
  description: "A wallet paid by e-mail address (the sandbox's test addresses are in the README).",
  fields: (t) => ({ email: t.string() }),
});

const StripeAccountInput = builder.inputType('StripeAccountInput', {
  description: "The creator's Stripe Connect connected account (PAYMENT_PROVIDER=stripe): verified once Stripe says it can receive payouts.",
  fields: (t) => ({ accountId: t.string({ description: 'acct_...' }) }),
});

const AddPayoutMethodInput = builder.inputType('AddPayoutMethodInput', {
  description: 'Exactly one of them; which the server accepts depends on its payout provider.',
  fields: (t) => ({
    bankAccount: t.field({ type: BankAccountInput, required: false }),
    emailWallet: t.field({ type: EmailWalletInput, required: false }),
    stripeAccount: t.field({ type: StripeAccountInput, required: false }),
  }),
});

const PayoutMethodIdInput = (name: string) => builder.inputType(name, { fields: (t) => ({ methodId: t.id() }) });

const RequestPayoutInput = builder.inputType('RequestPayoutInput', {
  fields: (t) => ({
    diamonds: t.field({ type: 'BigInt', description: 'As quoted by `payoutQuote`: those that do not make a whole cent stay with you.' }),
    methodId: t.id(),
    idempotencyKey: t.string({ description: 'Unique per payout; a retry with the same key returns the first result.' }),
  }),
});

const decisionInput = (name: string) =>
  builder.inputType(name, {
    fields: (t) => ({
      payoutId: t.id(),
      idempotencyKey: t.string({ description: 'Unique per decision; a retry with the same key returns the first result.' }),
    }),
  });

const CancelPayoutInput = decisionInput('CancelPayoutInput');
const ApprovePayoutInput = decisionInput('ApprovePayoutInput');
const RejectPayoutInput = builder.inputType('RejectPayoutInput', {
  fields: (t) => ({
    payoutId: t.id(),
    reason: t.string({ description: 'Kept with the payout; the creator sees it.' }),
    idempotencyKey: t.string({ description: 'Unique per decision; a retry with the same key returns the first result.' }),
  }),
});
const MarkPayoutFailedInput = builder.inputType('MarkPayoutFailedInput', {
  fields: (t) => ({
    payoutId: t.id(),
    reason: t.string({ description: 'What the provider said; the creator sees it.' }),
    idempotencyKey: t.string({ description: 'Unique per decision; a retry with the same key returns the first result.' }),
  }),
});

const holdInput = (name: string, note: string) =>
  builder.inputType(name, {
    fields: (t) => ({
      payoutId: t.id(),
      reason: t.field({ type: PayoutHoldReasonEnum }),
      note: t.string({ required: false, description: note }),
    }),
  });

const ACCOUNT = [NotAuthenticatedError, ForbiddenError, ValidationError];

builder.mutationFields((t) => ({
  addPayoutMethod: t.field({
    type: PayoutMethodRef,
    description:
      'Registers where your payouts go; it must be verified before use. Once you have a verified method, a new one waits out the cooling-off period. To change a method, add the new one and remove the old.',
    args: { input: t.arg({ type: AddPayoutMethodInput }) },
    authScopes: { role: Role.CREATOR },
    errors: { types: [...ACCOUNT, PayoutProviderUnavailableError] },
    resolve: (_root, { input }, context) =>
      addPayoutMethod(context.payouts, context.viewer!.userId, { bankAccount: input.bankAccount ?? undefined, emailWallet: input.emailWallet ?? undefined, stripeAccount: input.stripeAccount ?? undefined }),
  }),
  removePayoutMethod: t.field({
    type: PayoutMethodRef,
    description: 'No new payout can use it; payouts already asked for still pay to it.',
    args: { input: t.arg({ type: PayoutMethodIdInput('RemovePayoutMethodInput') }) },
    authScopes: { role: Role.CREATOR },
    errors: { types: [...ACCOUNT, NotFoundError] },
    resolve: (_root, { input }, context) =>
      removePayoutMethod(context.payouts, context.viewer!.userId, { methodId: idOf(input.methodId, 'PayoutMethod', 'methodId') }),
  }),
  verifyPayoutMethod: t.field({
    type: PayoutMethodRef,
    description: "Operators: verifies a creator's payout method (as the payout provider's callback does). Not your own.",
    args: { input: t.arg({ type: PayoutMethodIdInput('VerifyPayoutMethodInput') }) },
    authScopes: { role: Role.ADMIN },
    errors: { types: [...ACCOUNT, NotFoundError, OwnPayoutError] },
    resolve: (_root, { input }, context) =>
      verifyPayoutMethod(context.payouts, context.viewer!.userId, { methodId: idOf(input.methodId, 'PayoutMethod', 'methodId') }),
  }),
  requestPayout: t.field({
    type: PayoutRef,
    description:
      'Cashes out diamonds as `payoutQuote` shows: they move to the payout hold and the cash amount is fixed. Reviewed by an operator (or approved automatically up to the published amount), then sent.',
    args: { input: t.arg({ type: RequestPayoutInput }) },
    authScopes: { role: Role.CREATOR },
    errors: {
      types: [
        ...ACCOUNT,
        NotFoundError,
        IdempotencyConflictError,
        AgeRestrictedError,
        AccountRestrictedError,
        PayoutMethodUnverifiedError,
        PayoutMethodLockedError,
        PayoutBelowMinimumError,
        PayoutDailyCapError,
        InsufficientDiamondsError,
        PayoutProviderUnavailableError,
      ],
    },
    resolve: (_root, { input }, context) =>
      requestPayout(context.payouts, context.viewer!.userId, {
        diamonds: input.diamonds,
        methodId: idOf(input.methodId, 'PayoutMethod', 'methodId'),
        idempotencyKey: input.idempotencyKey,
      }),
  }),
  cancelPayout: t.field({
    type: PayoutRef,
    description: 'Calls off your payout while it is REQUESTED: its diamonds come back.',
    args: { input: t.arg({ type: CancelPayoutInput }) },
    authScopes: { role: Role.CREATOR },
    errors: { types: [...ACCOUNT, NotFoundError, IdempotencyConflictError, PayoutTransitionError] },
    resolve: (_root, { input }, context) =>
      cancelPayout(context.payouts, context.viewer!.userId, { payoutId: idOf(input.payoutId, 'Payout', 'payoutId'), idempotencyKey: input.idempotencyKey }),
  }),
  approvePayout: t.field({
    type: PayoutRef,
    description:
      'Operators: approves a REQUESTED payout nothing holds, which is then sent at once. Above the second-approval amount, two different operators must approve; nobody approves their own.',
    args: { input: t.arg({ type: ApprovePayoutInput }) },
    authScopes: { role: Role.ADMIN },
    errors: {
      types: [
        ...ACCOUNT,
        NotFoundError,
        IdempotencyConflictError,
        PayoutTransitionError,
        PayoutOnHoldError,
        OwnPayoutError,
        SecondApproverRequiredError,
        AccountRestrictedError,
      ],
    },
    resolve: (_root, { input }, context) =>
      approvePayout(context.payouts, context.viewer!.userId, { payoutId: idOf(input.payoutId, 'Payout', 'payoutId'), idempotencyKey: input.idempotencyKey }),
  }),
  rejectPayout: t.field({
    type: PayoutRef,
    description: 'Operators: turns down a REQUESTED payout, saying why; its diamonds go back to the creator.',
    args: { input: t.arg({ type: RejectPayoutInput }) },
    authScopes: { role: Role.ADMIN },
    errors: { types: [...ACCOUNT, NotFoundError, IdempotencyConflictError, PayoutTransitionError, OwnPayoutError] },
    resolve: (_root, { input }, context) =>
      rejectPayout(context.payouts, context.viewer!.userId, {
        payoutId: idOf(input.payoutId, 'Payout', 'payoutId'),
        reason: input.reason,
        idempotencyKey: input.idempotencyKey,
      }),
  }),
  markPayoutFailed: t.field({
    type: PayoutRef,
    description: 'Operators: records that a PROCESSING payout failed, as the provider told you; its diamonds go back to the creator.',
    args: { input: t.arg({ type: MarkPayoutFailedInput }) },
    authScopes: { role: Role.ADMIN },
    errors: { types: [...ACCOUNT, NotFoundError, IdempotencyConflictError, PayoutTransitionError, OwnPayoutError] },
    resolve: (_root, { input }, context) =>
      markPayoutFailed(context.payouts, context.viewer!.userId, {
        payoutId: idOf(input.payoutId, 'Payout', 'payoutId'),
        reason: input.reason,
        idempotencyKey: input.idempotencyKey,
      }),
  }),
  placePayoutHold: t.field({
    type: PayoutRef,
    description: 'Operators: holds a REQUESTED or APPROVED payout until released. The creator sees the reason.',
    args: { input: t.arg({ type: holdInput('PlacePayoutHoldInput', 'For operators; the creator sees the reason only.') }) },
    authScopes: { role: Role.ADMIN },
    errors: { types: [...ACCOUNT, NotFoundError, PayoutHoldError, OwnPayoutError] },
    resolve: (_root, { input }, context) =>
      placePayoutHold(context.payouts, context.viewer!.userId, { payoutId: idOf(input.payoutId, 'Payout', 'payoutId'), reason: input.reason, note: input.note ?? undefined }),
  }),
  releasePayoutHold: t.field({
    type: PayoutRef,
    description: 'Operators: releases a hold. With none left, the payout goes on: approved automatically if it qualifies, sent if it was approved.',
    args: { input: t.arg({ type: holdInput('ReleasePayoutHoldInput', 'For operators: why it was released.') }) },
    authScopes: { role: Role.ADMIN },
    errors: { types: [...ACCOUNT, NotFoundError, OwnPayoutError] },
    resolve: (_root, { input }, context) =>
      releasePayoutHold(context.payouts, context.viewer!.userId, { payoutId: idOf(input.payoutId, 'Payout', 'payoutId'), reason: input.reason, note: input.note ?? undefined }),
  }),
}));

builder.subscriptionFields((t) => ({
  payoutUpdated: t.field({
    type: PayoutRef,
    description: 'Your payouts, each time one changes (status, approval, hold), after the change committed.',
    authScopes: { signedIn: true },
    subscribe: (_root, _args, context) => context.pubsub.subscribe('payoutUpdated', context.viewer!.userId),
    resolve: ({ payoutId }, _args, context) => context.db.payout.findUniqueOrThrow({ where: { id: payoutId } }),
  }),
}));
