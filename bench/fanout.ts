// npm run bench:fanout: one live room, SUBSCRIBERS graphql-ws viewers (bench/fanout-subscribers.ts, in
// two load processes: PROBES of them in one of their own), gifts sent over HTTP at RATE a second for
// SECONDS. Prints delivery latency p50/p99 from commit to receipt (the probes' and the others'; each
// gift's commit time from PostgreSQL), and from the gift transaction's start; messages/s delivered,
// server RSS and CPU, and whether every subscriber heard every sequence.
// Target on 2 cores: 10,000 subscribers, 10 gifts/s, p99 < 250 ms, every event delivered, RSS < 1 GB.
// With INSTANCES=n (and REDIS_URL, which carries room events between them), n servers share the
// database; viewers and gifts are spread over them in turn, as a load balancer would, and the server
// figures (RSS, CPU) are their sums.
// With BENCH_SERVER_PROFILE=<dir> the server is profiled; `tsx bench/profile-summary.ts <dir>` then
// summarises where its CPU went while gifts were being sent. BENCH_LOAD_PROFILE=<dir> does the same for
// the load process, whose own CPU bounds what the latency figures can show on a 2-core machine.
import fs from 'node:fs';
import path from 'node:path';
import { delivery, fromCommit, latencies, openViewers, requireOpenFiles, sendAtRate, type Latencies, type Viewers } from './fanout-room.js';
import {
  commitsAfter,
  cpuSecondsOf,
  fundedUsers,
  giftSending,
  machineJiffies,
  memoryOf,
  openRoom,
  percentile,
  postGift,
  printAudit,
  roomStatus,
  serverPlan,
  startBenchServer,
  startServerProcess,
  topGifts,
  viewerSubscription,
  writeCallsOf,
} from './support.js';

const SUBSCRIBERS = Number(process.env.SUBSCRIBERS ?? 10_000);
const RATE = Number(process.env.RATE ?? 10);
const SECONDS = Number(process.env.SECONDS ?? 30);
const SENDERS = Number(process.env.SENDERS ?? 20);
const WHALES = 3;
const DRAIN_MS = Number(process.env.DRAIN_SECONDS ?? 10) * 1000;
// Viewers in a process of their own (bench/fanout-room.ts), which stays nearly idle.
const PROBES = Math.min(Number(process.env.PROBES ?? 100), SUBSCRIBERS);
const INSTANCES = Number(process.env.INSTANCES ?? 1);
if (INSTANCES > 1 && !process.env.REDIS_URL) {
  console.error(`INSTANCES=${INSTANCES} needs REDIS_URL: room events reach the other instances through Redis.`);
  process.exit(1);
}
requireOpenFiles(SUBSCRIBERS);

const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;

// Latency is measured from each gift's commit, which PostgreSQL records (track_commit_timestamp).
const server = await startBenchServer({ commitTimestamps: true });
const servers: { url: string; websocketUrl: string; pid: number; stop(): Promise<void> }[] = [server];
/** Memory of all the instances together, in kB: RSS now, and the sum of each one's peak. */
const serversMemory = () => servers.map((instance) => memoryOf(instance.pid)).reduce((a, b) => ({ rss: a.rss + b.rss, peak: a.peak + b.peak }));
const serversWrites = () => servers.reduce((sum, instance) => sum + writeCallsOf(instance.pid), 0);
const serversCpu = () => servers.map((instance) => cpuSecondsOf(instance.pid)).reduce((a, b) => ({ user: a.user + b.user, system: a.system + b.system }));
let viewers: Viewers | undefined;
try {
  for (let i = 1; i < INSTANCES; i++) servers.push(await startServerProcess(await serverPlan(server.databaseUrl)));
  const { db } = server;
  console.log(`Setting up: one creator live, ${SENDERS} senders and ${WHALES} top gifters with coins...`);
  const room = await openRoom(db, 'Fan-out benchmark');
  const sending = await giftSending(room, await fundedUsers(db, SENDERS, 'bench_sender'));
  for (const gift of await topGifts(db, room, WHALES)) {
    const outcome = await postGift(server.url, sending, gift);
    if (outcome !== 'sent') throw new Error(`Top gifter's gift refused: ${outcome}`);
  }
  const { lastSequence: sequenceBefore } = await roomStatus(db, room.session.id);
  const idle = serversMemory();

  console.log(`Opening ${SUBSCRIBERS} subscriptions from two processes (${SUBSCRIBERS - PROBES} + ${PROBES} probes)${INSTANCES > 1 ? ` to ${INSTANCES} instances` : ''}...`);
  viewers = await openViewers({
    urls: servers.map((instance) => instance.websocketUrl),
    subscription: viewerSubscription(room.liveSessionId),
    baseSequence: sequenceBefore,
    subscribers: SUBSCRIBERS,
    probes: PROBES,
    countViewers: async () => (await roomStatus(db, room.session.id)).viewers,
    loadProfile: process.env.BENCH_LOAD_PROFILE,
    progress: console.log,
  });
  const { rampSeconds } = viewers;
  const subscribed = serversMemory();
  console.log(`  ${viewers.connected} connected, ${viewers.failed} failed, server counts ${viewers.counted} viewers (${rampSeconds.toFixed(1)} s)`);

  const total = RATE * SECONDS;
  console.log(`Sending ${total} gifts at ${RATE}/s for ${SECONDS} s...`);
  let rssMaxDuringRun = 0;
  const rssSampler = setInterval(() => (rssMaxDuringRun = Math.max(rssMaxDuringRun, serversMemory().rss)), 200);
  viewers.start();
  const serverCpuBefore = serversCpu();
  const serverWritesBefore = serversWrites();
  const machineBefore = machineJiffies();
  const profileFrom = process.hrtime.bigint() / 1000n; // monotonic µs: the clock V8's profiles use
  const sendStarted = Date.now();
  const { roundTrips, refusals, issuedSeconds, answeredSeconds } = await sendAtRate(total, RATE, (i) =>
    postGift(servers[i % servers.length]!.url, sending, { headers: sending.senders[i % sending.senders.length]!, variables: sending.variables }, `fanout-gift-${i}`),
  );

  // Delivery drains for at most DRAIN_SECONDS after the last gift answered; what is still missing then counts as missing.
  // Every subscriber should have heard exactly the sequences committed while it listened.
  const { lastSequence } = await roomStatus(db, room.session.id);
  const committed = lastSequence - sequenceBefore;
  const [report, probed] = await viewers.drain(lastSequence, Date.now() + DRAIN_MS);
  const profileTo = process.hrtime.bigint() / 1000n;
  const serverCpuAfter = serversCpu();
  const serverWrites = serversWrites() - serverWritesBefore;
  const serverUser = serverCpuAfter.user - serverCpuBefore.user;
  const serverSystem = serverCpuAfter.system - serverCpuBefore.system;
  const serverCpu = serverUser + serverSystem;
  const machineAfter = machineJiffies();
  clearInterval(rssSampler);
  const end = serversMemory();
  for (const dir of [process.env.BENCH_SERVER_PROFILE, process.env.BENCH_LOAD_PROFILE]) {
    if (dir) fs.writeFileSync(path.join(dir, 'window.json'), JSON.stringify({ fromUs: Number(profileFrom), toUs: Number(profileTo) }));
  }

  const { sum, connected, byType, messages, lastReceipt, delivered } = delivery([report, probed]);
  const deliveryWindow = (lastReceipt - sendStarted) / 1000;
  const windowSeconds = (Date.now() - sendStarted) / 1000;
  const machineBusy = ((machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total)) * 100;
  const failureReasons = { ...report.failureReasons, ...probed.failureReasons };
  // When each gift committed, after its sentAt (the batch's start, as the subscribers parsed it).
  const commits = await commitsAfter(db, room.session.id, sequenceBefore);
  const commitTimes = commits.map(([, ms]) => ms).sort((a, b) => a - b);
  const latency = ({ p50, p99, p999, max }: Latencies) => `p50 ${p50} ms  p99 ${p99} ms  p99.9 ${p999} ms  max ${max} ms`;
  const probeLatency = fromCommit(probed.receipts, commits);

  console.log('');
  console.log(`Subscribers           : ${connected} connected of ${SUBSCRIBERS} (${sum('connectFailures')} failed${sum('connectFailures') ? ` ${JSON.stringify(failureReasons)}` : ''}), ramp ${rampSeconds.toFixed(1)} s, ${sum('rampMessages')} viewer-count messages heard meanwhile`);
  console.log(`Gifts                 : ${committed} committed of ${total} sent over ${issuedSeconds.toFixed(1)} s (last answer at ${answeredSeconds.toFixed(1)} s), refusals ${JSON.stringify(Object.fromEntries(refusals))}`);
  console.log(`sendGift round trip   : p50 ${percentile(roundTrips, 50).toFixed(0)} ms  p99 ${percentile(roundTrips, 99).toFixed(0)} ms`);
  console.log(`Commit                : p50 ${percentile(commitTimes, 50).toFixed(0)} ms  p99 ${percentile(commitTimes, 99).toFixed(0)} ms after the gift transaction's start (sentAt)`);
  console.log('Delivery latency, from commit to receipt:');
  console.log(`  ${String(probed.connected).padStart(5)} probe viewers  : ${latency(probeLatency)}  (a process of their own, nearly idle: what a viewer sees)`);
  console.log(`  ${String(report.connected).padStart(5)} other viewers  : ${latency(fromCommit(report.receipts, commits))}  (one busy process: its own lag included)`);
  console.log('  from sentAt (the gift transaction\'s start) to receipt, commit time included:');
  console.log(`  ${String(probed.connected).padStart(5)} probe viewers  : ${latency(latencies(probed.receipts))}`);
  console.log(`  ${String(report.connected).padStart(5)} other viewers  : ${latency(latencies(report.receipts))}`);
  console.log(`Delivered             : ${messages} messages in ${deliveryWindow.toFixed(1)} s = ${(messages / deliveryWindow).toFixed(0)} msgs/s  ${JSON.stringify(byType)}`);
  console.log(`Every sequence        : ${delivered ? 'yes' : 'NO'}: ${sum('complete')} of ${connected} connected subscribers complete, ${sum('missing')} missing, ${sum('duplicates')} duplicates, ${sum('ended')} ended early ${JSON.stringify({ ...report.endReasons, ...probed.endReasons })}`);
  console.log(`Server RSS            : idle ${mb(idle.rss)}, subscribed ${mb(subscribed.rss)} (${((subscribed.rss - idle.rss) / Math.max(1, connected)).toFixed(1)} kB/subscriber), max during run ${mb(rssMaxDuringRun)}, peak (VmHWM) ${mb(end.peak)}${INSTANCES > 1 ? ` (sums of ${INSTANCES} instances)` : ''}`);
  console.log(`Server CPU            : ${((serverCpu / windowSeconds) * 100).toFixed(0)}% of a core over ${windowSeconds.toFixed(1)} s (user ${((serverUser / windowSeconds) * 100).toFixed(0)}%, kernel ${((serverSystem / windowSeconds) * 100).toFixed(0)}%), ${((serverCpu * 1e6) / Math.max(1, messages)).toFixed(1)} µs per message delivered${INSTANCES > 1 ? ` (sum of ${INSTANCES} instances)` : ''}`);
  // A viewer's messages of one visit leave in one write: the fewer writes per message, the less the kernel
  // costs. The user part per write is the server's own code, to read against bench:fanout-floor's.
  const perWrite = (seconds: number) => ((seconds * 1e6) / Math.max(1, serverWrites)).toFixed(1);
  console.log(`Server writes         : ${serverWrites} system calls, ${(messages / Math.max(1, serverWrites)).toFixed(2)} messages per write, ${perWrite(serverCpu)} µs of server CPU per write (user ${perWrite(serverUser)}, kernel ${perWrite(serverSystem)})`);
  for (const [name, r] of [['Load process', report], ['Probe process', probed]] as const) {
    console.log(`${name.padEnd(22)}: ${process.env.FANOUT_CLIENT ?? 'protocol'} subscribers, ${r.cpuPercent.toFixed(0)}% of a core, event-loop delay p99 ${r.loopDelayP99Ms.toFixed(0)} ms max ${r.loopDelayMaxMs.toFixed(0)} ms, RSS ${r.rssMb.toFixed(0)} MB`);
  }
  console.log(`Machine               : ${machineBusy.toFixed(0)}% busy over the window (all processes, including anyone else's)`);
  const clean = await printAudit(db);
  const met = probeLatency.p99 < 250 && delivered && connected === SUBSCRIBERS && committed === total && end.peak < 1024 * 1024 && clean;
  console.log(`Target: ${SUBSCRIBERS} subscribers all connected, every gift committed and delivered, p99 < 250 ms from commit to receipt at the probe viewers, server RSS < 1 GB, audit clean`);
  console.log(met ? 'TARGET MET' : 'TARGET NOT MET');
  process.exitCode = clean && delivered ? 0 : 1;
} finally {
  await viewers?.close();
  await Promise.all(servers.slice(1).map((instance) => instance.stop()));
  await server.stop(); // and the database the others used
}

process.exit(process.exitCode ?? 0);
