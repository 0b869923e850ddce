import { queryFromInfo } from '@pothos/plugin-prisma';
import type { GraphQLResolveInfo } from 'graphql';
import { MAX_LEADERBOARD_SIZE, topCreators, topSupporters, type LeaderboardEntry, type UserQuery } from '../domain/leaderboards.js';
import { builder } from './builder.js';
import { itemsCost } from './cost.js';
import type { Context } from './context.js';
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

/** Every leaderboard's line, whichever board it is on (a live session's gifters, a creator's supporters, the top creators). */
export const LeaderboardEntryRef = builder.objectRef<LeaderboardEntry>('LeaderboardEntry').implement({
  description: 'A line of a leaderboard: who, their position and their coins.',
  fields: (t) => ({
    rank: t.exposeInt('rank', { description: '1 for the top: position by coins, ties in a stable order.' }),
    user: t.field({ type: User, resolve: (entry) => entry.user }),
    coins: t.field({
      type: 'BigInt',
      description: "The coins that rank them in the board's window: gifted (gifters, supporters) or received (creators).",
      resolve: (entry) => entry.coins,
    }),
  }),
});

/**
 * What the query selects under the entries' `user` at `path`, for loading with the users in one query
 * rather than a query per line.
 */
export function usersQuery(context: Context, info: GraphQLResolveInfo, path: string[]): UserQuery {
  const { include } = queryFromInfo({ context, info, typeName: 'User', path });
  return include ? { include } : {};
}

builder.queryFields((t) => ({
  topSupporters: t.field({
    type: [LeaderboardEntryRef],
    description: "A creator's biggest supporters in a period.",
    args: {
      creatorId: t.arg.id({ description: 'The creator (a User id).' }),
      period: t.arg({ type: LeaderboardPeriod }),
      first: t.arg.int({ defaultValue: 10, description: `How many; at most ${MAX_LEADERBOARD_SIZE}.` }),
    },
    complexity: ({ first }) => itemsCost(Math.min(first, MAX_LEADERBOARD_SIZE)),
    resolve: (_root, args, context, info) =>
      topSupporters(context.db, idOf(args.creatorId, 'User', 'creatorId'), args.period, args.first, usersQuery(context, info, ['user'])),
  }),
  topCreators: t.field({
    type: [LeaderboardEntryRef],
    description: 'The creators who received the most coins in a period.',
    args: {
      period: t.arg({ type: CreatorLeaderboardPeriod }),
      first: t.arg.int({ defaultValue: 10, description: `How many; at most ${MAX_LEADERBOARD_SIZE}.` }),
    },
    complexity: ({ first }) => itemsCost(Math.min(first, MAX_LEADERBOARD_SIZE)),
    resolve: (_root, args, context, info) => topCreators(context.db, args.period, args.first, usersQuery(context, info, ['user'])),
  }),
}));
