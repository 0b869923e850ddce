import Stripe from 'stripe';
import { WebhookRejectedError } from '../payments/provider.js';

/** How Ovation reaches Stripe: the secret key, and (tests, a local stand-in) where the API is. */
export type StripeSettings = {
  secretKey: string;
  /** Every signing secret a webhook may carry (more than one during a rotation, and one per endpoint: account and Connect). */
  webhookSecrets: string[];
  /** How long a PaymentIntent may wait for the buyer to confirm it before reconciliation cancels it. */
  cancelUnconfirmedAfterMs: number;
  /** Where the library sends its requests; Stripe's own API unless set (tests point it at a local stand-in). */
  api?: { host: string; port: number; protocol: 'http' | 'https' };
};

export type StripeMode = 'live' | 'test';

/** A secret (sk_) or restricted (rk_) key says which mode it works in. */
export const stripeModeOf = (secretKey: string): StripeMode => (/^[sr]k_live_/.test(secretKey) ? 'live' : 'test');

/** Stripe's signatures are refused when older than this. */
export const STRIPE_TOLERANCE_SECONDS = 300;

/**
 * Stripe keeps an idempotency key for at least 24 hours: within that, a create sent again with the same
 * key answers the first result. Past it, a create would make a new object, so Ovation never sends one again.
 */
export const STRIPE_KEY_LIFETIME_MS = 23 * 3600_000;

export function createStripeClient(settings: StripeSettings): Stripe {
  return new Stripe(settings.secretKey, {
    // A request lost in transit is sent again by the library, with the same idempotency key.
    maxNetworkRetries: 2,
    timeout: 20_000,
    telemetry: false,
    appInfo: { name: 'Ovation' },
    ...(settings.api ?? {}),
  });
}

/**
 * Verifies a Stripe webhook with the library's constructEvent over the raw bytes as received: any of the
 * signing secrets, a signature no older than STRIPE_TOLERANCE_SECONDS. Throws WebhookRejectedError otherwise.
 */
export function readStripeEvent(stripe: Stripe, secrets: string[], rawBody: Buffer, signature: string | null, now: Date): Stripe.Event {
  if (!signature) throw new WebhookRejectedError('Missing Stripe-Signature header');
  let reason = 'Bad signature';
  for (const secret of secrets) {
    try {
      return stripe.webhooks.constructEvent(rawBody, signature, secret, STRIPE_TOLERANCE_SECONDS, undefined, now.getTime());
    } catch (error) {
      if (error instanceof Stripe.errors.StripeSignatureVerificationError) {
        if (/tolerance/i.test(error.message)) reason = 'Signature timestamp outside the 5-minute tolerance';
        continue;
      }
      throw new WebhookRejectedError('Unreadable event');
    }
  }
  throw new WebhookRejectedError(reason);
}

/** An amount in minor units as Stripe takes it (a JSON number): refused past what a number holds exactly. */
export function stripeAmount(minor: bigint): number {
  const amount = Number(minor);
  if (!Number.isSafeInteger(amount)) throw new RangeError(`Amount ${minor} is beyond what Stripe accepts`);
  return amount;
}
