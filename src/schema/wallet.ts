import { NotAuthenticatedError, ValidationError } from '../domain/errors.js';
import { DIAMONDS_PER_COIN, USD_CENTS_PER_DIAMOND } from '../domain/policy.js';
import { personalDailyLimit, setDailyLimit, spendDay } from '../domain/safeguards.js';
import { balancesOf, type Balances } from '../domain/wallet.js';
import { EntryKind, type User as UserRow } from '../generated/prisma/client.js';
import { builder } from './builder.js';
import { connectionCost } from './cost.js';
import { SentGiftRef } from './gifting.js';
import { AssetEnum, cashValueOf, CashValue, Rate } from './money.js';

export const EntryKindEnum = builder.enumType(EntryKind, { name: 'EntryKind' });

const WalletActivity = builder.prismaNode('Posting', {
  name: 'WalletActivity',
  id: { field: 'id' },
  nullable: true, // node(id:) of an unknown id: null
  // Private: found by id (through `node`) only by the owner of its account; for anyone else it is not there.
  findUnique: (id, context) => ({ id: BigInt(id), account: context.viewer ? { userId: context.viewer.userId } : { id: { in: [] } } }),
  description: 'One line of a wallet history: a posting to one of your accounts.',
  fields: (t) => ({
    asset: t.expose('asset', { type: AssetEnum }),
    amount: t.expose('amount', { type: 'BigInt', description: 'Signed: positive in, negative out.' }),
    cashValue: t.field({
      type: CashValue,
      nullable: true,
      description: 'For diamonds, what they are worth.',
      resolve: (posting) => (posting.asset === 'DIAMOND' ? cashValueOf(posting.amount < 0n ? -posting.amount : posting.amount) : null),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    kind: t.field({ type: EntryKindEnum, select: { entry: { select: { kind: true } } }, resolve: (posting) => posting.entry.kind }),
    memo: t.string({ select: { entry: { select: { memo: true } } }, resolve: (posting) => posting.entry.memo }),
    sentGift: t.field({
      type: SentGiftRef,
      nullable: true,
      // With what the query selects under it, in the history's own read.
      select: (_args, _context, nestedSelection) => ({ entry: { select: { sentGift: nestedSelection(true) } } }),
      resolve: (posting) => posting.entry.sentGift,
    }),
  }),
});

type WalletOwner = { userId: string };
type WalletShape = WalletOwner & Balances;

type LimitHolder = Pick<UserRow, 'id' | 'dailyLimitCoins' | 'pendingDailyLimit' | 'pendingLimitActiveAt'>;
const pendingRaise = (user: LimitHolder) => (user.pendingLimitActiveAt && user.pendingLimitActiveAt > new Date() ? user : null);

const SpendingLimits = builder.objectRef<LimitHolder>('SpendingLimits').implement({
  description: 'What you may still spend. Lowering your limit applies at once; raising it waits out a cooling-off period.',
  fields: (t) => ({
    dailyLimitCoins: t.field({
      type: 'BigInt',
      nullable: true,
      description: 'Your own daily limit in force now; null when you have none.',
      resolve: (user) => personalDailyLimit(user, new Date()),
    }),
    pendingDailyLimitCoins: t.field({
      type: 'BigInt',
      nullable: true,
      resolve: (user) => pendingRaise(user)?.pendingDailyLimit ?? null,
    }),
    pendingFrom: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When a raised (or removed) limit takes effect.',
      resolve: (user) => pendingRaise(user)?.pendingLimitActiveAt ?? null,
    }),
    spentTodayCoins: t.field({
      type: 'BigInt',
      resolve: async ({ id }, _args, context) =>
        (await context.db.dailySpend.findUnique({ where: { userId_day: { userId: id, day: spendDay(new Date()) } } }))?.coins ?? 0n,
    }),
    platformDailyCapCoins: t.field({ type: 'BigInt', resolve: (_owner, _args, context) => context.policy.platformDailyCapCoins }),
    platformWeeklyCapCoins: t.field({ type: 'BigInt', resolve: (_owner, _args, context) => context.policy.platformWeeklyCapCoins }),
  }),
});

const Wallet = builder.objectRef<WalletShape>('Wallet').implement({
  description: "The signed-in user's money.",
  fields: (t) => ({
    coins: t.field({ type: 'BigInt', resolve: (wallet) => (wallet.coins < 0n ? 0n : wallet.coins) }),
    diamonds: t.field({ type: 'BigInt', resolve: (wallet) => wallet.diamonds }),
    diamondsCashValue: t.field({ type: CashValue, resolve: (wallet) => cashValueOf(wallet.diamonds) }),
    debtCoins: t.field({
      type: 'BigInt',
      description: 'Coins owed after a chargeback; spending is blocked until purchases cover it.',
      resolve: (wallet) => (wallet.coins < 0n ? -wallet.coins : 0n),
    }),
    limits: t.field({ type: SpendingLimits, resolve: ({ userId }, _args, context) => context.db.user.findUniqueOrThrow({ where: { id: userId } }) }),
    history: t.prismaConnection({
      type: 'Posting',
      cursor: 'id',
      description: 'Every movement of your coins and diamonds, newest first.',
      complexity: connectionCost,
      resolve: (query, { userId }, _args, context) =>
        context.db.posting.findMany({ ...query, where: { account: { userId } }, orderBy: { id: 'desc' } }),
    }),
  }),
});

const ExchangeRates = builder.objectRef<object>('ExchangeRates').implement({
  description: 'The published rates: nothing about what a creator earns is hidden.',
  fields: (t) => ({
    diamondsPerCoin: t.field({ type: Rate, description: 'Diamonds a creator earns per coin gifted, rounded down.', resolve: () => DIAMONDS_PER_COIN }),
    usdCentsPerDiamond: t.field({ type: Rate, description: 'Cash value of one diamond in US cents.', resolve: () => USD_CENTS_PER_DIAMOND }),
  }),
});

builder.queryFields((t) => ({
  wallet: t.field({
    type: Wallet,
    authScopes: { signedIn: true },
    resolve: async (_root, _args, context) => ({
      userId: context.viewer!.userId,
      ...(await balancesOf(context.db, context.viewer!.userId)),
    }),
  }),
  exchangeRates: t.field({ type: ExchangeRates, resolve: () => ({}) }),
}));

builder.subscriptionFields((t) => ({
  walletUpdated: t.field({
    type: Wallet,
    description: "The signed-in user's wallet after each change (a purchase, a gift sent or received, a refund).",
    authScopes: { signedIn: true },
    subscribe: (_root, _args, context) => context.pubsub.latest('walletUpdated', context.viewer!.userId),
    resolve: async ({ userId }, _args, context) => ({ userId, ...(await balancesOf(context.db, userId)) }),
  }),
}));

const SetDailySpendingLimitInput = builder.inputType('SetDailySpendingLimitInput', {
  fields: (t) => ({
    dailyLimitCoins: t.field({ type: 'BigInt', required: false, description: 'Null (or left out) removes your limit.' }),
  }),
});

builder.mutationFields((t) => ({
  setDailySpendingLimit: t.field({
    type: SpendingLimits,
    description: 'Sets your own daily limit in coins (null removes it). Lowering applies at once; raising after the cooling-off period.',
    args: { input: t.arg({ type: SetDailySpendingLimitInput }) },
    authScopes: { signedIn: true },
    errors: { types: [NotAuthenticatedError, ValidationError] },
    resolve: async (_root, { input }, context) => {
      return setDailyLimit(context.db, context.policy, context.viewer!.userId, input.dailyLimitCoins ?? null);
    },
  }),
}));
