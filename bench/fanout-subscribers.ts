// The load side of `npm run bench:fanout`, in its own process so that its CPU is not the server's:
// SUBSCRIBERS graphql-ws clients (one socket each) in one room, recording per gift event the delivery
// latency and, per subscriber, whether the sequences arrived as 1, 2, 3... with no gap or repeat.
// Driven over IPC by bench/fanout.ts: it says 'ready', then answers 'start', 'report' and 'close'.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

const WS_URL = process.env.FANOUT_WS_URL!;
const LIVE_SESSION_ID = process.env.FANOUT_LIVE_SESSION_ID!;
const SUBSCRIBERS = Number(process.env.SUBSCRIBERS ?? 10_000);
const RAMP = Number(process.env.RAMP ?? 500);
// Gifts committed before the subscribers came; the first one they hear is the next.
const BASE_SEQUENCE = Number(process.env.FANOUT_BASE_SEQUENCE ?? 0);

const QUERY = `subscription Fanout($id: ID!) {
  liveSessionEvents(liveSessionId: $id) { __typename ... on GiftSentEvent { sequence sentAt } }
}`;

type Gift = { __typename: 'GiftSentEvent'; sequence: number; sentAt: string };
type Event = { __typename: string } | Gift;

// Latencies are whole milliseconds (Date.now()), so a 1 ms histogram is exact and its size fixed,
// however many millions of messages arrive.
const MAX_MS = 600_000;
const histogram = new Uint32Array(MAX_MS + 1);
const last = new Int32Array(SUBSCRIBERS).fill(BASE_SEQUENCE); // last sequence each subscriber saw
const subscribed = new Uint8Array(SUBSCRIBERS); // 1 once its subscription was sent
let duplicates = 0; // a sequence at or below the last one seen
let gapped = 0; // sequences skipped over (seen later than a higher one, or never)
let giftMessages = 0;
const byType = new Map<string, number>();
let firstReceipt = 0;
let lastReceipt = 0;
let rampMessages = 0; // heard while subscribing (viewer counts)
let ended = 0; // subscriptions that completed or errored: a viewer dropped mid-stream
const endReasons = new Map<string, number>();

function onEvent(subscriber: number, event: Event) {
  const now = Date.now();
  if (firstReceipt === 0) firstReceipt = now;
  lastReceipt = now;
  byType.set(event.__typename, (byType.get(event.__typename) ?? 0) + 1);
  if (event.__typename !== 'GiftSentEvent') return;
  const { sequence, sentAt } = event as Gift;
  giftMessages++;
  // sentAt is stamped when the gift's transaction starts, so this is an upper bound on commit-to-receipt.
  histogram[Math.max(0, Math.min(MAX_MS, now - Date.parse(sentAt)))]!++;
  const previous = last[subscriber]!;
  if (sequence <= previous) return void duplicates++;
  gapped += sequence - previous - 1;
  last[subscriber] = sequence;
}

function noteEnd(reason: string) {
  ended++;
  endReasons.set(reason, (endReasons.get(reason) ?? 0) + 1);
}

const clients: Client[] = [];
let connectFailures = 0;
const failureReasons = new Map<string, number>();

/** One viewer: connects, and once acknowledged, subscribes. Resolves whether it got that far. */
function openSubscriber(index: number): Promise<boolean> {
  return new Promise((resolve) => {
    const client = createClient({
      url: WS_URL,
      webSocketImpl: WebSocket,
      lazy: false,
      retryAttempts: 0,
      keepAlive: 0, // the server pings every 15 s; client pings would only add load
      onNonLazyError: (error) => {
        const reason = error instanceof Error ? error.message : `close ${(error as { code?: number }).code ?? '?'} ${(error as { reason?: string }).reason ?? ''}`.trim();
        failureReasons.set(reason, (failureReasons.get(reason) ?? 0) + 1);
        resolve(false);
      },
      on: {
        connected: () => {
          subscribed[index] = 1;
          client.subscribe<{ liveSessionEvents: Event }>(
            { query: QUERY, variables: { id: LIVE_SESSION_ID } },
            {
              next: (result) => (result.data ? onEvent(index, result.data.liveSessionEvents) : noteEnd(`errors: ${JSON.stringify(result.errors)}`)),
              error: (error) => noteEnd(error instanceof Error ? error.message : `close ${(error as { code?: number }).code ?? '?'}`),
              complete: () => noteEnd('complete'),
            },
          );
          resolve(true);
        },
      },
    });
    clients.push(client);
  });
}

const send = (message: object) => process.send!(message);

// Ramped in so that the server (and this process) are not handed 10,000 handshakes at once.
let connected = 0;
for (let from = 0; from < SUBSCRIBERS; from += RAMP) {
  const batch = Array.from({ length: Math.min(RAMP, SUBSCRIBERS - from) }, (_, i) => openSubscriber(from + i));
  for (const ok of await Promise.all(batch)) ok ? connected++ : connectFailures++;
  send({ type: 'progress', connected, failed: connectFailures });
}
send({ type: 'ready', connected, failed: connectFailures });

// How late this process's own event loop runs: if it is busy, receipts are stamped late and the
// latency says more about the load generator than the server.
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
let cpuAtStart = process.cpuUsage();
let startedAt = Date.now();

function percentile(p: number): number {
  const rank = Math.ceil((p / 100) * giftMessages);
  let seen = 0;
  for (let ms = 0; ms <= MAX_MS; ms++) if ((seen += histogram[ms]!) >= rank && rank > 0) return ms;
  return 0;
}

function report(expected: number) {
  let complete = 0;
  let missing = 0;
  let minLast = Infinity;
  for (let i = 0; i < SUBSCRIBERS; i++) {
    // Only subscribers that got connected are expected to hear anything; the others are counted apart.
    if (!subscribed[i]) continue;
    const seen = last[i]!;
    minLast = Math.min(minLast, seen);
    if (seen >= expected) complete++;
    else missing += expected - seen;
  }
  const cpu = process.cpuUsage(cpuAtStart);
  const wallMs = Date.now() - startedAt;
  return {
    type: 'report',
    connected,
    connectFailures,
    failureReasons: Object.fromEntries(failureReasons),
    giftMessages,
    byType: Object.fromEntries(byType),
    rampMessages,
    firstReceipt,
    lastReceipt,
    p50: percentile(50),
    p99: percentile(99),
    p999: percentile(99.9),
    max: percentile(100),
    complete,
    minLast: minLast === Infinity ? 0 : minLast,
    missing: missing + gapped,
    duplicates,
    ended,
    endReasons: Object.fromEntries(endReasons),
    cpuPercent: wallMs > 0 ? ((cpu.user + cpu.system) / 1000 / wallMs) * 100 : 0,
    loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
    loopDelayMaxMs: loopDelay.max / 1e6,
    rssMb: process.memoryUsage().rss / 2 ** 20,
  };
}

process.on('message', async (message: { type: string; expected?: number }) => {
  if (message.type === 'start') {
    // Viewer-count announcements heard while subscribing are not part of the measured window.
    rampMessages = [...byType.values()].reduce((a, b) => a + b, 0);
    byType.clear();
    firstReceipt = lastReceipt = 0;
    cpuAtStart = process.cpuUsage();
    startedAt = Date.now();
    loopDelay.enable();
  } else if (message.type === 'report') {
    send(report(message.expected ?? 0));
  } else if (message.type === 'close') {
    await Promise.all(clients.map((client) => client.dispose()));
    process.exit(0);
  }
});
