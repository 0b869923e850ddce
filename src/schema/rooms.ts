import type { RoomMatch } from '../domain/brands/matching.js';
import type { Profile, RoomGiftEvent } from '../domain/rooms.js';
import { sharedStream, sharedSubscription, type SharedStream } from '../events/fanout/interface.js';
import { openRoomStream, type RoomItem, type RoomStream } from '../events/fanout/room-stream.js';
import { builder } from './builder.js';
import { globalId, idOf } from './ids.js';
import { CashValue } from './money.js';

/** One thing a live room hears. A gift may be followed by what it changed (leaderboard, goal). */
type LiveSessionEvent =
  | { kind: 'gift'; event: RoomGiftEvent }
  | { kind: 'leaderboard'; event: RoomGiftEvent }
  | { kind: 'goal'; event: RoomGiftEvent }
  | { kind: 'matched'; event: RoomGiftEvent; match: RoomMatch }
  | { kind: 'viewers'; viewers: number; sequence: number }
  | { kind: 'goalSet'; goalCoins: string; progressCoins: string; sequence: number }
  | { kind: 'ended'; sequence: number };

const LiveSessionEventRef = builder.interfaceRef<LiveSessionEvent>('LiveSessionEvent').implement({
  description:
    "An event of a live session's room. `sequence` numbers the room's stored events (gifts, and brands' later matches by `matchGift`) 1, 2, 3... in commit order, without gaps; an event that follows from one of them (a leaderboard change, goal progress, a match made with the gift) carries its sequence. Resume with `liveSessionEvents(after: <last sequence seen>)`.",
  fields: (t) => ({
    sequence: t.int({ resolve: (item) => ('event' in item ? item.event.sequence : item.sequence) }),
  }),
});

// Events carry copies of what the room showed when they happened, so fan-out reads nothing per event.
// A copy has no `id`: a client store that normalizes by id (Relay's) would overwrite the real User or
// Gift with it. It names the real one's id instead.

export const UserSnapshot = builder.objectRef<Profile>('UserSnapshot').implement({
  description: 'A user as the live session saw them at the time: a copy, not the User (`userId` is its id).',
  fields: (t) => ({
    userId: t.id({ resolve: (profile) => globalId('User', profile.id) }),
    handle: t.exposeString('handle'),
    displayName: t.exposeString('displayName'),
  }),
});

export const GiftSnapshot = builder.objectRef<RoomGiftEvent['sentGift']['gift']>('GiftSnapshot').implement({
  description: 'A catalog gift as it was when sent: a copy, not the Gift (`giftId` is its id).',
  fields: (t) => ({
    giftId: t.id({ resolve: (gift) => globalId('Gift', gift.id) }),
    name: t.exposeString('name'),
    imageUrl: t.exposeString('imageUrl'),
    animationUrl: t.exposeString('animationUrl', { nullable: true }),
  }),
});

const giftOf = (item: LiveSessionEvent) => (item as { event: RoomGiftEvent }).event;
const goalOf = (item: LiveSessionEvent) => (item.kind === 'goalSet' ? { ...item, reached: false } : giftOf(item).goal!);

builder.objectType(builder.objectRef<LiveSessionEvent>('GiftSentEvent'), {
  interfaces: [LiveSessionEventRef],
  isTypeOf: (item) => (item as LiveSessionEvent).kind === 'gift',
  description: 'A gift was sent (and committed). `quantity` > 1 is a combo of taps paid at once; gifts sharing `comboId` are one streak.',
  fields: (t) => ({
    sentGiftId: t.id({ resolve: (item) => globalId('SentGift', giftOf(item).sentGift.id) }),
    sender: t.field({ type: UserSnapshot, resolve: (item) => giftOf(item).sentGift.sender }),
    gift: t.field({ type: GiftSnapshot, resolve: (item) => giftOf(item).sentGift.gift }),
    quantity: t.int({ resolve: (item) => giftOf(item).sentGift.quantity }),
    comboId: t.string({ nullable: true, resolve: (item) => giftOf(item).sentGift.comboId }),
    coins: t.field({ type: 'BigInt', resolve: (item) => BigInt(giftOf(item).sentGift.coins) }),
    diamonds: t.field({ type: 'BigInt', resolve: (item) => BigInt(giftOf(item).sentGift.diamonds) }),
    cashValue: t.field({ type: CashValue, resolve: (item) => ({ currency: 'USD', amount: giftOf(item).sentGift.cashValueUsd }) }),
    sentAt: t.field({ type: 'DateTime', resolve: (item) => new Date(giftOf(item).sentGift.sentAt) }),
  }),
});

export const LeaderboardEntrySnapshot = builder.objectRef<{ rank: number; sender: Profile; coins: string }>('LeaderboardEntrySnapshot').implement({
  description: "A line of the live session's leaderboard as it stood: a LeaderboardEntry's fields, with a copy of the user.",
  fields: (t) => ({
    rank: t.exposeInt('rank'),
    user: t.field({ type: UserSnapshot, resolve: (entry) => entry.sender }),
    coins: t.field({ type: 'BigInt', resolve: (entry) => BigInt(entry.coins) }),
  }),
});

export const BrandSnapshot = builder.objectRef<RoomMatch['brand']>('BrandSnapshot').implement({
  description: 'A brand as the live session saw it: a copy, not the Brand (`brandId` is its id).',
  fields: (t) => ({
    brandId: t.id({ resolve: (brand) => globalId('Brand', brand.id) }),
    name: t.exposeString('name'),
  }),
});

const matchOf = (item: LiveSessionEvent) => (item as { match: RoomMatch }).match;

builder.objectType(builder.objectRef<LiveSessionEvent>('GiftMatchedEvent'), {
  interfaces: [LiveSessionEventRef],
  isTypeOf: (item) => (item as LiveSessionEvent).kind === 'matched',
  description:
    "A brand's campaign matched a gift: the creator earned `diamonds` more. Right after its gift, with the gift's sequence, when matched with it; a match made later by the brand (`matchGift`) is an event of its own, with its own sequence.",
  fields: (t) => ({
    giftMatchId: t.id({ resolve: (item) => globalId('GiftMatch', matchOf(item).id) }),
    sentGiftId: t.id({ resolve: (item) => globalId('SentGift', giftOf(item).sentGift.id) }),
    campaignId: t.id({ resolve: (item) => globalId('MatchingCampaign', matchOf(item).campaignId) }),
    brand: t.field({ type: BrandSnapshot, resolve: (item) => matchOf(item).brand }),
    sender: t.field({ type: UserSnapshot, description: 'Who sent the gift matched.', resolve: (item) => giftOf(item).sentGift.sender }),
    coins: t.field({ type: 'BigInt', description: "Coins of the brand's budget.", resolve: (item) => BigInt(matchOf(item).coins) }),
    diamonds: t.field({ type: 'BigInt', resolve: (item) => BigInt(matchOf(item).diamonds) }),
    cashValue: t.field({ type: CashValue, resolve: (item) => ({ currency: 'USD', amount: matchOf(item).cashValueUsd }) }),
  }),
});

builder.objectType(builder.objectRef<LiveSessionEvent>('LeaderboardChangedEvent'), {
  interfaces: [LiveSessionEventRef],
  isTypeOf: (item) => (item as LiveSessionEvent).kind === 'leaderboard',
  description: "The session's top three gifters changed.",
  fields: (t) => ({
    top: t.field({
      type: [LeaderboardEntrySnapshot],
      resolve: (item) => (giftOf(item).leaderboard ?? []).map((entry, index) => ({ ...entry, rank: index + 1 })),
    }),
  }),
});

builder.objectType(builder.objectRef<LiveSessionEvent>('GoalProgressEvent'), {
  interfaces: [LiveSessionEventRef],
  isTypeOf: (item) => ['goal', 'goalSet'].includes((item as LiveSessionEvent).kind),
  description: "Progress towards the creator's coin goal: when the creator sets it, then after each gift towards it; `reached` is true exactly once.",
  fields: (t) => ({
    goalCoins: t.field({ type: 'BigInt', resolve: (item) => BigInt(goalOf(item).goalCoins) }),
    progressCoins: t.field({ type: 'BigInt', resolve: (item) => BigInt(goalOf(item).progressCoins) }),
    reached: t.boolean({ resolve: (item) => goalOf(item).reached }),
  }),
});

builder.objectType(builder.objectRef<LiveSessionEvent>('ViewerCountChangedEvent'), {
  interfaces: [LiveSessionEventRef],
  isTypeOf: (item) => (item as LiveSessionEvent).kind === 'viewers',
  description: 'How many are watching now (announced at most about once a second).',
  fields: (t) => ({ viewers: t.int({ resolve: (item) => (item as { viewers: number }).viewers }) }),
});

builder.objectType(builder.objectRef<LiveSessionEvent>('LiveSessionEndedEvent'), {
  interfaces: [LiveSessionEventRef],
  isTypeOf: (item) => (item as LiveSessionEvent).kind === 'ended',
  description: 'The creator ended the session; the stream completes after this.',
  fields: () => ({}),
});

/** A stored gift event, then what it changed, in that order. */
const expand = (item: RoomItem): readonly LiveSessionEvent[] => (item.kind === 'gift' ? expandGift(item.event) : [item]);

function expandGift(gift: RoomGiftEvent): readonly LiveSessionEvent[] {
  let events = expansions.get(gift);
  if (!events) {
    // A brand's later match is an event of its own; a gift is followed by what came with it.
    events = gift.manualMatch
      ? [{ kind: 'matched', event: gift, match: gift.manualMatch }]
      : [
          { kind: 'gift', event: gift },
          ...(gift.matches ?? []).map((match) => ({ kind: 'matched', event: gift, match }) as const),
          ...(gift.leaderboard ? [{ kind: 'leaderboard', event: gift } as const] : []),
          ...(gift.goal ? [{ kind: 'goal', event: gift } as const] : []),
        ];
    expansions.set(gift, events);
  }
  return events;
}

// Every subscriber gets the same objects for the same gift, so the fan-out can execute each once
// (src/events/fanout/interface.ts, SharedStream).
const expansions = new WeakMap<RoomGiftEvent, readonly LiveSessionEvent[]>();

/** A run of gifts' events, expanded (once per run for all its viewers: the fan-out keeps it). */
const expandRun = (run: readonly RoomGiftEvent[]): readonly LiveSessionEvent[] => run.flatMap(expandGift);

/**
 * The stream's items, each expanded, as an iterator whose return() reaches the stream at once. (Not an
 * async generator: its return() would queue behind the wait for the room's next event, and a client
 * that unsubscribed from a quiet room would stay a viewer until someone gifted.)
 */
function expanded(stream: RoomStream): SharedStream<LiveSessionEvent> {
  let ready: LiveSessionEvent[] = [];
  const iterator: SharedStream<LiveSessionEvent> = sharedStream<LiveSessionEvent>({
    [Symbol.asyncIterator]: () => iterator,
    // A subscriber that keeps up (src/events/fanout/shared-subscriptions.ts) is handed runs, expanded.
    deliverDirectly: (subscriber) => stream.deliverDirectly(subscriber, expandRun),
    async next() {
      while (ready.length === 0) {
        const item = await stream.next();
        if (item.done) return { done: true, value: undefined };
        ready = [...expand(item.value)];
      }
      return { done: false, value: ready.shift()! };
    },
    async return() {
      ready = [];
      await stream.return?.();
      return { done: true, value: undefined };
    },
  });
  return iterator;
}

builder.subscriptionFields((t) => ({
  liveSessionEvents: t.field({
    type: LiveSessionEventRef,
    description:
      "A live room's events. With `after`, first every gift after that sequence (from storage), then live, with no gap and no repeat; without, live from now. Subscribing makes you a viewer.",
    args: { liveSessionId: t.arg.id(), after: t.arg.int({ required: false }) },
    // The same events for every subscriber: executed once for all, with no viewer (docs/fan-out.md).
    extensions: sharedSubscription,
    // An unknown or ended session (or a bad id) fails the subscription with its typed error, before any event.
    subscribe: async (_root, { liveSessionId, after }, context) => {
      const id = idOf(liveSessionId, 'LiveSession', 'liveSessionId');
      let watcher: string | undefined;
      const stream = await openRoomStream({
        db: context.db,
        pubsub: context.pubsub,
        liveSessionId: id,
        after: after ?? null,
        // One account counts once however many subscriptions it holds; anonymous ones per client address, capped.
        onOpen: () => {
          watcher = context.presence.join(id, context.viewer ? { account: context.viewer.userId } : { address: context.clientAddress ?? 'unknown' });
        },
        onClose: () => {
          if (watcher !== undefined) context.presence.leave(id, watcher);
        },
      });
      return expanded(stream);
    },
    resolve: (item) => item,
  }),
}));
