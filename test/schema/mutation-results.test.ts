import { randomUUID } from 'node:crypto';
import { createAnnouncer, silentAnnouncer } from '../../src/events/announcer.js';
import { execute, getNamedType, GraphQLInputObjectType, GraphQLNonNull, GraphQLUnionType, parse } from 'graphql';
import { afterAll, describe, expect, test } from 'vitest';
import { createGiftSender } from '../../src/domain/gifting.js';
import { requestHash } from '../../src/domain/idempotency.js';
import { endLiveSession } from '../../src/domain/live-sessions.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { applyPaymentEvent, purchaseCoins } from '../../src/domain/purchases.js';
import { sandboxPaymentId, SANDBOX_METHODS } from '../../src/domain/payments/sandbox.js';
import type { Viewer } from '../../src/domain/viewer.js';
import { createPresence } from '../../src/events/presence.js';
import { createEventBus } from '../../src/events/pubsub.js';
import { Role, type User } from '../../src/generated/prisma/client.js';
import { createLogger } from '../../src/logger.js';
import type { Context } from '../../src/schema/context.js';
import { globalId } from '../../src/schema/ids.js';
import { schema } from '../../src/schema/index.js';
import { createTestDatabase } from '../support/database.js';
import { aged, fundWalletUnder, NO_AGE_GATE } from '../support/gifting.js';
import { createCatalogGift, createFundedViewer, createLiveCreator, sandbox, uniqueKey } from '../support/money.js';
import { createUser } from '../support/users.js';
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
  payouts: { db, policy: DEFAULT_POLICY, provider: null, announce: announcer, log },
  issueToken: async () => 'token',
  development: false,
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
const creator = () => createUser(db, { roles: [Role.VIEWER, Role.CREATOR] });
const unknownUser: Caller = { id: randomUUID(), roles: [Role.VIEWER, Role.CREATOR] };
const rose = await createCatalogGift(db, 5n);
const price = { region: 'DEFAULT', amountMinor: '99', currency: 'USD' };

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

type Provocations = Record<string, () => Promise<string>>;

/** Every member of every mutation's result union, and a way to get it. */
const results: Record<string, Provocations> = {
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
    AuthToken: () => attempt('register', { handle: `new_${randomUUID().slice(0, 8)}`, displayName: 'New', birthDate: '1990-01-01', country: 'US' }),
    HandleTakenError: () => attempt('register', { handle: viewer.handle, displayName: 'New', birthDate: '1990-01-01', country: 'US' }),
    ValidationError: () => attempt('register', { handle: 'x', displayName: 'New', birthDate: '1990-01-01', country: 'US' }),
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
