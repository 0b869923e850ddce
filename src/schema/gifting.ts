import { createGift, giftsFor, updateGift } from '../domain/catalog.js';
import {
  AccountRestrictedError,
  AgeRestrictedError,
  ForbiddenError,
  GiftUnavailableError,
  IdempotencyConflictError,
  InsufficientCoinsError,
  LiveSessionEndedError,
  NotAuthenticatedError,
  NotFoundError,
  OutstandingDebtError,
  SpendingLimitError,
  ValidationError,
} from '../domain/errors.js';
import { MAX_COMBO_QUANTITY } from '../domain/gifting.js';
import { endLiveSession, startLiveSession } from '../domain/live-sessions.js';
import { LiveSessionStatus, Role } from '../generated/prisma/client.js';
import { countryOfViewer } from '../domain/users.js';
import { builder } from './builder.js';
import { OPERATOR_ERRORS } from './errors.js';
import { idOf } from './ids.js';
import { cashValueOf, CashValue } from './money.js';

export const GiftRef = builder.prismaNode('Gift', {
  id: { field: 'id' },
  nullable: true, // node(id:) of an unknown id: null
  description: 'A gift in the catalog.',
  fields: (t) => ({
    name: t.exposeString('name'),
    coins: t.expose('coins', { type: 'BigInt', description: 'What one costs.' }),
    imageUrl: t.exposeString('imageUrl'),
    animationUrl: t.exposeString('animationUrl', { nullable: true }),
    sortOrder: t.exposeInt('sortOrder'),
    active: t.exposeBoolean('active'),
    countries: t.exposeStringList('countries', { description: 'Where it is offered; empty means everywhere.' }),
  }),
});

const LiveSessionStatusEnum = builder.enumType(LiveSessionStatus, { name: 'LiveSessionStatus' });

export const LiveSessionRef = builder.prismaNode('LiveSession', {
  id: { field: 'id' },
  nullable: true, // node(id:) of an unknown id: null
  fields: (t) => ({
    title: t.exposeString('title'),
    status: t.expose('status', { type: LiveSessionStatusEnum }),
    startedAt: t.expose('startedAt', { type: 'DateTime' }),
    endedAt: t.expose('endedAt', { type: 'DateTime', nullable: true }),
    creator: t.relation('creator'),
  }),
});

export const SentGiftRef = builder.prismaNode('SentGift', {
  id: { field: 'id' },
  nullable: true, // node(id:) of an unknown id: null
  description: 'A gift sent in a live session, with exactly what it cost and what the creator earned.',
  fields: (t) => ({
    quantity: t.exposeInt('quantity', { description: `Taps in this combo, 1-${MAX_COMBO_QUANTITY}.` }),
    comboId: t.exposeString('comboId', { nullable: true, description: 'Shared by gifts of one streak.' }),
    coins: t.expose('coins', { type: 'BigInt', description: 'Coins the sender paid.' }),
    diamonds: t.expose('diamonds', { type: 'BigInt', description: 'Diamonds the creator earned.' }),
    cashValue: t.field({ type: CashValue, description: "The diamonds' cash value.", resolve: (gift) => cashValueOf(gift.diamonds) }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    gift: t.relation('gift'),
    sender: t.relation('sender'),
    creator: t.relation('creator'),
    liveSession: t.relation('liveSession'),
  }),
});

const SendGiftInput = builder.inputType('SendGiftInput', {
  fields: (t) => ({
    liveSessionId: t.id(),
    giftId: t.id(),
    quantity: t.int({ defaultValue: 1, description: `1-${MAX_COMBO_QUANTITY}: a combo of taps paid at once.` }),
    comboId: t.string({ required: false, description: 'Groups separate gifts into one streak for overlays.' }),
    idempotencyKey: t.string({ description: 'Unique per attempt; a retry with the same key returns the first result.' }),
  }),
});

const CreateGiftInput = builder.inputType('CreateGiftInput', {
  fields: (t) => ({
    name: t.string(),
    coins: t.field({ type: 'BigInt' }),
    imageUrl: t.string(),
    animationUrl: t.string({ required: false }),
    sortOrder: t.int({ required: false }),
    countries: t.stringList({ required: false }),
  }),
});

const UpdateGiftInput = builder.inputType('UpdateGiftInput', {
  description: 'The gift, and what changes: fields left out stay as they are.',
  fields: (t) => ({
    giftId: t.id(),
    name: t.string({ required: false }),
    coins: t.field({ type: 'BigInt', required: false }),
    imageUrl: t.string({ required: false }),
    animationUrl: t.string({ required: false }),
    sortOrder: t.int({ required: false }),
    countries: t.stringList({ required: false }),
    active: t.boolean({ required: false }),
  }),
});

const StartLiveSessionInput = builder.inputType('StartLiveSessionInput', {
  fields: (t) => ({ title: t.string() }),
});

const EndLiveSessionInput = builder.inputType('EndLiveSessionInput', {
  fields: (t) => ({ liveSessionId: t.id() }),
});

const defined = <T extends object>(input: T) =>
  Object.fromEntries(Object.entries(input).filter(([, value]) => value !== null && value !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], null>;
  };

builder.queryFields((t) => ({
  gifts: t.field({
    type: [GiftRef],
    description: "The gift catalog: active gifts offered in `country` (default: the signed-in user's country).",
    args: { country: t.arg.string({ required: false }) },
    resolve: async (_root, { country }, context) => {
      const viewerCountry = context.viewer
        ? await countryOfViewer(context.db, context.viewer.userId)
        : null;
      return giftsFor(context.db, country?.toUpperCase() ?? viewerCountry ?? null);
    },
  }),
  liveSession: t.prismaField({
    type: 'LiveSession',
    nullable: true,
    args: { id: t.arg.id() },
    resolve: (query, _root, { id }, context) => context.db.liveSession.findUnique({ ...query, where: { id: idOf(id, 'LiveSession', 'id') } }),
  }),
}));

builder.mutationFields((t) => ({
  sendGift: t.field({
    type: SentGiftRef,
    description: 'Sends a gift into a live session: debits your coins and credits the creator at the published rate.',
    args: { input: t.arg({ type: SendGiftInput }) },
    authScopes: { signedIn: true },
    // No IdempotencyInProgressError: a gift's key is claimed and answered in one transaction, so a retry
    // waits for the first call's commit and replays it.
    errors: {
      types: [
        NotAuthenticatedError,
        ValidationError,
        NotFoundError,
        IdempotencyConflictError,
        InsufficientCoinsError,
        OutstandingDebtError,
        LiveSessionEndedError,
        GiftUnavailableError,
        AgeRestrictedError,
        SpendingLimitError,
        AccountRestrictedError,
      ],
    },
    resolve: (_root, { input }, context) =>
      context.gifts.send(context.viewer!.userId, {
        liveSessionId: idOf(input.liveSessionId, 'LiveSession', 'liveSessionId'),
        giftId: idOf(input.giftId, 'Gift', 'giftId'),
        quantity: input.quantity,
        comboId: input.comboId,
        idempotencyKey: input.idempotencyKey,
      }),
  }),
  startLiveSession: t.field({
    type: LiveSessionRef,
    description: 'A creator goes live.',
    args: { input: t.arg({ type: StartLiveSessionInput }) },
    authScopes: { signedIn: true },
    errors: { types: [NotAuthenticatedError, ForbiddenError, NotFoundError, ValidationError, AgeRestrictedError] },
    resolve: (_root, { input }, context) => startLiveSession(context.db, context.policy, context.viewer!.userId, { title: input.title }),
  }),
  endLiveSession: t.field({
    type: LiveSessionRef,
    args: { input: t.arg({ type: EndLiveSessionInput }) },
    authScopes: { signedIn: true },
    errors: { types: [NotAuthenticatedError, NotFoundError, ValidationError] },
    resolve: (_root, { input }, context) =>
      endLiveSession(context.db, context.announcer, context.viewer!.userId, idOf(input.liveSessionId, 'LiveSession', 'liveSessionId')),
  }),
  createGift: t.field({
    type: GiftRef,
    description: 'Operators add a gift to the catalog.',
    args: { input: t.arg({ type: CreateGiftInput }) },
    authScopes: { role: Role.ADMIN },
    errors: { types: [...OPERATOR_ERRORS, ValidationError] },
    resolve: (_root, { input }, context) => createGift(context.db, defined(input) as Parameters<typeof createGift>[1]),
  }),
  updateGift: t.field({
    type: GiftRef,
    description: 'Operators change or retire (active: false) a gift. Gifts already sent keep their price.',
    args: { input: t.arg({ type: UpdateGiftInput }) },
    authScopes: { role: Role.ADMIN },
    errors: { types: [...OPERATOR_ERRORS, NotFoundError, ValidationError] },
    resolve: (_root, { input: { giftId, ...change } }, context) => updateGift(context.db, idOf(giftId, 'Gift', 'giftId'), defined(change)),
  }),
}));

builder.prismaObjectField('User', 'currentLiveSession', (t) =>
  t.field({
    type: LiveSessionRef,
    nullable: true,
    description: "The creator's session that is live now, if any.",
    // Loaded with the user (a list of users takes one more query, not one per user). A creator is live
    // in one session at most (startLiveSession).
    select: (_args, _context, nestedSelection) => ({ liveSessions: nestedSelection({ where: { status: LiveSessionStatus.LIVE } }) }),
    resolve: (user) => user.liveSessions[0] ?? null,
  }),
);
