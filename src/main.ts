import { startOvation } from './app.js';
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
let ovation;
try {
  ovation = await startOvation(config, log);
} catch (error) {
  // Why, in the log's words (the embedded PostgreSQL's refusal, a port in use), not an uncaught rejection.
  log.fatal({ err: error }, 'Ovation could not start');
  process.exit(1);
}
log.info({ url: ovation.url, database: config.databaseUrl ? 'DATABASE_URL' : 'embedded', pubsub: config.redisUrl ? 'redis' : 'in-process' }, `Ovation is serving ${ovation.url}`);

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    try {
      await ovation.stop();
      log.info('stopped cleanly');
      process.exit(0);
    } catch (error) {
      log.error({ err: error }, 'shutdown failed');
      process.exit(1);
    }
  });
}
