import { resolveCursorConnection, type ResolveCursorConnectionArgs } from '@pothos/plugin-relay';
import type { GraphQLResolveInfo } from 'graphql';
import { ForbiddenError, LiveSessionEndedError, NotAuthenticatedError, NotFoundError, ValidationError } from '../domain/errors.js';
import { sessionLeaderboardPage, type LeaderboardEntry } from '../domain/leaderboards.js';
import { setLiveSessionGoal } from '../domain/live-sessions.js';
import { builder } from './builder.js';
import { connectionCost, itemsCost } from './cost.js';
import type { Context } from './context.js';
import { LiveSessionRef } from './gifting.js';
import { globalId, idOf } from './ids.js';
import { LeaderboardEntryRef, usersQuery } from './leaderboards.js';
import { cashValueOf, CashValue } from './money.js';

// A live session's room page: its totals, goal, leaderboard and latest gifts, all kept by the gift
// batches (src/domain/rooms.ts), so reading them costs a few index lookups whatever the room's size.

/** The most recent gifts one request may list. */
const MAX_RECENT_GIFTS = 100;

/** A line of a session's leaderboard, with what its edge tells besides. */
type Gifter = LeaderboardEntry & { gifts: number; lastGiftAt: Date };

/**
 * One page of a session's leaderboard from a keyset range of its index (sessionLeaderboardPage), with
 * the users and what the query selects under them in the same read. Rows come from the cursor outwards,
 * as resolveCursorConnection expects; ranks count from the top.
 */
async function gifters(
  context: Context,
  info: GraphQLResolveInfo,
  session: { id: string; uniqueGifters: number },
  { after, before, limit, inverted }: ResolveCursorConnectionArgs,
): Promise<Gifter[]> {
  const cursor = inverted ? before : after;
  const page = await sessionLeaderboardPage(context.db, session, {
    take: inverted ? -limit : limit,
    cursorSenderId: cursor ? idOf(cursor, 'User', inverted ? 'before' : 'after') : undefined,
  });
  if (!page) return [];
  const { include } = usersQuery(context, info, ['edges', 'node', 'user']);
  const rows = await context.db.sessionSupporter.findMany({
    where: page.where,
    orderBy: page.orderBy,
    take: page.take,
    include: { sender: include ? { include } : true },
  });
  const first = page.firstRank(rows.length);
  return rows.map((row, index) => ({
    rank: page.reversed ? first + rows.length - 1 - index : first + index,
    user: row.sender,
    coins: row.coins,
    gifts: row.gifts,
    lastGiftAt: row.lastGiftAt,
  }));
}

const LiveSessionGoal = builder.objectRef<{ goalCoins: bigint; progressCoins: bigint; reachedAt: Date | null }>('LiveSessionGoal').implement({
  description: "The creator's coin goal for the session and the progress towards it.",
  fields: (t) => ({
    goalCoins: t.field({ type: 'BigInt', resolve: (goal) => goal.goalCoins }),
    progressCoins: t.field({ type: 'BigInt', description: 'Coins gifted in the session so far.', resolve: (goal) => goal.progressCoins }),
    reached: t.boolean({ resolve: (goal) => goal.reachedAt !== null }),
    reachedAt: t.field({ type: 'DateTime', nullable: true, description: 'When the gift that reached it committed.', resolve: (goal) => goal.reachedAt }),
  }),
});

builder.prismaObjectFields('LiveSession', (t) => ({
  totalCoins: t.expose('totalCoins', { type: 'BigInt', description: 'Coins gifted in the session.' }),
  totalDiamonds: t.expose('totalDiamonds', { type: 'BigInt', description: 'Diamonds the creator earned in the session.' }),
  totalCashValue: t.field({ type: CashValue, description: "The diamonds' cash value.", resolve: (session) => cashValueOf(session.totalDiamonds) }),
  giftCount: t.exposeInt('giftCount', { description: 'Gifts sent (a combo counts once).' }),
  uniqueGifters: t.exposeInt('uniqueGifters', { description: 'People who sent at least one gift.' }),
  lastSequence: t.exposeInt('lastSequence', {
    description: 'The sequence of the latest gift: resume `liveSessionEvents(after:)` from here to get what follows this page.',
  }),
  viewerCount: t.loadable({
    type: 'Int',
    description: 'Watching now, across every server instance.',
    // Batched across a list of sessions, never cached: a count is stale a second later, and a
    // subscription's context (where loaders live) lasts as long as the subscription.
    loaderOptions: { cache: false },
    load: (liveSessionIds: string[], context) => context.presence.viewers(liveSessionIds),
    resolve: (session) => session.id,
  }),
  goal: t.field({
    type: LiveSessionGoal,
    nullable: true,
    description: 'Null when the creator has set none.',
    resolve: (session) =>
      session.goalCoins === null ? null : { goalCoins: session.goalCoins, progressCoins: session.totalCoins, reachedAt: session.goalReachedAt },
  }),
  topGifters: t.connection(
    {
      type: LeaderboardEntryRef,
      description: "The session's leaderboard: gifters by coins, highest first (ties in a stable order, as the live top three).",
      complexity: connectionCost,
      resolve: async (session, args, context, info) => {
        // A cursor is the gifter's User id.
        const page = await resolveCursorConnection<Promise<Gifter[]>>({ args, toCursor: (gifter) => globalId('User', gifter.user.id) }, (range) =>
          gifters(context, info, session, range),
        );
        // uniqueGifters counts the leaderboard's rows (kept with them in the gift's transaction).
        return { ...page, totalCount: session.uniqueGifters };
      },
    },
    { fields: (connection) => ({ totalCount: connection.int({ resolve: (page) => page.totalCount }) }) },
    {
      fields: (edge) => ({
        gifts: edge.int({ description: 'Gifts sent in this session (a combo counts once).', resolve: ({ node }) => (node as Gifter).gifts }),
        lastGiftAt: edge.field({ type: 'DateTime', description: 'When their latest gift in this session committed.', resolve: ({ node }) => (node as Gifter).lastGiftAt }),
      }),
    },
  ),
  recentGifts: t.prismaField({
    type: ['SentGift'],
    description: "The session's latest gifts, newest first (by room sequence, i.e. commit order).",
    args: { last: t.arg.int({ defaultValue: 50, description: `How many; at most ${MAX_RECENT_GIFTS}.` }) },
    complexity: ({ last }) => itemsCost(Math.min(last, MAX_RECENT_GIFTS)),
    resolve: async (query, session, { last }, context) => {
      if (last < 0) throw new ValidationError([{ field: 'last', message: 'must be 0 or more' }]);
      // Every committed gift has exactly one room event, numbered in commit order: the room's own index
      // ("RoomEvent" primary key) gives the latest ones without sorting the session's gifts. A manual
      // match's event names no gift of its own.
      const events = await context.db.roomEvent.findMany({
        where: { liveSessionId: session.id, sentGiftId: { not: null } },
        orderBy: { sequence: 'desc' },
        take: Math.min(last, MAX_RECENT_GIFTS),
        select: { sentGift: query },
      });
      return events.flatMap((event) => (event.sentGift ? [event.sentGift] : []));
    },
  }),
}));

const SetLiveSessionGoalInput = builder.inputType('SetLiveSessionGoalInput', {
  fields: (t) => ({
    liveSessionId: t.id(),
    goalCoins: t.field({ type: 'BigInt' }),
  }),
});

builder.mutationFields((t) => ({
  setLiveSessionGoal: t.field({
    type: LiveSessionRef,
    description:
      "The session's creator sets (or replaces) its coin goal. It must be above the coins gifted so far and starts unreached. The room hears it at once (GoalProgressEvent, reached: false), and the gift that reaches it once (reached: true).",
    args: { input: t.arg({ type: SetLiveSessionGoalInput }) },
    authScopes: { signedIn: true },
    errors: { types: [NotAuthenticatedError, ForbiddenError, NotFoundError, ValidationError, LiveSessionEndedError] },
    resolve: (_root, { input }, context) =>
      setLiveSessionGoal(context.db, context.announcer, context.viewer!.userId, idOf(input.liveSessionId, 'LiveSession', 'liveSessionId'), { goalCoins: input.goalCoins }),
  }),
}));
