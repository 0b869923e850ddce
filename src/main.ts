import { startOvation, type RunningOvation } from './app.js';
import { ConfigError, readConfig } from './config.js';
import { createLogger } from './logger.js';

let config;
try {
  config = readConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}

const log = createLogger(config.logLevel);
let ovation: RunningOvation;
try {
  ovation = await startOvation(config, log);
} catch (error) {
  // A configured file that cannot be used (TRUSTED_DOCUMENTS) is told as a bad variable is.
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(1);
  }
  // Why, in the log's words (the embedded PostgreSQL's refusal, a port in use), not an uncaught rejection.
  log.fatal({ err: error }, 'Ovation could not start');
  process.exit(1);
}
log.info({ url: ovation.url, pid: process.pid, database: config.databaseUrl ? 'DATABASE_URL' : 'embedded', pubsub: config.redisUrl ? 'redis' : 'in-process' }, `Ovation is serving ${ovation.url}`);

let stopping = false;
/** Stops serving, lets work in flight finish, stops the embedded PostgreSQL, and exits with `code`. */
async function shutDown(code: number) {
  if (stopping) return;
  stopping = true;
  try {
    await ovation.stop();
    log.info('stopped cleanly');
    process.exit(code);
  } catch (error) {
    log.error({ err: error }, 'shutdown failed');
    process.exit(1);
  }
}
// These stop the server in order, PostgreSQL last (app.ts). The embedded PostgreSQL's own handlers for them
// (async-exit-hook, loaded with it) would stop PostgreSQL at once and exit with 130 or 143 half-way through.
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.removeAllListeners(signal);
  process.on(signal, () => {
    log.info({ signal }, 'shutting down');
    void shutDown(0);
  });
}

// A promise nobody awaited failed: one operation's bug, and every money change is one transaction, so
// nothing is half-applied. It is logged for operators to fix, and the server keeps serving everybody else.
process.on('unhandledRejection', (reason) => log.error({ err: reason }, 'unhandled rejection: a bug, logged; still serving'));
// A throw nothing caught: the process's own state may be broken. Shut down as cleanly as it can, exit 1,
// and let the supervisor start a fresh one.
process.on('uncaughtException', (error) => {
  log.fatal({ err: error }, 'uncaught exception: shutting down');
  setTimeout(() => process.exit(1), 10_000).unref();
  void shutDown(1);
});
