import { randomUUID } from 'node:crypto';
import { createAnnouncer, silentAnnouncer } from '../../src/events/announcer.js';
import { execute, getNamedType, GraphQLInputObjectType, GraphQLNonNull, GraphQLUnionType, parse } from 'graphql';
import { afterAll, describe, expect, test } from 'vitest';
import { createApiKey, createBrand, setBrandMember } from '../../src/domain/brands/brands.js';
import { transaction } from '../../src/db/transaction.js';
import { registerWebhookEndpoint } from '../../src/domain/brands/webhooks/endpoints.js';
import { recordBrandEvents } from '../../src/domain/brands/webhooks/events.js';
import { recordInvoicePayment } from '../../src/domain/brands/budgets.js';
import { changeCampaign, createMatchingCampaign, type CampaignAction } from '../../src/domain/brands/campaigns.js';
import { createGiftSender } from '../../src/domain/gifting.js';
import { requestHash } from '../../src/domain/idempotency.js';
import { endLiveSession } from '../../src/domain/live-sessions.js';
import { createOverlayToken } from '../../src/domain/overlays.js';
import { approvePayout, cancelPayout, placePayoutHold } from '../../src/domain/payouts/lifecycle.js';
import { addPayoutMethod, verifyPayoutMethod } from '../../src/domain/payouts/methods.js';
import { requestPayout } from '../../src/domain/payouts/requests.js';
import { createSandboxPayoutProvider, SANDBOX_PAYEES } from '../../src/domain/payouts/sandbox.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { applyPaymentEvent, purchaseCoins } from '../../src/domain/purchases.js';
import { changeRestriction } from '../../src/domain/safeguards.js';
import { sandboxPaymentId, SANDBOX_METHODS } from '../../src/domain/payments/sandbox.js';
import type { Viewer } from '../../src/domain/viewer.js';
import { createPresence } from '../../src/events/presence.js';
import { createEventBus } from '../../src/events/pubsub.js';
import { PayoutHoldReason, PayoutStatus, RestrictionKind, Role, type User } from '../../src/generated/prisma/client.js';
import { createLogger } from '../../src/logger.js';
import type { Context } from '../../src/schema/context.js';
import { globalId, parseGlobalId } from '../../src/schema/ids.js';
import { schema } from '../../src/schema/index.js';
import { createTestDatabase } from '../support/database.js';
import { aged, fundWalletUnder, NO_AGE_GATE } from '../support/gifting.js';
import { createCatalogGift, createFundedViewer, createLiveCreator, sandbox, uniqueKey } from '../support/money.js';
import { createUser } from '../support/users.js';
import { creatorWith } from '../payouts/support.js';
import { createTestBundle } from '../purchases/support.js';

// A mutation's result union is what a client generates branches for, so it lists exactly the refusals
// the mutation can give: each member is provoked below through the schema, and a member nobody can
// provoke (or a refusal missing from the table) fails the test.

const { db } = await createTestDatabase();
const log = createLogger('silent');
const pubsub = createEventBus(undefined, log);
const announcer = createAnnouncer(pubsub);
const presence = createPresence(db, announcer, log);
afterAll(() => presence.close());

const services: Omit<Context, 'viewer'> = {
  db,
  pubsub,
  announcer,
  presence,
  policy: DEFAULT_POLICY,
  gifts: createGiftSender(db, announcer, DEFAULT_POLICY),
  payments: sandbox,
  // The sandbox pays `pays` at once; `webhookOnly` stays PROCESSING until a webhook (none is sent here).
  payouts: { db, policy: DEFAULT_POLICY, provider: createSandboxPayoutProvider({ webhookSecrets: [], returnAfterMs: 60_000 }), announce: announcer, log },
  issueToken: async () => 'token',
  development: false,
  webhookAddresses: { allowPrivate: true },
};

type Caller = Pick<User, 'id' | 'roles'> | null;

/** Runs `mutation(input: ...)` as `as` and returns the __typename of its result. */
async function attempt(mutation: string, input: Record<string, unknown>, as: Caller = null, overrides: Partial<Context> = {}): Promise<string> {
  const document = parse(`mutation ($input: ${inputTypeOf(mutation)}!) { result: ${mutation}(input: $input) { __typename } }`);
  const viewer: Viewer | null = as && { userId: as.id, roles: as.roles };
  const result = await execute({ schema, document, variableValues: { input }, contextValue: { ...services, ...overrides, viewer } });
  expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
  return (result.data as { result: { __typename: string } }).result.__typename;
}

const inputTypeOf = (mutation: string) => `${mutation[0]!.toUpperCase()}${mutation.slice(1)}Input`;
const gid = globalId;
const nowhere = (typename: string) => gid(typename, randomUUID());

const admin = await createUser(db, { roles: [Role.VIEWER, Role.ADMIN] });
const viewer = await createUser(db);
const young = await createUser(db, { birthDate: aged(16), roles: [Role.VIEWER, Role.CREATOR] });
const creator = (overrides: Parameters<typeof createUser>[1] = {}) => createUser(db, { roles: [Role.VIEWER, Role.CREATOR], ...overrides });
const unknownUser: Caller = { id: randomUUID(), roles: [Role.VIEWER, Role.CREATOR] };
const rose = await createCatalogGift(db, 5n);
const price = { region: 'DEFAULT', amountMinor: '99', currency: 'USD' };

const profile = (handle: string) => ({ handle, displayName: 'New', birthDate: '1990-01-01', country: 'US' });
const newIdentity = () => ({ issuer: 'https://id.example.test/', subject: randomUUID() });
const live = async () => gid('LiveSession', (await createLiveCreator(db)).session.id);
const ended = async () => {
  const { creator: host, session } = await createLiveCreator(db);
  await endLiveSession(db, silentAnnouncer, host.id, session.id);
  return { host, id: gid('LiveSession', session.id) };
};
const gift = async (overrides: Record<string, unknown> = {}) => ({
  liveSessionId: await live(),
  giftId: gid('Gift', rose.id),
  quantity: 1,
  idempotencyKey: uniqueKey('gift'),
  ...overrides,
});
const purchase = async (overrides: Record<string, unknown> = {}) => ({
  bundleId: gid('CoinBundle', (await createTestBundle(db)).id),
  paymentMethod: SANDBOX_METHODS.succeeds,
  idempotencyKey: uniqueKey('buy'),
  ...overrides,
});

/** A sender whose chargeback left a debt: coins bought, spent, then taken back. */
async function debtor(): Promise<User> {
  const user = await createUser(db);
  const bundle = await createTestBundle(db, { coins: 20n });
  const bought = await purchaseCoins(db, silentAnnouncer, DEFAULT_POLICY, sandbox, user.id, { bundleId: bundle.id, paymentMethod: SANDBOX_METHODS.succeeds, idempotencyKey: uniqueKey('buy') });
  expect(await attempt('sendGift', await gift({ quantity: 3 }), user)).toBe('SentGift');
  await applyPaymentEvent(db, silentAnnouncer, sandbox, { eventId: uniqueKey('evt'), type: 'payment.charged_back', providerPaymentId: sandboxPaymentId(bought.id) });
  return user;
}

const { payouts } = services;
const noPayoutProvider = { payouts: { ...payouts, provider: null } };
const MINIMUM = DEFAULT_POLICY.payouts.minimumDiamonds;
/** Roles of a creator who is also an operator: they decide no payout of their own. */
const operator = { roles: [Role.VIEWER, Role.CREATOR, Role.ADMIN] };
const wallet = (email: string = SANDBOX_PAYEES.pays.email) => ({ emailWallet: { email } });

/** A payout method `owner` added, verified by an operator unless told otherwise. */
async function payoutMethod(owner: Pick<User, 'id'>, { verified = true, email = SANDBOX_PAYEES.pays.email } = {}) {
  const method = await addPayoutMethod(payouts, owner.id, wallet(email));
  return verified ? verifyPayoutMethod(payouts, admin.id, { methodId: method.id }) : method;
}
const methodId = async (owner: Pick<User, 'id'>, options: { verified?: boolean } = {}) => gid('PayoutMethod', (await payoutMethod(owner, options)).id);
const ask = (method: string, diamonds = MINIMUM) => ({ diamonds: String(diamonds), methodId: method, idempotencyKey: uniqueKey('payout') });

/** A REQUESTED payout of all its creator's diamonds (earned from gifts), to a verified method at `email`. */
async function requested({ diamonds = MINIMUM, email, creator: overrides = {} }: { diamonds?: bigint; email?: string; creator?: Parameters<typeof createUser>[1] } = {}) {
  const { creator: owner } = await creatorWith(db, diamonds, overrides);
  const method = await payoutMethod(owner, { email });
  const payout = await requestPayout(payouts, owner.id, { diamonds, methodId: method.id, idempotencyKey: uniqueKey('payout') });
  return { creator: owner, payout, id: gid('Payout', payout.id) };
}

/** A payout approved and sent, whose outcome waits for the provider's webhook. */
async function processing(creatorOverrides: Parameters<typeof createUser>[1] = {}) {
  const arranged = await requested({ email: SANDBOX_PAYEES.webhookOnly.email, creator: creatorOverrides });
  const sent = await approvePayout(payouts, admin.id, { payoutId: arranged.payout.id, idempotencyKey: uniqueKey('approve') });
  expect(sent.status).toBe(PayoutStatus.PROCESSING);
  return arranged;
}

async function canceled() {
  const arranged = await requested();
  await cancelPayout(payouts, arranged.creator.id, { payoutId: arranged.payout.id, idempotencyKey: uniqueKey('cancel') });
  return arranged;
}

/** A REQUESTED payout an operator holds for FRAUD_REVIEW. */
async function held(creatorOverrides: Parameters<typeof createUser>[1] = {}) {
  const arranged = await requested({ creator: creatorOverrides });
  await placePayoutHold(payouts, admin.id, { payoutId: arranged.payout.id, reason: PayoutHoldReason.FRAUD_REVIEW });
  return arranged;
}

const decision = (payoutId: string) => ({ payoutId, idempotencyKey: uniqueKey('decision') });
const reasoned = (payoutId: string, reason = 'The account is closed') => ({ ...decision(payoutId), reason });
const hold = (payoutId: string) => ({ payoutId, reason: PayoutHoldReason.FRAUD_REVIEW });

/** A brand with its first owner, and an API key of it. */
async function brandOf() {
  const owner = await createUser(db);
  const brand = await createBrand(db, { name: `Brand ${randomUUID()}`, ownerId: owner.id });
  const key = await createApiKey(db, { viewer: { userId: owner.id, roles: owner.roles } }, { brandId: brand.id, name: 'key', scopes: ['READ'] });
  return { owner, brand, id: gid('Brand', brand.id), keyId: gid('ApiKey', key.apiKey.id) };
}
/** A webhook endpoint of a fresh brand (with its owner), and a delivery to it of one event. */
async function endpointOf() {
  const { owner, brand } = await brandOf();
  const { endpoint } = await registerWebhookEndpoint(db, { allowPrivate: true }, { viewer: { userId: owner.id, roles: owner.roles } }, {
    brandId: brand.id,
    url: 'http://127.0.0.1:9/hook',
    eventTypes: ['MATCH_MADE'],
  });
  await transaction(db, (tx) => recordBrandEvents(tx, [{ brandId: brand.id, campaignId: null, type: 'MATCH_MADE', data: {} }]));
  const delivery = await db.webhookDelivery.findFirstOrThrow({ where: { endpointId: endpoint.id } });
  return { owner, brandId: gid('Brand', brand.id), endpointId: gid('WebhookEndpoint', endpoint.id), deliveryId: gid('WebhookDelivery', delivery.id) };
}
const endpointRefusals = (mutation: string, input: (ids: Awaited<ReturnType<typeof endpointOf>>) => Record<string, unknown>, nowhereInput: Record<string, unknown>, invalid: Record<string, unknown>) => ({
  NotAuthenticatedError: async () => attempt(mutation, input(await endpointOf())),
  ForbiddenError: async () => attempt(mutation, input(await endpointOf()), viewer),
  NotFoundError: () => attempt(mutation, nowhereInput, admin),
  ValidationError: async () => {
    const ids = await endpointOf();
    return attempt(mutation, { ...input(ids), ...invalid }, ids.owner);
  },
});

/**
 * fundBrandBudget on a fresh brand as its owner (or nobody, or a stranger), with input changed by
 * `overrides`; `before` may act first and hand back the input to attempt.
 */
async function fundAs(
  who: 'owner' | 'nobody' | 'stranger',
  overrides: Record<string, unknown> = {},
  context: Partial<Context> = {},
  before?: (input: Record<string, unknown>, owner: Caller) => Promise<Record<string, unknown>>,
): Promise<string> {
  const { owner, id } = await brandOf();
  let input: Record<string, unknown> = {
    brandId: id,
    bundleId: gid('CoinBundle', (await createTestBundle(db)).id),
    quantity: 1,
    paymentMethod: SANDBOX_METHODS.succeeds,
    idempotencyKey: uniqueKey('fund'),
    ...overrides,
  };
  if (before) input = await before(input, owner);
  return attempt('fundBrandBudget', input, who === 'owner' ? owner : who === 'stranger' ? viewer : null, context);
}
const invoice = (brandId: string) => ({ brandId, coins: '5000', amountMinor: '5000', currency: 'USD', invoiceReference: 'INV-1', idempotencyKey: uniqueKey('invoice') });
/** A campaign of a fresh brand holding `funds` coins, on a live creator: a draft, or moved on by `actions`. */
async function campaignOf({ funds = 5000n, budget = 1000n, actions = [] as CampaignAction[] } = {}) {
  const { owner, brand } = await brandOf();
  const caller = { viewer: { userId: owner.id, roles: owner.roles } };
  if (funds > 0n) await recordInvoicePayment(db, admin.id, { brandId: brand.id, coins: funds, amountMinor: 1n, currency: 'USD', invoiceReference: 'INV', idempotencyKey: uniqueKey('inv') });
  const { creator: host, session } = await createLiveCreator(db);
  const campaign = await createMatchingCampaign(db, caller, {
    brandId: brand.id, name: 'Match', creatorId: host.id, ratioPercent: 100, budgetCoins: budget,
    startsAt: new Date(Date.now() - 1000), endsAt: new Date(Date.now() + 3600_000), remainderRule: 'RETURN_TO_BRAND',
  });
  for (const action of actions) await changeCampaign(db, silentAnnouncer, caller, action, { campaignId: campaign.id });
  return { owner, session, brandId: gid('Brand', brand.id), campaignId: gid('MatchingCampaign', campaign.id), hostId: gid('User', host.id) };
}

/** matchGift's input for a gift sent (and matched with it) in an active campaign's session, as the brand's owner. */
async function manualMatch(coins = '1') {
  const { owner, session, campaignId } = await campaignOf({ actions: ['activate'] });
  const sender = await createFundedViewer(db, 10n);
  const sent = await services.gifts.send(sender.id, { liveSessionId: session.id, giftId: rose.id, quantity: 1, idempotencyKey: uniqueKey('gift') });
  return { owner, input: { campaignId, sentGiftId: gid('SentGift', sent.id), coins, idempotencyKey: uniqueKey('match') } };
}

/** Every union member of a campaign action, from the state `from` that allows it and one (`wrong`) that does not. */
function campaignActionResults(action: CampaignAction, from: CampaignAction[], wrong: CampaignAction[] | null): Provocations {
  const name = `${action}MatchingCampaign`;
  return {
    MatchingCampaign: async () => {
      const { owner, campaignId } = await campaignOf({ actions: from });
      return attempt(name, { campaignId }, owner);
    },
    NotAuthenticatedError: async () => attempt(name, { campaignId: (await campaignOf({ actions: from })).campaignId }),
    ForbiddenError: async () => attempt(name, { campaignId: (await campaignOf({ actions: from })).campaignId }, viewer),
    NotFoundError: () => attempt(name, { campaignId: nowhere('MatchingCampaign') }, viewer),
    ValidationError: () => attempt(name, { campaignId: 'nope' }, viewer),
    ...(wrong
      ? {
          CampaignTransitionError: async () => {
            const { owner, campaignId } = await campaignOf({ actions: wrong });
            return attempt(name, { campaignId }, owner);
          },
        }
      : {}),
    ...(action === 'schedule' || action === 'activate'
      ? {
          InsufficientBudgetError: async () => {
            const { owner, campaignId } = await campaignOf({ funds: 10n });
            return attempt(name, { campaignId }, owner);
          },
        }
      : {}),
  };
}

const newCampaign = (brandId: string, creatorId: string) => ({
  brandId, name: 'Match', creatorId, ratioPercent: 100, budgetCoins: '100', remainderRule: 'RETURN_TO_BRAND',
  startsAt: new Date(Date.now() - 1000).toISOString(), endsAt: new Date(Date.now() + 3600_000).toISOString(),
});
const inAnHour = () => new Date(Date.now() + 3600_000).toISOString();

type Provocations = Record<string, () => Promise<string>>;

/** Every member of every mutation's result union, and a way to get it. */
const results: Record<string, Provocations> = {
  addPayoutMethod: {
    PayoutMethod: async () => attempt('addPayoutMethod', wallet(), await creator()),
    NotAuthenticatedError: () => attempt('addPayoutMethod', wallet()),
    ForbiddenError: () => attempt('addPayoutMethod', wallet(), viewer),
    ValidationError: async () => attempt('addPayoutMethod', wallet('not an address'), await creator()),
    PayoutProviderUnavailableError: async () => attempt('addPayoutMethod', wallet(), await creator(), noPayoutProvider),
  },
  approvePayout: {
    Payout: async () => attempt('approvePayout', decision((await requested()).id), admin),
    NotAuthenticatedError: async () => attempt('approvePayout', decision((await requested()).id)),
    ForbiddenError: async () => attempt('approvePayout', decision((await requested()).id), viewer),
    ValidationError: () => attempt('approvePayout', decision('nope'), admin),
    NotFoundError: () => attempt('approvePayout', decision(nowhere('Payout')), admin),
    IdempotencyConflictError: async () => {
      const first = decision((await requested()).id);
      expect(await attempt('approvePayout', first, admin)).toBe('Payout');
      return attempt('approvePayout', { ...first, payoutId: nowhere('Payout') }, admin);
    },
    PayoutTransitionError: async () => attempt('approvePayout', decision((await canceled()).id), admin),
    PayoutOnHoldError: async () => attempt('approvePayout', decision((await held()).id), admin),
    OwnPayoutError: async () => {
      const { creator: own, id } = await requested({ creator: operator });
      return attempt('approvePayout', decision(id), own);
    },
    // Above the second-approval amount: the operator who approved first cannot give the second approval.
    SecondApproverRequiredError: async () => {
      const { id } = await requested({ diamonds: (DEFAULT_POLICY.payouts.secondApprovalAboveCents + 1n) * 2n });
      expect(await attempt('approvePayout', decision(id), admin)).toBe('Payout');
      return attempt('approvePayout', decision(id), admin);
    },
    // Restricted after asking: the payout waits, unapproved, until the restriction is lifted.
    AccountRestrictedError: async () => {
      const { creator: restricted, id } = await requested();
      await changeRestriction(db, { adminId: admin.id, userId: restricted.id, kind: RestrictionKind.PAYOUTS, placed: true, reason: 'Under investigation' });
      return attempt('approvePayout', decision(id), admin);
    },
  },
  createApiKey: {
    IssuedApiKey: async () => {
      const { owner, id } = await brandOf();
      return attempt('createApiKey', { brandId: id, name: 'key', scopes: ['READ'] }, owner);
    },
    NotAuthenticatedError: async () => attempt('createApiKey', { brandId: (await brandOf()).id, name: 'key', scopes: ['READ'] }),
    ForbiddenError: async () => attempt('createApiKey', { brandId: (await brandOf()).id, name: 'key', scopes: ['READ'] }, viewer),
    NotFoundError: () => attempt('createApiKey', { brandId: nowhere('Brand'), name: 'key', scopes: ['READ'] }, viewer),
    ValidationError: async () => {
      const { owner, id } = await brandOf();
      return attempt('createApiKey', { brandId: id, name: 'key', scopes: [] }, owner);
    },
  },
  registerWebhookEndpoint: {
    IssuedWebhookSecret: async () => {
      const { owner, id } = await brandOf();
      return attempt('registerWebhookEndpoint', { brandId: id, url: 'http://127.0.0.1:9/hook', eventTypes: ['MATCH_MADE'] }, owner);
    },
    NotAuthenticatedError: async () => attempt('registerWebhookEndpoint', { brandId: (await brandOf()).id, url: 'http://127.0.0.1:9/hook', eventTypes: ['MATCH_MADE'] }),
    ForbiddenError: async () => attempt('registerWebhookEndpoint', { brandId: (await brandOf()).id, url: 'http://127.0.0.1:9/hook', eventTypes: ['MATCH_MADE'] }, viewer),
    NotFoundError: () => attempt('registerWebhookEndpoint', { brandId: nowhere('Brand'), url: 'http://127.0.0.1:9/hook', eventTypes: ['MATCH_MADE'] }, viewer),
    ValidationError: async () => {
      const { owner, id } = await brandOf();
      return attempt('registerWebhookEndpoint', { brandId: id, url: 'ftp://hooks.example.com/', eventTypes: ['MATCH_MADE'] }, owner);
    },
  },
  updateWebhookEndpoint: {
    WebhookEndpoint: async () => {
      const { owner, endpointId } = await endpointOf();
      return attempt('updateWebhookEndpoint', { endpointId, enabled: false }, owner);
    },
    ...endpointRefusals('updateWebhookEndpoint', ({ endpointId }) => ({ endpointId, enabled: false }), { endpointId: nowhere('WebhookEndpoint') }, { eventTypes: [] }),
  },
  deleteWebhookEndpoint: {
    WebhookEndpoint: async () => {
      const { owner, endpointId } = await endpointOf();
      return attempt('deleteWebhookEndpoint', { endpointId }, owner);
    },
    ...endpointRefusals('deleteWebhookEndpoint', ({ endpointId }) => ({ endpointId }), { endpointId: nowhere('WebhookEndpoint') }, { endpointId: 'nope' }),
  },
  rotateWebhookSecret: {
    IssuedWebhookSecret: async () => {
      const { owner, endpointId } = await endpointOf();
      return attempt('rotateWebhookSecret', { endpointId }, owner);
    },
    ...endpointRefusals('rotateWebhookSecret', ({ endpointId }) => ({ endpointId }), { endpointId: nowhere('WebhookEndpoint') }, { overlapSeconds: -1 }),
  },
  redeliverWebhook: {
    WebhookDelivery: async () => {
      const { owner, deliveryId } = await endpointOf();
      return attempt('redeliverWebhook', { deliveryId }, owner);
    },
    ...endpointRefusals('redeliverWebhook', ({ deliveryId }) => ({ deliveryId }), { deliveryId: nowhere('WebhookDelivery') }, { deliveryId: 'nope' }),
  },
  fundBrandBudget: {
    BrandFunding: () => fundAs('owner'),
    NotAuthenticatedError: () => fundAs('nobody'),
    ForbiddenError: () => fundAs('stranger'),
    NotFoundError: () => fundAs('owner', { bundleId: nowhere('CoinBundle') }),
    ValidationError: () => fundAs('owner', { quantity: 0 }),
    BundleUnavailableError: async () => {
      const bundle = await createTestBundle(db);
      await db.coinBundle.update({ where: { id: bundle.id }, data: { retiredAt: new Date() } });
      return fundAs('owner', { bundleId: gid('CoinBundle', bundle.id) });
    },
    PaymentDeclinedError: () => fundAs('owner', { paymentMethod: SANDBOX_METHODS.declined }),
    PaymentProviderUnavailableError: () => fundAs('owner', {}, { payments: null }),
    IdempotencyConflictError: () =>
      fundAs('owner', {}, {}, async (input, owner) => {
        expect(await attempt('fundBrandBudget', input, owner)).toBe('BrandFunding');
        return { ...input, quantity: 2 };
      }),
    // A first call with the key that never finishes: a retry waits for it, then gives up.
    IdempotencyInProgressError: () =>
      fundAs('owner', {}, {}, async (input) => {
        const { brandId, bundleId, idempotencyKey, ...rest } = input as { brandId: string; bundleId: string; idempotencyKey: string };
        const brand = parseGlobalId(brandId).id;
        const hash = requestHash('fundBrandBudget', { ...rest, brandId: brand, bundleId: parseGlobalId(bundleId).id });
        await db.idempotencyKey.create({ data: { callerId: brand, key: idempotencyKey, operation: 'fundBrandBudget', requestHash: hash } });
        return input;
      }),
  },
  recordBrandInvoicePayment: {
    BrandFunding: async () => attempt('recordBrandInvoicePayment', invoice((await brandOf()).id), admin),
    NotAuthenticatedError: async () => attempt('recordBrandInvoicePayment', invoice((await brandOf()).id)),
    ForbiddenError: async () => attempt('recordBrandInvoicePayment', invoice((await brandOf()).id), viewer),
    NotFoundError: () => attempt('recordBrandInvoicePayment', invoice(nowhere('Brand')), admin),
    ValidationError: async () => attempt('recordBrandInvoicePayment', { ...invoice((await brandOf()).id), currency: 'usd' }, admin),
    IdempotencyConflictError: async () => {
      const first = invoice((await brandOf()).id);
      expect(await attempt('recordBrandInvoicePayment', first, admin)).toBe('BrandFunding');
      return attempt('recordBrandInvoicePayment', { ...first, coins: '7' }, admin);
    },
  },
  scheduleMatchingCampaign: campaignActionResults('schedule', [], ['activate']),
  activateMatchingCampaign: campaignActionResults('activate', [], ['end']),
  pauseMatchingCampaign: campaignActionResults('pause', ['activate'], []),
  resumeMatchingCampaign: campaignActionResults('resume', ['activate', 'pause'], ['activate', 'end']),
  // Ending an ended (or settled) campaign changes nothing and refuses nothing.
  endMatchingCampaign: campaignActionResults('end', ['activate'], null),
  matchGift: {
    GiftMatch: async () => {
      const { owner, input } = await manualMatch();
      return attempt('matchGift', input, owner);
    },
    NotAuthenticatedError: async () => attempt('matchGift', (await manualMatch()).input),
    ForbiddenError: async () => attempt('matchGift', (await manualMatch()).input, viewer),
    NotFoundError: () => attempt('matchGift', { campaignId: nowhere('MatchingCampaign'), sentGiftId: nowhere('SentGift'), idempotencyKey: uniqueKey('match') }, viewer),
    ValidationError: () => attempt('matchGift', { campaignId: 'nope', sentGiftId: nowhere('SentGift'), idempotencyKey: uniqueKey('match') }, viewer),
    IdempotencyConflictError: async () => {
      const { owner, input } = await manualMatch();
      expect(await attempt('matchGift', input, owner)).toBe('GiftMatch');
      return attempt('matchGift', { ...input, coins: '2' }, owner);
    },
    // The rose (5 coins) was matched 5 with it: a campaign at 100% has nothing more to give it.
    MatchRefusedError: async () => {
      const { owner, input } = await manualMatch();
      return attempt('matchGift', { ...input, coins: null }, owner);
    },
  },
  createMatchingCampaign: {
    MatchingCampaign: async () => {
      const { owner, brandId, hostId } = await campaignOf();
      return attempt('createMatchingCampaign', newCampaign(brandId, hostId), owner);
    },
    NotAuthenticatedError: async () => {
      const { brandId, hostId } = await campaignOf();
      return attempt('createMatchingCampaign', newCampaign(brandId, hostId));
    },
    ForbiddenError: async () => {
      const { brandId, hostId } = await campaignOf();
      return attempt('createMatchingCampaign', newCampaign(brandId, hostId), viewer);
    },
    NotFoundError: async () => {
      const { owner, brandId } = await campaignOf();
      return attempt('createMatchingCampaign', newCampaign(brandId, nowhere('User')), owner);
    },
    ValidationError: async () => {
      const { owner, brandId, hostId } = await campaignOf();
      return attempt('createMatchingCampaign', { ...newCampaign(brandId, hostId), ratioPercent: 0 }, owner);
    },
  },
  createBrand: {
    Brand: async () => attempt('createBrand', { name: `Brand ${randomUUID()}`, ownerId: gid('User', viewer.id) }, admin),
    NotAuthenticatedError: () => attempt('createBrand', { name: 'Brand', ownerId: gid('User', viewer.id) }),
    ForbiddenError: () => attempt('createBrand', { name: 'Brand', ownerId: gid('User', viewer.id) }, viewer),
    NotFoundError: () => attempt('createBrand', { name: `Brand ${randomUUID()}`, ownerId: nowhere('User') }, admin),
    ValidationError: () => attempt('createBrand', { name: 'B', ownerId: gid('User', viewer.id) }, admin),
  },
  removeBrandMember: {
    Brand: async () => {
      const { owner, brand, id } = await brandOf();
      await setBrandMember(db, { viewer: { userId: owner.id, roles: owner.roles } }, { brandId: brand.id, userId: viewer.id, role: 'MEMBER' });
      return attempt('removeBrandMember', { brandId: id, userId: gid('User', viewer.id) }, owner);
    },
    NotAuthenticatedError: async () => attempt('removeBrandMember', { brandId: (await brandOf()).id, userId: gid('User', viewer.id) }),
    ForbiddenError: async () => attempt('removeBrandMember', { brandId: (await brandOf()).id, userId: gid('User', viewer.id) }, viewer),
    NotFoundError: async () => {
      const { owner, id } = await brandOf();
      return attempt('removeBrandMember', { brandId: id, userId: gid('User', viewer.id) }, owner);
    },
    ValidationError: async () => {
      const { owner, id } = await brandOf();
      return attempt('removeBrandMember', { brandId: id, userId: gid('User', owner.id) }, owner);
    },
  },
  revokeApiKey: {
    ApiKey: async () => {
      const { owner, keyId } = await brandOf();
      return attempt('revokeApiKey', { apiKeyId: keyId }, owner);
    },
    NotAuthenticatedError: async () => attempt('revokeApiKey', { apiKeyId: (await brandOf()).keyId }),
    ForbiddenError: async () => attempt('revokeApiKey', { apiKeyId: (await brandOf()).keyId }, viewer),
    NotFoundError: () => attempt('revokeApiKey', { apiKeyId: nowhere('ApiKey') }, viewer),
    ValidationError: () => attempt('revokeApiKey', { apiKeyId: 'nope' }, viewer),
  },
  rotateApiKey: {
    IssuedApiKey: async () => {
      const { owner, keyId } = await brandOf();
      return attempt('rotateApiKey', { apiKeyId: keyId, oldKeyExpiresAt: inAnHour() }, owner);
    },
    NotAuthenticatedError: async () => attempt('rotateApiKey', { apiKeyId: (await brandOf()).keyId, oldKeyExpiresAt: inAnHour() }),
    ForbiddenError: async () => attempt('rotateApiKey', { apiKeyId: (await brandOf()).keyId, oldKeyExpiresAt: inAnHour() }, viewer),
    NotFoundError: () => attempt('rotateApiKey', { apiKeyId: nowhere('ApiKey'), oldKeyExpiresAt: inAnHour() }, viewer),
    ValidationError: async () => attempt('rotateApiKey', { apiKeyId: (await brandOf()).keyId, oldKeyExpiresAt: '2020-01-01T00:00:00Z' }, viewer),
  },
  setBrandMember: {
    BrandMember: async () => {
      const { owner, id } = await brandOf();
      return attempt('setBrandMember', { brandId: id, userId: gid('User', viewer.id), role: 'MEMBER' }, owner);
    },
    NotAuthenticatedError: async () => attempt('setBrandMember', { brandId: (await brandOf()).id, userId: gid('User', viewer.id), role: 'MEMBER' }),
    ForbiddenError: async () => attempt('setBrandMember', { brandId: (await brandOf()).id, userId: gid('User', viewer.id), role: 'MEMBER' }, viewer),
    NotFoundError: () => attempt('setBrandMember', { brandId: nowhere('Brand'), userId: gid('User', viewer.id), role: 'MEMBER' }, viewer),
    ValidationError: async () => {
      const { owner, id } = await brandOf();
      return attempt('setBrandMember', { brandId: id, userId: gid('User', owner.id), role: 'MEMBER' }, owner);
    },
  },
  cancelPayout: {
    Payout: async () => {
      const { creator: owner, id } = await requested();
      return attempt('cancelPayout', decision(id), owner);
    },
    NotAuthenticatedError: async () => attempt('cancelPayout', decision((await requested()).id)),
    ForbiddenError: async () => attempt('cancelPayout', decision((await requested()).id), viewer),
    ValidationError: async () => attempt('cancelPayout', decision('nope'), await creator()),
    // Someone else's payout is not found, as an unknown one is.
    NotFoundError: async () => attempt('cancelPayout', decision((await requested()).id), await creator()),
    IdempotencyConflictError: async () => {
      const { creator: owner, id } = await requested();
      const first = decision(id);
      expect(await attempt('cancelPayout', first, owner)).toBe('Payout');
      return attempt('cancelPayout', { ...first, payoutId: nowhere('Payout') }, owner);
    },
    PayoutTransitionError: async () => {
      const { creator: owner, id } = await canceled();
      return attempt('cancelPayout', decision(id), owner);
    },
  },
  createCoinBundle: {
    CoinBundle: () => attempt('createCoinBundle', { name: 'Handful', coins: '70', prices: [price] }, admin),
    NotAuthenticatedError: () => attempt('createCoinBundle', { name: 'Handful', coins: '70', prices: [price] }),
    ForbiddenError: () => attempt('createCoinBundle', { name: 'Handful', coins: '70', prices: [price] }, viewer),
    ValidationError: () => attempt('createCoinBundle', { name: 'Handful', coins: '0', prices: [price] }, admin),
  },
  createGift: {
    Gift: () => attempt('createGift', { name: 'Rose', coins: '1', imageUrl: 'https://cdn.example/rose.png' }, admin),
    NotAuthenticatedError: () => attempt('createGift', { name: 'Rose', coins: '1', imageUrl: 'https://cdn.example/rose.png' }),
    ForbiddenError: () => attempt('createGift', { name: 'Rose', coins: '1', imageUrl: 'https://cdn.example/rose.png' }, viewer),
    ValidationError: () => attempt('createGift', { name: 'Rose', coins: '0', imageUrl: 'https://cdn.example/rose.png' }, admin),
  },
  createOverlayToken: {
    CreatedOverlayToken: async () => attempt('createOverlayToken', { label: 'OBS' }, await creator()),
    NotAuthenticatedError: () => attempt('createOverlayToken', { label: 'OBS' }),
    ForbiddenError: () => attempt('createOverlayToken', { label: 'OBS' }, viewer),
    NotFoundError: () => attempt('createOverlayToken', { label: 'OBS' }, unknownUser),
    ValidationError: async () => attempt('createOverlayToken', { label: ' ' }, await creator()),
  },
  revokeOverlayToken: {
    OverlayToken: async () => {
      const owner = await creator();
      const { token } = await createOverlayToken(db, owner.id, { label: 'OBS' });
      return attempt('revokeOverlayToken', { overlayTokenId: gid('OverlayToken', token.id) }, owner);
    },
    NotAuthenticatedError: () => attempt('revokeOverlayToken', { overlayTokenId: nowhere('OverlayToken') }),
    NotFoundError: () => attempt('revokeOverlayToken', { overlayTokenId: nowhere('OverlayToken') }, viewer),
    ValidationError: () => attempt('revokeOverlayToken', { overlayTokenId: nowhere('LiveSession') }, viewer),
  },
  becomeCreator: {
    User: async () => attempt('becomeCreator', { acceptCreatorTerms: true }, await createUser(db)),
    NotAuthenticatedError: () => attempt('becomeCreator', { acceptCreatorTerms: true }),
    NotFoundError: () => attempt('becomeCreator', { acceptCreatorTerms: true }, unknownUser),
    ValidationError: () => attempt('becomeCreator', { acceptCreatorTerms: false }, viewer),
    AgeRestrictedError: () => attempt('becomeCreator', { acceptCreatorTerms: true }, young),
  },
  setAdmin: {
    User: () => attempt('setAdmin', { userId: gid('User', viewer.id), admin: false, reason: 'a test' }, admin),
    NotAuthenticatedError: () => attempt('setAdmin', { userId: gid('User', viewer.id), admin: true, reason: 'a test' }),
    ForbiddenError: () => attempt('setAdmin', { userId: gid('User', viewer.id), admin: true, reason: 'a test' }, viewer),
    NotFoundError: () => attempt('setAdmin', { userId: nowhere('User'), admin: true, reason: 'a test' }, admin),
    ValidationError: () => attempt('setAdmin', { userId: gid('User', viewer.id), admin: true, reason: '' }, admin),
    LastAdminError: async () => {
      // Arranged for a moment: `admin` the only admin, revoking itself.
      const others = await db.user.findMany({ where: { roles: { has: Role.ADMIN }, id: { not: admin.id } } });
      await db.user.updateMany({ where: { id: { in: others.map((other) => other.id) } }, data: { roles: [Role.VIEWER] } });
      try {
        return await attempt('setAdmin', { userId: gid('User', admin.id), admin: false, reason: 'a test' }, admin);
      } finally {
        for (const other of others) await db.user.update({ where: { id: other.id }, data: { roles: other.roles } });
      }
    },
  },
  devToken: {
    AuthToken: () => attempt('devToken', { handle: viewer.handle }, null, { development: true }),
    ForbiddenError: () => attempt('devToken', { handle: viewer.handle }),
    NotFoundError: () => attempt('devToken', { handle: 'nobody_here' }, null, { development: true }),
  },
  endLiveSession: {
    LiveSession: async () => {
      const { creator: host, session } = await createLiveCreator(db);
      return attempt('endLiveSession', { liveSessionId: gid('LiveSession', session.id) }, host);
    },
    NotAuthenticatedError: async () => attempt('endLiveSession', { liveSessionId: await live() }),
    // Someone else's session is not found, as an unknown one is.
    NotFoundError: async () => attempt('endLiveSession', { liveSessionId: await live() }, viewer),
    ValidationError: () => attempt('endLiveSession', { liveSessionId: 'nope' }, viewer),
  },
  markPayoutFailed: {
    Payout: async () => attempt('markPayoutFailed', reasoned((await processing()).id), admin),
    NotAuthenticatedError: async () => attempt('markPayoutFailed', reasoned((await processing()).id)),
    ForbiddenError: async () => attempt('markPayoutFailed', reasoned((await processing()).id), viewer),
    ValidationError: () => attempt('markPayoutFailed', reasoned(nowhere('Payout'), ''), admin),
    NotFoundError: () => attempt('markPayoutFailed', reasoned(nowhere('Payout')), admin),
    IdempotencyConflictError: async () => {
      const first = reasoned((await processing()).id);
      expect(await attempt('markPayoutFailed', first, admin)).toBe('Payout');
      return attempt('markPayoutFailed', { ...first, reason: 'Another reason' }, admin);
    },
    // Only a payout with the provider can fail.
    PayoutTransitionError: async () => attempt('markPayoutFailed', reasoned((await requested()).id), admin),
    OwnPayoutError: async () => {
      const { creator: own, id } = await processing(operator);
      return attempt('markPayoutFailed', reasoned(id), own);
    },
  },
  placePayoutHold: {
    Payout: async () => attempt('placePayoutHold', hold((await requested()).id), admin),
    NotAuthenticatedError: async () => attempt('placePayoutHold', hold((await requested()).id)),
    ForbiddenError: async () => attempt('placePayoutHold', hold((await requested()).id), viewer),
    ValidationError: () => attempt('placePayoutHold', { ...hold(nowhere('Payout')), note: 'x' }, admin),
    NotFoundError: () => attempt('placePayoutHold', hold(nowhere('Payout')), admin),
    // Already held for that reason.
    PayoutHoldError: async () => attempt('placePayoutHold', hold((await held()).id), admin),
    OwnPayoutError: async () => {
      const { creator: own, id } = await requested({ creator: operator });
      return attempt('placePayoutHold', hold(id), own);
    },
  },
  purchaseCoins: {
    Purchase: async () => attempt('purchaseCoins', await purchase(), viewer),
    NotAuthenticatedError: async () => attempt('purchaseCoins', await purchase()),
    ValidationError: async () => attempt('purchaseCoins', await purchase({ bundleId: 'nope' }), viewer),
    NotFoundError: async () => attempt('purchaseCoins', await purchase({ bundleId: nowhere('CoinBundle') }), viewer),
    BundleUnavailableError: async () => {
      const bundle = await createTestBundle(db);
      await db.coinBundle.update({ where: { id: bundle.id }, data: { retiredAt: new Date() } });
      return attempt('purchaseCoins', await purchase({ bundleId: gid('CoinBundle', bundle.id) }), viewer);
    },
    PaymentDeclinedError: async () => attempt('purchaseCoins', await purchase({ paymentMethod: SANDBOX_METHODS.declined }), viewer),
    PaymentProviderUnavailableError: async () => attempt('purchaseCoins', await purchase(), viewer, { payments: null }),
    AgeRestrictedError: async () => attempt('purchaseCoins', await purchase(), young),
    AccountRestrictedError: async () => attempt('purchaseCoins', await purchase(), await createUser(db, { restrictions: ['BUYING'] })),
    IdempotencyConflictError: async () => {
      const first = await purchase();
      expect(await attempt('purchaseCoins', first, viewer)).toBe('Purchase');
      return attempt('purchaseCoins', { ...first, paymentMethod: SANDBOX_METHODS.declined }, viewer);
    },
    // A first call with the key that never finishes (its instance died while the provider was being
    // asked): a retry waits for it, then gives up.
    IdempotencyInProgressError: async () => {
      const bundle = await createTestBundle(db);
      const input = await purchase({ bundleId: gid('CoinBundle', bundle.id) });
      await db.idempotencyKey.create({
        data: {
          callerId: viewer.id,
          key: input.idempotencyKey,
          operation: 'purchaseCoins',
          requestHash: requestHash('purchaseCoins', { bundleId: bundle.id, paymentMethod: input.paymentMethod }),
        },
      });
      return attempt('purchaseCoins', input, viewer);
    },
  },
  register: {
    AuthToken: () => attempt('register', { handle: `new_${randomUUID().slice(0, 8)}`, displayName: 'New', birthDate: '1990-01-01', country: 'US' }, null, { development: true }),
    ForbiddenError: () => attempt('register', { handle: `new_${randomUUID().slice(0, 8)}`, displayName: 'New', birthDate: '1990-01-01', country: 'US' }),
    HandleTakenError: () => attempt('register', { handle: viewer.handle, displayName: 'New', birthDate: '1990-01-01', country: 'US' }, null, { development: true }),
    ValidationError: () => attempt('register', { handle: 'x', displayName: 'New', birthDate: '1990-01-01', country: 'US' }, null, { development: true }),
  },
  completeProfile: {
    User: () => attempt('completeProfile', profile(`new_${randomUUID().slice(0, 8)}`), null, { identity: newIdentity() }),
    NotAuthenticatedError: () => attempt('completeProfile', profile(`new_${randomUUID().slice(0, 8)}`)),
    ForbiddenError: () => attempt('completeProfile', profile(`new_${randomUUID().slice(0, 8)}`), viewer, { identity: newIdentity() }),
    ValidationError: () => attempt('completeProfile', profile('x'), null, { identity: newIdentity() }),
    HandleTakenError: () => attempt('completeProfile', profile(viewer.handle), null, { identity: newIdentity() }),
  },
  rejectPayout: {
    Payout: async () => attempt('rejectPayout', reasoned((await requested()).id), admin),
    NotAuthenticatedError: async () => attempt('rejectPayout', reasoned((await requested()).id)),
    ForbiddenError: async () => attempt('rejectPayout', reasoned((await requested()).id), viewer),
    ValidationError: () => attempt('rejectPayout', reasoned(nowhere('Payout'), ''), admin),
    NotFoundError: () => attempt('rejectPayout', reasoned(nowhere('Payout')), admin),
    IdempotencyConflictError: async () => {
      const first = reasoned((await requested()).id);
      expect(await attempt('rejectPayout', first, admin)).toBe('Payout');
      return attempt('rejectPayout', { ...first, reason: 'Another reason' }, admin);
    },
    PayoutTransitionError: async () => attempt('rejectPayout', reasoned((await canceled()).id), admin),
    OwnPayoutError: async () => {
      const { creator: own, id } = await requested({ creator: operator });
      return attempt('rejectPayout', reasoned(id), own);
    },
  },
  releasePayoutHold: {
    Payout: async () => attempt('releasePayoutHold', hold((await held()).id), admin),
    NotAuthenticatedError: async () => attempt('releasePayoutHold', hold((await held()).id)),
    ForbiddenError: async () => attempt('releasePayoutHold', hold((await held()).id), viewer),
    ValidationError: () => attempt('releasePayoutHold', hold('nope'), admin),
    // A hold the payout does not have is not found.
    NotFoundError: async () => attempt('releasePayoutHold', hold((await requested()).id), admin),
    OwnPayoutError: async () => {
      const { creator: own, id } = await held(operator);
      return attempt('releasePayoutHold', hold(id), own);
    },
  },
  removePayoutMethod: {
    PayoutMethod: async () => {
      const owner = await creator();
      return attempt('removePayoutMethod', { methodId: await methodId(owner) }, owner);
    },
    NotAuthenticatedError: async () => attempt('removePayoutMethod', { methodId: await methodId(await creator()) }),
    ForbiddenError: async () => attempt('removePayoutMethod', { methodId: await methodId(await creator()) }, viewer),
    ValidationError: async () => attempt('removePayoutMethod', { methodId: 'nope' }, await creator()),
    // Someone else's method is not found, as an unknown one is.
    NotFoundError: async () => attempt('removePayoutMethod', { methodId: await methodId(await creator()) }, await creator()),
  },
  ...Object.fromEntries(
    (['restrictAccount', 'liftRestriction'] as const).map((mutation) => [
      mutation,
      {
        User: () => attempt(mutation, { userId: gid('User', viewer.id), kind: 'PAYOUTS', reason: 'a test' }, admin),
        NotAuthenticatedError: () => attempt(mutation, { userId: gid('User', viewer.id), kind: 'PAYOUTS', reason: 'a test' }),
        ForbiddenError: () => attempt(mutation, { userId: gid('User', viewer.id), kind: 'PAYOUTS', reason: 'a test' }, viewer),
        NotFoundError: () => attempt(mutation, { userId: nowhere('User'), kind: 'PAYOUTS', reason: 'a test' }, admin),
        ValidationError: () => attempt(mutation, { userId: gid('User', viewer.id), kind: 'PAYOUTS', reason: '' }, admin),
      },
    ]),
  ),
  ...Object.fromEntries(
    (['suspendAccount', 'liftSuspension'] as const).map((mutation) => [
      mutation,
      {
        // A user of its own: a suspension is only ever seen at the edge, but keeps the table's users apart.
        User: async () => attempt(mutation, { userId: gid('User', (await createUser(db)).id), reason: 'a test' }, admin),
        NotAuthenticatedError: () => attempt(mutation, { userId: gid('User', viewer.id), reason: 'a test' }),
        ForbiddenError: () => attempt(mutation, { userId: gid('User', viewer.id), reason: 'a test' }, viewer),
        NotFoundError: () => attempt(mutation, { userId: nowhere('User'), reason: 'a test' }, admin),
        ValidationError: () => attempt(mutation, { userId: gid('User', viewer.id), reason: '' }, admin),
      },
    ]),
  ),
  ...Object.fromEntries(
    (['repriceCoinBundle', 'retireCoinBundle'] as const).map((mutation) => {
      const input = (bundleId: string) => (mutation === 'repriceCoinBundle' ? { bundleId, prices: [price] } : { bundleId });
      const bundle = async () => gid('CoinBundle', (await createTestBundle(db)).id);
      return [
        mutation,
        {
          CoinBundle: async () => attempt(mutation, input(await bundle()), admin),
          NotAuthenticatedError: async () => attempt(mutation, input(await bundle())),
          ForbiddenError: async () => attempt(mutation, input(await bundle()), viewer),
          NotFoundError: () => attempt(mutation, input(nowhere('CoinBundle')), admin),
          ValidationError: () => attempt(mutation, input(gid('User', viewer.id)), admin),
        },
      ];
    }),
  ),
  requestPayout: {
    Payout: async () => {
      const { creator: owner } = await creatorWith(db, MINIMUM);
      return attempt('requestPayout', ask(await methodId(owner)), owner);
    },
    NotAuthenticatedError: () => attempt('requestPayout', ask(nowhere('PayoutMethod'))),
    ForbiddenError: () => attempt('requestPayout', ask(nowhere('PayoutMethod')), viewer),
    ValidationError: async () => attempt('requestPayout', ask('nope'), await creator()),
    NotFoundError: async () => attempt('requestPayout', ask(nowhere('PayoutMethod')), await creator()),
    IdempotencyConflictError: async () => {
      const { creator: owner } = await creatorWith(db, MINIMUM);
      const first = ask(await methodId(owner));
      expect(await attempt('requestPayout', first, owner)).toBe('Payout');
      return attempt('requestPayout', { ...first, diamonds: String(MINIMUM + 2n) }, owner);
    },
    AgeRestrictedError: async () => attempt('requestPayout', ask(await methodId(young)), young),
    AccountRestrictedError: async () => {
      const restricted = await creator({ restrictions: [RestrictionKind.PAYOUTS] });
      return attempt('requestPayout', ask(await methodId(restricted)), restricted);
    },
    PayoutMethodUnverifiedError: async () => {
      const owner = await creator();
      return attempt('requestPayout', ask(await methodId(owner, { verified: false })), owner);
    },
    // A method added once another was verified waits out the cooling-off period, even once verified itself.
    PayoutMethodLockedError: async () => {
      const { creator: owner } = await creatorWith(db, MINIMUM);
      await payoutMethod(owner);
      return attempt('requestPayout', ask(await methodId(owner)), owner);
    },
    PayoutBelowMinimumError: async () => {
      const { creator: owner } = await creatorWith(db, MINIMUM);
      return attempt('requestPayout', ask(await methodId(owner), MINIMUM - 2n), owner);
    },
    PayoutDailyCapError: async () => {
      const overCap = (DEFAULT_POLICY.payouts.dailyCapCents + 1n) * 2n;
      const { creator: owner } = await creatorWith(db, overCap);
      return attempt('requestPayout', ask(await methodId(owner), overCap), owner);
    },
    InsufficientDiamondsError: async () => {
      const owner = await creator();
      return attempt('requestPayout', ask(await methodId(owner)), owner);
    },
    PayoutProviderUnavailableError: async () => {
      const { creator: owner } = await creatorWith(db, MINIMUM);
      return attempt('requestPayout', ask(await methodId(owner)), owner, noPayoutProvider);
    },
  },
  sendGift: {
    SentGift: async () => attempt('sendGift', await gift(), await createFundedViewer(db, 100n)),
    NotAuthenticatedError: async () => attempt('sendGift', await gift()),
    ValidationError: async () => attempt('sendGift', await gift({ quantity: 0 }), await createFundedViewer(db, 100n)),
    NotFoundError: async () => attempt('sendGift', await gift({ liveSessionId: nowhere('LiveSession') }), await createFundedViewer(db, 100n)),
    LiveSessionEndedError: async () => attempt('sendGift', await gift({ liveSessionId: (await ended()).id }), await createFundedViewer(db, 100n)),
    GiftUnavailableError: async () => {
      const retired = await db.gift.update({ where: { id: (await createCatalogGift(db, 5n)).id }, data: { active: false } });
      return attempt('sendGift', await gift({ giftId: gid('Gift', retired.id) }), await createFundedViewer(db, 100n));
    },
    AccountRestrictedError: async () => attempt('sendGift', await gift(), await createFundedViewer(db, 100n, { restrictions: ['GIFTING'] })),
    AgeRestrictedError: async () => {
      await fundWalletUnder(NO_AGE_GATE, db, young, 100n);
      return attempt('sendGift', await gift(), young);
    },
    InsufficientCoinsError: async () => attempt('sendGift', await gift(), await createUser(db)),
    OutstandingDebtError: async () => attempt('sendGift', await gift(), await debtor()),
    SpendingLimitError: async () => attempt('sendGift', await gift(), await createFundedViewer(db, 100n, { dailyLimitCoins: 1n })),
    IdempotencyConflictError: async () => {
      const sender = await createFundedViewer(db, 100n);
      const first = await gift();
      expect(await attempt('sendGift', first, sender)).toBe('SentGift');
      return attempt('sendGift', { ...first, quantity: 2 }, sender);
    },
  },
  setDailySpendingLimit: {
    SpendingLimits: () => attempt('setDailySpendingLimit', { dailyLimitCoins: '100' }, viewer),
    NotAuthenticatedError: () => attempt('setDailySpendingLimit', { dailyLimitCoins: '100' }),
    ValidationError: () => attempt('setDailySpendingLimit', { dailyLimitCoins: '-1' }, viewer),
  },
  setLiveSessionGoal: {
    LiveSession: async () => {
      const { creator: host, session } = await createLiveCreator(db);
      return attempt('setLiveSessionGoal', { liveSessionId: gid('LiveSession', session.id), goalCoins: '100' }, host);
    },
    NotAuthenticatedError: async () => attempt('setLiveSessionGoal', { liveSessionId: await live(), goalCoins: '100' }),
    ForbiddenError: async () => attempt('setLiveSessionGoal', { liveSessionId: await live(), goalCoins: '100' }, viewer),
    NotFoundError: () => attempt('setLiveSessionGoal', { liveSessionId: nowhere('LiveSession'), goalCoins: '100' }, viewer),
    LiveSessionEndedError: async () => {
      const { host, id } = await ended();
      return attempt('setLiveSessionGoal', { liveSessionId: id, goalCoins: '100' }, host);
    },
    ValidationError: async () => attempt('setLiveSessionGoal', { liveSessionId: await live(), goalCoins: '0' }, viewer),
  },
  startLiveSession: {
    LiveSession: async () => attempt('startLiveSession', { title: 'Hello' }, await creator()),
    NotAuthenticatedError: () => attempt('startLiveSession', { title: 'Hello' }),
    ForbiddenError: () => attempt('startLiveSession', { title: 'Hello' }, viewer),
    // A valid token for an account that is gone.
    NotFoundError: () => attempt('startLiveSession', { title: 'Hello' }, unknownUser),
    AgeRestrictedError: () => attempt('startLiveSession', { title: 'Hello' }, young),
    ValidationError: async () => attempt('startLiveSession', { title: '' }, await creator()),
  },
  updateGift: {
    Gift: () => attempt('updateGift', { giftId: gid('Gift', rose.id), sortOrder: 1 }, admin),
    NotAuthenticatedError: () => attempt('updateGift', { giftId: gid('Gift', rose.id), sortOrder: 1 }),
    ForbiddenError: () => attempt('updateGift', { giftId: gid('Gift', rose.id), sortOrder: 1 }, viewer),
    NotFoundError: () => attempt('updateGift', { giftId: nowhere('Gift'), sortOrder: 1 }, admin),
    ValidationError: () => attempt('updateGift', { giftId: gid('Gift', rose.id), coins: '0' }, admin),
  },
  updateProfile: {
    User: () => attempt('updateProfile', { displayName: 'Renamed' }, viewer),
    NotAuthenticatedError: () => attempt('updateProfile', { displayName: 'Renamed' }),
    ValidationError: () => attempt('updateProfile', { country: 'USA' }, viewer),
  },
  verifyPayoutMethod: {
    PayoutMethod: async () => attempt('verifyPayoutMethod', { methodId: await methodId(await creator(), { verified: false }) }, admin),
    NotAuthenticatedError: async () => attempt('verifyPayoutMethod', { methodId: await methodId(await creator(), { verified: false }) }),
    ForbiddenError: async () => attempt('verifyPayoutMethod', { methodId: await methodId(await creator(), { verified: false }) }, viewer),
    ValidationError: () => attempt('verifyPayoutMethod', { methodId: 'nope' }, admin),
    NotFoundError: () => attempt('verifyPayoutMethod', { methodId: nowhere('PayoutMethod') }, admin),
    OwnPayoutError: async () => {
      const own = await creator(operator);
      return attempt('verifyPayoutMethod', { methodId: await methodId(own, { verified: false }) }, own);
    },
  },
};

const mutations = schema.getMutationType()!.getFields();

describe('mutations', () => {
  test('each takes one argument, `input`, of its own input type <Mutation>Input, or none', () => {
    for (const [name, field] of Object.entries(mutations)) {
      if (field.args.length === 0) continue;
      expect(field.args.map((arg) => arg.name), name).toEqual(['input']);
      const [input] = field.args;
      expect(input!.type, name).toBeInstanceOf(GraphQLNonNull);
      expect(getNamedType(input!.type), name).toBeInstanceOf(GraphQLInputObjectType);
      expect(getNamedType(input!.type).name, name).toBe(inputTypeOf(name));
    }
  });

  test('every mutation has its results listed here', () => {
    expect(Object.keys(results).sort()).toEqual(Object.keys(mutations).sort());
  });

  test.each(Object.keys(mutations).sort())('%s returns exactly its payload and the refusals it can give', async (name) => {
    const union = getNamedType(mutations[name]!.type);
    expect(union).toBeInstanceOf(GraphQLUnionType);
    const members = (union as GraphQLUnionType).getTypes().map((type) => type.name);
    expect(members.sort()).toEqual(Object.keys(results[name]!).sort());
    for (const [typename, provoke] of Object.entries(results[name]!)) expect(await provoke(), typename).toBe(typename);
  });
});
