import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, inject } from 'vitest';
import { createPrismaClient, type Database } from '../../src/db/client.js';
import { TEMPLATE, withDatabase } from '../setup/postgres.js';

export type TestDatabase = { url: string; db: Database };

/** A fresh, migrated database for this test file, dropped when the file is done. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = inject('postgresUrl');
  const name = `ovation_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(serverUrl, `CREATE DATABASE ${name} TEMPLATE ${TEMPLATE}`);
  const url = withDatabase(serverUrl, name);
  const db = createPrismaClient(url, 20);
  afterAll(async () => {
    await db.$disconnect();
    await adminQuery(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  });
  return { url, db };
}

/** One statement (or several, without values) on a connection of its own, for databases no Prisma client serves; its rows. */
export async function adminQuery<Row extends object = object>(url: string, sql: string, values: unknown[] = []): Promise<Row[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<Row>(sql, values)).rows;
  } finally {
    await client.end();
  }
}
