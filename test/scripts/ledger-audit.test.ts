import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { runLedgerAudit } from '../../scripts/ledger-audit.js';
import { createPrismaClient } from '../../src/db/client.js';
import { startEmbeddedPostgres } from '../../src/db/embedded.js';
import { applyMigrations } from '../../src/db/migrate.js';
import { createTestDatabase } from '../support/database.js';
import { createFundedViewer, expectCleanAudit } from '../support/money.js';

const SCRIPT = fileURLToPath(new URL('../../scripts/ledger-audit.ts', import.meta.url));

/** runLedgerAudit with its output captured. */
async function audit(env: NodeJS.ProcessEnv) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runLedgerAudit(env, { out: (line) => out.push(line), err: (line) => err.push(line) });
  return { code, out, err: err.join('\n') };
}

/** `npm run ledger:audit`, without npm in between. */
function ledgerAuditCli(env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', SCRIPT], { env: { ...process.env, ...env } }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('npm run ledger:audit against DATABASE_URL', () => {
  test('prints "clean" and exits 0 when every invariant holds', async () => {
    const { url, db } = await createTestDatabase();
    await createFundedViewer(db, 70n);
    await expectCleanAudit(db);
    expect(await audit({ DATABASE_URL: url })).toEqual({ code: 0, out: ['clean'], err: '' });
  });

  test('prints each violation and exits 1 when the ledger is broken', async () => {
    const { url, db } = await createTestDatabase();
    const viewer = await createFundedViewer(db, 70n);
    // A balance changed behind the ledger's back: no posting explains it.
    await db.$executeRaw`UPDATE "Account" SET balance = balance + 5 WHERE "userId" = ${viewer.id}::uuid`;

    const result = await audit({ DATABASE_URL: url });
    expect(result.code).toBe(1);
    expect(result.out.filter((line) => line.startsWith('VIOLATION')).map((line) => line.split(':')[0])).toEqual([
      "VIOLATION Each account's balance equals the sum of its postings",
      'VIOLATION Coins outstanding = coins in wallets + brand and campaign budgets - debts',
    ]);
    expect(result.out.at(-1)).toBe('2 violations found');

    // The script itself, as npm runs it: the same report, and the exit code a scheduler can alert on.
    const cli = await ledgerAuditCli({ DATABASE_URL: url });
    expect(cli.code).toBe(1);
    expect(cli.stdout.trim().split('\n')).toEqual(result.out);
  });

  test('a database it cannot read is exit 2 with the reason, the password left out', async () => {
    const { url } = await createTestDatabase();
    const wrong = new URL(url);
    wrong.pathname = '/no_such_database';
    const result = await audit({ DATABASE_URL: wrong.toString() });
    expect(result.code).toBe(2);
    expect(result.out).toEqual([]);
    expect(result.err).toMatch(/^The audit could not run against postgres(ql)?:\/\//);
    expect(result.err).toContain(`${wrong.username}:***@`);
    if (wrong.password) expect(result.err).not.toContain(`:${wrong.password}@`);
  });
});

describe('npm run ledger:audit against the embedded cluster in OVATION_DATA_DIR', () => {
  const dataDirs: string[] = [];
  afterAll(() => Promise.all(dataDirs.map((dir) => fs.rm(dir, { recursive: true, force: true }))));
  const tempDir = async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ovation-audit-'));
    dataDirs.push(dir);
    // PostgreSQL refuses to run as root; under root it runs as `postgres`, which must reach the directory.
    await fs.chmod(dir, 0o755);
    return dir;
  };

  test('a data directory without a database is exit 2, and none is created there', async () => {
    const dataDir = await tempDir();
    const result = await audit({ OVATION_DATA_DIR: dataDir });
    expect(result).toMatchObject({ code: 2, out: [] });
    expect(result.err).toContain(`No Ovation database in ${path.join(dataDir, 'postgres')}`);
    expect(await fs.readdir(dataDir)).toEqual([]);
  });

  test('refuses, saying why, while a server holds the data directory; audits it once the server is stopped', async () => {
    const dataDir = await tempDir();
    // What the server does on start: the embedded cluster in <data dir>/postgres, migrated, in use.
    const running = await startEmbeddedPostgres({ dataDir: path.join(dataDir, 'postgres') });
    try {
      await applyMigrations(running.url);
      const db = createPrismaClient(running.url, 2);
      try {
        await createFundedViewer(db, 70n);
      } finally {
        await db.$disconnect();
      }

      const refused = await audit({ OVATION_DATA_DIR: dataDir });
      expect(refused).toMatchObject({ code: 2, out: [] });
      expect(refused.err).toContain('the data directory is in use');
      expect(refused.err).toContain('Is the Ovation server running on it? Stop the server first');
    } finally {
      await running.stop();
    }

    expect(await audit({ OVATION_DATA_DIR: dataDir })).toEqual({ code: 0, out: ['clean'], err: '' });
    // It stopped the cluster it started: the server can have the directory back.
    await expect(fs.access(path.join(dataDir, 'postgres', 'postmaster.pid'))).rejects.toThrow();
  });
});
