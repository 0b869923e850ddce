// What bench:fanout and bench:fanout-ab do alike in a room: open its viewers, send gifts at a steady
// rate, hear the viewers' reports and read delivery latency from them.
//
// The viewers speak graphql-ws in two load processes (bench/fanout-subscribers.ts). PROBES of them are in
// a process of their own, which stays nearly idle: their receipts are stamped when the server's message
// reaches them, as a real viewer's device would. The other viewers share one process, which needs about
// 60% of a core for 100,000 messages a second (bench/websocket-viewer.ts): when it lags, its receipts carry
// its own lag as well.
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import type { Commit, ViewerSubscription } from './ab.js';
import { openingSteps } from './support.js';

/** A load process's report (bench/fanout-subscribers.ts). */
export type Report = {
  connected: number; connectFailures: number; failureReasons: Record<string, number>; giftMessages: number; byType: Record<string, number>; rampMessages: number;
  firstReceipt: number; lastReceipt: number; receipts: [sequence: number, msAfterSentAt: number, count: number][];
  complete: number; minLast: number; missing: number; duplicates: number; ended: number; endReasons: Record<string, number>;
  cpuPercent: number; loopDelayP99Ms: number; loopDelayMaxMs: number; rssMb: number;
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Exits with advice unless this process, and so its load processes, may open a socket per subscriber. */
export function requireOpenFiles(subscribers: number) {
  // Every subscriber is a socket in a load process and another in the server: both processes need the descriptors.
  const fdLimit = Number(/Max open files\s+(\d+)/.exec(fs.readFileSync('/proc/self/limits', 'utf8'))?.[1] ?? Infinity);
  if (fdLimit < subscribers + 1024) {
    console.error(`Open-file limit ${fdLimit} is too low for ${subscribers} subscribers: run \`ulimit -n ${subscribers + 4096}\` first.`);
    process.exit(1);
  }
}

/** The load process's next message of `type`. */
function nextMessage<T>(child: ChildProcess, type: string, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const timer = setTimeout(() => (done(), reject(new Error(`load process: no '${type}' within ${timeoutMs} ms`))), timeoutMs);
    const onMessage = (message: { type: string }) => void (message.type === type && (done(), resolve(message as T)));
    const onExit = (code: number | null) => (done(), reject(new Error(`load process exited (${code})`)));
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

export type Viewers = {
  connected: number;
  failed: number;
  /** Viewers as the server counted them once all were open. */
  counted: number;
  rampSeconds: number;
  /** A measured window starts (each start a new one): receipts, messages and the load processes' CPU count from here. */
  start(): void;
  /** The two processes' reports once every viewer has heard `lastSequence`, or when `deadline` (epoch ms) has passed. */
  drain(lastSequence: number, deadline: number): Promise<[others: Report, probes: Report]>;
  close(): Promise<void>;
};

/**
 * Opens `subscribers` viewers of a room (`probes` of them in the probes' process), spread over `urls` in
 * turn as a load balancer would, and waits until the server counts them all (`countViewers`). Each
 * viewer expects to hear every sequence after `baseSequence`, once, in order.
 */
export async function openViewers(options: {
  urls: string[];
  subscription: ViewerSubscription;
  baseSequence: number;
  subscribers: number;
  probes: number;
  countViewers: () => Promise<number>;
  loadProfile?: string;
  progress?: (line: string) => void;
}): Promise<Viewers> {
  const { subscribers, probes: probeCount, progress = () => {} } = options;
  const rampStarted = Date.now();
  const startLoad = (count: number, profile?: string) =>
    fork('bench/fanout-subscribers.ts', [], {
      execArgv: ['--import', 'tsx', ...(profile ? ['--cpu-prof', '--cpu-prof-dir', profile] : [])],
      env: {
        ...process.env,
        FANOUT_WS_URLS: options.urls.join(' '),
        FANOUT_SUBSCRIPTION: JSON.stringify(options.subscription),
        FANOUT_BASE_SEQUENCE: String(options.baseSequence),
        SUBSCRIBERS: String(count),
      },
    });
  const load = startLoad(subscribers - probeCount, options.loadProfile);
  const probes = startLoad(probeCount);
  const close = () =>
    Promise.all(
      [load, probes].map(async (child) => {
        if (child.exitCode !== null) return;
        child.send({ type: 'close' });
        const exited = new Promise((resolve) => child.once('exit', resolve));
        if ((await Promise.race([exited, sleep(30_000).then(() => 'timeout')])) === 'timeout') child.kill('SIGKILL');
      }),
    ).then(() => {});
  try {
    await Promise.all([nextMessage(load, 'ready', 60_000), nextMessage(probes, 'ready', 60_000)]);
    // A step at a time, each process opening its share: the server hands events to viewers in the order
    // they subscribed, so the probes end up spread through the room, from its first viewers to its last.
    const opening = (child: ChildProcess, count: number) => (child.send({ type: 'open', count }), nextMessage<{ connected: number; failed: number }>(child, 'opened', 5 * 60_000));
    let ready = { connected: 0, failed: 0 };
    for (const [index, step] of openingSteps(subscribers, probeCount).entries()) {
      const [many, few] = await Promise.all([opening(load, step.others), opening(probes, step.probes)]);
      ready = { connected: many.connected + few.connected, failed: many.failed + few.failed };
      if ((index + 1) % 5 === 0) progress(`  ${ready.connected} subscribed (${ready.failed} failed)`);
    }
    // The server counts a viewer once its subscription is live (listening to the room), and writes the
    // count every second: when it reaches `connected`, no subscription can still miss the first gift.
    const presenceDeadline = Date.now() + 60_000;
    let counted = 0;
    while (Date.now() < presenceDeadline) {
      counted = await options.countViewers();
      if (counted >= ready.connected) break;
      await sleep(250);
    }
    await sleep(1500); // the count's announcement follows its write: let it go out before measuring
    const asking = (child: ChildProcess, expected: number) => (child.send({ type: 'report', expected }), nextMessage<Report>(child, 'report', 30_000));
    return {
      ...ready,
      counted,
      rampSeconds: (Date.now() - rampStarted) / 1000,
      start() {
        load.send({ type: 'start' });
        probes.send({ type: 'start' });
      },
      async drain(lastSequence, deadline) {
        for (;;) {
          const reports = await Promise.all([asking(load, lastSequence), asking(probes, lastSequence)]);
          const heardAll = (r: Report) => r.minLast >= lastSequence || r.connected === 0;
          if ((reports.every(heardAll) && reports[0].connected + reports[1].connected > 0) || Date.now() > deadline) return reports;
          await sleep(250);
        }
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * Sends `total` gifts at `rate` a second, each on schedule whether or not the previous one has answered
 * (`send` resolves to 'sent' or why not). Resolves once all have answered.
 */
export async function sendAtRate(total: number, rate: number, send: (i: number) => Promise<string>) {
  const roundTrips: number[] = [];
  const refusals = new Map<string, number>();
  const refused = (why: string) => void refusals.set(why, (refusals.get(why) ?? 0) + 1);
  const started = Date.now();
  const t0 = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const wait = t0 + (i * 1000) / rate - performance.now();
    if (wait > 0) await sleep(wait);
    const sentAt = performance.now();
    inFlight.push(
      send(i).then(
        (outcome) => {
          roundTrips.push(performance.now() - sentAt);
          if (outcome !== 'sent') refused(outcome);
        },
        (error: Error) => refused(`${error.message}: ${(error.cause as Error | undefined)?.message ?? ''}`),
      ),
    );
  }
  const issuedSeconds = (Date.now() - started) / 1000;
  await Promise.all(inFlight);
  return { roundTrips: roundTrips.sort((a, b) => a - b), refusals, issuedSeconds, answeredSeconds: (Date.now() - started) / 1000 };
}

/** The two processes' reports together: who connected, what they heard, whether every one heard every sequence once. */
export function delivery(reports: [others: Report, probes: Report]) {
  const sum = (field: 'connected' | 'connectFailures' | 'complete' | 'missing' | 'duplicates' | 'ended' | 'rampMessages') => reports[0][field] + reports[1][field];
  const byType: Record<string, number> = {};
  for (const r of reports) for (const [type, count] of Object.entries(r.byType)) byType[type] = (byType[type] ?? 0) + count;
  const connected = sum('connected');
  return {
    sum,
    connected,
    byType,
    messages: Object.values(byType).reduce((a, b) => a + b, 0),
    lastReceipt: Math.max(reports[0].lastReceipt, reports[1].lastReceipt),
    // Correctness: every connected subscriber heard every sequence once. (Failing to connect is a capacity miss.)
    delivered: connected > 0 && sum('complete') === connected && sum('missing') === 0 && sum('duplicates') === 0 && sum('ended') === 0,
  };
}

export type Latencies = { p50: number; p99: number; p999: number; max: number };

/** Percentiles of the receipts' latencies: each `msAfterSentAt` less its gift's `offset`, in whole ms. */
export function latencies(receipts: Report['receipts'], offset: (sequence: number) => number = () => 0): Latencies {
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

/** Latencies from each gift's commit to its receipt: receipts count from sentAt, `commits` say when after sentAt each gift committed. */
export function fromCommit(receipts: Report['receipts'], commits: Commit[]): Latencies {
  const commitAfterSentAt = new Map(commits);
  return latencies(receipts, (sequence) => commitAfterSentAt.get(sequence) ?? Number.NaN);
}
