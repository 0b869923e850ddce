import { startOvation, type RunningOvation } from '../../src/app.js';
import { readConfig } from '../../src/config.js';
import type { Database } from '../../src/db/client.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { releaseWhenDone } from './wait.js';

export const TEST_JWT_SECRET = 'test-secret-test-secret-test-secret-42';
export const TEST_WEBHOOK_SECRET = 'test-webhook-secret-0123456789';

export type TestServer = RunningOvation & {
  /** This file's database, for arranging and checking rows. */
  db: Database;
  /** Pass it to another startTestServer to run a second instance over the same database. */
  database: TestDatabase;
};

/**
 * A real Ovation instance on a free port over this file's database, with the sandbox payment provider
 * unless `sandbox: false`. Pass `database` to start a second instance over the same one (e.g. with
 * `redisUrl`, to prove events cross instances). `variables` adds to or overrides its environment (e.g.
 * METRICS_TOKEN); `log` replaces its silent logger. A test may stop the instance itself; it is stopped
 * once either way.
 */
export async function startTestServer(
  options: { database?: TestDatabase; redisUrl?: string; env?: 'development' | 'production'; sandbox?: boolean; variables?: Record<string, string>; log?: Logger } = {},
): Promise<TestServer> {
  const database = options.database ?? (await createTestDatabase());
  const config = readConfig({
    NODE_ENV: options.env ?? 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: database.url,
    JWT_SECRET: TEST_JWT_SECRET,
    PAYMENT_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
    SEED_DEMO_DATA: 'false',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    // The tests buy coins with the sandbox's test cards, as a staging server would.
    ENABLE_SANDBOX_PROVIDERS: String(options.sandbox ?? true),
    // Every test comes from 127.0.0.1: limits out of the way unless a test sets its own (test/edge/rate-limits.test.ts).
    RATE_LIMIT_PROFILES: '100000/60',
    RATE_LIMIT_MUTATIONS: '100000/60',
    RATE_LIMIT_CONNECTIONS: '100000/60',
    RATE_LIMIT_SUBSCRIPTIONS: '100000/60',
    ANONYMOUS_VIEWERS_PER_ADDRESS: '100000',
    ...(options.redisUrl ? { REDIS_URL: options.redisUrl } : {}),
    ...options.variables,
  });
  const running = await startOvation(config, options.log ?? createLogger(config.logLevel));
  let stopped: Promise<void> | undefined;
  const stop = () => (stopped ??= running.stop());
  releaseWhenDone(stop);
  return { ...running, stop, db: database.db, database };
}
