import type Stripe from 'stripe';
import type { Database } from '../db/client.js';
import type { GiftSender } from '../domain/gifting.js';
import type { PaymentProvider } from '../domain/payments/provider.js';
import type { PayoutDeps } from '../domain/payouts/lifecycle.js';
import type { Policy } from '../domain/policy.js';
import type { Viewer } from '../domain/viewer.js';
import type { BrandKey } from '../domain/brands/access.js';
import type { AddressPolicy } from '../domain/brands/webhooks/addresses.js';
import type { Announcer } from '../events/announcer.js';
import type { Presence } from '../events/presence.js';
import type { EventSubscriptions } from '../events/pubsub.js';
import type { RateLimits } from '../edge/rate-limits.js';

/** The services of one running instance, shared by every request. */
export type Services = {
  db: Database;
  /** What subscriptions listen to. Nothing here publishes: the domain announces, through `announcer`. */
  pubsub: EventSubscriptions;
  /** Handed to the domain functions that change what someone may be listening to. */
  announcer: Announcer;
  presence: Presence;
  policy: Policy;
  gifts: GiftSender;
  /** Null when no payment provider is configured: purchases are then PAYMENT_PROVIDER_UNAVAILABLE. */
  payments: PaymentProvider | null;
  /** What payouts work with; its provider is null when none is configured (payouts are then PAYOUT_PROVIDER_UNAVAILABLE). */
  payouts: PayoutDeps;
  /** PAYMENT_PROVIDER=stripe: the client, and the secrets its webhooks (/webhooks/stripe) are signed with. */
  stripe?: { client: Stripe; webhookSecrets: string[] };
  issueToken(subject: { userId: string }): Promise<string>;
  /** NODE_ENV=development only; elsewhere development conveniences (demo tokens) are refused. */
  development: boolean;
  /** Where brands' webhook endpoints may point (https and public addresses only, in production). */
  webhookAddresses: AddressPolicy;
  /** The instance's rate limits (src/edge/rate-limits.ts); absent where nothing is limited (schema-level tests). */
  rateLimits?: RateLimits;
  /** Stream overlays' streak quiet time and token checks (ms); OVERLAY_DEFAULTS where absent. */
  overlays?: { streakQuietMs: number; checkMs: number };
};

/** An identity at the platform's identity provider: a verified token's issuer and subject. */
export type Identity = { issuer: string; subject: string };

/**
 * What every resolver sees. The edge builds one per HTTP request or graphql-ws operation. `identity` is set
 * for an identity provider's token: with `viewer` null until completeProfile ties it to an account.
 * `brandKey` is set for a brand's API key (src/domain/brands/access.ts), with `viewer` null.
 */
export type Context = Services & { viewer: Viewer | null; identity?: Identity | null; clientAddress?: string; brandKey?: BrandKey | null };
