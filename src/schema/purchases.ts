import { createBundle, priceSheet, repriceBundle, retireBundle, type PricedBundle } from '../domain/bundles.js';
import {
  AccountRestrictedError,
  AgeRestrictedError,
  BundleUnavailableError,
  IdempotencyConflictError,
  IdempotencyInProgressError,
  NotAuthenticatedError,
  NotFoundError,
  PaymentDeclinedError,
  PaymentProviderUnavailableError,
  ValidationError,
} from '../domain/errors.js';
import { purchaseCoins } from '../domain/purchases.js';
import { hasRole } from '../domain/viewer.js';
import { PurchaseStatus, Role } from '../generated/prisma/client.js';
import { countryOfViewer } from '../domain/users.js';
import { builder } from './builder.js';
import type { Context } from './context.js';
import { connectionCost } from './cost.js';
import { OPERATOR_ERRORS } from './errors.js';
import { idOf } from './ids.js';

const Price = builder.prismaObject('BundlePrice', {
  name: 'Price',
  description: 'A price in one region, in minor units of its currency (e.g. 99 USD = $0.99).',
  fields: (t) => ({
    region: t.exposeString('region', { description: 'The country, region group (e.g. EU) or DEFAULT it applies to.' }),
    amountMinor: t.expose('amountMinor', { type: 'BigInt' }),
    currency: t.exposeString('currency', { description: 'ISO 4217.' }),
  }),
});

export const CoinBundleRef = builder.prismaNode('CoinBundle', {
  id: { field: 'id' },
  nullable: true, // node(id:) of an unknown id: null
  fields: (t) => ({
    name: t.exposeString('name'),
    coins: t.expose('coins', { type: 'BigInt' }),
    bonusCoins: t.expose('bonusCoins', { type: 'BigInt' }),
    sortOrder: t.exposeInt('sortOrder'),
    retired: t.boolean({ resolve: (bundle) => bundle.retiredAt !== null }),
    prices: t.relation('prices', { type: Price, description: 'Every regional price.' }),
  }),
});

const PricedBundleRef = builder.objectRef<PricedBundle>('PricedBundle').implement({
  description: 'A bundle at the price that applies in the asked country.',
  fields: (t) => ({
    bundle: t.field({ type: CoinBundleRef, resolve: (priced) => priced }),
    totalCoins: t.field({ type: 'BigInt', description: 'Coins plus bonus.', resolve: (priced) => priced.coins + priced.bonusCoins }),
    price: t.field({ type: Price, resolve: (priced) => priced.price }),
  }),
});

const PurchaseStatusEnum = builder.enumType(PurchaseStatus, { name: 'PurchaseStatus' });

const purchaseVisibleTo = (purchase: { buyerId: string }, context: Context) => purchase.buyerId === context.viewer?.userId || hasRole(context.viewer, Role.ADMIN);

export const PurchaseRef = builder.prismaNode('Purchase', {
  id: { field: 'id' },
  nullable: true, // node(id:) of an unknown id: null
  // Private: a purchase is its buyer's and operators' alone. `node(id:)` reads `visibleTo` too, so a
  // stranger's purchase is null there, as an unknown one is, and its existence stays private.
  authScopes: (purchase, context) => purchaseVisibleTo(purchase, context),
  extensions: { visibleTo: purchaseVisibleTo },
  fields: (t) => ({
    status: t.expose('status', { type: PurchaseStatusEnum }),
    coins: t.expose('coins', { type: 'BigInt', description: 'Coins credited on success (bundle coins plus bonus).' }),
    amountMinor: t.expose('amountMinor', { type: 'BigInt', description: 'The price paid, in minor units.' }),
    currency: t.exposeString('currency'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    bundle: t.relation('bundle'),
    clientSecret: t.string({
      nullable: true,
      description:
        "Stripe: the PaymentIntent's client secret, for Stripe.js to confirm or authenticate the payment (confirmPayment, handleNextAction). Shown to the buyer alone, while the purchase is PENDING or DECLINED (a declined PaymentIntent may still be paid with another card).",
      // Whoever holds it can confirm the payment: not even an operator needs it.
      resolve: (purchase, _args, context) =>
        purchase.buyerId === context.viewer?.userId && (purchase.status === PurchaseStatus.PENDING || purchase.status === PurchaseStatus.DECLINED) ? purchase.clientSecret : null,
    }),
    nextAction: t.exposeString('nextAction', {
      nullable: true,
      description: 'What the buyer\'s app must do before a PENDING purchase can succeed: "confirm" (no payment method was given) or "authenticate" (e.g. 3-D Secure); null when nothing.',
    }),
  }),
});

const PriceInput = builder.inputType('PriceInput', {
  fields: (t) => ({
    region: t.string({ description: 'A country code, a region group such as EU, or DEFAULT.' }),
    amountMinor: t.field({ type: 'BigInt' }),
    currency: t.string(),
  }),
});

const CreateCoinBundleInput = builder.inputType('CreateCoinBundleInput', {
  fields: (t) => ({
    name: t.string(),
    coins: t.field({ type: 'BigInt' }),
    bonusCoins: t.field({ type: 'BigInt', required: false }),
    sortOrder: t.int({ required: false }),
    prices: t.field({ type: [PriceInput] }),
  }),
});

const RepriceCoinBundleInput = builder.inputType('RepriceCoinBundleInput', {
  fields: (t) => ({
    bundleId: t.id(),
    prices: t.field({ type: [PriceInput], description: 'The regions to set; regions left out keep their price.' }),
  }),
});

const RetireCoinBundleInput = builder.inputType('RetireCoinBundleInput', {
  fields: (t) => ({ bundleId: t.id() }),
});

const PurchaseInput = builder.inputType('PurchaseCoinsInput', {
  fields: (t) => ({
    bundleId: t.id(),
    paymentMethod: t.string({
      required: false,
      description:
        "What to charge at once: Stripe, a PaymentMethod id (pm_...); sandbox: pm_sandbox_success, pm_sandbox_declined, pm_sandbox_webhook. Leave it out to confirm the payment in the buyer's app with `clientSecret` (the purchase stays PENDING until the provider says).",
    }),
    idempotencyKey: t.string({ description: 'Unique per attempt; a retry with the same key returns the first result.' }),
  }),
});

builder.queryFields((t) => ({
  coinBundles: t.field({
    type: [PricedBundleRef],
    description: "The price sheet for `country` (default: the signed-in user's country, else DEFAULT prices).",
    args: { country: t.arg.string({ required: false }) },
    resolve: async (_root, { country }, context) => {
      const own = context.viewer
        ? await countryOfViewer(context.db, context.viewer.userId)
        : undefined;
      return priceSheet(context.db, (country ?? own ?? 'DEFAULT').toUpperCase());
    },
  }),
  purchases: t.prismaConnection({
    type: 'Purchase',
    cursor: 'id',
    description: 'Your purchases, newest first.',
    complexity: connectionCost,
    authScopes: { signedIn: true },
    resolve: (query, _root, _args, context) =>
      context.db.purchase.findMany({ ...query, where: { buyerId: context.viewer!.userId }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] }),
  }),
}));

builder.mutationFields((t) => ({
  purchaseCoins: t.field({
    type: PurchaseRef,
    description: 'Buys a coin bundle at your regional price. Coins are credited once, when the payment succeeds.',
    args: { input: t.arg({ type: PurchaseInput }) },
    authScopes: { signedIn: true },
    errors: {
      types: [
        NotAuthenticatedError,
        ValidationError,
        NotFoundError,
        IdempotencyConflictError,
        IdempotencyInProgressError,
        BundleUnavailableError,
        PaymentDeclinedError,
        PaymentProviderUnavailableError,
        AgeRestrictedError,
        AccountRestrictedError,
      ],
    },
    resolve: (_root, { input }, context) =>
      purchaseCoins(context.db, context.announcer, context.policy, context.payments, context.viewer!.userId, {
        bundleId: idOf(input.bundleId, 'CoinBundle', 'bundleId'),
        paymentMethod: input.paymentMethod ?? undefined,
        idempotencyKey: input.idempotencyKey,
      }),
  }),
  createCoinBundle: t.field({
    type: CoinBundleRef,
    authScopes: { role: Role.ADMIN },
    args: { input: t.arg({ type: CreateCoinBundleInput }) },
    errors: { types: [...OPERATOR_ERRORS, ValidationError] },
    resolve: (_root, { input }, context) =>
      createBundle(context.db, { ...input, bonusCoins: input.bonusCoins ?? undefined, sortOrder: input.sortOrder ?? undefined }),
  }),
  repriceCoinBundle: t.field({
    type: CoinBundleRef,
    description: 'Sets prices for the given regions. Past purchases keep the price they paid.',
    authScopes: { role: Role.ADMIN },
    args: { input: t.arg({ type: RepriceCoinBundleInput }) },
    errors: { types: [...OPERATOR_ERRORS, NotFoundError, ValidationError] },
    resolve: (_root, { input }, context) => repriceBundle(context.db, idOf(input.bundleId, 'CoinBundle', 'bundleId'), input.prices),
  }),
  retireCoinBundle: t.field({
    type: CoinBundleRef,
    description: 'Takes a bundle off sale for good.',
    authScopes: { role: Role.ADMIN },
    args: { input: t.arg({ type: RetireCoinBundleInput }) },
    errors: { types: [...OPERATOR_ERRORS, NotFoundError, ValidationError] },
    resolve: (_root, { input }, context) => retireBundle(context.db, idOf(input.bundleId, 'CoinBundle', 'bundleId')),
  }),
}));
