// Checks every money invariant of docs/money.md against a database and prints each violation, or "clean".
// Usage: npm run ledger:audit
// Audits DATABASE_URL when set; else the embedded cluster in OVATION_DATA_DIR (default .ovation), which it
// starts and stops itself, so the server must not be running on that data directory at the same time.
// Exit code: 0 clean, 1 violations found, 2 the audit could not run.
import fs from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createPrismaClient } from '../src/db/client.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../src/db/embedded.js';
import { auditLedger } from '../src/domain/audit.js';

export type Output = { out: (line: string) => void; err: (line: string) => void };

const consoleOutput: Output = { out: (line) => console.log(line), err: (line) => console.error(line) };

export const EXIT = { clean: 0, violations: 1, failed: 2 } as const;

/** The whole of `npm run ledger:audit`: returns the exit code. */
export async function runLedgerAudit(env: NodeJS.ProcessEnv = process.env, { out, err }: Output = consoleOutput): Promise<number> {
  let url = env.DATABASE_URL || undefined;
  let embedded: EmbeddedDatabase | undefined;
  if (!url) {
    const dataDir = path.join(path.resolve(env.OVATION_DATA_DIR || '.ovation'), 'postgres');
    const started = await startExisting(dataDir, err);
    if (!started) return EXIT.failed;
    embedded = started;
    url = started.url;
  }
  const db = createPrismaClient(url, 2);
  try {
    const violations = await auditLedger(db);
    if (violations.length === 0) {
      out('clean');
      return EXIT.clean;
    }
    for (const { invariant, detail } of violations) out(`VIOLATION ${invariant}: ${detail}`);
    out(`${violations.length} violation${violations.length === 1 ? '' : 's'} found`);
    return EXIT.violations;
  } catch (error) {
    const message = (error as Error).message?.trim() || String(error);
    err(`The audit could not run against ${redacted(url)}: ${message}`);
    // 42P01 undefined_table: an empty database, or one the server has not migrated yet.
    if (message.includes('42P01')) err('Is this an Ovation database with its migrations applied? The server applies them when it starts.');
    return EXIT.failed;
  } finally {
    await db.$disconnect();
    await embedded?.stop();
  }
}

/** Starts the embedded cluster the server keeps its data in; never creates one, and says why when it can't. */
export async function startExisting(dataDir: string, err: Output['err']): Promise<EmbeddedDatabase | undefined> {
  const exists = (file: string) => fs.access(path.join(dataDir, file)).then(() => true, () => false);
  if (!(await exists('PG_VERSION'))) {
    err(`No Ovation database in ${dataDir}.\nSet DATABASE_URL to audit a database server, or OVATION_DATA_DIR to the server's data directory.`);
    return undefined;
  }
  const log: string[] = [];
  try {
    return await startEmbeddedPostgres({ dataDir, log: (message) => log.push(message.trim()) });
  } catch (error) {
    const inUse = log.some((line) => line.includes('postmaster.pid')) || (await exists('postmaster.pid'));
    const postgresSaid = log.filter((line) => /FATAL|ERROR|HINT/.test(line)).join('\n') || (error instanceof Error ? error.message : '');
    err(
      inUse
        ? `Could not start the embedded PostgreSQL in ${dataDir}: the data directory is in use.\n` +
            'Is the Ovation server running on it? Stop the server first (they cannot share the data directory), ' +
            "or run the audit against the server's database with DATABASE_URL."
        : `Could not start the embedded PostgreSQL in ${dataDir}.`,
    );
    if (postgresSaid) err(`PostgreSQL said: ${postgresSaid}`);
    return undefined;
  }
}

/** A database URL fit to print: without its password. */
function redacted(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'the database';
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  process.exit(await runLedgerAudit());
}
