// npm run bench:gifts: gifts per second over HTTP GraphQL against the trivial-query ceiling.
// Targets (issue 26): gifts/s >= 45% of the ceiling at p99 < 50 ms; per gift, server CPU <= 200 µs and
// PostgreSQL's <= 150 µs; ledger audit clean.
// BENCH_PG_STATEMENTS=1 prints where PostgreSQL's time went while gifting, statement by statement, and
// the WAL each gift writes, by table and index and by record kind.
// TRUSTED=1 sends the gift mutation by its trusted-document id instead of its text (README, "Trusted documents").
// Between the two, the floor: the same mutation with a quantity its checks refuse before any database
// work, so what a gift costs the server and its share of the ceiling with no statement at all
// (docs/benchmarks.md, "The floors").
import fs from 'node:fs';
import path from 'node:path';
import autocannon from 'autocannon';
import { MAX_COMBO_QUANTITY } from '../src/domain/gifting.js';
import {
  cpuSecondsOf,
  fundedUsers,
  giftSending,
  machineJiffies,
  openRoom,
  postgresCpuByProcess,
  printAudit,
  matchesIn,
  openCampaign,
  sendGiftRequests,
  startBenchServer,
  statementTimes,
  vacuumed,
} from './support.js';

const SENDERS = Number(process.env.SENDERS ?? 1000);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 64);
const SECONDS = Number(process.env.SECONDS ?? 15);

const TRUSTED = Boolean(process.env.TRUSTED);

// Autovacuum visits a database once a minute, so whether it falls inside a run's window is chance (0 or
// about 20 µs per gift). Instead the tables are vacuumed before the gifts and after them, and the second
// VACUUM's CPU is counted per gift: what vacuuming their rows costs, every run.
const server = await startBenchServer({ trustedGifts: TRUSTED, autovacuum: false });
try {
  console.log(`Setting up: ${SENDERS} senders with coins, one creator live...`);
  const { db } = server;
  const room = await openRoom(db, 'Benchmark live');
  // MATCHING=1: a brand's campaign matches every measured gift, inside its transaction.
  if (process.env.MATCHING) {
    console.log('With an active matching campaign on the creator.');
    await openCampaign(db, room);
  }
  if (TRUSTED) console.log('Gifts go by their trusted-document id (documentId), not their text.');
  const sending = await giftSending(room, await fundedUsers(db, SENDERS, 'bench_sender'), { byId: TRUSTED });

  const run = (title: string, options: Partial<autocannon.Options>) =>
    new Promise<autocannon.Result>((resolve, reject) => {
      console.log(`${title}: ${CONNECTIONS} connections for ${options.duration ?? SECONDS}s...`);
      autocannon({ url: server.url, connections: CONNECTIONS, duration: SECONDS, method: 'POST', headers: { 'content-type': 'application/json' }, ...options }, (error, result) =>
        error ? reject(error) : resolve(result),
      );
    });

  const trivialBody = JSON.stringify({ query: '{ __typename }' });
  await run('Warm-up (trivial)', { body: trivialBody, duration: 3 });
  const ceilingCpu = cpuMeter(server.pid);
  const ceiling = await run('Ceiling: { __typename }', { body: trivialBody });
  const ceilingCost = ceilingCpu.read();

  const floorOutcomes = new Map<string, number>();
  const refused = { ...sending, variables: { input: { ...(sending.variables as { input: object }).input, quantity: MAX_COMBO_QUANTITY + 1 } } };
  const floorRequests = sendGiftRequests(refused, 'bench-floor', (outcome) => floorOutcomes.set(outcome, (floorOutcomes.get(outcome) ?? 0) + 1));
  await run('Warm-up (floor)', { requests: floorRequests, duration: 3 });
  floorOutcomes.clear();
  const floorWindow = profileWindow('floor-window.json');
  const floorCpu = cpuMeter(server.pid);
  const floor = await run('Floor: sendGift refused before the database', { requests: floorRequests });
  const floorCost = floorCpu.read();
  floorWindow.end();

  let sent = 0;
  const refusals = new Map<string, number>();
  const giftRequests = sendGiftRequests(sending, 'bench-gift', (outcome) =>
    outcome === 'sent' ? sent++ : refusals.set(outcome, (refusals.get(outcome) ?? 0) + 1),
  );
  await run('Warm-up (gifts)', { requests: giftRequests, duration: 3 });
  sent = 0;
  refusals.clear();
  await vacuumed(server.databaseUrl);
  const giftWindow = profileWindow('window.json');
  const statements = statementTimes(db);
  await statements.start();
  const giftCpu = cpuMeter(server.pid);
  const gifts = await run('Gifts: sendGift', { requests: giftRequests });
  const giftCost = giftCpu.read();
  giftWindow.end();
  const vacuumSeconds = await vacuumed(server.databaseUrl);

  await statements.print({ per: { name: 'gift', count: sent } });
  const committed = await db.sentGift.count();
  const ratio = gifts.requests.average / ceiling.requests.average;
  console.log('');
  console.log(`Trivial query ceiling : ${ceiling.requests.average.toFixed(0)} req/s  p50 ${ceiling.latency.p50} ms  p99 ${ceiling.latency.p99} ms  errors ${ceiling.errors + ceiling.non2xx}`);
  console.log(`sendGift              : ${gifts.requests.average.toFixed(0)} gifts/s  p50 ${gifts.latency.p50} ms  p99 ${gifts.latency.p99} ms  errors ${gifts.errors + gifts.non2xx}`);
  console.log(`Gifts / ceiling       : ${(ratio * 100).toFixed(1)}%  (target >= 45% at p99 < 50 ms)`);
  console.log(`Floor (no database)   : ${floor.requests.average.toFixed(0)} req/s  p99 ${floor.latency.p99} ms  ${((floor.requests.average / ceiling.requests.average) * 100).toFixed(1)}% of the ceiling  outcomes ${JSON.stringify(Object.fromEntries(floorOutcomes))}`);
  if ([...floorOutcomes.keys()].some((outcome) => outcome !== 'VALIDATION_FAILED')) console.log('  (not the floor: some requests were not refused by their input checks)');
  console.log(`CPU while gifting     : ${giftCost.shares}`);
  console.log(`CPU per request       : { __typename }: ${ceilingCost.perRequest(ceiling.requests.total)}`);
  console.log(`                        sendGift: ${giftCost.perRequest(gifts.requests.total)}  (target: server <= 200 µs)`);
  const serverPer = (cost: typeof giftCost, result: autocannon.Result) => cost.microseconds(result.requests.total).server;
  const trivialServer = serverPer(ceilingCost, ceiling);
  console.log(`                        floor: ${floorCost.perRequest(floor.requests.total)}`);
  console.log(`Server, x the trivial : floor ${(serverPer(floorCost, floor) / trivialServer).toFixed(2)}x, sendGift ${(serverPer(giftCost, gifts) / trivialServer).toFixed(2)}x`);
  const vacuumPerGift = (vacuumSeconds / gifts.requests.total) * 1e6;
  const postgresPerGift = giftCost.microseconds(gifts.requests.total).PostgreSQL + vacuumPerGift;
  console.log(`PostgreSQL per gift   : ${postgresPerGift.toFixed(0)} µs: ${giftCost.postgresByProcess(gifts.requests.total)}; VACUUM of the gifts' rows ${vacuumPerGift.toFixed(0)} µs  (target <= 150 µs)`);
  console.log(`Gifts committed       : ${committed} in all (measured run: ${sent} sent, refusals ${JSON.stringify(Object.fromEntries(refusals))})`);
  if (process.env.MATCHING) console.log(`Gifts matched         : ${await matchesIn(db, room.session.id)} (each in the audit below)`);
  const clean = await printAudit(db);
  const perGift = giftCost.microseconds(gifts.requests.total);
  const met = ratio >= 0.45 && gifts.latency.p99 < 50 && perGift.server <= 200 && postgresPerGift <= 150 && clean && refusals.size === 0;
  console.log(met ? 'TARGET MET' : 'TARGET NOT MET');
  process.exitCode = clean ? 0 : 1;
} finally {
  await server.stop();
}
/** With BENCH_SERVER_PROFILE, writes the phase from now to end() as `file` there, for bench/profile-summary.ts. */
function profileWindow(file: string) {
  const fromUs = Number(process.hrtime.bigint() / 1000n);
  return {
    end() {
      if (!process.env.BENCH_SERVER_PROFILE) return;
      const window = { fromUs, toUs: Number(process.hrtime.bigint() / 1000n) };
      fs.writeFileSync(path.join(process.env.BENCH_SERVER_PROFILE, file), JSON.stringify(window));
    },
  };
}

/**
 * CPU used from now on by the server, PostgreSQL, this load generator and the whole machine: as shares
 * of a core over the run, and per request. Where a gift costs more than the trivial query, and who pays.
 */
function cpuMeter(serverPid: number) {
  const startedAt = process.hrtime.bigint();
  const before = { server: cpuSecondsOf(serverPid), postgres: postgresCpuByProcess(), bench: process.cpuUsage(), machine: machineJiffies() };
  return {
    read() {
      const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
      const after = cpuSecondsOf(serverPid);
      const bench = process.cpuUsage(before.bench);
      const machine = machineJiffies();
      const postgres = postgresCpuByProcess();
      const byProcess = Object.entries(postgres)
        .map(([kind, cpuSeconds]) => [kind, cpuSeconds - (before.postgres[kind] ?? 0)] as const)
        .sort((a, b) => b[1] - a[1]);
      const used = {
        server: after.user + after.system - before.server.user - before.server.system,
        PostgreSQL: byProcess.reduce((sum, [, cpuSeconds]) => sum + cpuSeconds, 0),
        'load generator': (bench.user + bench.system) / 1e6,
      };
      const busy = (machine.busy - before.machine.busy) / (machine.total - before.machine.total);
      const list = (format: (cpuSeconds: number) => string) => Object.entries(used).map(([who, cpuSeconds]) => `${who} ${format(cpuSeconds)}`).join(', ');
      return {
        shares: `${list((cpuSeconds) => `${((cpuSeconds / seconds) * 100).toFixed(0)}%`)} of a core; machine ${(busy * 100).toFixed(0)}% busy`,
        perRequest: (requests: number) => list((cpuSeconds) => `${((cpuSeconds / requests) * 1e6).toFixed(0)} µs`),
        /** PostgreSQL's CPU per request by kind of process (postgresCpuByProcess), largest first. */
        postgresByProcess: (requests: number) =>
          byProcess.filter(([, cpuSeconds]) => cpuSeconds > 0).map(([kind, cpuSeconds]) => `${kind} ${((cpuSeconds / requests) * 1e6).toFixed(0)} µs`).join(', '),
        microseconds: (requests: number) => ({ server: (used.server / requests) * 1e6, PostgreSQL: (used.PostgreSQL / requests) * 1e6 }),
      };
    },
  };
}

process.exit(process.exitCode ?? 0);
