import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../../src/db/embedded.js';
import { applyMigrations } from '../../src/db/migrate.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A server URL (any database) where test files may create their own databases. */
    postgresUrl: string;
  }
}

export const TEMPLATE = 'ovation_test_template';

/**
 * One PostgreSQL for the run: TEST_DATABASE_URL or DATABASE_URL when set, else an embedded throwaway
 * cluster. A template database is migrated once; each test file clones it.
 */
export default async function setup(project: TestProject) {
  const external = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;
  const cluster = external
    ? { url: external, stop: async () => {} }
    : await startEmbeddedPostgres({ dataDir: await fs.mkdtemp(path.join(os.tmpdir(), 'ovation-test-')), ephemeral: true });
  const admin = new pg.Client({ connectionString: cluster.url });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${TEMPLATE}`);
  await admin.end();
  await applyMigrations(withDatabase(cluster.url, TEMPLATE));
  project.provide('postgresUrl', cluster.url);
  return async () => {
    await cluster.stop();
  };
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
