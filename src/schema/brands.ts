import { authorizeBrand, type BrandCaller, type BrandNeed } from '../domain/brands/access.js';
import { createApiKey, createBrand, removeBrandMember, revokeApiKey, rotateApiKey, setBrandMember, type IssuedApiKey } from '../domain/brands/brands.js';
import { brandBudget, coinsCalledBack, fundBrandBudget, recordInvoicePayment, type BrandBudget } from '../domain/brands/budgets.js';
import {
  BundleUnavailableError,
  ForbiddenError,
  IdempotencyConflictError,
  IdempotencyInProgressError,
  NotAuthenticatedError,
  NotFoundError,
  PaymentDeclinedError,
  PaymentProviderUnavailableError,
  ValidationError,
} from '../domain/errors.js';
import { ApiKeyScope, BrandFundingSource, BrandFundingStatus, BrandRole, DisputeStatus, Role } from '../generated/prisma/client.js';
import { connectionCost } from './cost.js';
import { EntryKindEnum } from './wallet.js';
import { builder } from './builder.js';
import type { Context } from './context.js';
import { OPERATOR_ERRORS } from './errors.js';
import { globalId, idOf } from './ids.js';

export const callerOf = (context: Context): BrandCaller => ({ viewer: context.viewer, brandKey: context.brandKey ?? null });

/** Checks, for a field of a brand, that the caller may see it. */
export const mayOnBrand = (context: Context, brandId: string, need: BrandNeed) => authorizeBrand(context.db, callerOf(context), brandId, need);

const BrandRoleEnum = builder.enumType(BrandRole, { name: 'BrandRole' });
export const ApiKeyScopeEnum = builder.enumType(ApiKeyScope, {
  name: 'ApiKeyScope',
  description: 'What a key may do: READ (the brand, its budget and campaigns), CAMPAIGNS (create and run them), MATCH (matchGift), FUNDS (fund the budget).',
});

const BrandMemberRef = builder.prismaObject('BrandMember', {
  fields: (t) => ({
    user: t.relation('user'),
    role: t.expose('role', { type: BrandRoleEnum }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

// Not a Node: `node(id:)` must not show a brand's keys to anyone who guesses an id.
export const ApiKeyRef = builder.prismaObject('ApiKey', {
  description: 'A brand API key. Its secret was shown once, when it was made; `displayPrefix` tells keys apart.',
  fields: (t) => ({
    id: t.id({ resolve: (key) => globalId('ApiKey', key.id) }),
    name: t.exposeString('name'),
    displayPrefix: t.exposeString('displayPrefix', { description: 'The key\'s first characters (`ovbk_` and 8 more).' }),
    scopes: t.expose('scopes', { type: [ApiKeyScopeEnum] }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    replacedBy: t.relation('replacedBy', { nullable: true, description: 'The key made by rotating this one.' }),
  }),
});

export const BrandRef = builder.prismaNode('Brand', {
  id: { field: 'id' },
  nullable: true,
  description: 'A partner brand that matches gifts. Its members, keys, budget and campaigns are for its own people (and its keys).',
  fields: (t) => ({
    name: t.exposeString('name'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    members: t.relation('members', {
      description: 'Members and their roles (the brand\'s people only).',
      query: { orderBy: { createdAt: 'asc' } },
      resolve: async (query, brand, _args, context) => {
        await mayOnBrand(context, brand.id, 'read');
        return context.db.brandMember.findMany({ ...query, where: { brandId: brand.id }, orderBy: { createdAt: 'asc' } });
      },
    }),
    budget: t.field({
      type: BrandBudgetRef,
      description: "The brand's coins (its people and keys with READ).",
      resolve: async (brand, _args, context) => {
        await mayOnBrand(context, brand.id, 'read');
        return brandBudget(context.db, brand.id);
      },
    }),
    fundings: t.relation('fundings', {
      description: 'Fundings, newest first.',
      resolve: async (query, brand, _args, context) => {
        await mayOnBrand(context, brand.id, 'read');
        return context.db.brandFunding.findMany({ ...query, where: { brandId: brand.id }, orderBy: { createdAt: 'desc' }, take: 100 });
      },
    }),
    apiKeys: t.relation('apiKeys', {
      description: 'Every key, newest first (owners only).',
      resolve: async (query, brand, _args, context) => {
        await mayOnBrand(context, brand.id, 'manage');
        return context.db.apiKey.findMany({ ...query, where: { brandId: brand.id }, orderBy: { createdAt: 'desc' } });
      },
    }),
  }),
});

const BrandFundingSourceEnum = builder.enumType(BrandFundingSource, { name: 'BrandFundingSource' });
const BrandFundingStatusEnum = builder.enumType(BrandFundingStatus, { name: 'BrandFundingStatus' });
const DisputeStatusEnum = builder.enumType(DisputeStatus, { name: 'DisputeStatus' });

export const BrandFundingRef = builder.prismaObject('BrandFunding', {
  description: "Coins added to a brand's budget: paid through the payment provider, or an invoice an operator recorded.",
  fields: (t) => ({
    id: t.id({ resolve: (funding) => globalId('BrandFunding', funding.id) }),
    source: t.expose('source', { type: BrandFundingSourceEnum }),
    status: t.expose('status', { type: BrandFundingStatusEnum, description: 'Coins are credited once, when it SUCCEEDED.' }),
    coins: t.expose('coins', { type: 'BigInt' }),
    amountMinor: t.expose('amountMinor', { type: 'BigInt' }),
    currency: t.exposeString('currency'),
    invoiceReference: t.exposeString('invoiceReference', { nullable: true }),
    refundedMinor: t.expose('refundedMinor', { type: 'BigInt', description: 'Refunded so far at the payment provider.' }),
    dispute: t.expose('dispute', { type: DisputeStatusEnum, nullable: true, description: 'A dispute of the payment, if any: open, won or lost.' }),
    takenBackCoins: t.expose('takenBackCoins', { type: 'BigInt', description: "Coins its refunds and dispute took back from the brand's available budget (a won dispute gives them back)." }),
    owedCoins: t.field({
      type: 'BigInt',
      description: "Coins its refunds and dispute called back that the brand's available budget could not cover (its campaigns held them): settled with an operator.",
      resolve: (funding) => coinsCalledBack(funding) - funding.takenBackCoins,
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

const BudgetActivity = builder.prismaObject('Posting', {
  variant: 'BudgetActivity',
  description: "One line of a brand's budget history: coins in (fundings, remainders returned) or out (reserved for campaigns).",
  fields: (t) => ({
    amount: t.expose('amount', { type: 'BigInt', description: 'Signed: positive in, negative out.' }),
    kind: t.field({ type: EntryKindEnum, select: { entry: { select: { kind: true } } }, resolve: (posting) => posting.entry.kind }),
    memo: t.string({ select: { entry: { select: { memo: true } } }, resolve: (posting) => posting.entry.memo }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

const BrandBudgetRef = builder.objectRef<BrandBudget>('BrandBudget').implement({
  description: "A brand's coins: available to commit, and reserved for campaigns not yet settled.",
  fields: (t) => ({
    availableCoins: t.field({ type: 'BigInt', resolve: (budget) => budget.availableCoins }),
    reservedCoins: t.field({ type: 'BigInt', resolve: (budget) => budget.reservedCoins }),
    totalCoins: t.field({ type: 'BigInt', resolve: (budget) => budget.availableCoins + budget.reservedCoins }),
    history: t.prismaConnection({
      type: BudgetActivity,
      cursor: 'id',
      description: 'Every movement of the available coins, newest first.',
      complexity: connectionCost,
      resolve: (query, budget, _args, context) => context.db.posting.findMany({ ...query, where: { accountId: budget.budgetAccountId }, orderBy: { id: 'desc' } }),
    }),
  }),
});

const IssuedApiKeyRef = builder.objectRef<IssuedApiKey>('IssuedApiKey').implement({
  description: 'A new API key with its secret: shown this once and never again. Store it in your secret manager.',
  fields: (t) => ({
    apiKey: t.field({ type: ApiKeyRef, resolve: (issued) => issued.apiKey }),
    secret: t.exposeString('secret', { description: 'Send it as `Authorization: Bearer <secret>`.' }),
  }),
});

const CreateBrandInput = builder.inputType('CreateBrandInput', {
  fields: (t) => ({ name: t.string(), ownerId: t.id({ description: 'The user who becomes its first owner.' }) }),
});
const SetBrandMemberInput = builder.inputType('SetBrandMemberInput', {
  fields: (t) => ({ brandId: t.id(), userId: t.id(), role: t.field({ type: BrandRoleEnum }) }),
});
const RemoveBrandMemberInput = builder.inputType('RemoveBrandMemberInput', { fields: (t) => ({ brandId: t.id(), userId: t.id() }) });
const CreateApiKeyInput = builder.inputType('CreateApiKeyInput', {
  fields: (t) => ({
    brandId: t.id(),
    name: t.string({ description: 'What it is for, e.g. "production back-end".' }),
    scopes: t.field({ type: [ApiKeyScopeEnum] }),
    expiresAt: t.field({ type: 'DateTime', required: false, description: 'When it stops working; never when left out.' }),
  }),
});
const RotateApiKeyInput = builder.inputType('RotateApiKeyInput', {
  fields: (t) => ({
    apiKeyId: t.id(),
    oldKeyExpiresAt: t.field({ type: 'DateTime', description: 'Until when the old key keeps working (now or later).' }),
  }),
});
const RevokeApiKeyInput = builder.inputType('RevokeApiKeyInput', { fields: (t) => ({ apiKeyId: t.id() }) });

const FundBrandBudgetInput = builder.inputType('FundBrandBudgetInput', {
  fields: (t) => ({
    brandId: t.id(),
    bundleId: t.id({ description: 'A coin bundle, bought at its DEFAULT price.' }),
    quantity: t.int({ defaultValue: 1, description: 'How many of the bundle (1-1000).' }),
    paymentMethod: t.string({ description: 'From the payment provider; sandbox: pm_sandbox_success, pm_sandbox_declined.' }),
    idempotencyKey: t.string({ description: "Unique per attempt (within the brand); a retry with the same key returns the first result." }),
  }),
});
const RecordBrandInvoicePaymentInput = builder.inputType('RecordBrandInvoicePaymentInput', {
  fields: (t) => ({
    brandId: t.id(),
    coins: t.field({ type: 'BigInt', description: 'Coins credited to the budget.' }),
    amountMinor: t.field({ type: 'BigInt', description: 'What the invoice was paid, in minor units.' }),
    currency: t.string(),
    invoiceReference: t.string(),
    idempotencyKey: t.string(),
  }),
});

builder.queryFields((t) => ({
  brand: t.prismaField({
    type: 'Brand',
    nullable: true,
    args: { id: t.arg.id() },
    resolve: (query, _root, { id }, context) => context.db.brand.findUnique({ ...query, where: { id: idOf(id, 'Brand', 'id') } }),
  }),
  myBrands: t.prismaField({
    type: ['Brand'],
    description: 'The brands you are a member of.',
    authScopes: { signedIn: true },
    resolve: (query, _root, _args, context) =>
      context.db.brand.findMany({ ...query, where: { members: { some: { userId: context.viewer!.userId } } }, orderBy: { name: 'asc' } }),
  }),
  currentBrand: t.prismaField({
    type: 'Brand',
    nullable: true,
    description: "The brand the request's API key speaks for; null without one.",
    resolve: (query, _root, _args, context) =>
      context.brandKey ? context.db.brand.findUnique({ ...query, where: { id: context.brandKey.brandId } }) : null,
  }),
}));

const BRAND_ERRORS = [NotAuthenticatedError, ForbiddenError, NotFoundError, ValidationError];

builder.mutationFields((t) => ({
  createBrand: t.prismaField({
    type: 'Brand',
    description: 'Operators create a brand and its first owner.',
    args: { input: t.arg({ type: CreateBrandInput }) },
    authScopes: { role: Role.ADMIN },
    errors: { types: [...OPERATOR_ERRORS, NotFoundError, ValidationError] },
    resolve: (_query, _root, { input }, context) => createBrand(context.db, { name: input.name, ownerId: idOf(input.ownerId, 'User', 'ownerId') }),
  }),
  setBrandMember: t.prismaField({
    type: 'BrandMember',
    description: "A brand's owner adds a member or changes a member's role.",
    args: { input: t.arg({ type: SetBrandMemberInput }) },
    errors: { types: BRAND_ERRORS },
    resolve: (_query, _root, { input }, context) =>
      setBrandMember(context.db, callerOf(context), { brandId: idOf(input.brandId, 'Brand', 'brandId'), userId: idOf(input.userId, 'User', 'userId'), role: input.role }),
  }),
  removeBrandMember: t.prismaField({
    type: 'Brand',
    description: "A brand's owner removes a member; the last owner stays.",
    args: { input: t.arg({ type: RemoveBrandMemberInput }) },
    errors: { types: BRAND_ERRORS },
    resolve: (_query, _root, { input }, context) =>
      removeBrandMember(context.db, callerOf(context), { brandId: idOf(input.brandId, 'Brand', 'brandId'), userId: idOf(input.userId, 'User', 'userId') }),
  }),
  createApiKey: t.field({
    type: IssuedApiKeyRef,
    description: "A brand's owner makes an API key. The secret is in this answer only.",
    args: { input: t.arg({ type: CreateApiKeyInput }) },
    errors: { types: BRAND_ERRORS },
    resolve: (_root, { input }, context) =>
      createApiKey(context.db, callerOf(context), { brandId: idOf(input.brandId, 'Brand', 'brandId'), name: input.name, scopes: input.scopes, expiresAt: input.expiresAt }),
  }),
  rotateApiKey: t.field({
    type: IssuedApiKeyRef,
    description: 'A new key with the same name and scopes; the old one works until `oldKeyExpiresAt`.',
    args: { input: t.arg({ type: RotateApiKeyInput }) },
    errors: { types: BRAND_ERRORS },
    resolve: (_root, { input }, context) =>
      rotateApiKey(context.db, callerOf(context), { apiKeyId: idOf(input.apiKeyId, 'ApiKey', 'apiKeyId'), oldKeyExpiresAt: input.oldKeyExpiresAt }),
  }),
  fundBrandBudget: t.prismaField({
    type: 'BrandFunding',
    description: "Buys coins for the brand's budget through the payment provider (owners, or a key with FUNDS).",
    args: { input: t.arg({ type: FundBrandBudgetInput }) },
    errors: { types: [...BRAND_ERRORS, IdempotencyConflictError, IdempotencyInProgressError, BundleUnavailableError, PaymentDeclinedError, PaymentProviderUnavailableError] },
    resolve: (_query, _root, { input }, context) =>
      fundBrandBudget(context.db, context.payments, callerOf(context), {
        brandId: idOf(input.brandId, 'Brand', 'brandId'), bundleId: idOf(input.bundleId, 'CoinBundle', 'bundleId'), quantity: input.quantity,
        paymentMethod: input.paymentMethod, idempotencyKey: input.idempotencyKey,
      }),
  }),
  recordBrandInvoicePayment: t.prismaField({
    type: 'BrandFunding',
    description: "Operators record an invoice a brand paid outside Ovation: its coins are credited to the brand's budget at once.",
    args: { input: t.arg({ type: RecordBrandInvoicePaymentInput }) },
    authScopes: { role: Role.ADMIN },
    errors: { types: [...OPERATOR_ERRORS, NotFoundError, ValidationError, IdempotencyConflictError] },
    resolve: (_query, _root, { input }, context) =>
      recordInvoicePayment(context.db, context.viewer!.userId, { ...input, brandId: idOf(input.brandId, 'Brand', 'brandId') }),
  }),
  revokeApiKey: t.prismaField({
    type: 'ApiKey',
    description: 'Revokes a key: refused from the next request on.',
    args: { input: t.arg({ type: RevokeApiKeyInput }) },
    errors: { types: BRAND_ERRORS },
    resolve: (_query, _root, { input }, context) => revokeApiKey(context.db, callerOf(context), { apiKeyId: idOf(input.apiKeyId, 'ApiKey', 'apiKeyId') }),
  }),
}));
