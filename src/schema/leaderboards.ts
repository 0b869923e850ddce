import { MAX_LEADERBOARD_SIZE, topCreators, topSupporters, type CreatorRank, type SupporterRank } from '../domain/leaderboards.js';
import { builder } from './builder.js';
import { itemsCost } from './cost.js';
import { idOf } from './ids.js';
import { User } from './users.js';

const LeaderboardPeriod = builder.enumType('LeaderboardPeriod', {
  description: 'A leaderboard window, in UTC days.',
  values: {
    DAY: { description: 'Today.' },
    WEEK: { description: 'The last 7 days, today included.' },
    MONTH: { description: 'The last 30 days, today included.' },
    ALL_TIME: { description: 'Since the beginning.' },
  } as const,
});

const CreatorLeaderboardPeriod = builder.enumType('CreatorLeaderboardPeriod', {
  description: 'A window of the creators leaderboard, in UTC days.',
  values: {
    DAY: { description: 'Today.' },
    WEEK: { description: 'The last 7 days, today included.' },
  } as const,
});

const RANK = '1 for the top: position by coins, ties in a stable order.';

const SupporterRankRef = builder.objectRef<SupporterRank>('SupporterRank').implement({
  description: "A line of a creator's supporters leaderboard.",
  fields: (t) => ({
    rank: t.exposeInt('rank', { description: RANK }),
    supporter: t.field({ type: User, resolve: (line) => line.supporter }),
    coins: t.field({ type: 'BigInt', description: 'Coins gifted to the creator in the period.', resolve: (line) => line.coins }),
  }),
});

const CreatorRankRef = builder.objectRef<CreatorRank>('CreatorRank').implement({
  description: 'A line of the creators leaderboard.',
  fields: (t) => ({
    rank: t.exposeInt('rank', { description: RANK }),
    creator: t.field({ type: User, resolve: (line) => line.creator }),
    coins: t.field({ type: 'BigInt', description: 'Coins the creator received in the period.', resolve: (line) => line.coins }),
  }),
});

builder.queryFields((t) => ({
  topSupporters: t.field({
    type: [SupporterRankRef],
    description: "A creator's biggest supporters in a period.",
    args: {
      creatorId: t.arg.id({ description: 'The creator (a User id).' }),
      period: t.arg({ type: LeaderboardPeriod }),
      first: t.arg.int({ defaultValue: 10, description: `How many; at most ${MAX_LEADERBOARD_SIZE}.` }),
    },
    complexity: ({ first }) => itemsCost(Math.min(first, MAX_LEADERBOARD_SIZE)),
    resolve: (_root, args, context) => topSupporters(context.db, idOf(args.creatorId, 'User', 'creatorId'), args.period, args.first),
  }),
  topCreators: t.field({
    type: [CreatorRankRef],
    description: 'The creators who received the most coins in a period.',
    args: {
      period: t.arg({ type: CreatorLeaderboardPeriod }),
      first: t.arg.int({ defaultValue: 10, description: `How many; at most ${MAX_LEADERBOARD_SIZE}.` }),
    },
    complexity: ({ first }) => itemsCost(Math.min(first, MAX_LEADERBOARD_SIZE)),
    resolve: (_root, args, context) => topCreators(context.db, args.period, args.first),
  }),
}));
