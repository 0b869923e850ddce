// npm run bench:gifts-ab -- <other checkout>: sendGift throughput of this checkout (A) and another,
// already built one (B), measured in turns on one PostgreSQL cluster. This machine's speed drifts by the
// minute (the same build measured 1,100 to 1,800 gifts/s within an hour), so two bench:gifts runs
// compare the machine's moments as much as the builds; short alternating rounds (A B, B A, ...) see the
// same drift and their ratio does not. Each build gets a database of its own, migrated and filled by its
// own code (bench/ab-build.ts, the A/B contract: bench/ab.ts), so the builds may differ in schema, seed,
// tokens and GraphQL documents; and its own server process. Prints each round (with the server's and
// PostgreSQL's CPU per gift, a VACUUM of the round's rows included), the medians and the median of the per-round ratios B/A with its 90%
// interval (bench/statistics.ts), then audits both ledgers. ROUNDS (8) of SECONDS (5) each; SENDERS,
// CONNECTIONS as bench:gifts. MATCHING=A or B gives that build's room an active matching campaign (so
// `MATCHING=B npm run bench:gifts-ab -- .` measures what matching costs one build).
import path from 'node:path';
import autocannon from 'autocannon';
import { openBuild, printAudits, type Build } from './ab.js';
import { describeMedian, median } from './statistics.js';
import { cpuSecondsOf, postgresCpuSeconds, sendGiftRequests, startBenchPostgres, vacuumed } from './support.js';

const other = process.argv[2];
if (!other) {
  console.error('usage: npm run bench:gifts-ab -- <path of another checkout, built with npm run build>');
  process.exit(2);
}
const ROUNDS = Number(process.env.ROUNDS ?? 8);
const SECONDS = Number(process.env.SECONDS ?? 5);
const SENDERS = Number(process.env.SENDERS ?? 1000);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 64);
const MATCHING = process.env.MATCHING;

// As in bench:gifts: no autovacuum round by chance; each round's build vacuums its gifts' rows, counted in its round.
const postgres = await startBenchPostgres({ autovacuum: false });
const builds: (Build & { outcomes: Map<string, number>; requests: autocannon.Request[] })[] = [];
try {
  for (const [name, checkout] of [['A', path.resolve('.')], ['B', path.resolve(other)]] as const) {
    console.log(`Setting up ${name} (${checkout}): ${SENDERS} senders with coins, one creator live...`);
    if (MATCHING === name) console.log(`${name}'s room has an active matching campaign.`);
    const build = await openBuild(name, checkout, postgres.url, { senders: SENDERS, topGifters: 0, matching: MATCHING === name });
    const outcomes = new Map<string, number>();
    builds.push({ ...build, outcomes, requests: sendGiftRequests(build.prepared.gifts, 'bench-gift', (outcome) => outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1)) });
  }
  for (const build of builds) await run(build, 3).then(() => vacuumed(build.databaseUrl));

  const rounds: Record<string, { rate: number; p99: number; cpuUs: number; pgUs: number }[]> = { A: [], B: [] };
  for (let round = 1; round <= ROUNDS; round++) {
    for (const build of round % 2 ? builds : [...builds].reverse()) {
      const before = { server: cpuSecondsOf(build.pid), postgres: postgresCpuSeconds() };
      const result = await run(build, SECONDS);
      const after = { server: cpuSecondsOf(build.pid), postgres: postgresCpuSeconds() };
      const cpuUs = ((after.server.user + after.server.system - before.server.user - before.server.system) / result.requests.total) * 1e6;
      // One cluster serves both builds, one round at a time: its CPU in a round is that build's.
      const pgUs = ((after.postgres - before.postgres + (await vacuumed(build.databaseUrl))) / result.requests.total) * 1e6;
      rounds[build.name]!.push({ rate: result.requests.average, p99: result.latency.p99, cpuUs, pgUs });
      console.log(`round ${round} ${build.name}: ${result.requests.average.toFixed(0)} gifts/s  p99 ${result.latency.p99} ms  server ${cpuUs.toFixed(0)} µs/gift  PostgreSQL ${pgUs.toFixed(0)} µs/gift`);
    }
  }
  console.log('');
  for (const build of builds) {
    const measured = rounds[build.name]!;
    const refused = [...build.outcomes].filter(([outcome]) => outcome !== 'sent');
    console.log(
      `${build.name} (${build.checkout}): median ${median(measured.map((r) => r.rate)).toFixed(0)} gifts/s, p99 ${median(measured.map((r) => r.p99))} ms, server ${median(measured.map((r) => r.cpuUs)).toFixed(0)} µs/gift, PostgreSQL ${median(measured.map((r) => r.pgUs)).toFixed(0)} µs/gift, refusals ${JSON.stringify(Object.fromEntries(refused))}`,
    );
  }
  const ratios = rounds.A!.map((a, index) => rounds.B![index]!.rate / a.rate);
  console.log(`B/A by round         : ${ratios.map((ratio) => ratio.toFixed(2)).join(' ')}; median ${describeMedian(ratios)}`);
  process.exitCode = (await printAudits(builds)) ? 0 : 1;
} finally {
  for (const build of builds) await build.stop();
  await postgres.stop();
}

function run(build: (typeof builds)[number], seconds: number) {
  return new Promise<autocannon.Result>((resolve, reject) =>
    autocannon(
      { url: build.prepared.server.graphqlUrl, connections: CONNECTIONS, duration: seconds, method: 'POST', headers: { 'content-type': 'application/json' }, requests: build.requests },
      (error, result) => (error ? reject(error) : resolve(result)),
    ),
  );
}

process.exit(process.exitCode ?? 0);
