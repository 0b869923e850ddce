// Writes the next migration: the SQL from the datamodel of the last migration to prisma/schema.prisma.
// Usage: npm run db:migration -- <name>
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DATAMODEL_SNAPSHOT, MIGRATIONS_DIR, migrationNames } from '../src/db/migrate.js';
import { startEmbeddedPostgres } from '../src/db/embedded.js';
import { datamodelDiff, isEmptyDiff } from './schema-engine.js';

const name = process.argv[2];
if (!name || !/^[a-z0-9_]+$/.test(name)) {
  console.error('Usage: npm run db:migration -- <name in snake_case>');
  process.exit(1);
}

const last = (await migrationNames()).at(-1);
const from = last ? await fs.readFile(path.join(MIGRATIONS_DIR, last, DATAMODEL_SNAPSHOT), 'utf8') : null;
const to = await fs.readFile('prisma/schema.prisma', 'utf8');

const database = process.env.DATABASE_URL
  ? { url: process.env.DATABASE_URL, stop: async () => {} }
  : await startEmbeddedPostgres({ dataDir: await fs.mkdtemp(path.join(os.tmpdir(), 'ovation-migration-')), ephemeral: true });
try {
  const sql = await datamodelDiff(database.url, from, to);
  if (isEmptyDiff(sql)) {
    console.log('No changes: prisma/schema.prisma matches the last migration.');
  } else {
    const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
    const dir = path.join(MIGRATIONS_DIR, `${stamp}_${name}`);
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(path.join(dir, 'migration.sql'), sql);
    await fs.writeFile(path.join(dir, DATAMODEL_SNAPSHOT), to);
    await fs.writeFile(path.join(MIGRATIONS_DIR, 'migration_lock.toml'), 'provider = "postgresql"\n');
    console.log(`Wrote ${path.relative(process.cwd(), dir)}/migration.sql`);
  }
} finally {
  await database.stop();
}
