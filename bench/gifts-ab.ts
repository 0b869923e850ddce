// npm run bench:gifts-ab -- <other checkout>: sendGift throughput of this checkout (A) and another,
// already built one (B), measured in turns on one PostgreSQL cluster. This machine's speed drifts by the
// minute (the same build measured 1,100 to 1,800 gifts/s within an hour), so two bench:gifts runs
// compare the machine's moments as much as the builds; short alternating rounds (A B, B A, ...) see the
// same drift and their ratio does not. Each build gets a database of its own, migrated by its own
// migrations and filled with this checkout's code (so for changes that keep the schema's tables), and
// its own server process. Prints each round, the medians and the median of the per-round ratios B/A,
// then audits both ledgers. ROUNDS (8) of SECONDS (5) each; SENDERS, CONNECTIONS as bench:gifts.
import path from 'node:path';
import autocannon from 'autocannon';
import { createPrismaClient } from '../src/db/client.js';
import { applyMigrations } from '../src/db/migrate.js';
import { auth, cpuSecondsOf, fundedUsers, openRoom, printAudit, sendGiftRequests, startBenchPostgres, startServerProcess } from './support.js';

const other = process.argv[2];
if (!other) {
  console.error('usage: npm run bench:gifts-ab -- <path of another checkout, built with npm run build>');
  process.exit(2);
}
const ROUNDS = Number(process.env.ROUNDS ?? 8);
const SECONDS = Number(process.env.SECONDS ?? 5);
const SENDERS = Number(process.env.SENDERS ?? 1000);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 64);

const postgres = await startBenchPostgres();
const admin = createPrismaClient(postgres.url, 1);
const builds: Awaited<ReturnType<typeof openBuild>>[] = [];
try {
  for (const [name, checkout] of [['A', '.'], ['B', path.resolve(other)]] as const) builds.push(await openBuild(name, checkout));
  for (const build of builds) await run(build, 3);

  const rounds: Record<string, { rate: number; p99: number; cpuUs: number }[]> = { A: [], B: [] };
  for (let round = 1; round <= ROUNDS; round++) {
    for (const build of round % 2 ? builds : [...builds].reverse()) {
      const before = cpuSecondsOf(build.pid);
      const result = await run(build, SECONDS);
      const after = cpuSecondsOf(build.pid);
      const cpuUs = ((after.user + after.system - before.user - before.system) / result.requests.total) * 1e6;
      rounds[build.name]!.push({ rate: result.requests.average, p99: result.latency.p99, cpuUs });
      console.log(`round ${round} ${build.name}: ${result.requests.average.toFixed(0)} gifts/s  p99 ${result.latency.p99} ms  server ${cpuUs.toFixed(0)} µs/gift`);
    }
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  console.log('');
  for (const build of builds) {
    const measured = rounds[build.name]!;
    const refused = [...build.outcomes].filter(([outcome]) => outcome !== 'SentGift');
    console.log(
      `${build.name} (${build.checkout}): median ${median(measured.map((r) => r.rate)).toFixed(0)} gifts/s, p99 ${median(measured.map((r) => r.p99))} ms, server ${median(measured.map((r) => r.cpuUs)).toFixed(0)} µs/gift, refusals ${JSON.stringify(Object.fromEntries(refused))}`,
    );
  }
  const ratios = rounds.A!.map((a, index) => rounds.B![index]!.rate / a.rate);
  console.log(`B/A by round         : ${ratios.map((ratio) => ratio.toFixed(2)).join(' ')}; median ${median(ratios).toFixed(2)}`);
  let clean = true;
  for (const build of builds) {
    process.stdout.write(`${build.name}: `);
    clean = (await printAudit(build.db)) && clean;
  }
  process.exitCode = clean ? 0 : 1;
} finally {
  for (const build of builds) {
    await build.stop();
    await build.db.$disconnect();
  }
  await admin.$disconnect();
  await postgres.stop();
}

/** A database of the build's own, a room and funded senders in it, and the build's server over it. */
async function openBuild(name: string, checkout: string) {
  console.log(`Setting up ${name} (${checkout}): ${SENDERS} senders with coins, one creator live...`);
  const url = new URL(postgres.url);
  url.pathname = `/ab_${name.toLowerCase()}`;
  await admin.$executeRawUnsafe(`CREATE DATABASE ab_${name.toLowerCase()}`);
  await applyMigrations(url.href, path.join(checkout, 'prisma', 'migrations'));
  const db = createPrismaClient(url.href, 10);
  const room = await openRoom(db, `A/B ${name}`);
  const senders = await fundedUsers(db, SENDERS, 'bench_sender');
  const tokens = await Promise.all(senders.map((sender) => auth.issueToken({ userId: sender.id, roles: sender.roles })));
  const server = await startServerProcess(url.href, { checkout });
  const outcomes = new Map<string, number>();
  const requests = sendGiftRequests(room, tokens, (outcome) => outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1));
  return { name, checkout, db, outcomes, requests, ...server };
}

function run(build: (typeof builds)[number], seconds: number) {
  return new Promise<autocannon.Result>((resolve, reject) =>
    autocannon(
      { url: build.url, connections: CONNECTIONS, duration: seconds, method: 'POST', headers: { 'content-type': 'application/json' }, requests: build.requests },
      (error, result) => (error ? reject(error) : resolve(result)),
    ),
  );
}

process.exit(process.exitCode ?? 0);
