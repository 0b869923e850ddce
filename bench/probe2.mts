import fs from 'node:fs/promises'; import os from 'node:os'; import path from 'node:path'; import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { startEmbeddedPostgres } from '../src/db/embedded.js';
import { applyMigrations } from '../src/db/migrate.js';
import { createPrismaClient } from '../src/db/client.js';
const db0 = await startEmbeddedPostgres({ dataDir: await fs.mkdtemp(path.join(os.tmpdir(), 'probe-')) });
await applyMigrations(db0.url);
const db = createPrismaClient(db0.url, 5);
const client = new pg.Client(db0.url); await client.connect();
const N = 90;
const acct = '00000000-0000-4000-8000-000000000002';
async function viaPrisma() {
  const ids = Array.from({ length: N }, () => randomUUID());
  const t = performance.now();
  await db.$transaction(async (tx) => {
    await tx.$executeRaw`INSERT INTO "JournalEntry" (id, kind, memo) SELECT * FROM unnest(${ids}::uuid[], ${ids.map(() => 'GIFT')}::"EntryKind"[], ${ids}::text[])`;
    const e = ids.flatMap((id) => [id, id, id, id]);
    await tx.$executeRaw`INSERT INTO "Posting" ("entryId", "accountId", asset, amount) SELECT * FROM unnest(${e}::uuid[], ${e.map(() => acct)}::uuid[], ${e.map(() => 'COIN')}::"Asset"[], ${e.map(() => '1')}::bigint[])`;
  });
  return performance.now() - t;
}
async function viaPg() {
  const ids = Array.from({ length: N }, () => randomUUID());
  const t = performance.now();
  await client.query('BEGIN');
  await client.query(`INSERT INTO "JournalEntry" (id, kind, memo) SELECT * FROM unnest($1::uuid[], $2::"EntryKind"[], $3::text[])`, [ids, ids.map(() => 'GIFT'), ids]);
  const e = ids.flatMap((id) => [id, id, id, id]);
  await client.query(`INSERT INTO "Posting" ("entryId", "accountId", asset, amount) SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::"Asset"[], $4::bigint[])`, [e, e.map(() => acct), e.map(() => 'COIN'), e.map(() => '1')]);
  await client.query('COMMIT');
  return performance.now() - t;
}
async function emptyTx() { const t = performance.now(); await db.$transaction(async (tx) => { await tx.$queryRaw`SELECT 1`; }); return performance.now() - t; }
async function emptyPg() { const t = performance.now(); await client.query('BEGIN'); await client.query('SELECT 1'); await client.query('COMMIT'); return performance.now() - t; }
async function tinyWrite() { const t = performance.now(); await client.query('BEGIN'); await client.query(`INSERT INTO "WebhookEvent" (provider, "eventId", type) VALUES ('x', $1, 'y')`, [randomUUID()]); await client.query('COMMIT'); return performance.now() - t; }
async function tinyWriteAsync() { const t = performance.now(); await client.query('BEGIN'); await client.query('SET LOCAL synchronous_commit = off'); await client.query(`INSERT INTO "WebhookEvent" (provider, "eventId", type) VALUES ('x', $1, 'y')`, [randomUUID()]); await client.query('COMMIT'); return performance.now() - t; }
async function viaPgNoSync() {
  const ids = Array.from({ length: N }, () => randomUUID());
  const t = performance.now();
  await client.query('BEGIN'); await client.query('SET LOCAL synchronous_commit = off');
  await client.query(`INSERT INTO "JournalEntry" (id, kind, memo) SELECT * FROM unnest($1::uuid[], $2::"EntryKind"[], $3::text[])`, [ids, ids.map(() => 'GIFT'), ids]);
  const e = ids.flatMap((id) => [id, id, id, id]);
  await client.query(`INSERT INTO "Posting" ("entryId", "accountId", asset, amount) SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::"Asset"[], $4::bigint[])`, [e, e.map(() => acct), e.map(() => 'COIN'), e.map(() => '1')]);
  await client.query('COMMIT');
  return performance.now() - t;
}
for (const [name, f] of [['tiny-write', tinyWrite], ['tiny-write-async', tinyWriteAsync], ['pg-nosync', viaPgNoSync], ['prisma', viaPrisma], ['pg', viaPg], ['prisma-empty', emptyTx], ['pg-empty', emptyPg]] as const) {
  for (let i = 0; i < 5; i++) await f();
  let total = 0; for (let i = 0; i < 30; i++) total += await f();
  console.log(name, (total / 30).toFixed(2), 'ms');
}
const cpu0 = process.cpuUsage(); for (let i = 0; i < 30; i++) await viaPrisma(); const c1 = process.cpuUsage(cpu0); console.log('prisma cpu per batch ms', ((c1.user + c1.system) / 1000 / 30).toFixed(2));
const cpu1 = process.cpuUsage(); for (let i = 0; i < 30; i++) await viaPg(); const c2 = process.cpuUsage(cpu1); console.log('pg cpu per batch ms', ((c2.user + c2.system) / 1000 / 30).toFixed(2));
await client.end(); await db.$disconnect(); await db0.stop();
