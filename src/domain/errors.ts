/**
 * Every refusal the domain makes is one of these: a stable `code` for programs, a `message` for people.
 * The schema turns them into typed GraphQL results; nothing else ever reaches a client.
 */
export abstract class OvationError extends Error {
  abstract readonly code: string;
}

export type Problem = { field: string; message: string };

export class ValidationError extends OvationError {
  readonly code = 'VALIDATION_FAILED';
  constructor(readonly problems: Problem[]) {
    super(problems.map((problem) => `${problem.field}: ${problem.message}`).join('; '));
  }
}

export class NotAuthenticatedError extends OvationError {
  readonly code = 'UNAUTHENTICATED';
  constructor(message = 'Sign in to do this') {
    super(message);
  }
}

export class ForbiddenError extends OvationError {
  readonly code = 'FORBIDDEN';
  constructor(message = 'You are not allowed to do this') {
    super(message);
  }
}

export class NotFoundError extends OvationError {
  readonly code = 'NOT_FOUND';
  constructor(readonly what: string) {
    super(`${what} not found`);
  }
}

export class HandleTakenError extends OvationError {
  readonly code = 'HANDLE_TAKEN';
  constructor(readonly handle: string) {
    super(`The handle "${handle}" is taken`);
  }
}

export class InsufficientCoinsError extends OvationError {
  readonly code = 'INSUFFICIENT_COINS';
  constructor(
    readonly neededCoins: bigint,
    readonly balanceCoins: bigint,
  ) {
    super(`This needs ${neededCoins} coins; the wallet holds ${balanceCoins}`);
  }
}

export class OutstandingDebtError extends OvationError {
  readonly code = 'OUTSTANDING_DEBT';
  constructor(readonly debtCoins: bigint) {
    super(`A chargeback left a debt of ${debtCoins} coins; buy coins to cover it before spending`);
  }
}

export class LiveSessionEndedError extends OvationError {
  readonly code = 'LIVE_SESSION_ENDED';
  constructor() {
    super('The live session has ended');
  }
}

export class GiftUnavailableError extends OvationError {
  readonly code = 'GIFT_UNAVAILABLE';
  constructor(reason = 'This gift is not available') {
    super(reason);
  }
}

export class BundleUnavailableError extends OvationError {
  readonly code = 'BUNDLE_UNAVAILABLE';
  constructor(reason = 'This coin bundle is not for sale') {
    super(reason);
  }
}

export class AgeRestrictedError extends OvationError {
  readonly code = 'AGE_RESTRICTED';
  constructor(
    readonly minimumAge: number,
    action: string,
  ) {
    super(`You must be ${minimumAge} or older to ${action}`);
  }
}

export class SpendingLimitError extends OvationError {
  readonly code = 'SPENDING_LIMIT_REACHED';
  constructor(
    readonly limit: 'USER_DAILY' | 'PLATFORM_DAILY' | 'PLATFORM_WEEKLY',
    readonly limitCoins: bigint,
    readonly remainingCoins: bigint,
  ) {
    super(`This would pass the ${limit.toLowerCase().replace('_', ' ')} limit of ${limitCoins} coins (${remainingCoins} left)`);
  }
}

/** Past a rate limit (src/edge/rate-limits.ts): a GraphQL error with retryAfterSeconds, or HTTP 429 with Retry-After. */
export class RateLimitedError extends OvationError {
  readonly code = 'RATE_LIMITED';
  constructor(
    readonly limit: string,
    readonly retryAfterSeconds: number,
  ) {
    super(`Too many ${limit}: try again in ${retryAfterSeconds} s`);
  }
}

/**
 * The identity provider could not be asked about a token (its discovery document or key set did not
 * answer): not the client's fault, so HTTP 503 with Retry-After, and a socket closes with 1013 (try again later).
 */
export class IdentityProviderUnavailableError extends OvationError {
  readonly code = 'IDENTITY_PROVIDER_UNAVAILABLE';
  readonly retryAfterSeconds = 5;
  constructor(options?: ErrorOptions) {
    super("The identity provider's keys could not be read: try again shortly", options);
  }
}

/** Revoking ADMIN from the last admin in good standing would leave no one to run the platform. */
export class LastAdminError extends OvationError {
  readonly code = 'LAST_ADMIN';
  constructor() {
    super('This is the last admin: grant ADMIN to someone else first');
  }
}

/** Refused at the edge for every signed-in operation of a suspended account (HTTP 403; a socket closes with 4403). */
export class AccountSuspendedError extends OvationError {
  readonly code = 'ACCOUNT_SUSPENDED';
  constructor() {
    super('This account is suspended');
  }
}

export class AccountRestrictedError extends OvationError {
  readonly code = 'ACCOUNT_RESTRICTED';
  constructor(
    readonly restriction: string,
    message: string,
  ) {
    super(message);
  }
}

export class IdempotencyConflictError extends OvationError {
  readonly code = 'IDEMPOTENCY_CONFLICT';
  constructor() {
    super('This idempotency key was already used with different input');
  }
}

export class IdempotencyInProgressError extends OvationError {
  readonly code = 'IDEMPOTENCY_IN_PROGRESS';
  constructor() {
    super('The first request with this idempotency key is still running; retry shortly');
  }
}

export class PaymentDeclinedError extends OvationError {
  readonly code = 'PAYMENT_DECLINED';
  constructor(reason = 'The payment was declined') {
    super(reason);
  }
}

export class PaymentProviderUnavailableError extends OvationError {
  readonly code = 'PAYMENT_PROVIDER_UNAVAILABLE';
  constructor(
    message = 'The payment provider did not answer. If you were charged, your coins arrive when it confirms the payment; buy again with a new key only if they do not.',
  ) {
    super(message);
  }
}

export class InsufficientDiamondsError extends OvationError {
  readonly code = 'INSUFFICIENT_DIAMONDS';
  constructor(
    readonly neededDiamonds: bigint,
    readonly availableDiamonds: bigint,
  ) {
    super(`This payout needs ${neededDiamonds} diamonds; ${availableDiamonds} are available`);
  }
}

export class PayoutBelowMinimumError extends OvationError {
  readonly code = 'PAYOUT_BELOW_MINIMUM';
  constructor(readonly minimumDiamonds: bigint) {
    super(`A payout is at least ${minimumDiamonds} diamonds`);
  }
}

export class PayoutDailyCapError extends OvationError {
  readonly code = 'PAYOUT_DAILY_CAP_REACHED';
  constructor(
    readonly capCents: bigint,
    readonly remainingCents: bigint,
  ) {
    super(`This would pass the daily payout cap of ${capCents} US cents (${remainingCents} left today, UTC)`);
  }
}

export class PayoutMethodUnverifiedError extends OvationError {
  readonly code = 'PAYOUT_METHOD_UNVERIFIED';
  constructor() {
    super('This payout method is not verified yet');
  }
}

export class PayoutMethodLockedError extends OvationError {
  readonly code = 'PAYOUT_METHOD_LOCKED';
  constructor(readonly usableFrom: Date) {
    super(`A payout method added or changed recently can be paid to from ${new Date(usableFrom).toISOString()}`);
  }
}

export class PayoutProviderUnavailableError extends OvationError {
  readonly code = 'PAYOUT_PROVIDER_UNAVAILABLE';
  constructor(message = 'Payouts are unavailable: this server has no payout provider configured.') {
    super(message);
  }
}

export class PayoutTransitionError extends OvationError {
  readonly code = 'PAYOUT_TRANSITION_NOT_ALLOWED';
  constructor(
    readonly status: string,
    readonly attempted: string,
  ) {
    super(`A ${status} payout cannot become ${attempted}`);
  }
}

export class PayoutOnHoldError extends OvationError {
  readonly code = 'PAYOUT_ON_HOLD';
  constructor(readonly holds: string[]) {
    super(`The payout is on hold (${holds.join(', ')}) until an operator releases it`);
  }
}

export class PayoutHoldError extends OvationError {
  readonly code = 'PAYOUT_HOLD_REFUSED';
  constructor(message: string) {
    super(message);
  }
}

export class OwnPayoutError extends OvationError {
  readonly code = 'OWN_PAYOUT';
  constructor() {
    super('No operator decides on their own payouts or payout methods');
  }
}

export class SecondApproverRequiredError extends OvationError {
  readonly code = 'SECOND_APPROVER_REQUIRED';
  constructor() {
    super('You gave this payout its first approval; a second, different operator must approve it');
  }
}

export class InsufficientBudgetError extends OvationError {
  readonly code = 'INSUFFICIENT_BUDGET';
  constructor(
    readonly neededCoins: bigint,
    readonly availableCoins: bigint,
  ) {
    super(`This needs ${neededCoins} coins of the brand's budget; ${availableCoins} are available`);
  }
}

export class CampaignTransitionError extends OvationError {
  readonly code = 'CAMPAIGN_TRANSITION_NOT_ALLOWED';
  constructor(
    readonly state: string,
    attempted: string,
  ) {
    super(`A ${state} campaign cannot be ${attempted}`);
  }
}

/** A manual match the campaign cannot make: the gift is outside its scope or window, or nothing is left to match. */
export class MatchRefusedError extends OvationError {
  readonly code = 'MATCH_REFUSED';
  constructor(reason: string) {
    super(reason);
  }
}

type ErrorClass = abstract new (...args: never[]) => OvationError;

const REPLAYABLE: Record<string, ErrorClass> = Object.fromEntries(
  [
    ValidationError, NotAuthenticatedError, ForbiddenError, NotFoundError, InsufficientCoinsError, OutstandingDebtError,
    LiveSessionEndedError, GiftUnavailableError, BundleUnavailableError, AgeRestrictedError, SpendingLimitError,
    AccountRestrictedError, PaymentDeclinedError, PaymentProviderUnavailableError, InsufficientDiamondsError, PayoutBelowMinimumError,
    PayoutDailyCapError, PayoutMethodUnverifiedError, PayoutMethodLockedError, PayoutProviderUnavailableError, PayoutTransitionError,
    PayoutOnHoldError, OwnPayoutError, SecondApproverRequiredError, InsufficientBudgetError, CampaignTransitionError, MatchRefusedError,
  ].map((errorClass) => [errorClass.name, errorClass]),
);

/** A refusal as stored with an idempotency key: every own field, bigints as strings. */
export function errorToJson(error: OvationError): Record<string, unknown> {
  return JSON.parse(JSON.stringify({ ...error, type: error.constructor.name, message: error.message }, (_key, value) =>
    typeof value === 'bigint' ? value.toString() : value,
  ));
}

/**
 * Refusals stored with idempotency keys under an error's former name, replayed under its current one.
 * Needed while keys stored before the rename are kept (IDEMPOTENCY_KEY_HOURS).
 */
const RENAMED: Record<string, () => OvationError> = {
  SessionNotLiveError: () => new LiveSessionEndedError(),
};

/** The same refusal again, for a retry with the same idempotency key. */
export function errorFromJson(json: Record<string, unknown>): OvationError {
  const { type, ...fields } = json;
  const renamed = RENAMED[type as string];
  if (renamed) return renamed();
  const errorClass = REPLAYABLE[type as string];
  if (!errorClass) throw new Error(`Cannot replay error ${String(type)}`);
  return Object.assign(Object.create(errorClass.prototype) as OvationError, fields);
}

export class OverlayTokenRevokedError extends OvationError {
  readonly code = 'OVERLAY_TOKEN_REVOKED';
  constructor() {
    super('This overlay token was revoked: create a new one and update the overlay URL');
  }
}
