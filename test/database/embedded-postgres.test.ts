import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded.js';

// `npm start` twice on one machine, or `npm start` while `npm run dev` runs, meet on one embedded data
// directory. The second must say so and leave the first alone (the package it starts PostgreSQL with
// rejected with nothing, and Node printed "undefined").

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

let dataRoot: string;
let first: EmbeddedDatabase;
beforeAll(async () => {
  dataRoot = await fs.mkdtemp(path.join(os.tmpdir(), 'ovation-embedded-'));
  first = await startEmbeddedPostgres({ dataDir: path.join(dataRoot, 'postgres'), ephemeral: true });
});
afterAll(async () => {
  await first.stop();
  await fs.rm(dataRoot, { recursive: true, force: true });
});

describe('an embedded data directory already in use', () => {
  test("is refused with PostgreSQL's own reason, and the PostgreSQL using it keeps running", async () => {
    const refusal = await startEmbeddedPostgres({ dataDir: path.join(dataRoot, 'postgres'), ephemeral: true }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refusal).toBeInstanceOf(Error);
    const pid = (await fs.readFile(path.join(dataRoot, 'postgres', 'postmaster.pid'), 'utf8')).split('\n')[0];
    expect((refusal as Error).message).toMatch(new RegExp(`did not start in .*postgres\\. PostgreSQL ${pid} is using it[\\s\\S]*\`kill ${pid}\`[\\s\\S]*lock file "postmaster.pid" already exists`));

    const client = new pg.Client({ connectionString: first.url });
    await client.connect();
    expect((await client.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    await client.end();
  });

  test('stops the server from starting: it logs why and exits 1', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, OVATION_DATA_DIR: dataRoot, PORT: '0', NODE_ENV: 'development', LOG_LEVEL: 'info' };
    delete env.DATABASE_URL;
    const { code, stdout } = await new Promise<{ code: number; stdout: string }>((resolve) =>
      execFile(process.execPath, ['--import', 'tsx', MAIN], { env }, (error, out) => resolve({ code: error ? Number(error.code) : 0, stdout: out })),
    );
    expect(code).toBe(1);
    const refusal = stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { msg: string; err?: { message: string } }).find((line) => line.err);
    expect(refusal?.msg).toBe('Ovation could not start');
    expect(refusal?.err?.message).toMatch(/OVATION_DATA_DIR[\s\S]*lock file "postmaster.pid" already exists/);
  });
});

describe('a process that runs an embedded PostgreSQL', () => {
  // A failed `vitest run` sets process.exitCode and ends when its work is done; CI reads that code.
  test('ends with the exit code it set, not 0', async () => {
    const dataDir = path.join(dataRoot, 'exit-code');
    const script = `
      const { startEmbeddedPostgres } = await import(${JSON.stringify(new URL('../../src/db/embedded.ts', import.meta.url).href)});
      const cluster = await startEmbeddedPostgres({ dataDir: ${JSON.stringify(dataDir)}, ephemeral: true });
      await cluster.stop();
      process.exitCode = 3;
    `;
    const code = await new Promise<number>((resolve) =>
      execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '--eval', script], (error) => resolve(error ? Number(error.code) : 0)),
    );
    expect(code).toBe(3);
  });
});

describe("an embedded cluster's password", () => {
  const connects = async (url: string, password: string) => {
    const withPassword = new URL(url);
    withPassword.password = password;
    const client = new pg.Client({ connectionString: withPassword.href });
    return client.connect().then(
      async () => (await client.end(), true),
      () => false,
    );
  };
  const passwordOf = (url: string) => decodeURIComponent(new URL(url).password);
  // Kept clusters, as `npm start` runs them: a throwaway one is deleted when it stops.

  test('is its own, random, kept in its data directory readable by its owner only', async () => {
    const dataDir = path.join(dataRoot, 'own-password');
    const cluster = await startEmbeddedPostgres({ dataDir, ephemeral: false });
    try {
      const password = passwordOf(cluster.url);
      expect(password).toMatch(/^[\w-]{32}$/);
      expect(await connects(cluster.url, 'ovation')).toBe(false);
      const file = path.join(dataDir, 'ovation-password');
      expect(await fs.readFile(file, 'utf8')).toBe(password);
      expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
    } finally {
      await cluster.stop();
    }
    const again = await startEmbeddedPostgres({ dataDir, ephemeral: false });
    await again.stop();
    expect(passwordOf(again.url), 'the same password at the next start').toBe(await fs.readFile(path.join(dataDir, 'ovation-password'), 'utf8'));
  });

  test('a cluster made with the former published password gets its own at its next start', async () => {
    const dataDir = path.join(dataRoot, 'former-password');
    const before = await startEmbeddedPostgres({ dataDir, ephemeral: false });
    const client = new pg.Client({ connectionString: before.url });
    await client.connect();
    await client.query(`ALTER ROLE ovation PASSWORD 'ovation'`);
    await client.end();
    await before.stop();
    await fs.rm(path.join(dataDir, 'ovation-password'));

    const after = await startEmbeddedPostgres({ dataDir, ephemeral: false });
    try {
      expect(passwordOf(after.url)).not.toBe('ovation');
      expect(await connects(after.url, passwordOf(after.url))).toBe(true);
      expect(await connects(after.url, 'ovation')).toBe(false);
      expect(await fs.readFile(path.join(dataDir, 'ovation-password'), 'utf8')).toBe(passwordOf(after.url));
    } finally {
      await after.stop();
    }
  });
});
