import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { installJobQueue } from '../jobs/runner.js';

/** prisma/migrations of this checkout, found from here whether running from src/ or the built dist/src/. */
export const MIGRATIONS_DIR = findUp(path.dirname(fileURLToPath(import.meta.url)), path.join('prisma', 'migrations'));

function findUp(from: string, relative: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, relative);
    if (existsSync(path.join(candidate, 'migration_lock.toml'))) return candidate;
    if (path.dirname(dir) === dir) throw new Error(`No ${relative} above ${from}`);
  }
}

/**
 * Beside each migration.sql, the datamodel it was generated to (written by `npm run db:migration`), so
 * the next migration is a datamodel diff that needs no database introspection.
 */
export const DATAMODEL_SNAPSHOT = 'datamodel.snapshot';

// Prisma's own bookkeeping table, so `prisma migrate deploy` and this function agree on what is applied.
const BOOKKEEPING = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id" VARCHAR(36) PRIMARY KEY NOT NULL,
  "checksum" VARCHAR(64) NOT NULL,
  "finished_at" TIMESTAMPTZ,
  "migration_name" VARCHAR(255) NOT NULL,
  "logs" TEXT,
  "rolled_back_at" TIMESTAMPTZ,
  "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
  "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`;

// Any constant works; it only has to be the same for every instance applying migrations at once.
const MIGRATION_LOCK = 72_707_369;

/**
 * Applies the migrations in prisma/migrations that the database has not seen, each in its own
 * transaction, the way `prisma migrate deploy` does, without Prisma's native schema engine.
 * Then installs the job queue's own tables (src/jobs/runner.ts). Returns the names it applied.
 */
export async function applyMigrations(databaseUrl: string, dir = MIGRATIONS_DIR): Promise<string[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const applied: string[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await client.query(BOOKKEEPING);
    const { rows } = await client.query<{ migration_name: string; finished_at: Date | null }>(
      'SELECT migration_name, finished_at FROM "_prisma_migrations" WHERE rolled_back_at IS NULL',
    );
    const failed = rows.find((row) => row.finished_at === null);
    if (failed) throw new Error(`Migration ${failed.migration_name} failed earlier; resolve it before starting`);
    const done = new Set(rows.map((row) => row.migration_name));
    for (const name of await migrationNames(dir)) {
      if (done.has(name)) continue;
      const sql = await fs.readFile(path.join(dir, name, 'migration.sql'), 'utf8');
      await client.query('BEGIN');
      try {
        await client.query(sql);
        await client.query(
          `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, applied_steps_count)
           VALUES ($1, $2, now(), $3, 1)`,
          [randomUUID(), createHash('sha256').update(sql).digest('hex'), name],
        );
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw new Error(`Migration ${name} failed: ${(error as Error).message}`, { cause: error });
      }
      applied.push(name);
    }
  } finally {
    await client.end();
  }
  await installJobQueue(databaseUrl);
  return applied;
}

export async function migrationNames(dir = MIGRATIONS_DIR): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true });
  return entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort();
}
