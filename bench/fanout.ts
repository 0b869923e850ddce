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
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  commitsAfter,
  cpuSecondsOf,
  fundedUsers,
  giftSending,
  machineJiffies,
  memoryOf,
  openingSteps,
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
// Viewers in a process of their own, which stays nearly idle: their receipts are stamped when the server's
// message reaches them, as a real viewer's device would. The other viewers share one process, which
// needs about 60% of a core for 100,000 messages a second (bench/websocket-viewer.ts): when it lags, its
// receipts carry its own lag as well.
const PROBES = Math.min(Number(process.env.PROBES ?? 100), SUBSCRIBERS);
const INSTANCES = Number(process.env.INSTANCES ?? 1);
if (INSTANCES > 1 && !process.env.REDIS_URL) {
  console.error(`INSTANCES=${INSTANCES} needs REDIS_URL: room events reach the other instances through Redis.`);
  process.exit(1);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;

// Every subscriber is a socket here and another in the server: both processes need the descriptors.
const fdLimit = Number(/Max open files\s+(\d+)/.exec(fs.readFileSync('/proc/self/limits', 'utf8'))?.[1] ?? Infinity);
if (fdLimit < SUBSCRIBERS + 1024) {
  console.error(`Open-file limit ${fdLimit} is too low for ${SUBSCRIBERS} subscribers: run \`ulimit -n ${SUBSCRIBERS + 4096}\` first.`);
  process.exit(1);
}

type Report = {
  connected: number; connectFailures: number; failureReasons: Record<string, number>; giftMessages: number; byType: Record<string, number>; rampMessages: number;
  firstReceipt: number; lastReceipt: number; receipts: [sequence: number, msAfterSentAt: number, count: number][];
  complete: number; minLast: number; missing: number; duplicates: number; ended: number; endReasons: Record<string, number>;
  cpuPercent: number; loopDelayP99Ms: number; loopDelayMaxMs: number; rssMb: number;
};

/** The load process's next message of `type` (it reports progress meanwhile). */
function nextMessage<T>(child: ChildProcess, type: string, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const timer = setTimeout(() => (done(), reject(new Error(`load process: no '${type}' within ${timeoutMs} ms`))), timeoutMs);
    const onMessage = (message: { type: string; connected?: number; failed?: number }) => {
      if (message.type === type) return done(), resolve(message as T);
      if (message.type === 'progress' && message.connected! % 2500 === 0) console.log(`  ${message.connected} subscribed (${message.failed} failed)`);
    };
    const onExit = (code: number | null) => (done(), reject(new Error(`load process exited (${code})`)));
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

// Latency is measured from each gift's commit, which PostgreSQL records (track_commit_timestamp).
const server = await startBenchServer({ commitTimestamps: true });
const servers: { url: string; websocketUrl: string; pid: number; stop(): Promise<void> }[] = [server];
/** Memory of all the instances together, in kB: RSS now, and the sum of each one's peak. */
const serversMemory = () => servers.map((instance) => memoryOf(instance.pid)).reduce((a, b) => ({ rss: a.rss + b.rss, peak: a.peak + b.peak }));
const serversWrites = () => servers.reduce((sum, instance) => sum + writeCallsOf(instance.pid), 0);
const serversCpu = () => servers.map((instance) => cpuSecondsOf(instance.pid)).reduce((a, b) => ({ user: a.user + b.user, system: a.system + b.system }));
let load: ChildProcess | undefined;
let probes: ChildProcess | undefined;
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
  const rampStarted = Date.now();
  const startLoad = (subscribers: number, profile?: string) =>
    fork('bench/fanout-subscribers.ts', [], {
      execArgv: ['--import', 'tsx', ...(profile ? ['--cpu-prof', '--cpu-prof-dir', profile] : [])],
      env: { ...process.env, FANOUT_WS_URLS: servers.map((instance) => instance.websocketUrl).join(' '), FANOUT_SUBSCRIPTION: JSON.stringify(viewerSubscription(room.liveSessionId)), FANOUT_BASE_SEQUENCE: String(sequenceBefore), SUBSCRIBERS: String(subscribers) },
    });
  load = startLoad(SUBSCRIBERS - PROBES, process.env.BENCH_LOAD_PROFILE);
  probes = startLoad(PROBES);
  await Promise.all([nextMessage(load, 'ready', 60_000), nextMessage(probes, 'ready', 60_000)]);
  // A step at a time, each process opening its share: the server hands events to viewers in the order
  // they subscribed, so the probes end up spread through the room, from its first viewers to its last.
  const opening = (child: ChildProcess, count: number) => (child.send({ type: 'open', count }), nextMessage<{ connected: number; failed: number }>(child, 'opened', 5 * 60_000));
  let ready = { connected: 0, failed: 0 };
  for (const [index, step] of openingSteps(SUBSCRIBERS, PROBES).entries()) {
    const [many, few] = await Promise.all([opening(load, step.others), opening(probes, step.probes)]);
    ready = { connected: many.connected + few.connected, failed: many.failed + few.failed };
    if ((index + 1) % 5 === 0) console.log(`  ${ready.connected} subscribed (${ready.failed} failed)`);
  }
  // The server counts a viewer once its subscription is live (listening to the room), and writes the
  // count every second: when it reaches `connected`, no subscription can still miss the first gift.
  const presenceDeadline = Date.now() + 60_000;
  let viewers = 0;
  while (Date.now() < presenceDeadline) {
    ({ viewers } = await roomStatus(db, room.session.id));
    if (viewers >= ready.connected) break;
    await sleep(250);
  }
  await sleep(1500); // the count's announcement follows its write: let it go out before measuring
  const rampSeconds = (Date.now() - rampStarted) / 1000;
  const subscribed = serversMemory();
  console.log(`  ${ready.connected} connected, ${ready.failed} failed, server counts ${viewers} viewers (${rampSeconds.toFixed(1)} s)`);

  // Gifts at a steady rate: each is sent on schedule whether or not the previous one has answered.
  const total = RATE * SECONDS;
  console.log(`Sending ${total} gifts at ${RATE}/s for ${SECONDS} s...`);
  const giftLatencies: number[] = [];
  const refusals = new Map<string, number>();
  let rssMaxDuringRun = 0;
  const rssSampler = setInterval(() => (rssMaxDuringRun = Math.max(rssMaxDuringRun, serversMemory().rss)), 200);
  const sendOne = async (i: number) => {
    const started = performance.now();
    const outcome = await postGift(servers[i % servers.length]!.url, sending, { headers: sending.senders[i % sending.senders.length]!, variables: sending.variables }, `fanout-gift-${i}`);
    giftLatencies.push(performance.now() - started);
    if (outcome !== 'sent') refusals.set(outcome, (refusals.get(outcome) ?? 0) + 1);
  };
  load.send({ type: 'start' });
  probes.send({ type: 'start' });
  const serverCpuBefore = serversCpu();
  const serverWritesBefore = serversWrites();
  const machineBefore = machineJiffies();
  const profileFrom = process.hrtime.bigint() / 1000n; // monotonic µs: the clock V8's profiles use
  const sendStarted = Date.now();
  const t0 = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const wait = t0 + (i * 1000) / RATE - performance.now();
    if (wait > 0) await sleep(wait);
    const failed = (error: Error) => `${error.message}: ${(error.cause as Error | undefined)?.message ?? ''}`;
    inFlight.push(sendOne(i).catch((error: Error) => void refusals.set(failed(error), (refusals.get(failed(error)) ?? 0) + 1)));
  }
  const issuedSeconds = (Date.now() - sendStarted) / 1000;
  await Promise.all(inFlight);
  const answeredSeconds = (Date.now() - sendStarted) / 1000;

  // Delivery drains for at most DRAIN_SECONDS after the last gift answered; what is still missing then counts as missing.
  // Every subscriber should have heard exactly the sequences committed while it listened.
  const { lastSequence } = await roomStatus(db, room.session.id);
  const committed = lastSequence - sequenceBefore;
  const drainDeadline = Date.now() + DRAIN_MS;
  let report: Report;
  let probed: Report;
  for (;;) {
    const asking = (child: ChildProcess) => (child.send({ type: 'report', expected: lastSequence }), nextMessage<Report>(child, 'report', 30_000));
    [report, probed] = await Promise.all([asking(load), asking(probes)]);
    const heardAll = (r: Report) => r.minLast >= lastSequence || r.connected === 0;
    if ((heardAll(report) && heardAll(probed) && report.connected + probed.connected > 0) || Date.now() > drainDeadline) break;
    await sleep(250);
  }
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

  const both = [report, probed];
  const sum = (field: 'connected' | 'connectFailures' | 'complete' | 'missing' | 'duplicates' | 'ended' | 'rampMessages') => report[field] + probed[field];
  const connected = sum('connected');
  const byType: Record<string, number> = {};
  for (const r of both) for (const [type, count] of Object.entries(r.byType)) byType[type] = (byType[type] ?? 0) + count;
  const deliveryWindow = (Math.max(report.lastReceipt, probed.lastReceipt) - sendStarted) / 1000;
  const messages = Object.values(byType).reduce((a, b) => a + b, 0);
  const windowSeconds = (Date.now() - sendStarted) / 1000;
  const machineBusy = ((machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total)) * 100;
  // Correctness: every connected subscriber heard every sequence once. (Failing to connect is a capacity miss.)
  const delivered = connected > 0 && sum('complete') === connected && sum('missing') === 0 && sum('duplicates') === 0 && sum('ended') === 0;
  const sortedGifts = giftLatencies.sort((a, b) => a - b);
  const failureReasons = { ...report.failureReasons, ...probed.failureReasons };
  // When each gift committed, after its sentAt (the batch's start, as the subscribers parsed it).
  const commits = await commitsAfter(db, room.session.id, sequenceBefore);
  const commitAfterSentAt = new Map(commits);
  const fromSentAt = (r: Report) => latencies(r.receipts, () => 0);
  const fromCommit = (r: Report) => latencies(r.receipts, (sequence) => commitAfterSentAt.get(sequence) ?? Number.NaN);
  const commitTimes = commits.map(([, ms]) => ms).sort((a, b) => a - b);
  const latency = ({ p50, p99, p999, max }: Latencies) => `p50 ${p50} ms  p99 ${p99} ms  p99.9 ${p999} ms  max ${max} ms`;
  const probeLatency = fromCommit(probed);

  console.log('');
  console.log(`Subscribers           : ${connected} connected of ${SUBSCRIBERS} (${sum('connectFailures')} failed${sum('connectFailures') ? ` ${JSON.stringify(failureReasons)}` : ''}), ramp ${rampSeconds.toFixed(1)} s, ${sum('rampMessages')} viewer-count messages heard meanwhile`);
  console.log(`Gifts                 : ${committed} committed of ${total} sent over ${issuedSeconds.toFixed(1)} s (last answer at ${answeredSeconds.toFixed(1)} s), refusals ${JSON.stringify(Object.fromEntries(refusals))}`);
  console.log(`sendGift round trip   : p50 ${percentile(sortedGifts, 50).toFixed(0)} ms  p99 ${percentile(sortedGifts, 99).toFixed(0)} ms`);
  console.log(`Commit                : p50 ${percentile(commitTimes, 50).toFixed(0)} ms  p99 ${percentile(commitTimes, 99).toFixed(0)} ms after the gift transaction's start (sentAt)`);
  console.log('Delivery latency, from commit to receipt:');
  console.log(`  ${String(probed.connected).padStart(5)} probe viewers  : ${latency(probeLatency)}  (a process of their own, nearly idle: what a viewer sees)`);
  console.log(`  ${String(report.connected).padStart(5)} other viewers  : ${latency(fromCommit(report))}  (one busy process: its own lag included)`);
  console.log('  from sentAt (the gift transaction\'s start) to receipt, commit time included:');
  console.log(`  ${String(probed.connected).padStart(5)} probe viewers  : ${latency(fromSentAt(probed))}`);
  console.log(`  ${String(report.connected).padStart(5)} other viewers  : ${latency(fromSentAt(report))}`);
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
  await Promise.all(
    [load, probes].map(async (child) => {
      if (!child || child.exitCode !== null) return;
      child.send({ type: 'close' });
      const exited = new Promise((resolve) => child.once('exit', resolve));
      if ((await Promise.race([exited, sleep(30_000).then(() => 'timeout')])) === 'timeout') child.kill('SIGKILL');
    }),
  );
  await Promise.all(servers.slice(1).map((instance) => instance.stop()));
  await server.stop(); // and the database the others used
}
type Latencies = { p50: number; p99: number; p999: number; max: number };

/** Percentiles of the receipts' latencies: each `msAfterSentAt` less its gift's `offset`, in whole ms. */
function latencies(receipts: Report['receipts'], offset: (sequence: number) => number): Latencies {
  const counted = receipts.map(([sequence, ms, count]) => [Math.round(ms - offset(sequence)), count] as const).sort((a, b) => a[0] - b[0]);
  if (counted.some(([ms]) => Number.isNaN(ms))) throw new Error('A gift received has no commit time');
  const total = counted.reduce((sum, [, count]) => sum + count, 0);
  const at = (p: number) => {
    const rank = Math.max(1, Math.ceil((p / 100) * total));
    let seen = 0;
    for (const [ms, count] of counted) if ((seen += count) >= rank) return ms;
    return 0;
  };
  return { p50: at(50), p99: at(99), p999: at(99.9), max: at(100) };
}

process.exit(process.exitCode ?? 0);
