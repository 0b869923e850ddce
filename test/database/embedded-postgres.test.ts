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
