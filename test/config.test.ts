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
  test('with nothing set, one machine runs in development on port 4000 with an embedded database', () => {
    expect(readConfig({})).toMatchObject({
      env: 'development',
      host: '0.0.0.0',
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
    });
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
    expect(readConfig({ PORT: '', DATABASE_URL: '', REDIS_URL: '' })).toMatchObject({ port: 4000, databaseUrl: undefined, redisUrl: undefined });
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
    expect(readConfig({}).maxQueryCost).toBe(DEFAULT_MAX_COST);
    expect(readConfig({ GRAPHQL_MAX_COST: '2500' }).maxQueryCost).toBe(2500);
  });

  test.each(['0', '-5', '1.5', 'lots'])('GRAPHQL_MAX_COST=%s is refused, naming GRAPHQL_MAX_COST', (value) => {
    expect(refusal({ GRAPHQL_MAX_COST: value }).message).toMatch(/^\s+GRAPHQL_MAX_COST: must be a whole number, at least 1$/m);
  });

  test('GRAPHQL_INTROSPECTION: introspection and suggestions are on except in production, unless it says otherwise', () => {
    const production = { NODE_ENV: 'production', JWT_SECRET: SECRET, PAYMENT_WEBHOOK_SECRET: 'whsec_production_secret' };
    expect([readConfig({}), readConfig({ NODE_ENV: 'test' }), readConfig(production)].map((config) => config.introspection)).toEqual([true, true, false]);
    expect(readConfig({ ...production, GRAPHQL_INTROSPECTION: 'true' }).introspection).toBe(true);
    expect(readConfig({ GRAPHQL_INTROSPECTION: 'false' }).introspection).toBe(false);
    expect(refusal({ GRAPHQL_INTROSPECTION: 'maybe' }).message).toMatch(/^\s+GRAPHQL_INTROSPECTION: /m);
  });

  test('production without JWT_SECRET is refused: every instance must verify the same tokens', () => {
    expect(refusal({ NODE_ENV: 'production' }).message).toMatch(/^\s+JWT_SECRET: required in production/m);
  });

  test('every bad variable is named at once, and no value is echoed', () => {
    const message = refusal({ PORT: 'http', DATABASE_URL: 'mysql://root:hunter2@db/app', JWT_SECRET: 'hunter2' }).message;
    expect(message.split('\n').slice(1).map((line) => line.trim().split(':')[0])).toEqual(['PORT', 'DATABASE_URL', 'JWT_SECRET']);
    expect(message).not.toContain('hunter2');
  });
});
