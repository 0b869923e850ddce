// Generates the Prisma client and Pothos types (run by `npm install`).
// `prisma generate` never runs the schema engine, but the CLI insists that its binary exists and would
// otherwise try to download it; pointing it at any existing file (node itself) keeps generate offline.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';

const prismaCli = createRequire(import.meta.url).resolve('prisma/build/index.js');
execFileSync(process.execPath, [prismaCli, 'generate'], {
  stdio: 'inherit',
  env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath },
});
