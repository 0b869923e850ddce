import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient, type Prisma } from '../generated/prisma/client.js';

/** Prisma, and the pg pool under it for the one path that talks to the driver directly (see driver.ts). */
export type Database = PrismaClient & { readonly driver: pg.Pool };

/** `onQuery` sees every statement Prisma sends (tools and tests that count statements use it). */
export function createPrismaClient(databaseUrl: string, poolSize: number, { onQuery }: { onQuery?: (event: Prisma.QueryEvent) => void } = {}): Database {
  // Pipelining lets a driver transaction send several statements in one round trip (driver.ts); Prisma
  // awaits each statement before the next, so its queries go as before.
  const driver = new pg.Pool({ connectionString: databaseUrl, max: poolSize, pipeline: true });
  // A connection PostgreSQL ends (a restart, a failover, a dropped database) emits 'error' on its client,
  // which ends the process when nothing listens: while a driver transaction holds it, or while the pool
  // is closing it. Its pending or next statement fails instead, and the pool drops it on release.
  driver.on('connect', (client) => client.on('error', () => {}));
  const adapter = new PrismaPg(driver, { disposeExternalPool: true });
  if (!onQuery) return Object.assign(new PrismaClient({ adapter }), { driver });
  const prisma = new PrismaClient({ adapter, log: [{ emit: 'event', level: 'query' }] });
  prisma.$on('query', onQuery);
  return Object.assign(prisma, { driver });
}
