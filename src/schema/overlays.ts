import { ForbiddenError, NotAuthenticatedError, NotFoundError, ValidationError } from '../domain/errors.js';
import { createOverlayToken, MAX_OVERLAY_TOKENS, OVERLAY_TOKENS_LISTED, overlayTokenOwner, overlayTokens, revokeOverlayToken } from '../domain/overlays.js';
import { openOverlayStream, OVERLAY_DEFAULTS, STREAK_QUIET_MS, type OverlayItem, type Streak } from '../events/overlay-stream.js';
import type { OverlayToken } from '../generated/prisma/client.js';
import { builder } from './builder.js';
import { itemsCost } from './cost.js';
import { globalId, idOf } from './ids.js';
import { BrandSnapshot, GiftSnapshot, LeaderboardEntrySnapshot, UserSnapshot } from './rooms.js';

const OverlayTokenRef = builder.objectRef<OverlayToken>('OverlayToken').implement({
  description: "A creator's read-only key for stream overlays (OBS browser sources). Its secret is shown once, when created.",
  fields: (t) => ({
    id: t.id({ resolve: (token) => globalId('OverlayToken', token.id) }),
    label: t.exposeString('label'),
    createdAt: t.field({ type: 'DateTime', resolve: (token) => token.createdAt }),
    revokedAt: t.field({ type: 'DateTime', nullable: true, resolve: (token) => token.revokedAt }),
  }),
});

const CreatedOverlayToken = builder.objectRef<{ token: OverlayToken; secret: string }>('CreatedOverlayToken').implement({
  description: 'A new overlay token and its secret (shown this once): put it in the overlay URL\'s fragment, `#token=<secret>`.',
  fields: (t) => ({
    overlayToken: t.field({ type: OverlayTokenRef, resolve: (created) => created.token }),
    secret: t.exposeString('secret'),
  }),
});

const CreateOverlayTokenInput = builder.inputType('CreateOverlayTokenInput', {
  fields: (t) => ({ label: t.string({ description: 'What it is for, such as "OBS main scene".' }) }),
});
const RevokeOverlayTokenInput = builder.inputType('RevokeOverlayTokenInput', { fields: (t) => ({ overlayTokenId: t.id() }) });

builder.mutationFields((t) => ({
  createOverlayToken: t.field({
    type: CreatedOverlayToken,
    description: `A creator makes a read-only overlay token (at most ${MAX_OVERLAY_TOKENS} unrevoked at once). It follows the creator's live sessions and reads only what their room shows.`,
    args: { input: t.arg({ type: CreateOverlayTokenInput }) },
    authScopes: { signedIn: true },
    errors: { types: [NotAuthenticatedError, ForbiddenError, NotFoundError, ValidationError] },
    resolve: (_root, { input }, context) => createOverlayToken(context.db, context.viewer!.userId, input),
  }),
  revokeOverlayToken: t.field({
    type: OverlayTokenRef,
    description: 'Revokes one of your overlay tokens: the overlays using it stop within a few seconds and say so.',
    args: { input: t.arg({ type: RevokeOverlayTokenInput }) },
    authScopes: { signedIn: true },
    errors: { types: [NotAuthenticatedError, NotFoundError, ValidationError] },
    resolve: (_root, { input }, context) =>
      revokeOverlayToken(context.db, context.viewer!.userId, idOf(input.overlayTokenId, 'OverlayToken', 'overlayTokenId')),
  }),
}));

builder.queryFields((t) => ({
  overlayTokens: t.field({
    type: [OverlayTokenRef],
    description: `Your overlay tokens, newest first (revoked ones too), at most ${OVERLAY_TOKENS_LISTED}; empty when signed out.`,
    complexity: itemsCost(OVERLAY_TOKENS_LISTED),
    resolve: (_root, _args, context) => (context.viewer ? overlayTokens(context.db, context.viewer.userId) : []),
  }),
}));

const OverlayEventRef = builder.interfaceRef<OverlayItem>('OverlayEvent').implement({
  description:
    'What a stream overlay hears. `liveSessionId` and `sequence` say where it happened (the room\'s last gift folded in): resume with `overlayEvents(liveSessionId:, after:)` from the last ones seen.',
  fields: (t) => ({
    liveSessionId: t.id({ nullable: true, resolve: (item) => (item.liveSessionId ? globalId('LiveSession', item.liveSessionId) : null) }),
    sequence: t.int({ resolve: (item) => item.sequence }),
  }),
});

const GiftStreakRef = builder.objectRef<Streak>('GiftStreak').implement({
  description: 'Gifts folded into one alert: a combo (gifts sharing a comboId), or a single gift. `count` is taps.',
  fields: (t) => ({
    streakId: t.id({ description: "The streak's first gift's id (a SentGift's).", resolve: (streak) => globalId('SentGift', streak.streakId) }),
    comboId: t.exposeString('comboId', { nullable: true }),
    sender: t.field({ type: UserSnapshot, resolve: (streak) => streak.sender }),
    gift: t.field({ type: GiftSnapshot, resolve: (streak) => streak.gift }),
    count: t.exposeInt('count'),
    coins: t.field({ type: 'BigInt', resolve: (streak) => BigInt(streak.coins) }),
    firstSequence: t.exposeInt('firstSequence'),
    lastSequence: t.exposeInt('lastSequence'),
  }),
});

type Of<K extends OverlayItem['kind']> = Extract<OverlayItem, { kind: K }>;

const OverlayGoalRef = builder.objectRef<{ goalCoins: string; progressCoins: string; reached: boolean }>('OverlayGoal').implement({
  fields: (t) => ({
    goalCoins: t.field({ type: 'BigInt', resolve: (goal) => BigInt(goal.goalCoins) }),
    progressCoins: t.field({ type: 'BigInt', resolve: (goal) => BigInt(goal.progressCoins) }),
    reached: t.exposeBoolean('reached'),
  }),
});

const topOf = (item: OverlayItem) => (item as Of<'top' | 'state'>).top.map((entry, index) => ({ ...entry, rank: index + 1 }));

/** An overlay event type: the items of `kinds`. */
const overlayEvent = (name: string, kinds: OverlayItem['kind'][], description: string) => {
  const ref = builder.objectRef<OverlayItem>(name);
  builder.objectType(ref, { interfaces: [OverlayEventRef], isTypeOf: (item) => kinds.includes((item as OverlayItem).kind), description });
  return ref;
};

overlayEvent('OverlayWaitingEvent', ['waiting'], 'The creator is not live: the overlay waits (quietly) for their next session.');
builder.objectFields(overlayEvent('OverlayStateEvent', ['state'], 'Where the live session stands, on (re)subscribing and when a session starts: goal, top gifters, viewers.'), (t) => ({
  goal: t.field({ type: OverlayGoalRef, nullable: true, resolve: (item) => (item as Of<'state'>).goal }),
  top: t.field({ type: [LeaderboardEntrySnapshot], resolve: topOf }),
  viewers: t.int({ resolve: (item) => (item as Of<'state'>).viewers }),
}));
const streakEvents: [string, OverlayItem['kind'], string][] = [
  ['StreakStartedEvent', 'streakStarted', 'A new alert: the first gift of a streak.'],
  ['StreakGrewEvent', 'streakGrew', 'The streak grew: its alert counts up. (A page that missed the start shows it as new.)'],
  [
    'StreakEndedEvent',
    'streakEnded',
    'The streak is over: a quiet time passed since its last gift, the sender began a new combo, or the session ended. Said once; a gift outside a combo ends as it starts.',
  ],
];
for (const [name, kind, description] of streakEvents) {
  builder.objectFields(overlayEvent(name, [kind], description), (t) => ({
    streak: t.field({ type: GiftStreakRef, resolve: (item) => (item as { streak: Streak }).streak }),
  }));
}
builder.objectFields(overlayEvent('OverlayGoalEvent', ['goal'], "The session goal's progress (or a new goal); `reached` is true exactly once."), (t) => ({
  goalCoins: t.field({ type: 'BigInt', resolve: (item) => BigInt((item as Of<'goal'>).goal.goalCoins) }),
  progressCoins: t.field({ type: 'BigInt', resolve: (item) => BigInt((item as Of<'goal'>).goal.progressCoins) }),
  reached: t.boolean({ resolve: (item) => (item as Of<'goal'>).goal.reached }),
}));
builder.objectFields(overlayEvent('OverlayTopGiftersEvent', ['top'], "The session's top three gifters changed."), (t) => ({
  top: t.field({ type: [LeaderboardEntrySnapshot], resolve: topOf }),
}));
builder.objectFields(overlayEvent('OverlayViewersEvent', ['viewers'], 'How many watch now (overlays not counted).'), (t) => ({
  viewers: t.int({ resolve: (item) => (item as Of<'viewers'>).viewers }),
}));
overlayEvent('OverlaySessionEndedEvent', ['ended'], 'The session ended: the overlay waits for the next one.');
overlayEvent('OverlayTokenRevokedEvent', ['revoked'], "The overlay's token was revoked: the stream completes after this.");

builder.subscriptionFields((t) => ({
  overlayEvents: t.field({
    type: OverlayEventRef,
    description:
      "A stream overlay's events for the creator whose overlay token it holds: whichever session they have live, gifts folded into streaks, goal, top gifters and viewers. Without `after`, from now; with `liveSessionId` and `after`, every gift after that point once, in order (a session since started is heard from its first gift). Overlays are not viewers.",
    args: {
      overlayToken: t.arg.string(),
      liveSessionId: t.arg.id({ required: false }),
      after: t.arg.int({ required: false }),
      streakQuietMs: t.arg.int({
        required: false,
        description: `How long a streak stays open without a gift, ${STREAK_QUIET_MS.min} to ${STREAK_QUIET_MS.max} ms (the server's default otherwise).`,
      }),
    },
    subscribe: async (_root, args, context) => {
      const settings = context.overlays ?? OVERLAY_DEFAULTS;
      const quiet = args.streakQuietMs ?? settings.streakQuietMs;
      if (quiet < STREAK_QUIET_MS.min || quiet > STREAK_QUIET_MS.max) {
        throw new ValidationError([{ field: 'streakQuietMs', message: `must be from ${STREAK_QUIET_MS.min} to ${STREAK_QUIET_MS.max}` }]);
      }
      if ((args.after === null || args.after === undefined) !== (args.liveSessionId === null || args.liveSessionId === undefined)) {
        throw new ValidationError([{ field: 'after', message: 'give liveSessionId and after together, or neither' }]);
      }
      if (args.after != null && args.after < 0) throw new ValidationError([{ field: 'after', message: 'must be 0 or more' }]);
      const token = await overlayTokenOwner(context.db, args.overlayToken);
      return openOverlayStream({
        db: context.db,
        pubsub: context.pubsub,
        presence: context.presence,
        overlayTokenId: token.id,
        creatorId: token.creatorId,
        after: args.liveSessionId != null && args.after != null ? { liveSessionId: idOf(args.liveSessionId, 'LiveSession', 'liveSessionId'), sequence: args.after } : null,
        streakQuietMs: quiet,
        checkMs: settings.checkMs,
      });
    },
    resolve: (item) => item,
  }),
}));

builder.objectFields(
  overlayEvent('OverlayMatchEvent', ['match'], "A brand matched a gift: right after the gift's streak event when matched with it, or later (`manual`) by the brand's matchGift."),
  (t) => ({
    matchId: t.id({ description: "The match's id (a GiftMatch's).", resolve: (item) => globalId('GiftMatch', (item as Of<'match'>).match.id) }),
    brand: t.field({ type: BrandSnapshot, resolve: (item) => (item as Of<'match'>).match.brand }),
    coins: t.field({ type: 'BigInt', description: 'Coins the brand added.', resolve: (item) => BigInt((item as Of<'match'>).match.coins) }),
    sender: t.field({ type: UserSnapshot, description: 'Who sent the matched gift.', resolve: (item) => (item as Of<'match'>).sentGift.sender }),
    gift: t.field({ type: GiftSnapshot, resolve: (item) => (item as Of<'match'>).sentGift.gift }),
    manual: t.boolean({ resolve: (item) => (item as Of<'match'>).manual }),
  }),
);
