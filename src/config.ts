import { isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import type { AddressPolicy } from './domain/brands/webhooks/addresses.js';
import type { DeliveryOptions } from './domain/brands/webhooks/delivery.js';
import { DEFAULT_POLICY, wholeCents, type Policy } from './domain/policy.js';
import { DEFAULT_MAX_COST } from './edge/query-limits.js';
import type { RateLimitConfig } from './edge/rate-limits.js';
import { stripeModeOf, type StripeMode, type StripeSettings } from './domain/stripe/client.js';
import { OVERLAY_DEFAULTS, STREAK_QUIET_MS } from './events/overlay-stream.js';

// Read once at start-up. A bad variable stops the process with a message naming it.
const PORT_RANGE = 'must be a whole number from 0 to 65535';
const KEY_HOURS = 'must be a whole number of hours, at least 24: a retry within a day must find its key';
const IN_FLIGHT = 'must be a whole number from 1 to 64';
const CENTS = 'must be a whole number of US cents';
const cents = z.coerce.bigint({ error: CENTS }).min(0n, CENTS);
const MAX_COST = 'must be a whole number, at least 1';
const RATE_LIMIT = 'must be "points/seconds", such as 120/60';
const rateLimit = z
  .string()
  .regex(/^\d+\/\d+$/, RATE_LIMIT)
  .transform((text) => {
    const [points, seconds] = text.split('/').map(Number);
    return { points: points!, seconds: seconds! };
  })
  .refine(({ points, seconds }) => points >= 1 && seconds >= 1, RATE_LIMIT);
const QUIET = `must be a whole number of milliseconds from ${STREAK_QUIET_MS.min} to ${STREAK_QUIET_MS.max}`;
const port = z.coerce.number({ error: PORT_RANGE }).int(PORT_RANGE).min(0, PORT_RANGE).max(65535, PORT_RANGE);

const environment = z.object({
  // Unset is production: development conveniences are on only when asked for by name (npm start and
  // npm run dev ask for them when NODE_ENV is unset).
  NODE_ENV: z.enum(['development', 'production', 'test']).default('production'),
  HOST: z.string().min(1).optional(),
  PORT: port.default(4000),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/, error: 'must be a postgresql:// URL' }).optional(),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(500).default(20),
  OVATION_DATA_DIR: z.string().min(1).default('.ovation'),
  REDIS_URL: z.url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' }).optional(),
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  JWT_TTL_SECONDS: z.coerce.number().int().min(60).default(7 * 24 * 3600),
  AUTH_JWKS_URL: z.url({ protocol: /^https?$/, error: 'must be the http(s) URL of the identity provider\'s JSON Web Key Set' }).optional(),
  AUTH_OIDC_ISSUER: z.url({ protocol: /^https?$/, error: 'must be the identity provider\'s issuer URL (its /.well-known/openid-configuration is read)' }).optional(),
  AUTH_ISSUER: z.string().min(1).optional(),
  AUTH_AUDIENCE: z.string().min(1, 'must name this API as the identity provider puts it in "aud"').optional(),
  RATE_LIMIT_PROFILES: rateLimit.prefault('10/3600'),
  RATE_LIMIT_MUTATIONS: rateLimit.prefault('120/60'),
  RATE_LIMIT_CONNECTIONS: rateLimit.prefault('30/60'),
  RATE_LIMIT_SUBSCRIPTIONS: rateLimit.prefault('300/60'),
  OVERLAY_STREAK_QUIET_MS: z.coerce
    .number({ error: QUIET })
    .int(QUIET)
    .min(STREAK_QUIET_MS.min, QUIET)
    .max(STREAK_QUIET_MS.max, QUIET)
    .default(OVERLAY_DEFAULTS.streakQuietMs),
  ANONYMOUS_VIEWERS_PER_ADDRESS: z.coerce.number({ error: 'must be a whole number, at least 1' }).int('must be a whole number, at least 1').min(1, 'must be a whole number, at least 1').default(3),
  TRUST_PROXY: z
    .string()
    .transform((text) => text.split(',').map((entry) => entry.trim()).filter(Boolean))
    .pipe(
      z.array(
        z.string().refine((entry) => {
          const [address, bits, extra] = entry.split('/');
          const family = isIP(address!);
          const max = family === 4 ? 32 : 128;
          return family !== 0 && extra === undefined && (bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= max));
        }, 'must be comma-separated IP addresses or CIDR ranges of the proxies in front of Ovation, such as 10.0.0.0/8'),
      ),
    )
    .default([]),
  AUTH_JWKS_REFETCH_SECONDS: z.coerce.number({ error: 'must be a number of seconds' }).min(0, 'must not be negative').default(30),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SEED_DEMO_DATA: z.stringbool().optional(),
  AGE_GATES: z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be JSON such as {"DEFAULT":18,"KR":19}' });
        return z.NEVER;
      }
    })
    .pipe(z.object({ DEFAULT: z.number().int().min(0) }).catchall(z.number().int().min(0)))
    .optional(),
  DAILY_SPEND_CAP_COINS: z.coerce.bigint().positive().optional(),
  WEEKLY_SPEND_CAP_COINS: z.coerce.bigint().positive().optional(),
  LIMIT_COOLING_OFF_HOURS: z.coerce.number().min(0).optional(),
  COUNTRY_COOLING_OFF_HOURS: z.coerce.number({ error: 'must be a number of hours' }).min(0, 'must not be negative').optional(),
  PAYMENT_WEBHOOK_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  PAYMENT_PROVIDER: z.enum(['stripe'], { error: 'must be "stripe" (or unset: the sandbox where enabled, else none)' }).optional(),
  STRIPE_SECRET_KEY: z.string().regex(/^[sr]k_(live|test)_[A-Za-z0-9]+$/, 'must be a Stripe secret or restricted key (sk_live_..., sk_test_..., rk_...)').optional(),
  STRIPE_WEBHOOK_SECRETS: z
    .string()
    .transform((text) => text.split(',').map((secret) => secret.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^whsec_\w+$/, 'each must be a webhook signing secret (whsec_...)')).min(1, 'must hold at least one signing secret'))
    .optional(),
  STRIPE_CANCEL_UNCONFIRMED_AFTER_MINUTES: z.coerce
    .number({ error: 'must be a whole number of minutes, at least 15' })
    .int('must be a whole number of minutes, at least 15')
    .min(15, 'must be a whole number of minutes, at least 15')
    .default(60),
  STRIPE_API_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  STAGING: z.stringbool().optional(),
  IDEMPOTENCY_KEY_HOURS: z.coerce.number({ error: KEY_HOURS }).int(KEY_HOURS).min(24, KEY_HOURS).default(168),
  ENABLE_SANDBOX_PROVIDERS: z.stringbool().optional(),
  GIFT_IN_FLIGHT: z.coerce.number({ error: IN_FLIGHT }).int(IN_FLIGHT).min(1, IN_FLIGHT).max(64, IN_FLIGHT).default(1),
  PAYOUT_MINIMUM_DIAMONDS: z.coerce.bigint({ error: 'must be a whole number of diamonds' }).min(2n, 'must be at least 2 diamonds (1 US cent)').optional(),
  PAYOUT_DAILY_CAP_CENTS: cents.optional(),
  PAYOUT_FEE_CENTS: cents.optional(),
  PAYOUT_AUTO_APPROVE_MAX_CENTS: cents.optional(),
  PAYOUT_SECOND_APPROVAL_ABOVE_CENTS: cents.optional(),
  PAYOUT_METHOD_COOLING_OFF_HOURS: z.coerce.number({ error: 'must be a number of hours' }).min(0, 'must not be negative').optional(),
  PAYOUT_WEBHOOK_SECRETS: z
    .string()
    .transform((text) => text.split(',').map((secret) => secret.trim()).filter(Boolean))
    .pipe(z.array(z.string().min(16, 'each secret must be at least 16 characters')).min(1, 'must hold at least one secret'))
    .optional(),
  SANDBOX_PAYOUT_RETURN_SECONDS: z.coerce.number({ error: 'must be a number of seconds' }).min(0, 'must not be negative').default(300),
  CORS_ORIGINS: z
    .string()
    .transform((text) => text.split(',').map((origin) => origin.trim()).filter(Boolean))
    .pipe(z.array(z.url({ protocol: /^https?$/, error: 'must be a comma-separated list of origins such as https://app.example.com' }).transform((url) => new URL(url).origin)))
    .optional(),
  METRICS_PORT: port.optional(),
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  GRAPHQL_MAX_COST: z.coerce.number({ error: MAX_COST }).int(MAX_COST).min(1, MAX_COST).default(DEFAULT_MAX_COST),
  GRAPHQL_INTROSPECTION: z.stringbool().optional(),
  TRUSTED_DOCUMENTS: z
    .string()
    .transform((text) => text.split(',').map((file) => file.trim()).filter(Boolean))
    .pipe(z.array(z.string()).min(1, 'must name one or more manifest files (JSON: "sha256:<hex>" -> document), comma-separated'))
    .optional(),
  TRUSTED_DOCUMENTS_ONLY: z.stringbool().optional(),
  WEBHOOK_TIMEOUT_SECONDS: z.coerce.number({ error: 'must be a number of seconds' }).min(1, 'must be at least 1 second').max(60, 'must be at most 60 seconds').default(10),
  WEBHOOK_RETRY_HOURS: z.coerce.number({ error: 'must be a number of hours' }).min(0, 'must not be negative').default(72),
  WEBHOOK_DISABLE_AFTER_HOURS: z.coerce.number({ error: 'must be a number of hours' }).min(0, 'must not be negative').default(120),
  WEBHOOK_BACKOFF_MS: z.coerce.number({ error: 'must be a number of milliseconds' }).int().min(1, 'must be at least 1 ms').default(10_000),
  JOB_CONCURRENCY: z.coerce.number({ error: 'must be a whole number from 1 to 50' }).int().min(1).max(50).default(4),
});

// Development only: lets a fresh checkout sign sandbox webhooks (see README) without configuration.
export const DEVELOPMENT_WEBHOOK_SECRET = 'whsec_ovation_sandbox_development';

/** The platform's identity provider (README, Deploying to production). */
export type IdentityProvider = {
  /** The key set's URL, or undefined to find it through OIDC discovery of `oidcIssuer`. */
  jwksUrl: string | undefined;
  oidcIssuer: string | undefined;
  /** The "iss" its tokens carry; with discovery, the discovery document's issuer unless set. */
  issuer: string | undefined;
  /** The "aud" its tokens carry for this API. */
  audience: string;
  /** How soon after fetching the key set an unknown key id may fetch it again (jose's cooldownDuration). */
  refetchAfterMs: number;
};

export type Config = {
  env: 'development' | 'production' | 'test';
  /** NODE_ENV=development, and only that: demo data, devToken, GraphiQL, generated secrets, sandbox providers. */
  development: boolean;
  host: string;
  port: number;
  databaseUrl: string | undefined;
  databasePoolSize: number;
  /** Absolute; holds the embedded PostgreSQL cluster and the development JWT secret. */
  dataDir: string;
  redisUrl: string | undefined;
  /** Ovation's own HS256 tokens. Development generates one and keeps it in dataDir; elsewhere undefined only with an identity provider (no HS256 tokens then). */
  jwtSecret: string | undefined;
  jwtTtlSeconds: number;
  /** The platform's identity provider, whose tokens (RS256, ES256, EdDSA) sign accounts in; undefined: Ovation's own HS256 tokens only. */
  identityProvider: IdentityProvider | undefined;
  /** RATE_LIMIT_*: each limit's points per window. */
  rateLimits: RateLimitConfig;
  /** TRUST_PROXY: proxies whose X-Forwarded-For names the client; empty: the header is ignored. */
  trustProxy: string[];
  /** A room's viewer count takes at most this many anonymous subscribers from one client address. */
  anonymousViewersPerAddress: number;
  /** Stream overlays: a gift streak ends after this long without a gift (overlays may ask for another, within bounds). */
  overlayStreakQuietMs: number;
  logLevel: string;
  /** Demo data is seeded once into an empty database; on by default in development only. */
  seedDemoData: boolean;
  policy: Policy;
  /** Verifies the payment provider's webhooks (HMAC-SHA256). */
  paymentWebhookSecret: string;
  /** PAYMENT_PROVIDER=stripe: coin purchases through PaymentIntents, payouts through Connect; its mode is logged at start. */
  stripe: (StripeSettings & { mode: StripeMode }) | undefined;
  /** Verify the payout provider's webhooks: any one of them, so a secret can be rotated. */
  payoutWebhookSecrets: string[];
  /** When the sandbox payout provider returns a payout sent to its `returns` destination. */
  sandboxPayoutReturnMs: number;
  /** How long a money mutation's idempotency key is kept; a retry after that is a new request. */
  idempotencyKeyHours: number;
  /** The sandbox payment provider (test cards, no money): development, or staging with ENABLE_SANDBOX_PROVIDERS. */
  sandboxProviders: boolean;
  /** Group-commit batches of gifts a process runs at once. */
  giftBatchesInFlight: number;
  /** Origins whose pages may call the API from a browser; '*' is any (development's default). */
  corsOrigins: string[] | '*';
  /** Serves /metrics on a listener of its own (e.g. reachable only from a private network). */
  metricsPort: number | undefined;
  /** When set, /metrics answers only `Authorization: Bearer <token>`. */
  metricsToken: string | undefined;
  /** The most a query may cost: lists count once per item they ask for (src/edge/query-limits.ts). */
  maxQueryCost: number;
  /** Introspection and "Did you mean ...?" in errors, which both spell out the schema; on by default in development only. */
  introspection: boolean;
  /** Documents clients may send by id instead of text (src/edge/trusted-documents.ts). */
  trustedDocuments: {
    /** TRUSTED_DOCUMENTS: absolute paths of the manifests, read and checked at start. */
    files: string[];
    /** TRUSTED_DOCUMENTS_ONLY: refuse document text; run only trusted documents, by id. */
    only: boolean;
  };
  /** Brand webhooks: attempts, retries, when a failing endpoint is disabled, and where they may go. */
  brandWebhooks: DeliveryOptions & AddressPolicy;
  /** Background jobs (webhook deliveries) this instance runs at once. */
  jobConcurrency: number;
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable (`PORT=` in a .env or compose file) means unset, not port 0 or an invalid URL.
  const parsed = environment.safeParse(Object.fromEntries(Object.entries(env).filter(([, value]) => value !== '')));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n${problems.join('\n')}`);
  }
  const e = parsed.data;
  const development = e.NODE_ENV === 'development';
  const payouts = {
    minimumDiamonds: e.PAYOUT_MINIMUM_DIAMONDS ?? DEFAULT_POLICY.payouts.minimumDiamonds,
    dailyCapCents: e.PAYOUT_DAILY_CAP_CENTS ?? DEFAULT_POLICY.payouts.dailyCapCents,
    feeCents: e.PAYOUT_FEE_CENTS ?? DEFAULT_POLICY.payouts.feeCents,
    autoApproveMaxCents: e.PAYOUT_AUTO_APPROVE_MAX_CENTS ?? DEFAULT_POLICY.payouts.autoApproveMaxCents,
    secondApprovalAboveCents: e.PAYOUT_SECOND_APPROVAL_ABOVE_CENTS ?? DEFAULT_POLICY.payouts.secondApprovalAboveCents,
    methodCoolingOffMs:
      e.PAYOUT_METHOD_COOLING_OFF_HOURS === undefined ? DEFAULT_POLICY.payouts.methodCoolingOffMs : e.PAYOUT_METHOD_COOLING_OFF_HOURS * 3600_000,
  };
  // Every payout must leave something to send once the fee is taken.
  if (payouts.feeCents >= wholeCents(payouts.minimumDiamonds).cents) {
    throw new ConfigError(
      `Invalid configuration:\n  PAYOUT_FEE_CENTS: must be less than the smallest payout, ${wholeCents(payouts.minimumDiamonds).cents} US cents (PAYOUT_MINIMUM_DIAMONDS)`,
    );
  }
  const providerProblems = [
    ...(e.AUTH_JWKS_URL && e.AUTH_OIDC_ISSUER ? ['  AUTH_JWKS_URL: set either AUTH_JWKS_URL or AUTH_OIDC_ISSUER, not both'] : []),
    ...(e.AUTH_JWKS_URL && !e.AUTH_ISSUER ? ['  AUTH_ISSUER: required with AUTH_JWKS_URL (the "iss" of the identity provider\'s tokens)'] : []),
    ...((e.AUTH_JWKS_URL || e.AUTH_OIDC_ISSUER) && !e.AUTH_AUDIENCE ? ['  AUTH_AUDIENCE: required with an identity provider (the "aud" its tokens carry for this API)'] : []),
  ];
  if (providerProblems.length) throw new ConfigError(`Invalid configuration:\n${providerProblems.join('\n')}`);
  const identityProvider: IdentityProvider | undefined =
    e.AUTH_JWKS_URL || e.AUTH_OIDC_ISSUER
      ? {
          jwksUrl: e.AUTH_JWKS_URL,
          oidcIssuer: e.AUTH_OIDC_ISSUER,
          issuer: e.AUTH_ISSUER,
          audience: e.AUTH_AUDIENCE!,
          refetchAfterMs: e.AUTH_JWKS_REFETCH_SECONDS * 1000,
        }
      : undefined;
  const stripe = stripeSettings(e);
  if (e.TRUSTED_DOCUMENTS_ONLY && !e.TRUSTED_DOCUMENTS) {
    // Only Ovation's own overlay document would run: every client of the API refused.
    throw new ConfigError('Invalid configuration:\n  TRUSTED_DOCUMENTS: required with TRUSTED_DOCUMENTS_ONLY=true (the manifests of the documents your clients send)');
  }
  if (!development) {
    const missing = [
      ...(e.JWT_SECRET || identityProvider
        ? []
        : ['  JWT_SECRET: required unless NODE_ENV=development (at least 32 characters), or an identity provider (AUTH_JWKS_URL or AUTH_OIDC_ISSUER)']),
      ...(e.PAYMENT_WEBHOOK_SECRET || stripe ? [] : ['  PAYMENT_WEBHOOK_SECRET: required unless NODE_ENV=development or PAYMENT_PROVIDER=stripe (at least 16 characters)']),
    ];
    if (missing.length) throw new ConfigError(`Invalid configuration:\n${missing.join('\n')}`);
  }
  return {
    env: e.NODE_ENV,
    development,
    // A development server is for the developer's own machine; elsewhere it takes a HOST to open it up.
    host: e.HOST ?? (development ? '127.0.0.1' : '0.0.0.0'),
    port: e.PORT,
    databaseUrl: e.DATABASE_URL,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    dataDir: path.resolve(e.OVATION_DATA_DIR),
    redisUrl: e.REDIS_URL,
    jwtSecret: e.JWT_SECRET,
    jwtTtlSeconds: e.JWT_TTL_SECONDS,
    identityProvider,
    rateLimits: { profiles: e.RATE_LIMIT_PROFILES, mutations: e.RATE_LIMIT_MUTATIONS, connections: e.RATE_LIMIT_CONNECTIONS, subscriptions: e.RATE_LIMIT_SUBSCRIPTIONS },
    trustProxy: e.TRUST_PROXY,
    anonymousViewersPerAddress: e.ANONYMOUS_VIEWERS_PER_ADDRESS,
    overlayStreakQuietMs: e.OVERLAY_STREAK_QUIET_MS,
    logLevel: e.LOG_LEVEL,
    seedDemoData: e.SEED_DEMO_DATA ?? development,
    paymentWebhookSecret: e.PAYMENT_WEBHOOK_SECRET ?? DEVELOPMENT_WEBHOOK_SECRET,
    stripe,
    // Outside development PAYMENT_WEBHOOK_SECRET is required, so payout webhooks are never unsigned.
    payoutWebhookSecrets: e.PAYOUT_WEBHOOK_SECRETS ?? [e.PAYMENT_WEBHOOK_SECRET ?? DEVELOPMENT_WEBHOOK_SECRET],
    sandboxPayoutReturnMs: e.SANDBOX_PAYOUT_RETURN_SECONDS * 1000,
    idempotencyKeyHours: e.IDEMPOTENCY_KEY_HOURS,
    sandboxProviders: development || (e.ENABLE_SANDBOX_PROVIDERS ?? false),
    giftBatchesInFlight: e.GIFT_IN_FLIGHT,
    corsOrigins: e.CORS_ORIGINS ?? (development ? '*' : []),
    metricsPort: e.METRICS_PORT,
    metricsToken: e.METRICS_TOKEN,
    maxQueryCost: e.GRAPHQL_MAX_COST,
    introspection: e.GRAPHQL_INTROSPECTION ?? development,
    trustedDocuments: { files: (e.TRUSTED_DOCUMENTS ?? []).map((file) => path.resolve(file)), only: e.TRUSTED_DOCUMENTS_ONLY ?? false },
    brandWebhooks: {
      timeoutMs: e.WEBHOOK_TIMEOUT_SECONDS * 1000,
      retryForMs: e.WEBHOOK_RETRY_HOURS * 3600_000,
      disableAfterMs: e.WEBHOOK_DISABLE_AFTER_HOURS * 3600_000,
      backoffMs: e.WEBHOOK_BACKOFF_MS,
      // http:// and local addresses, for a developer's own machine and tests; never in production.
      allowPrivate: e.NODE_ENV !== 'production',
    },
    jobConcurrency: e.JOB_CONCURRENCY,
    policy: {
      ageGates: e.AGE_GATES ?? DEFAULT_POLICY.ageGates,
      platformDailyCapCoins: e.DAILY_SPEND_CAP_COINS ?? DEFAULT_POLICY.platformDailyCapCoins,
      platformWeeklyCapCoins: e.WEEKLY_SPEND_CAP_COINS ?? DEFAULT_POLICY.platformWeeklyCapCoins,
      limitRaiseCoolingOffMs:
        e.LIMIT_COOLING_OFF_HOURS === undefined ? DEFAULT_POLICY.limitRaiseCoolingOffMs : e.LIMIT_COOLING_OFF_HOURS * 3600_000,
      countryChangeCoolingOffMs:
        e.COUNTRY_COOLING_OFF_HOURS === undefined ? DEFAULT_POLICY.countryChangeCoolingOffMs : e.COUNTRY_COOLING_OFF_HOURS * 3600_000,
      payouts,
    },
  };
}

/**
 * PAYMENT_PROVIDER=stripe's settings, refused when incomplete. A test-mode key takes no money: production
 * refuses one unless STAGING=true says this deployment is a staging one. STRIPE_API_URL (a local
 * stand-in of Stripe's API) is refused in production.
 */
function stripeSettings(e: z.infer<typeof environment>): (StripeSettings & { mode: StripeMode }) | undefined {
  if (e.PAYMENT_PROVIDER !== 'stripe') {
    const stray = (['STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRETS'] as const).filter((name) => e[name] !== undefined);
    if (stray.length) throw new ConfigError(`Invalid configuration:\n${stray.map((name) => `  ${name}: set PAYMENT_PROVIDER=stripe to use it`).join('\n')}`);
    return undefined;
  }
  const problems = [
    ...(e.STRIPE_SECRET_KEY ? [] : ['  STRIPE_SECRET_KEY: required with PAYMENT_PROVIDER=stripe']),
    ...(e.STRIPE_WEBHOOK_SECRETS ? [] : ['  STRIPE_WEBHOOK_SECRETS: required with PAYMENT_PROVIDER=stripe (the signing secret of each webhook endpoint, comma-separated)']),
  ];
  const mode = e.STRIPE_SECRET_KEY ? stripeModeOf(e.STRIPE_SECRET_KEY) : 'test';
  if (e.NODE_ENV === 'production' && mode === 'test' && !e.STAGING) {
    problems.push('  STRIPE_SECRET_KEY: a test-mode key takes no money; production needs a live key (sk_live_...), or STAGING=true for a staging deployment');
  }
  if (e.NODE_ENV === 'production' && e.STRIPE_API_URL) problems.push("  STRIPE_API_URL: only for a local stand-in of Stripe's API, never in production");
  if (problems.length) throw new ConfigError(`Invalid configuration:\n${problems.join('\n')}`);
  const api = e.STRIPE_API_URL ? new URL(e.STRIPE_API_URL) : undefined;
  return {
    mode,
    secretKey: e.STRIPE_SECRET_KEY!,
    webhookSecrets: e.STRIPE_WEBHOOK_SECRETS!,
    cancelUnconfirmedAfterMs: e.STRIPE_CANCEL_UNCONFIRMED_AFTER_MINUTES * 60_000,
    ...(api
      ? { api: { host: api.hostname, port: Number(api.port || (api.protocol === 'https:' ? 443 : 80)), protocol: api.protocol === 'https:' ? ('https' as const) : ('http' as const) } }
      : {}),
  };
}
