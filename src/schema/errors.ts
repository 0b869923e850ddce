import {
  AccountRestrictedError,
  AgeRestrictedError,
  BundleUnavailableError,
  ForbiddenError,
  GiftUnavailableError,
  HandleTakenError,
  IdempotencyConflictError,
  IdempotencyInProgressError,
  InsufficientCoinsError,
  InsufficientDiamondsError,
  LastAdminError,
  LiveSessionEndedError,
  NotAuthenticatedError,
  NotFoundError,
  OutstandingDebtError,
  OvationError,
  OwnPayoutError,
  PaymentDeclinedError,
  PaymentProviderUnavailableError,
  PayoutBelowMinimumError,
  PayoutDailyCapError,
  PayoutHoldError,
  PayoutMethodLockedError,
  PayoutMethodUnverifiedError,
  PayoutProviderUnavailableError,
  SecondApproverRequiredError,
  SpendingLimitError,
  ValidationError,
} from '../domain/errors.js';
import { builder } from './builder.js';

/** The one error shape: every refusal has a stable code and a human message. */
export const ErrorInterface = builder.interfaceRef<OvationError>('Error').implement({
  description: 'A refusal. `code` is stable for programs; `message` is for people. Nothing was changed.',
  fields: (t) => ({
    code: t.exposeString('code'),
    message: t.exposeString('message'),
  }),
});

const Problem = builder.objectRef<{ field: string; message: string }>('Problem').implement({
  description: 'One invalid input field.',
  fields: (t) => ({
    field: t.exposeString('field', { description: 'Path of the input field, dot-separated.' }),
    message: t.exposeString('message'),
  }),
});

builder.objectType(ValidationError, {
  name: 'ValidationError',
  interfaces: [ErrorInterface],
  fields: (t) => ({ problems: t.field({ type: [Problem], resolve: (error) => error.problems }) }),
});

builder.objectType(InsufficientCoinsError, {
  name: 'InsufficientCoinsError',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    neededCoins: t.field({ type: 'BigInt', resolve: (error) => BigInt(error.neededCoins) }),
    balanceCoins: t.field({ type: 'BigInt', resolve: (error) => BigInt(error.balanceCoins) }),
  }),
});

builder.objectType(OutstandingDebtError, {
  name: 'OutstandingDebtError',
  interfaces: [ErrorInterface],
  fields: (t) => ({ debtCoins: t.field({ type: 'BigInt', resolve: (error) => BigInt(error.debtCoins) }) }),
});

const SpendingLimit = builder.enumType('SpendingLimit', {
  values: {
    USER_DAILY: { description: "The user's own daily limit." },
    PLATFORM_DAILY: { description: "The platform's daily cap." },
    PLATFORM_WEEKLY: { description: "The platform's cap over the last 7 days." },
  },
});

builder.objectType(SpendingLimitError, {
  name: 'SpendingLimitError',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    limit: t.field({ type: SpendingLimit, resolve: (error) => error.limit }),
    limitCoins: t.field({ type: 'BigInt', resolve: (error) => BigInt(error.limitCoins) }),
    remainingCoins: t.field({ type: 'BigInt', resolve: (error) => BigInt(error.remainingCoins) }),
  }),
});

builder.objectType(AgeRestrictedError, {
  name: 'AgeRestrictedError',
  interfaces: [ErrorInterface],
  fields: (t) => ({ minimumAge: t.exposeInt('minimumAge') }),
});

builder.objectType(AccountRestrictedError, {
  name: 'AccountRestrictedError',
  interfaces: [ErrorInterface],
  fields: (t) => ({ restriction: t.exposeString('restriction') }),
});

for (const [errorClass, name] of [
  [NotAuthenticatedError, 'NotAuthenticatedError'],
  [ForbiddenError, 'ForbiddenError'],
  [NotFoundError, 'NotFoundError'],
  [HandleTakenError, 'HandleTakenError'],
  [LiveSessionEndedError, 'LiveSessionEndedError'],
  [GiftUnavailableError, 'GiftUnavailableError'],
  [BundleUnavailableError, 'BundleUnavailableError'],
  [IdempotencyConflictError, 'IdempotencyConflictError'],
  [IdempotencyInProgressError, 'IdempotencyInProgressError'],
  [PaymentDeclinedError, 'PaymentDeclinedError'],
  [LastAdminError, 'LastAdminError'],
] as const) {
  builder.objectType(errorClass as typeof NotFoundError, { name, interfaces: [ErrorInterface], fields: () => ({}) });
}

builder.objectType(PaymentProviderUnavailableError, {
  name: 'PaymentProviderUnavailableError',
  description:
    'The payment provider did not answer, so whether the card was charged is not known yet. The purchase stays PENDING ' +
    "and is settled by the provider's webhook: coins are credited once if the payment went through. Retrying with the same key gives this answer again.",
  interfaces: [ErrorInterface],
  fields: () => ({}),
});

builder.objectType(InsufficientDiamondsError, {
  name: 'InsufficientDiamondsError',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    neededDiamonds: t.field({ type: 'BigInt', resolve: (error) => BigInt(error.neededDiamonds) }),
    availableDiamonds: t.field({ type: 'BigInt', resolve: (error) => BigInt(error.availableDiamonds) }),
  }),
});

builder.objectType(PayoutBelowMinimumError, {
  name: 'PayoutBelowMinimumError',
  interfaces: [ErrorInterface],
  fields: (t) => ({ minimumDiamonds: t.field({ type: 'BigInt', resolve: (error) => BigInt(error.minimumDiamonds) }) }),
});

builder.objectType(PayoutDailyCapError, {
  name: 'PayoutDailyCapError',
  description: "The creator's payouts of this UTC day (requested, approved, processing or paid) would pass the daily cap.",
  interfaces: [ErrorInterface],
  fields: (t) => ({
    capMinor: t.field({ type: 'BigInt', description: 'The cap, in US cents.', resolve: (error) => BigInt(error.capCents) }),
    remainingMinor: t.field({ type: 'BigInt', description: 'What may still be asked for today, in US cents.', resolve: (error) => BigInt(error.remainingCents) }),
  }),
});

builder.objectType(PayoutMethodLockedError, {
  name: 'PayoutMethodLockedError',
  description: 'The method was added or changed while another was verified: it waits out the cooling-off period.',
  interfaces: [ErrorInterface],
  fields: (t) => ({ usableFrom: t.field({ type: 'DateTime', resolve: (error) => new Date(error.usableFrom) }) }),
});

for (const [errorClass, name] of [
  [PayoutMethodUnverifiedError, 'PayoutMethodUnverifiedError'],
  [PayoutProviderUnavailableError, 'PayoutProviderUnavailableError'],
  [PayoutHoldError, 'PayoutHoldError'],
  [OwnPayoutError, 'OwnPayoutError'],
  [SecondApproverRequiredError, 'SecondApproverRequiredError'],
] as const) {
  builder.objectType(errorClass as typeof OwnPayoutError, { name, interfaces: [ErrorInterface], fields: () => ({}) });
}

/** The refusals of an operators-only field: signed out, or signed in without the role. */
export const OPERATOR_ERRORS = [NotAuthenticatedError, ForbiddenError];
