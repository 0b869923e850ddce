// Shared by the benchmarks: a production-mode server in its own process over an embedded PostgreSQL,
// a way to fill wallets through the real purchase path, and how this build is driven (its server's
// environment, its tokens and GraphQL documents, its room's figures), which bench/ab-build.ts also
// answers to the A/B benches.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { encodeGlobalID } from '@pothos/plugin-relay';
import type autocannon from 'autocannon';
import pg from 'pg';
import type { Commit, GiftRequest, GiftSending, RoomStatus, ViewerSubscription } from './ab.js';
import { createPrismaClient, type Database } from '../src/db/client.js';
import { freePort, startEmbeddedPostgres } from '../src/db/embedded.js';
import { applyMigrations } from '../src/db/migrate.js';
import { auditLedger } from '../src/domain/audit.js';
import { createBrand } from '../src/domain/brands/brands.js';
import { recordInvoicePayment } from '../src/domain/brands/budgets.js';
import { changeCampaign, createMatchingCampaign } from '../src/domain/brands/campaigns.js';
import { createBundle } from '../src/domain/bundles.js';
import { createGift } from '../src/domain/catalog.js';
import { startLiveSession } from '../src/domain/live-sessions.js';
import { createSandboxProvider, SANDBOX_METHODS } from '../src/domain/payments/sandbox.js';
import { DEFAULT_POLICY } from '../src/domain/policy.js';
import { purchaseCoins } from '../src/domain/purchases.js';
import { createAuth } from '../src/edge/auth.js';
import { silentAnnouncer } from '../src/events/announcer.js';
import { RemainderRule, Role, type User } from '../src/generated/prisma/client.js';

export type BenchServer = { url: string; websocketUrl: string; databaseUrl: string; db: Database; pid: number; stop(): Promise<void> };

/**
 * Starts PostgreSQL (embedded, durable settings, as `npm start` runs it) and the built server
 * (`node dist/src/main.js`, NODE_ENV=production) in a child process. Run `npm run build` first.
 * With `commitTimestamps`, PostgreSQL records when each transaction committed (`pg_xact_commit_timestamp`).
 */
export async function startBenchServer({ commitTimestamps = false, trustedGifts = false, autovacuum = true } = {}): Promise<BenchServer> {
  const postgres = await startBenchPostgres({ commitTimestamps, autovacuum });
  await applyMigrations(postgres.url);
  const plan = await serverPlan(postgres.url);
  // With `trustedGifts`, the server trusts the gift mutation (giftSending's byId sends its id).
  const manifestDir = trustedGifts ? await fs.mkdtemp(path.join(os.tmpdir(), 'ovation-bench-documents-')) : undefined;
  if (manifestDir) {
    const manifest = path.join(manifestDir, 'persisted-documents.json');
    await fs.writeFile(manifest, JSON.stringify({ [SEND_GIFT_ID]: SEND_GIFT }));
    plan.env.TRUSTED_DOCUMENTS = manifest;
  }
  const server = await startServerProcess(plan, { profileDir: process.env.BENCH_SERVER_PROFILE });
  const db = createPrismaClient(postgres.url, 20);
  if (process.env.BENCH_PG_STATEMENTS) await db.$executeRaw`CREATE EXTENSION IF NOT EXISTS pg_stat_statements`;
  return {
    ...server,
    databaseUrl: postgres.url,
    db,
    async stop() {
      await server.stop();
      await db.$disconnect();
      await postgres.stop();
      if (manifestDir) await fs.rm(manifestDir, { recursive: true, force: true });
    },
  };
}

/** An embedded PostgreSQL in a directory of its own, removed when it stops. */
export async function startBenchPostgres({ commitTimestamps = false, autovacuum = true } = {}): Promise<{ url: string; stop(): Promise<void> }> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'ovation-bench-'));
  const postgres = await startEmbeddedPostgres({
    dataDir,
    settings: {
      // Statement statistics (printStatementTimes) cost PostgreSQL a little on every statement: only when asked.
      ...(process.env.BENCH_PG_STATEMENTS ? { shared_preload_libraries: 'pg_stat_statements', 'pg_stat_statements.track': 'all' } : {}),
      ...(commitTimestamps ? { track_commit_timestamp: 'on' } : {}),
      // Off where a bench vacuums itself (vacuumed) and counts it, rather than catch autovacuum's once-a-minute round by chance.
      ...(autovacuum ? {} : { autovacuum: 'off' }),
    },
  });
  return {
    url: postgres.url,
    async stop() {
      await postgres.stop();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** How to run a built server: `node <args>` in its checkout, with `env` over the bench's own environment. */
export type ServerPlan = { args: string[]; env: Record<string, string>; graphqlUrl: string; websocketUrl: string; readyUrl: string };

// This build's tokens: HS256, signed here with the secret serverPlan gives its server.
const JWT_SECRET = 'bench-secret-bench-secret-bench-secret';
const auth = createAuth(JWT_SECRET, 3600);

/**
 * Rate limits out of the way of a bench's load, which all comes from 127.0.0.1: with the defaults a
 * server refuses all but 30 viewers' connections a minute. Any server a bench starts gets them, under
 * its plan's own environment, so builds whose plans predate the limits are measured alike.
 */
const BENCH_LIMITS = {
  RATE_LIMIT_CONNECTIONS: '1000000/60',
  RATE_LIMIT_SUBSCRIPTIONS: '1000000/60',
  RATE_LIMIT_MUTATIONS: '1000000/60',
  ANONYMOUS_VIEWERS_PER_ADDRESS: '1000000',
};

/** This build's server over `databaseUrl` as production runs it, on a port of its own. */
export async function serverPlan(databaseUrl: string): Promise<ServerPlan> {
  const port = await freePort();
  return {
    args: ['dist/src/main.js'],
    env: {
      NODE_ENV: 'production',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: databaseUrl,
      DATABASE_POOL_SIZE: process.env.DATABASE_POOL_SIZE ?? '20',
      JWT_SECRET,
      PAYMENT_WEBHOOK_SECRET: 'bench-webhook-secret-0123456789',
      LOG_LEVEL: 'warn',
      SEED_DEMO_DATA: 'false',
    },
    graphqlUrl: `http://127.0.0.1:${port}/graphql`,
    websocketUrl: `ws://127.0.0.1:${port}/graphql`,
    readyUrl: `http://127.0.0.1:${port}/readyz`,
  };
}

/** The server `plan` describes, in a child process in `checkout` (this one unless given); with `profileDir`, CPU-profiled there. */
export async function startServerProcess(plan: ServerPlan, { checkout = '.', profileDir }: { checkout?: string; profileDir?: string } = {}) {
  const child = spawn(process.execPath, [...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : []), ...plan.args], {
    cwd: checkout,
    env: { ...process.env, ...BENCH_LIMITS, ...plan.env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  // A server that dies mid-run otherwise shows only as figures that cannot be read (its /proc entry gone).
  let stopping = false;
  child.once('exit', (code, signal) => stopping || console.error(`Server ${child.pid} (${checkout}) exited unexpectedly: ${signal ?? `code ${code}`}`));
  await waitForReady(plan.readyUrl, child);
  return {
    url: plan.graphqlUrl,
    websocketUrl: plan.websocketUrl,
    pid: child.pid!,
    async stop() {
      stopping = true;
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

/**
 * With BENCH_PG_STATEMENTS=1, where PostgreSQL's time and WAL went between `start()` and the printing:
 * the statements by total execution time (nested ones too, such as foreign-key checks), with calls, rows,
 * WAL records, full-page images and WAL bytes; and, per `per` (a gift, say), the WAL written by table and
 * index (pg_walinspect's block references) and the WAL records by kind. Otherwise nothing.
 */
export function statementTimes(db: Database) {
  const enabled = Boolean(process.env.BENCH_PG_STATEMENTS);
  let from: string | undefined;
  return {
    start: async () => {
      if (!enabled) return;
      await db.$executeRaw`CREATE EXTENSION IF NOT EXISTS pg_walinspect`;
      await db.$queryRaw`SELECT pg_stat_statements_reset()`;
      from = (await db.$queryRaw<{ lsn: string }[]>`SELECT pg_current_wal_insert_lsn()::text AS lsn`)[0]!.lsn;
    },
    print: async ({ top = 12, per }: { top?: number; per?: { name: string; count: number } } = {}) => {
      if (!enabled) return;
      const to = (await db.$queryRaw<{ lsn: string }[]>`SELECT pg_current_wal_insert_lsn()::text AS lsn`)[0]!.lsn;
      const rows = await db.$queryRaw<{ calls: bigint; rows: bigint; ms: number; wal: bigint; fpi: bigint; walBytes: number; query: string }[]>`
        SELECT calls, rows, total_exec_time AS ms, wal_records AS wal, wal_fpi AS fpi, wal_bytes::float8 AS "walBytes",
          -- PostgreSQL 18 files every foreign-key check under the first one's text (they all alias their table "x").
          CASE WHEN query LIKE 'SELECT 1 FROM ONLY %FOR KEY SHARE OF x' THEN '(foreign-key checks, every table)'
               ELSE left(regexp_replace(query, '[[:space:]]+', ' ', 'g'), 110) END AS query
        FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%' AND query NOT LIKE '%pg_walinspect%' AND query NOT LIKE '%wal_insert_lsn%'
        ORDER BY total_exec_time DESC LIMIT ${top}`;
      console.log('PostgreSQL statements (BENCH_PG_STATEMENTS), by execution time:');
      const perEach = per && per.count > 0 ? per : undefined;
      console.log(
        `${'ms'.padStart(8)} ${perEach ? `µs/${perEach.name}`.padStart(9) + ' ' : ''}${'calls'.padStart(8)} ${'rows'.padStart(8)} ${'WAL recs'.padStart(9)} ${'full pages'.padStart(10)} ${'WAL MB'.padStart(7)}  statement`,
      );
      for (const row of rows) {
        console.log(
          `${row.ms.toFixed(0).padStart(8)} ${perEach ? ((row.ms * 1000) / perEach.count).toFixed(1).padStart(9) + ' ' : ''}${String(row.calls).padStart(8)} ${String(row.rows).padStart(8)} ${String(row.wal).padStart(9)} ${String(row.fpi).padStart(10)} ${(row.walBytes / 2 ** 20).toFixed(1).padStart(7)}  ${row.query}`,
        );
      }
      if (!per || per.count === 0 || !from) return;
      // Each block a WAL record touches, by the table or index it belongs to: the record's data for that
      // block and any full-page image. A record's own header and main data are in the totals, not here.
      const byRelation = await db.$queryRaw<{ relation: string; records: bigint; bytes: number; fpi: bigint }[]>`
        SELECT coalesce(pg_filenode_relation(CASE WHEN b.reltablespace = d.dattablespace THEN 0 ELSE b.reltablespace END, b.relfilenode)::regclass::text,
                        'filenode ' || b.relfilenode) AS relation,
          count(DISTINCT b.start_lsn) AS records, sum(b.block_data_length + coalesce(b.block_fpi_length, 0))::float8 AS bytes,
          count(*) FILTER (WHERE b.block_fpi_length > 0) AS fpi
        FROM pg_get_wal_block_info(${from}::pg_lsn, ${to}::pg_lsn) b
        JOIN pg_database d ON d.datname = current_database()
        WHERE b.reldatabase = d.oid OR b.reldatabase = 0
        GROUP BY 1 ORDER BY bytes DESC`;
      const byKind = await db.$queryRaw<{ kind: string; records: bigint; bytes: number }[]>`
        SELECT "resource_manager/record_type" AS kind, count AS records, combined_size::float8 AS bytes
        FROM pg_get_wal_stats(${from}::pg_lsn, ${to}::pg_lsn, true) WHERE count > 0 ORDER BY combined_size DESC LIMIT ${top}`;
      const [total] = await db.$queryRaw<{ bytes: number }[]>`SELECT pg_wal_lsn_diff(${to}::pg_lsn, ${from}::pg_lsn)::float8 AS bytes`;
      const each = (value: number | bigint) => (Number(value) / per.count).toFixed(2).padStart(9);
      console.log(`\nWAL per ${per.name} (${per.count} ${per.name}s): ${each(total!.bytes).trim()} bytes in all`);
      console.log(`${'records'.padStart(9)} ${'bytes'.padStart(9)} ${'full pg'.padStart(9)}  table or index (block data and images)`);
      for (const row of byRelation) console.log(`${each(row.records)} ${each(row.bytes)} ${each(row.fpi)}  ${row.relation}`);
      console.log(`${'records'.padStart(9)} ${'bytes'.padStart(9)}  record kind (whole records)`);
      for (const row of byKind) console.log(`${each(row.records)} ${each(row.bytes)}  ${row.kind}`);
    },
  };
}

async function waitForReady(url: string, child: ChildProcess) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`Server exited with code ${child.exitCode}`);
    const ok = await fetch(url).then((response) => response.ok, () => false);
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error('Server did not become ready');
}

/** A creator live in a session, and a Rose (1 coin) to send there; the ids as the API spells them. */
export async function openRoom(db: Database, title: string) {
  const creator = await db.user.create({
    data: { handle: 'bench_creator', displayName: 'Bench Creator', birthDate: new Date('1990-01-01'), country: 'US', roles: [Role.VIEWER, Role.CREATOR] },
  });
  const session = await startLiveSession(db, DEFAULT_POLICY, creator.id, { title });
  const rose = await createGift(db, { name: 'Rose', coins: 1n, imageUrl: 'https://cdn.example/rose.png' });
  return { session, liveSessionId: encodeGlobalID('LiveSession', session.id), giftId: encodeGlobalID('Gift', rose.id) };
}

/**
 * A brand's active matching campaign on the room's creator, 1:1 with no caps, whose budget outlasts any
 * run (`budgetCoins`): so every measured gift is matched, in its own transaction (bench:gifts with
 * MATCHING=1, bench:gifts-ab with MATCHING=A or B).
 */
export async function openCampaign(db: Database, room: { session: { creatorId: string } }, budgetCoins = 10n ** 9n): Promise<void> {
  const owner = await db.user.create({ data: { handle: 'bench_brand_owner', displayName: 'Bench Brand', birthDate: new Date('1990-01-01'), country: 'US' } });
  const brand = await createBrand(db, { name: 'Bench Brand', ownerId: owner.id });
  await recordInvoicePayment(db, owner.id, { brandId: brand.id, coins: budgetCoins, amountMinor: 1n, currency: 'USD', invoiceReference: 'bench', idempotencyKey: 'bench-brand-funding' });
  const caller = { viewer: { userId: owner.id, roles: owner.roles } };
  const campaign = await createMatchingCampaign(db, caller, {
    brandId: brand.id, name: 'Bench match', creatorId: room.session.creatorId, ratioPercent: 100, budgetCoins,
    startsAt: new Date(Date.now() - 1000), endsAt: new Date(Date.now() + 86_400_000), remainderRule: RemainderRule.RETURN_TO_BRAND,
  });
  await changeCampaign(db, silentAnnouncer, caller, 'activate', { campaignId: campaign.id });
}

/** Gifts the room's campaigns matched. */
export const matchesIn = (db: Database, liveSessionId: string) => db.giftMatch.count({ where: { liveSessionId } });

/** `count` adults named `<prefix>_<n>`, each with 7,000 coins bought through the real purchase path. */
export async function fundedUsers(db: Database, count: number, prefix: string): Promise<User[]> {
  const bundle = await createBundle(db, { name: `7,000 coins (${prefix})`, coins: 7000n, prices: [{ region: 'DEFAULT', amountMinor: 9999n, currency: 'USD' }] });
  await db.user.createMany({
    data: Array.from({ length: count }, (_, i) => ({ handle: `${prefix}_${i}`, displayName: `${prefix} ${i}`, birthDate: new Date('1990-01-01'), country: 'US' })),
  });
  const users = await db.user.findMany({ where: { handle: { startsWith: `${prefix}_` } }, orderBy: { handle: 'asc' } });
  const sandbox = createSandboxProvider('unused');
  await inParallel(users, 16, (user) =>
    purchaseCoins(db, silentAnnouncer, DEFAULT_POLICY, sandbox, user.id, { bundleId: bundle.id, paymentMethod: SANDBOX_METHODS.succeeds, idempotencyKey: `bench-fund-${user.id}` }),
  );
  return users;
}

const SEND_GIFT = `mutation SendGift($input: SendGiftInput!) { sendGift(input: $input) { __typename ... on SentGift { id coins } ... on Error { code } } }`;
/** SEND_GIFT's trusted-document id: "sha256:" and the hex SHA-256 of its text. */
const SEND_GIFT_ID = `sha256:${createHash('sha256').update(SEND_GIFT).digest('hex')}`;

const headersOf = async (user: User) => ({ authorization: `Bearer ${await auth.issueToken({ userId: user.id })}` });

/**
 * Roses into `room` from `senders` in turn, each request with an idempotency key of its own; with `byId`,
 * the mutation goes by its trusted-document id (to a server started with `trustedGifts`).
 */
export async function giftSending(room: { liveSessionId: string; giftId: string }, senders: User[], { byId = false } = {}): Promise<GiftSending> {
  return {
    query: SEND_GIFT,
    ...(byId ? { documentId: SEND_GIFT_ID } : {}),
    variables: { input: { liveSessionId: room.liveSessionId, giftId: room.giftId, quantity: 1, idempotencyKey: '{{request}}' } },
    senders: await Promise.all(senders.map(headersOf)),
    sent: '"__typename":"SentGift"',
  };
}

/**
 * A Castle (1,000 coins) each from `count` top gifters, to send before the measured Roses: they settle
 * the room's top three, so that each Rose (which never overtakes them) fans out one GiftSentEvent. Without
 * them, round-robin senders tie and reshuffle the top three on about half the gifts, and each reshuffle is
 * one more LeaderboardChangedEvent to every viewer.
 */
export async function topGifts(db: Database, room: { liveSessionId: string }, count: number): Promise<GiftRequest[]> {
  if (count === 0) return [];
  const castle = await createGift(db, { name: 'Castle', coins: 1000n, imageUrl: 'https://cdn.example/castle.png' });
  const gifters = await fundedUsers(db, count, 'bench_whale');
  return Promise.all(
    gifters.map(async (gifter) => ({
      headers: await headersOf(gifter),
      variables: { input: { liveSessionId: room.liveSessionId, giftId: encodeGlobalID('Gift', castle.id), quantity: 1, idempotencyKey: `whale-${gifter.id}` } },
    })),
  );
}

/** A gift request's body: `query` (or `documentId`) and `variables`, each "{{request}}" in them replaced by `request`. */
const giftBody = ({ query, documentId }: GiftSending, variables: unknown, request = '') =>
  JSON.stringify({ ...(documentId ? { documentId } : { query }), variables }).replaceAll('{{request}}', request);

/** What became of a gift: 'sent', or why not (the response's first "code", else its HTTP status). */
const giftOutcome = (sending: GiftSending, status: number, body: string) =>
  status === 200 && body.includes(sending.sent) ? 'sent' : (/"code":"([A-Z_]+)"/.exec(body)?.[1] ?? `HTTP ${status}`);

/**
 * autocannon requests that each send one gift as `sending` says, from its senders in turn, the n-th
 * request named `<prefix>-<n>`; `onOutcome` hears 'sent' or why not.
 */
export function sendGiftRequests(sending: GiftSending, prefix: string, onOutcome: (outcome: string) => void): autocannon.Request[] {
  let sequence = 0;
  return [
    {
      setupRequest: (request: autocannon.Request) => {
        const i = sequence++;
        return { ...request, headers: { ...request.headers, ...sending.senders[i % sending.senders.length] }, body: giftBody(sending, sending.variables, `${prefix}-${i}`) };
      },
      onResponse: (status: number, body: string) => onOutcome(giftOutcome(sending, status, body)),
    },
  ];
}

/** One gift over HTTP, `request` naming it; resolves to 'sent' or why not. */
export async function postGift(url: string, sending: GiftSending, { headers, variables }: GiftRequest, request?: string): Promise<string> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: giftBody(sending, variables, request) });
  return giftOutcome(sending, response.status, await response.text());
}

/** The fan-out viewers' subscription (as ViewerSubscription asks): the room's gifts, each with its sequence and sentAt. */
export const viewerSubscription = (liveSessionId: string): ViewerSubscription => ({
  query: 'subscription Fanout($id: ID!) { liveSessionEvents(liveSessionId: $id) { __typename ... on GiftSentEvent { sequence sentAt } } }',
  variables: { id: liveSessionId },
});

/**
 * The room's listening subscriptions as its servers write them (every second, once a viewer's
 * subscription is listening): its accounts, and every anonymous subscription however many come from one
 * address (the bench's viewers all come from 127.0.0.1); and its last sequence.
 */
export async function roomStatus(db: Database, liveSessionId: string): Promise<RoomStatus> {
  const [row] = await db.$queryRaw<{ viewers: number }[]>`
    SELECT coalesce(sum(cardinality(accounts) + (SELECT coalesce(sum(n), 0) FROM unnest("addressSubscriptions") n)), 0)::int AS viewers
    FROM "RoomPresence" WHERE "liveSessionId" = ${liveSessionId}::uuid`;
  const { lastSequence } = await db.liveSession.findUniqueOrThrow({ where: { id: liveSessionId } });
  return { viewers: row?.viewers ?? 0, lastSequence };
}

/**
 * When each of the room's gifts after sequence `after` committed, after its sentAt (the gift transaction's
 * start, which its event carries): from PostgreSQL's commit timestamps (track_commit_timestamp).
 */
export async function commitsAfter(db: Database, liveSessionId: string, after: number): Promise<Commit[]> {
  const rows = await db.$queryRaw<{ sequence: number; afterSentAtMs: number | null }[]>`
    SELECT e.sequence, (extract(epoch FROM pg_xact_commit_timestamp(e.xmin)) - extract(epoch FROM g."createdAt")) * 1000 AS "afterSentAtMs"
    FROM "RoomEvent" e JOIN "SentGift" g ON g.id = e."sentGiftId"
    WHERE e."liveSessionId" = ${liveSessionId}::uuid AND e.sequence > ${after}`;
  return rows.map((row) => [row.sequence, Number(row.afterSentAtMs)]);
}

/** Runs `work` over `items` with at most `limit` at once. */
export async function inParallel<T>(items: T[], limit: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

/** The ledger audit's violations, one line each. */
export const ledgerViolations = async (db: Database) => (await auditLedger(db)).map((violation) => `${violation.invariant}: ${violation.detail}`);

/** Runs the ledger audit and prints its verdict; returns whether it is clean. */
export const printAudit = async (db: Database) => printVerdict(await ledgerViolations(db));

/** Prints a ledger audit's verdict, after `label`; returns whether it is clean. */
export function printVerdict(violations: string[], label = ''): boolean {
  console.log(`${label}${violations.length === 0 ? 'Ledger audit: clean' : `Ledger audit: ${violations.length} violations`}`);
  for (const violation of violations.slice(0, 20)) console.log(`  ${violation}`);
  return violations.length === 0;
}

export const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

/** VmRSS and VmHWM (peak RSS since the process started) of a process, in kB. */
export function memoryOf(pid: number) {
  const status = fsSync.readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rss: field('VmRSS'), peak: field('VmHWM') };
}

/** CPU seconds a process has used, in user space and in the kernel (socket writes are syscalls). */
export function cpuSecondsOf(pid: number) {
  const { user, system } = procStat(pid);
  return { user, system };
}

/** Write system calls (write and writev) a process has made, from /proc/<pid>/io: each socket write is one. */
export function writeCallsOf(pid: number): number {
  return Number(/syscw:\s+(\d+)/.exec(fsSync.readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? 0);
}

/** A process's name and CPU seconds from /proc/<pid>/stat: its own, and its exited children's. */
function procStat(pid: number | string) {
  const stat = fsSync.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from the 3rd (state) on
  const seconds = (index: number) => Number(fields[index]) / 100; // USER_HZ is 100 on Linux
  return { name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), user: seconds(11), system: seconds(12), children: seconds(13) + seconds(14) };
}

/** Busy and total jiffies of the whole machine: others' work shows here, so the figures can be read with it. */
export function machineJiffies() {
  const [, ...times] = fsSync.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  const values = times.map(Number);
  const idle = values[3]! + values[4]!;
  const total = values.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/**
 * CPU seconds used by every PostgreSQL process on the machine (the embedded server's backends), counting
 * backends that have exited: their time moves into the postmaster's children's time, so the total only
 * grows and a difference over a run is what PostgreSQL spent in it.
 */
export function postgresCpuSeconds(): number {
  return Object.values(postgresCpuByProcess()).reduce((sum, seconds) => sum + seconds, 0);
}

/** Runs VACUUM on the database at `url`; resolves to PostgreSQL's CPU seconds meanwhile. */
export async function vacuumed(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const before = postgresCpuSeconds();
    await client.query('VACUUM');
    return postgresCpuSeconds() - before;
  } finally {
    await client.end();
  }
}

/**
 * postgresCpuSeconds by kind of process, from each one's title: the backends that run statements, and
 * the work behind them (autovacuum, the WAL writer, the checkpointer, I/O workers). A process that ended
 * (an autovacuum worker, mostly) is counted in the postmaster's children's time, as "ended processes".
 */
export function postgresCpuByProcess(): Record<string, number> {
  const seconds: Record<string, number> = {};
  const add = (kind: string, value: number) => (seconds[kind] = (seconds[kind] ?? 0) + value);
  for (const pid of fsSync.readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const { name, user, system, children } = procStat(pid);
      if (name !== 'postgres') continue;
      const title = fsSync.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      if (!title.startsWith('postgres: ')) {
        add('postmaster', user + system);
        add('ended processes', children);
      } else {
        add(postgresProcessKind(title.slice('postgres: '.length)), user + system + children);
      }
    } catch {
      // The process ended while we looked.
    }
  }
  return seconds;
}

function postgresProcessKind(title: string): string {
  if (/\d+\.\d+\.\d+\.\d+\(\d+\)|\[local\]/.test(title)) return 'backends';
  for (const kind of ['autovacuum', 'walwriter', 'checkpointer', 'background writer', 'io worker']) if (title.startsWith(kind)) return kind;
  return 'other';
}

/**
 * How the fan-out benches open `total` viewers: steps of `step`, each split between the busy load process
 * and the probes' process, so that the probes end up spread through the server's delivery order.
 */
export function openingSteps(total: number, probes: number, step = 500): { others: number; probes: number }[] {
  const steps = Math.ceil(total / step);
  return Array.from({ length: steps }, (_, i) => {
    const probesNow = Math.floor(((i + 1) * probes) / steps) - Math.floor((i * probes) / steps);
    return { others: Math.min(step, total - i * step) - probesNow, probes: probesNow };
  });
}
