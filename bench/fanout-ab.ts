// npm run bench:fanout-ab -- <other checkout>: the fan-out of this checkout (A) and another, already built
// one (B), measured in interleaved rounds on one PostgreSQL cluster, PAIRS (5) pairs of them: A B, B A,
// A B... The machine's speed drifts by the minute and others' work comes and goes, so two bench:fanout runs
// compare the machine's moments as much as the builds; the two rounds of a pair see nearly the same
// moment, and the per-pair ratios B/A do not drift with it.
// Each build prepares its own database, room, senders and tokens through its own code (the A/B contract,
// bench/ab.ts) and runs its own server; its room's top gifters send their gifts first, as in bench:fanout.
// Then each room gets its viewers, as bench:fanout's: SUBSCRIBERS (10,000), PROBES (100) of them in a
// process of their own, subscribing with the build's own document. Both rooms stay connected throughout,
// so that rounds follow one another with no ramp between them and a pair's two rounds are as close in
// time as they can be; the idle room costs its server about 3% of a core meanwhile (docs/benchmarks.md).
// A round sends RATE (10) gifts a second for SECONDS (20) into one room and drains it for at most
// DRAIN_SECONDS (10). Per round: probe p99 from each gift's commit (the build's commit times) to receipt,
// and the server's CPU per message delivered. Then the medians, the medians of the per-pair ratios (with
// their 90% intervals, bench/statistics.ts), and both builds' audits; exits 1 unless every round
// delivered every gift to every viewer and both ledgers are clean.
import path from 'node:path';
import { openBuild, printAudits, type Build, type Commit, type RoomStatus } from './ab.js';
import { describeMedian, median } from './statistics.js';
import { delivery, fromCommit, openViewers, requireOpenFiles, sendAtRate, type Viewers } from './fanout-room.js';
import { cpuSecondsOf, machineJiffies, memoryOf, postGift, startBenchPostgres } from './support.js';

const other = process.argv[2];
if (!other) {
  console.error('usage: npm run bench:fanout-ab -- <path of another checkout, built with npm run build>');
  process.exit(2);
}
const PAIRS = Number(process.env.PAIRS ?? 5);
const SUBSCRIBERS = Number(process.env.SUBSCRIBERS ?? 10_000);
const RATE = Number(process.env.RATE ?? 10);
const SECONDS = Number(process.env.SECONDS ?? 20);
const SENDERS = Number(process.env.SENDERS ?? 20);
const TOP_GIFTERS = 3;
const DRAIN_MS = Number(process.env.DRAIN_SECONDS ?? 10) * 1000;
const PROBES = Math.min(Number(process.env.PROBES ?? 100), SUBSCRIBERS);
requireOpenFiles(SUBSCRIBERS);

type Room = Build & { viewers?: Viewers };
type Round = { probeP50: number; probeP99: number; othersP99: number; cpuUs: number; correct: boolean; refusals: Map<string, number> };

// Latency is measured from each gift's commit, which PostgreSQL records (track_commit_timestamp).
const postgres = await startBenchPostgres({ commitTimestamps: true });
const builds: Room[] = [];
try {
  for (const [name, checkout] of [['A', path.resolve('.')], ['B', path.resolve(other)]] as const) {
    console.log(`Setting up ${name} (${checkout}): one creator live, ${SENDERS} senders and ${TOP_GIFTERS} top gifters with coins...`);
    const build: Room = await openBuild(name, checkout, postgres.url, { senders: SENDERS, topGifters: TOP_GIFTERS });
    builds.push(build);
    for (const gift of build.prepared.topGifts) {
      const outcome = await postGift(build.prepared.server.graphqlUrl, build.prepared.gifts, gift);
      if (outcome !== 'sent') throw new Error(`${name}: a top gifter's gift was refused: ${outcome}`);
    }
    const roomStatus = () => build.ask<RoomStatus>({ command: 'room' });
    build.viewers = await openViewers({
      urls: [build.prepared.server.websocketUrl],
      subscription: build.prepared.viewers,
      baseSequence: (await roomStatus()).lastSequence,
      subscribers: SUBSCRIBERS,
      probes: PROBES,
      countViewers: async () => (await roomStatus()).viewers,
    });
    const { connected, failed, counted, rampSeconds } = build.viewers;
    console.log(`  ${connected} viewers connected (${failed} failed, server counts ${counted}) in ${rampSeconds.toFixed(1)} s; server RSS ${(memoryOf(build.pid).rss / 1024).toFixed(0)} MB`);
  }
  console.log(`${PAIRS} pairs of rounds of ${RATE * SECONDS} gifts at ${RATE}/s each`);

  const rounds: Record<string, Round[]> = { A: [], B: [] };
  for (let pair = 1; pair <= PAIRS; pair++) {
    for (const build of pair % 2 ? builds : [...builds].reverse()) rounds[build.name]!.push(await round(build, pair));
  }

  console.log('');
  for (const build of builds) {
    const measured = rounds[build.name]!;
    const refusals = new Map<string, number>();
    for (const r of measured) for (const [why, count] of r.refusals) refusals.set(why, (refusals.get(why) ?? 0) + count);
    const of = (field: 'probeP50' | 'probeP99' | 'othersP99' | 'cpuUs') => median(measured.map((r) => r[field]));
    console.log(
      `${build.name} (${build.checkout}): median probe p99 ${of('probeP99')} ms (p50 ${of('probeP50')} ms), other viewers p99 ${of('othersP99')} ms, ` +
        `server ${of('cpuUs').toFixed(2)} µs/message; ${measured.filter((r) => r.correct).length} of ${measured.length} rounds delivered every gift to every viewer; refusals ${JSON.stringify(Object.fromEntries(refusals))}`,
    );
  }
  for (const [label, field] of [['probe p99 from commit', 'probeP99'], ['server CPU per message', 'cpuUs']] as const) {
    const ratios = rounds.A!.map((a, index) => rounds.B![index]![field] / a[field]);
    console.log(`B/A by pair, ${label.padEnd(22)}: ${ratios.map((ratio) => ratio.toFixed(2)).join(' ')}; median ${describeMedian(ratios)}`);
  }
  const correct = Object.values(rounds).every((measured) => measured.every((r) => r.correct));
  const clean = await printAudits(builds);
  process.exitCode = correct && clean ? 0 : 1;
} finally {
  for (const build of builds) {
    await build.viewers?.close();
    await build.stop();
  }
  await postgres.stop();
}

/** One measured round in `build`'s room, on its viewers. */
async function round(build: Room, pair: number): Promise<Round> {
  const viewers = build.viewers!;
  const roomStatus = () => build.ask<RoomStatus>({ command: 'room' });
  const { lastSequence: before } = await roomStatus();
  const { gifts } = build.prepared;
  const total = RATE * SECONDS;
  viewers.start();
  const cpuBefore = cpuSecondsOf(build.pid);
  const machineBefore = machineJiffies();
  const { refusals } = await sendAtRate(total, RATE, (i) =>
    postGift(build.prepared.server.graphqlUrl, gifts, { headers: gifts.senders[i % gifts.senders.length]!, variables: gifts.variables }, `fanout-${pair}-gift-${i}`),
  );
  // Every viewer should have heard every gift since it subscribed, once, in order.
  const { lastSequence } = await roomStatus();
  const reports = await viewers.drain(lastSequence, Date.now() + DRAIN_MS);
  const cpuAfter = cpuSecondsOf(build.pid);
  const machineAfter = machineJiffies();
  const heard = delivery(reports);
  const commits = await build.ask<Commit[]>({ command: 'commits', after: before });
  const probe = fromCommit(reports[1].receipts, commits);
  const others = fromCommit(reports[0].receipts, commits);
  const cpuUs = ((cpuAfter.user + cpuAfter.system - cpuBefore.user - cpuBefore.system) * 1e6) / Math.max(1, heard.messages);
  const correct = heard.delivered && heard.connected === SUBSCRIBERS && lastSequence - before === total;
  const busy = ((machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total)) * 100;
  console.log(
    `pair ${pair} ${build.name}: probe p99 ${probe.p99} ms (p50 ${probe.p50}), other viewers p99 ${others.p99} ms, server ${cpuUs.toFixed(2)} µs/message, ` +
      `${heard.messages} messages, ${lastSequence - before} of ${total} gifts committed, every gift to every viewer ${correct ? 'yes' : 'NO'}, machine ${busy.toFixed(0)}% busy`,
  );
  return { probeP50: probe.p50, probeP99: probe.p99, othersP99: others.p99, cpuUs, correct, refusals };
}

process.exit(process.exitCode ?? 0);
