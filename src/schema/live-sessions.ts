import { ForbiddenError, NotAuthenticatedError, NotFoundError, SessionNotLiveError, ValidationError } from '../domain/errors.js';
import { sessionLeaderboardPage } from '../domain/leaderboards.js';
import { setLiveSessionGoal } from '../domain/live-sessions.js';
import type { SessionSupporter } from '../generated/prisma/client.js';
import { builder } from './builder.js';
import { LiveSessionRef } from './gifting.js';
import { idOf } from './ids.js';
import { cashValueOf, CashValue } from './money.js';

// A live session's room page: its totals, goal, leaderboard and latest gifts, all kept by the gift
// batches (src/domain/rooms.ts), so reading them costs a few index lookups whatever the room's size.

/** The most recent gifts one request may list. */
const MAX_RECENT_GIFTS = 100;

type Ranked = SessionSupporter & { rank?: number };

builder.prismaObject('SessionSupporter', {
  description: "A gifter's total in one live session: a line of the session's leaderboard.",
  fields: (t) => ({
    rank: t.int({
      nullable: true,
      description: '1 for the top gifter: position by coins, ties in a stable order (as the live top three). Set in `topGifters`.',
      resolve: (supporter) => (supporter as Ranked).rank ?? null,
    }),
    sender: t.relation('sender'),
    coins: t.expose('coins', { type: 'BigInt', description: 'Coins gifted in this session.' }),
    gifts: t.exposeInt('gifts', { description: 'Gifts sent in this session (a combo counts once).' }),
    lastGiftAt: t.expose('lastGiftAt', { type: 'DateTime' }),
  }),
});

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
  viewerCount: t.int({ description: 'Watching now, across every server instance.', resolve: (session, _args, context) => context.presence.viewers(session.id) }),
  goal: t.field({
    type: LiveSessionGoal,
    nullable: true,
    description: 'Null when the creator has set none.',
    resolve: (session) =>
      session.goalCoins === null ? null : { goalCoins: session.goalCoins, progressCoins: session.totalCoins, reachedAt: session.goalReachedAt },
  }),
  topGifters: t.prismaConnection({
    type: 'SessionSupporter',
    cursor: 'liveSessionId_senderId',
    description: "The session's leaderboard: gifters by coins, highest first.",
    totalCount: (session) => session.uniqueGifters,
    // Pothos's cursor and skip are replaced by the keyset range, which excludes the cursor's row itself.
    resolve: async ({ cursor, skip: _skip, take = 0, ...query }, session, _args, context) => {
      const page = await sessionLeaderboardPage(context.db, session, { take, cursorSenderId: cursor?.liveSessionId_senderId?.senderId });
      if (!page) return [];
      const rows: Ranked[] = await context.db.sessionSupporter.findMany({ ...query, where: page.where, orderBy: page.orderBy, take: page.take });
      if (page.reversed) rows.reverse();
      const first = page.firstRank(rows.length);
      rows.forEach((row, index) => (row.rank = first + index));
      return rows;
    },
  }),
  recentGifts: t.prismaField({
    type: ['SentGift'],
    description: "The session's latest gifts, newest first (by room sequence, i.e. commit order).",
    args: { last: t.arg.int({ defaultValue: 50, description: `How many; at most ${MAX_RECENT_GIFTS}.` }) },
    resolve: async (query, session, { last }, context) => {
      if (last < 0) throw new ValidationError([{ field: 'last', message: 'must be 0 or more' }]);
      // Every committed gift has exactly one room event, numbered in commit order: the room's own index
      // ("RoomEvent" primary key) gives the latest ones without sorting the session's gifts.
      const events = await context.db.roomEvent.findMany({
        where: { liveSessionId: session.id },
        orderBy: { sequence: 'desc' },
        take: Math.min(last, MAX_RECENT_GIFTS),
        select: { sentGift: query },
      });
      return events.map((event) => event.sentGift);
    },
  }),
}));

builder.mutationFields((t) => ({
  setLiveSessionGoal: t.field({
    type: LiveSessionRef,
    description:
      "The session's creator sets (or replaces) its coin goal. It must be above the coins gifted so far and starts unreached. The room hears it at once (GoalProgressEvent, reached: false), and the gift that reaches it once (reached: true).",
    args: { liveSessionId: t.arg.id(), goalCoins: t.arg({ type: 'BigInt' }) },
    authScopes: { signedIn: true },
    errors: { types: [NotAuthenticatedError, ForbiddenError, NotFoundError, ValidationError, SessionNotLiveError] },
    resolve: (_root, { liveSessionId, goalCoins }, context) =>
      setLiveSessionGoal(context.db, context.announcer, context.viewer!.userId, idOf(liveSessionId, 'LiveSession', 'liveSessionId'), { goalCoins }),
  }),
}));
