import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { ConfigError, readConfig } from '../src/config.js';
import { DEFAULT_MAX_COST } from '../src/edge/query-limits.js';

const SECRET = 'a-production-secret-of-32-chars!';

/** The ConfigError readConfig throws for this environment. */
function refusal(env: NodeJS.ProcessEnv): ConfigError {
  try {
    readConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`readConfig accepted ${JSON.stringify(env)}`);
}

describe('readConfig', () => {
  test('with only NODE_ENV=development (as npm start sets it), one machine runs on 127.0.0.1:4000 with an embedded database and every convenience', () => {
    expect(readConfig({ NODE_ENV: 'development' })).toMatchObject({
      env: 'development',
      development: true,
      host: '127.0.0.1',
      port: 4000,
      databaseUrl: undefined,
      databasePoolSize: 20,
      dataDir: path.resolve('.ovation'),
      redisUrl: undefined,
      jwtSecret: undefined,
      jwtTtlSeconds: 7 * 24 * 3600,
      logLevel: 'info',
      seedDemoData: true,
      idempotencyKeyHours: 168,
      sandboxProviders: true,
      giftBatchesInFlight: 1,
      corsOrigins: '*',
    });
  });

  test('with NODE_ENV unset, it is not development: secrets are required and nothing convenient is on', () => {
    expect(refusal({}).message).toMatch(/^\s+JWT_SECRET: required unless NODE_ENV=development[\s\S]*PAYMENT_WEBHOOK_SECRET: required unless NODE_ENV=development/m);
    expect(readConfig({ JWT_SECRET: SECRET, PAYMENT_WEBHOOK_SECRET: 'whsec_production_secret' })).toMatchObject({
      env: 'production',
      development: false,
      host: '0.0.0.0',
      seedDemoData: false,
      sandboxProviders: false,
      corsOrigins: [],
    });
  });

  test.each(['test', 'production'])('NODE_ENV=%s is not development either', (env) => {
    expect(readConfig({ NODE_ENV: env, JWT_SECRET: SECRET, PAYMENT_WEBHOOK_SECRET: 'whsec_production_secret' })).toMatchObject({ development: false, sandboxProviders: false });
  });

  test('ENABLE_SANDBOX_PROVIDERS turns the sandbox providers on outside development (staging), and nothing else', () => {
    const staging = readConfig({ NODE_ENV: 'production', ENABLE_SANDBOX_PROVIDERS: 'true', JWT_SECRET: SECRET, PAYMENT_WEBHOOK_SECRET: 'whsec_staging_secret' });
    expect(staging).toMatchObject({ development: false, sandboxProviders: true, seedDemoData: false, corsOrigins: [] });
  });

  test('CORS_ORIGINS is a list of origins; anything else is refused, naming CORS_ORIGINS', () => {
    const env = { NODE_ENV: 'production', JWT_SECRET: SECRET, PAYMENT_WEBHOOK_SECRET: 'whsec_production_secret' };
    expect(readConfig({ ...env, CORS_ORIGINS: 'https://app.example.com, https://studio.example.com:8443/' }).corsOrigins).toEqual([
      'https://app.example.com',
      'https://studio.example.com:8443',
    ]);
    expect(refusal({ ...env, CORS_ORIGINS: 'app.example.com' }).message).toMatch(/^\s+CORS_ORIGINS(\.0)?: must be a comma-separated list of origins/m);
  });

  test.each(['0', 'abc', '1.5', '65'])('GIFT_IN_FLIGHT=%s is refused, naming GIFT_IN_FLIGHT (it made every sendGift wait forever)', (value) => {
    expect(refusal({ GIFT_IN_FLIGHT: value }).message).toMatch(/^\s+GIFT_IN_FLIGHT: must be a whole number from 1 to 64$/m);
  });

  test('the environment overrides the defaults', () => {
    expect(
      readConfig({
        NODE_ENV: 'production',
        PORT: '8080',
        DATABASE_URL: 'postgresql://ovation@db.internal:5432/ovation',
        REDIS_URL: 'rediss://cache.internal:6380',
        JWT_SECRET: SECRET,
        PAYMENT_WEBHOOK_SECRET: 'whsec_production_secret',
        OVATION_DATA_DIR: '/var/lib/ovation',
      }),
    ).toMatchObject({
      env: 'production',
      port: 8080,
      databaseUrl: 'postgresql://ovation@db.internal:5432/ovation',
      redisUrl: 'rediss://cache.internal:6380',
      jwtSecret: SECRET,
      dataDir: '/var/lib/ovation',
      seedDemoData: false,
    });
  });

  test('an empty variable counts as unset', () => {
    expect(readConfig({ NODE_ENV: 'development', PORT: '', DATABASE_URL: '', REDIS_URL: '' })).toMatchObject({ port: 4000, databaseUrl: undefined, redisUrl: undefined });
  });

  test.each(['http', '-1', '65536', '80.5'])('PORT=%s is refused, naming PORT', (value) => {
    expect(refusal({ PORT: value }).message).toMatch(/^\s+PORT: must be a whole number from 0 to 65535$/m);
  });

  test.each(['localhost:5432/ovation', 'mysql://db/ovation', 'not a url'])('DATABASE_URL=%s is refused, naming DATABASE_URL', (value) => {
    expect(refusal({ DATABASE_URL: value }).message).toMatch(/^\s+DATABASE_URL: must be a postgresql:\/\/ URL$/m);
  });

  test('a JWT_SECRET shorter than 32 characters is refused, naming JWT_SECRET', () => {
    expect(refusal({ JWT_SECRET: 'too-short' }).message).toMatch(/^\s+JWT_SECRET: must be at least 32 characters$/m);
  });

  test.each(['23', '0', '36.5', 'a week'])('IDEMPOTENCY_KEY_HOURS=%s is refused: a retry within a day must find its key', (value) => {
    expect(refusal({ IDEMPOTENCY_KEY_HOURS: value }).message).toMatch(/^\s+IDEMPOTENCY_KEY_HOURS: must be a whole number of hours, at least 24/m);
  });

  test(`GRAPHQL_MAX_COST sets the query cost limit (default ${DEFAULT_MAX_COST})`, () => {
    expect(readConfig({ NODE_ENV: 'development' }).maxQueryCost).toBe(DEFAULT_MAX_COST);
    expect(readConfig({ NODE_ENV: 'development', GRAPHQL_MAX_COST: '2500' }).maxQueryCost).toBe(2500);
  });

  test.each(['0', '-5', '1.5', 'lots'])('GRAPHQL_MAX_COST=%s is refused, naming GRAPHQL_MAX_COST', (value) => {
    expect(refusal({ GRAPHQL_MAX_COST: value }).message).toMatch(/^\s+GRAPHQL_MAX_COST: must be a whole number, at least 1$/m);
  });

  test('GRAPHQL_INTROSPECTION: introspection and suggestions are on in development only, unless it says otherwise', () => {
    const secrets = { JWT_SECRET: SECRET, PAYMENT_WEBHOOK_SECRET: 'whsec_production_secret' };
    const production = { NODE_ENV: 'production', ...secrets };
    expect([readConfig({ NODE_ENV: 'development' }), readConfig({ NODE_ENV: 'test', ...secrets }), readConfig(secrets), readConfig(production)].map((config) => config.introspection)).toEqual([true, false, false, false]);
    expect(readConfig({ ...production, GRAPHQL_INTROSPECTION: 'true' }).introspection).toBe(true);
    expect(readConfig({ NODE_ENV: 'development', GRAPHQL_INTROSPECTION: 'false' }).introspection).toBe(false);
    expect(refusal({ GRAPHQL_INTROSPECTION: 'maybe' }).message).toMatch(/^\s+GRAPHQL_INTROSPECTION: /m);
  });

  test('production without JWT_SECRET is refused: every instance must verify the same tokens', () => {
    expect(refusal({ NODE_ENV: 'production' }).message).toMatch(/^\s+JWT_SECRET: required unless NODE_ENV=development/m);
  });

  test('an identity provider: discovery or a key set URL with its issuer, always with the audience; JWT_SECRET then optional', () => {
    const webhook = { PAYMENT_WEBHOOK_SECRET: 'whsec_production_secret' };
    expect(readConfig({ ...webhook, AUTH_OIDC_ISSUER: 'https://id.example.com/', AUTH_AUDIENCE: 'ovation' })).toMatchObject({
      jwtSecret: undefined,
      identityProvider: { oidcIssuer: 'https://id.example.com/', jwksUrl: undefined, issuer: undefined, audience: 'ovation', refetchAfterMs: 30_000 },
    });
    expect(readConfig({ ...webhook, AUTH_JWKS_URL: 'https://id.example.com/keys', AUTH_ISSUER: 'https://id.example.com/', AUTH_AUDIENCE: 'ovation' }).identityProvider).toMatchObject({
      jwksUrl: 'https://id.example.com/keys',
      issuer: 'https://id.example.com/',
    });
    expect(refusal({ ...webhook, AUTH_JWKS_URL: 'https://id.example.com/keys', AUTH_AUDIENCE: 'ovation' }).message).toMatch(/^\s+AUTH_ISSUER: required with AUTH_JWKS_URL/m);
    expect(refusal({ ...webhook, AUTH_OIDC_ISSUER: 'https://id.example.com/' }).message).toMatch(/^\s+AUTH_AUDIENCE: required with an identity provider/m);
    expect(refusal({ ...webhook, AUTH_OIDC_ISSUER: 'not a url', AUTH_AUDIENCE: 'ovation' }).message).toMatch(/^\s+AUTH_OIDC_ISSUER: /m);
    expect(refusal({ ...webhook, AUTH_OIDC_ISSUER: 'https://id.example.com/', AUTH_AUDIENCE: 'ovation', COUNTRY_COOLING_OFF_HOURS: '-1' }).message).toMatch(/^\s+COUNTRY_COOLING_OFF_HOURS: must not be negative/m);
  });

  test('rate limits are "points/seconds" and TRUST_PROXY addresses or CIDR ranges; a bad one names its variable', () => {
    expect(readConfig({ NODE_ENV: 'development' })).toMatchObject({
      rateLimits: { profiles: { points: 10, seconds: 3600 }, mutations: { points: 120, seconds: 60 }, connections: { points: 30, seconds: 60 }, subscriptions: { points: 300, seconds: 60 } },
      trustProxy: [],
    });
    expect(readConfig({ NODE_ENV: 'development', RATE_LIMIT_MUTATIONS: '5/10', TRUST_PROXY: '10.0.0.0/8, ::1' })).toMatchObject({
      rateLimits: { mutations: { points: 5, seconds: 10 } },
      trustProxy: ['10.0.0.0/8', '::1'],
    });
    expect(refusal({ NODE_ENV: 'development', RATE_LIMIT_SUBSCRIPTIONS: '5 per minute' }).message).toMatch(/^\s+RATE_LIMIT_SUBSCRIPTIONS: must be "points\/seconds"/m);
    expect(refusal({ NODE_ENV: 'development', RATE_LIMIT_PROFILES: '0/60' }).message).toMatch(/^\s+RATE_LIMIT_PROFILES: /m);
    expect(refusal({ NODE_ENV: 'development', TRUST_PROXY: 'the-load-balancer' }).message).toMatch(/^\s+TRUST_PROXY(\.0)?: must be comma-separated IP addresses/m);
    expect(refusal({ NODE_ENV: 'development', TRUST_PROXY: '10.0.0.0/33' }).message).toMatch(/^\s+TRUST_PROXY(\.0)?: /m);
  });

  test('payout rules default to the published ones: 10,000 diamonds at least, 1,000 USD a day, no fee, every payout reviewed, two operators above 500 USD, 5 days of cooling-off', () => {
    const config = readConfig({ NODE_ENV: 'development' });
    expect(config.policy.payouts).toEqual({
      minimumDiamonds: 10_000n,
      dailyCapCents: 100_000n,
      feeCents: 0n,
      autoApproveMaxCents: null,
      secondApprovalAboveCents: 50_000n,
      methodCoolingOffMs: 5 * 24 * 3600_000,
    });
    expect(config).toMatchObject({ payoutWebhookSecrets: ['whsec_ovation_sandbox_development'], sandboxPayoutReturnMs: 300_000 });
  });

  test('the environment sets the payout rules; payout webhooks verify with PAYMENT_WEBHOOK_SECRET unless PAYOUT_WEBHOOK_SECRETS lists others', () => {
    const env = { NODE_ENV: 'production', JWT_SECRET: SECRET, PAYMENT_WEBHOOK_SECRET: 'whsec_production_secret' };
    expect(readConfig(env).payoutWebhookSecrets).toEqual(['whsec_production_secret']);
    expect(
      readConfig({
        ...env,
        PAYOUT_MINIMUM_DIAMONDS: '5000',
        PAYOUT_DAILY_CAP_CENTS: '50000',
        PAYOUT_FEE_CENTS: '25',
        PAYOUT_AUTO_APPROVE_MAX_CENTS: '10000',
        PAYOUT_SECOND_APPROVAL_ABOVE_CENTS: '20000',
        PAYOUT_METHOD_COOLING_OFF_HOURS: '48',
        PAYOUT_WEBHOOK_SECRETS: 'whsec_payouts_new_secret, whsec_payouts_old_secret',
        SANDBOX_PAYOUT_RETURN_SECONDS: '30',
      }),
    ).toMatchObject({
      policy: {
        payouts: { minimumDiamonds: 5000n, dailyCapCents: 50_000n, feeCents: 25n, autoApproveMaxCents: 10_000n, secondApprovalAboveCents: 20_000n, methodCoolingOffMs: 48 * 3600_000 },
      },
      payoutWebhookSecrets: ['whsec_payouts_new_secret', 'whsec_payouts_old_secret'],
      sandboxPayoutReturnMs: 30_000,
    });
  });

  test('bad payout variables are refused, each named', () => {
    expect(refusal({ PAYOUT_DAILY_CAP_CENTS: 'a lot' }).message).toMatch(/^\s+PAYOUT_DAILY_CAP_CENTS: must be a whole number of US cents$/m);
    expect(refusal({ PAYOUT_FEE_CENTS: '-1' }).message).toMatch(/^\s+PAYOUT_FEE_CENTS: must be a whole number of US cents$/m);
    expect(refusal({ PAYOUT_MINIMUM_DIAMONDS: '1' }).message).toMatch(/^\s+PAYOUT_MINIMUM_DIAMONDS: must be at least 2 diamonds/m);
    expect(refusal({ PAYOUT_WEBHOOK_SECRETS: 'short, whsec_long_enough_secret' }).message).toMatch(/^\s+PAYOUT_WEBHOOK_SECRETS(\.0)?: each secret must be at least 16 characters$/m);
    expect(refusal({ PAYOUT_METHOD_COOLING_OFF_HOURS: 'soon' }).message).toMatch(/^\s+PAYOUT_METHOD_COOLING_OFF_HOURS: must be a number of hours$/m);
  });

  test('a payout fee that would leave nothing to send is refused, naming PAYOUT_FEE_CENTS', () => {
    expect(refusal({ NODE_ENV: 'development', PAYOUT_FEE_CENTS: '5000' }).message).toMatch(
      /^\s+PAYOUT_FEE_CENTS: must be less than the smallest payout, 5000 US cents \(PAYOUT_MINIMUM_DIAMONDS\)$/m,
    );
    expect(readConfig({ NODE_ENV: 'development', PAYOUT_FEE_CENTS: '4999' }).policy.payouts.feeCents).toBe(4999n);
  });

  test('METRICS_PORT and METRICS_TOKEN are unset by default; a bad one is refused, naming it', () => {
    expect(readConfig({ NODE_ENV: 'development' })).toMatchObject({ metricsPort: undefined, metricsToken: undefined });
    expect(readConfig({ NODE_ENV: 'development', METRICS_PORT: '9464', METRICS_TOKEN: 'a-scrape-token-0123456789' })).toMatchObject({
      metricsPort: 9464,
      metricsToken: 'a-scrape-token-0123456789',
    });
    expect(refusal({ METRICS_PORT: 'http' }).message).toMatch(/^\s+METRICS_PORT: must be a whole number from 0 to 65535$/m);
    expect(refusal({ METRICS_TOKEN: 'guessable' }).message).toMatch(/^\s+METRICS_TOKEN: must be at least 16 characters$/m);
  });

  test('trusted documents: none but Ovation\'s own and text allowed by default; manifests are a comma-separated list; only-trusted needs one', () => {
    expect(readConfig({ NODE_ENV: 'development' }).trustedDocuments).toEqual({ files: [], only: false });
    expect(readConfig({ NODE_ENV: 'development', TRUSTED_DOCUMENTS: 'web.json, /srv/ios.json', TRUSTED_DOCUMENTS_ONLY: 'true' }).trustedDocuments).toEqual({
      files: [path.resolve('web.json'), '/srv/ios.json'],
      only: true,
    });
    expect(refusal({ NODE_ENV: 'development', TRUSTED_DOCUMENTS_ONLY: 'true' }).message).toMatch(/^\s+TRUSTED_DOCUMENTS: required with TRUSTED_DOCUMENTS_ONLY=true/m);
    expect(refusal({ NODE_ENV: 'development', TRUSTED_DOCUMENTS_ONLY: 'always' }).message).toMatch(/^\s+TRUSTED_DOCUMENTS_ONLY: /m);
  });

  test('every bad variable is named at once, and no value is echoed', () => {
    const message = refusal({ PORT: 'http', DATABASE_URL: 'mysql://root:hunter2@db/app', JWT_SECRET: 'hunter2' }).message;
    expect(message.split('\n').slice(1).map((line) => line.trim().split(':')[0])).toEqual(['PORT', 'DATABASE_URL', 'JWT_SECRET']);
    expect(message).not.toContain('hunter2');
  });
});
