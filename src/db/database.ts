import path from 'node:path';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { createPrismaClient, type Database } from './client.js';
import { startEmbeddedPostgres } from './embedded.js';
import { applyMigrations } from './migrate.js';

export type OpenDatabase = { url: string; prisma: Database; close: () => Promise<void> };

/**
 * The database the server runs on: DATABASE_URL when set, else an embedded PostgreSQL keeping its data
 * in the data directory. Pending migrations are applied either way.
 */
export async function openDatabase(config: Config, log: Logger): Promise<OpenDatabase> {
  let url = config.databaseUrl;
  let stopEmbedded = async () => {};
  if (!url) {
    const dataDir = path.join(config.dataDir, 'postgres');
    log.info({ dataDir }, 'starting embedded PostgreSQL');
    const embedded = await startEmbeddedPostgres({ dataDir, log: (message) => log.debug({ postgres: message.trim() }) });
    url = embedded.url;
    stopEmbedded = embedded.stop;
  }
  try {
    const applied = await applyMigrations(url);
    if (applied.length) log.info({ applied }, 'applied migrations');
  } catch (error) {
    await stopEmbedded();
    throw error;
  }
  const prisma = createPrismaClient(url, config.databasePoolSize);
  return {
    url,
    prisma,
    close: async () => {
      await prisma.$disconnect();
      await stopEmbedded();
    },
  };
}
