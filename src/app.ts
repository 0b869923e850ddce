import type { Config } from './config.js';
import { openDatabase } from './db/database.js';
import { createAccounts } from './edge/accounts.js';
import { createAuth, jwtSecret } from './edge/auth.js';
import { OVERLAY_DEFAULTS } from './events/overlay-stream.js';
import { createRateLimits, trustedProxies } from './edge/rate-limits.js';
import { createMetrics, listenForScrapes, METRICS_PATH, metricsAccess } from './edge/metrics.js';
import { createServer } from './edge/server.js';
import { loadTrustedDocuments } from './edge/trusted-documents.js';
import { schema } from './schema/index.js';
import { createAnnouncer } from './events/announcer.js';
import { createPresence } from './events/presence.js';
import { createEventBus } from './events/pubsub.js';
import { createGiftSender } from './domain/gifting.js';
import { createWebhookDeliverer } from './domain/brands/webhooks/delivery.js';
import { DELIVER_TASK } from './domain/brands/webhooks/events.js';
import { startJobs } from './jobs/runner.js';
import type { PaymentProvider } from './domain/payments/provider.js';
import { createSandboxProvider } from './domain/payments/sandbox.js';
import { forgetExpiredKeys } from './domain/idempotency.js';
import { settleDueCampaigns } from './domain/brands/campaigns.js';
import { reconcileBrandFundings } from './domain/brands/budgets.js';
import { reconcilePurchases } from './domain/purchases.js';
import { reconcilePayouts } from './domain/payouts/lifecycle.js';
import type { PayoutProvider } from './domain/payouts/provider.js';
import { createSandboxPayoutProvider } from './domain/payouts/sandbox.js';
import { createStripePayoutProvider } from './domain/payouts/stripe.js';
import { createStripePaymentProvider } from './domain/payments/stripe.js';
import { createStripeClient } from './domain/stripe/client.js';
import type { Services } from './schema/context.js';
import type { Logger } from './logger.js';
import { seedDemoData } from '../prisma/seed.js';

export type RunningOvation = {
  url: string;
  port: number;
  databaseUrl: string;
  /** Where Prometheus scrapes this instance; undefined when metrics are off. */
  metricsUrl: string | undefined;
  stop(): Promise<void>;
};

/** Starts one instance: database (embedded unless DATABASE_URL), migrations, demo data, pub/sub, server. */
export async function startOvation(config: Config, log: Logger): Promise<RunningOvation> {
  // Before anything starts: a manifest that cannot be trusted stops the server, naming what is wrong.
  const trustedDocuments = await loadTrustedDocuments(schema, config.trustedDocuments);
  log.info(
    { trustedDocuments: trustedDocuments.size, trustedDocumentsOnly: trustedDocuments.only },
    trustedDocuments.only ? 'only trusted documents run (TRUSTED_DOCUMENTS_ONLY)' : 'trusted documents run by id; document text runs too',
  );
  const database = await openDatabase(config, log);
  try {
    if (config.seedDemoData && (await seedDemoData(database.prisma))) log.info('seeded demo data');
    const pubsub = createEventBus(config.redisUrl, log);
    // Everything this instance publishes goes through it, from the domain, after commit.
    const announcer = createAnnouncer(pubsub);
    const presence = createPresence(database.prisma, announcer, log, { anonymousPerAddress: config.anonymousViewersPerAddress });
    const metrics = createMetrics({ subscribers: presence.subscribers });
    const auth = createAuth(await jwtSecret(config), config.jwtTtlSeconds, config.identityProvider);
    const db = database.prisma;
    const accounts = createAccounts(db, pubsub, log);
    const rateLimits = createRateLimits(config.rateLimits, config.redisUrl, log);
    const stripe = config.stripe && { client: createStripeClient(config.stripe), webhookSecrets: config.stripe.webhookSecrets };
    if (config.stripe) {
      const { mode } = config.stripe;
      log.info({ stripe: mode }, mode === 'live' ? 'Stripe in live mode: purchases and payouts move real money' : 'Stripe in test mode: no real money moves');
    }
    const services: Services = {
      db,
      pubsub,
      announcer,
      presence,
      policy: config.policy,
      gifts: createGiftSender(db, announcer, config.policy, { maxInFlight: config.giftBatchesInFlight, observer: metrics.gifts }),
      payments: stripe ? createStripePaymentProvider(stripe.client, config.stripe!) : paymentProvider(config, log),
      payouts: { db, policy: config.policy, provider: stripe ? createStripePayoutProvider(stripe.client) : payoutProvider(config, log), announce: announcer, log },
      ...(stripe ? { stripe } : {}),
      issueToken: auth.issueToken,
      development: config.development,
      overlays: { streakQuietMs: config.overlayStreakQuietMs, checkMs: OVERLAY_DEFAULTS.checkMs },
      webhookAddresses: config.brandWebhooks,
    };
    // Each instance does its share of housekeeping; every job is safe to run on many instances at once.
    const { payments, payouts } = services;
    const payoutsProvider = payouts.provider;
    const housekeeping = [
      ...(payments
        ? [
            repeatEvery(RECONCILE_EVERY_MS, 'purchase reconciliation', log, async () => {
              const reconciled = await reconcilePurchases(db, announcer, payments);
              if (Object.values(reconciled).some((count) => count > 0)) log.info({ reconciled }, 'reconciled pending purchases');
              const fundings = await reconcileBrandFundings(db, payments);
              if (fundings > 0) log.info({ fundings }, 'reconciled pending brand fundings');
            }),
          ]
        : []),
      ...(payoutsProvider
        ? [
            repeatEvery(RECONCILE_EVERY_MS, 'payout reconciliation', log, async () => {
              const reconciled = await reconcilePayouts(payouts, payoutsProvider);
              if (Object.values(reconciled).some((count) => count > 0)) log.info({ reconciled }, 'reconciled payouts');
            }),
          ]
        : []),
      repeatEvery(RECONCILE_EVERY_MS, 'campaign settlement', log, async () => {
        const settled = await settleDueCampaigns(db, announcer);
        if (settled > 0) log.info({ settled }, 'settled matching campaigns past their end or budget');
      }),
      repeatEvery(FORGET_KEYS_EVERY_MS, 'forgetting expired idempotency keys', log, async () => {
        const forgotten = await forgetExpiredKeys(db, config.idempotencyKeyHours);
        if (forgotten > 0) log.info({ forgotten }, 'forgot expired idempotency keys');
      }),
    ];
    const jobs = await startJobs(database.url, { [DELIVER_TASK]: createWebhookDeliverer(db, config.brandWebhooks, log, config.brandWebhooks) }, log, {
      concurrency: config.jobConcurrency,
    });
    const access = metricsAccess(config);
    const server = createServer({
      services,
      auth,
      accounts,
      log,
      corsOrigins: config.corsOrigins,
      maxQueryCost: config.maxQueryCost,
      introspection: config.introspection,
      trustedDocuments,
      metrics,
      metricsAccess: access,
      rateLimits,
      trustedProxies: trustedProxies(config.trustProxy),
    });
    const { port } = await server.listen(config.port, config.host);
    const host = config.host === '0.0.0.0' ? 'localhost' : config.host;
    const scrapes = access.on === 'own-port' ? await listenForScrapes(metrics.registry, access, config.host, log) : undefined;
    const metricsUrl = access.on === 'nowhere' ? undefined : `http://${host}:${scrapes?.port ?? port}${METRICS_PATH}`;
    if (metricsUrl) log.info({ metrics: metricsUrl, tokenRequired: config.metricsToken !== undefined }, `metrics at ${metricsUrl}`);
    else log.info({ metrics: 'off' }, 'metrics are off: set METRICS_PORT or METRICS_TOKEN to serve /metrics outside development');
    return {
      url: `http://${host}:${port}/graphql`,
      port,
      databaseUrl: database.url,
      metricsUrl,
      async stop() {
        await Promise.all(housekeeping.map((job) => job.stop()));
        await server.close();
        await jobs.stop();
        await scrapes?.close();
        await presence.close();
        await accounts.close();
        await rateLimits.close();
        await pubsub.close();
        await database.close();
      },
    };
  } catch (error) {
    await database.close();
    throw error;
  }
}

/**
 * The payment provider purchases go through. The sandbox (test cards, no money) only where asked for:
 * in development, or in staging with ENABLE_SANDBOX_PROVIDERS. Without one, purchases are unavailable.
 */
function paymentProvider(config: Config, log: Logger): PaymentProvider | null {
  if (config.sandboxProviders) {
    if (!config.development) log.warn('ENABLE_SANDBOX_PROVIDERS: the sandbox payment provider is on; its test cards buy coins without money');
    return createSandboxProvider(config.paymentWebhookSecret);
  }
  log.warn('No payment provider is configured: coin purchases are unavailable (PAYMENT_PROVIDER_UNAVAILABLE)');
  return null;
}

/**
 * The payout provider payouts go through: the sandbox (no money moves) on the same terms as the payment
 * sandbox. Without one, payouts are refused (PAYOUT_PROVIDER_UNAVAILABLE) and changes nothing; payouts
 * approved earlier wait in APPROVED until a provider is configured.
 */
function payoutProvider(config: Config, log: Logger): PayoutProvider | null {
  if (config.sandboxProviders) {
    if (!config.development) log.warn('ENABLE_SANDBOX_PROVIDERS: the sandbox payout provider is on; its payouts send no money');
    return createSandboxPayoutProvider({ webhookSecrets: config.payoutWebhookSecrets, returnAfterMs: config.sandboxPayoutReturnMs });
  }
  log.warn('No payout provider is configured: payouts are unavailable (PAYOUT_PROVIDER_UNAVAILABLE)');
  return null;
}

/**
 * How often each instance settles purchases and payouts whose outcome never arrived (reconcilePurchases,
 * reconcilePayouts), and matching campaigns past their end or budget (settleDueCampaigns).
 */
const RECONCILE_EVERY_MS = 60_000;
/** How often each instance forgets idempotency keys past their retention (forgetExpiredKeys). */
const FORGET_KEYS_EVERY_MS = 3600_000;

/** Runs `job` every `ms`, skipping a turn while the last run goes on; a failure is logged, and the next turn tries again. */
function repeatEvery(ms: number, what: string, log: Logger, job: () => Promise<void>): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    running ??= job()
      .catch((error: unknown) => log.error({ err: error }, `${what} failed`))
      .finally(() => (running = undefined));
  }, ms);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
