// The load side of `npm run bench:fanout` and `bench:fanout-ab`, in its own process so that its CPU is not
// the server's: SUBSCRIBERS graphql-ws subscribers (one socket each) in one room, recording per gift event
// the delivery latency and, per subscriber, whether the sequences arrived as 1, 2, 3... with no gap or
// repeat. The subscription (FANOUT_SUBSCRIPTION, JSON) is the build's own, as bench/ab.ts's
// ViewerSubscription describes it: its one field is the event, and a gift event has `sequence` and `sentAt`.
// Driven over IPC by bench/fanout-room.ts: it says 'ready', then answers 'open', 'start', 'report' and 'close'.
//
// FANOUT_CLIENT picks the subscriber. 'protocol' (the default) speaks graphql-transport-ws over
// bench/websocket-viewer.ts's lean socket and reads gift messages with bench/gift-receipt.ts; 'graphql-ws'
// is graphql-ws's own client (on `ws`). The server sees the same frames from both; the library client's
// parsing and dispatch were 45% of this process's CPU, and a saturated load process stamps receipts late
// and takes CPU from the server.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import type { ViewerSubscription } from './ab.js';
import { giftReceiptOf } from './gift-receipt.js';
import { connectViewer } from './websocket-viewer.js';

// Subscriber i connects to the i-th of these in turn (several when the bench runs several instances).
const WS_URLS = process.env.FANOUT_WS_URLS!.split(' ').map((url) => new URL(url));
const SUBSCRIPTION = JSON.parse(process.env.FANOUT_SUBSCRIPTION!) as ViewerSubscription;
const SUBSCRIBERS = Number(process.env.SUBSCRIBERS ?? 10_000);
const CLIENT = process.env.FANOUT_CLIENT ?? 'protocol';
// Gifts committed before the subscribers came; the first one they hear is the next.
const BASE_SEQUENCE = Number(process.env.FANOUT_BASE_SEQUENCE ?? 0);

type Event = { __typename?: string; sequence?: unknown; sentAt?: unknown };
type Result = { data?: Record<string, Event>; errors?: unknown };

// Per gift sequence, how many receipts came how many whole milliseconds (Date.now()) after its sentAt: a
// 1 ms histogram each, exact, and of a fixed size however many millions of messages arrive. Per sequence,
// so that the bench can measure from each gift's commit too, which only the database knows (bench/fanout.ts).
const HISTOGRAM_MS = 4096;
const histograms = new Map<number, Uint32Array>();
// Receipts HISTOGRAM_MS or more after sentAt (rare), counted by sequence * 2^20 + ms.
const LATE_MS = 2 ** 20 - 1;
const late = new Map<number, number>();
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

/** A `next` message's result: a gift, another event (counted by its type), or the subscription's end. */
function onResult(subscriber: number, result: Result) {
  const event = result.data && Object.values(result.data)[0];
  if (!event) return noteEnd(`errors: ${JSON.stringify(result.errors)}`);
  if (typeof event.sequence === 'number' && typeof event.sentAt === 'string') return onGift(subscriber, event.sequence, Date.parse(event.sentAt));
  lastReceipt = Date.now();
  if (firstReceipt === 0) firstReceipt = lastReceipt;
  const type = event.__typename ?? 'event';
  byType.set(type, (byType.get(type) ?? 0) + 1);
}

// Gifts are counted in giftMessages, not byType: a Map update per message is measurable at this rate.
function onGift(subscriber: number, sequence: number, sentAtMs: number) {
  const now = Date.now();
  if (firstReceipt === 0) firstReceipt = now;
  lastReceipt = now;
  giftMessages++;
  const ms = Math.max(0, now - sentAtMs);
  if (ms >= HISTOGRAM_MS) {
    const key = sequence * (LATE_MS + 1) + Math.min(ms, LATE_MS);
    late.set(key, (late.get(key) ?? 0) + 1);
  } else {
    let histogram = histograms.get(sequence);
    if (!histogram) histograms.set(sequence, (histogram = new Uint32Array(HISTOGRAM_MS)));
    histogram[ms]!++;
  }
  const previous = last[subscriber]!;
  if (sequence <= previous) return void duplicates++;
  gapped += sequence - previous - 1;
  last[subscriber] = sequence;
}

function noteEnd(reason: string) {
  ended++;
  endReasons.set(reason, (endReasons.get(reason) ?? 0) + 1);
}

const closers: (() => unknown)[] = [];
let closing = false; // once the bench says 'close', a socket's close is not a viewer dropped
let connectFailures = 0;
const failureReasons = new Map<string, number>();
const failed = (reason: string) => failureReasons.set(reason, (failureReasons.get(reason) ?? 0) + 1);

/**
 * One viewer speaking graphql-transport-ws itself (bench/websocket-viewer.ts): connection_init, then once
 * acknowledged, subscribe. Resolves whether it got that far.
 */
function openProtocolSubscriber(index: number): Promise<boolean> {
  return new Promise((resolve) => {
    let acknowledged = false;
    const viewer = connectViewer(WS_URLS[index % WS_URLS.length]!, 'graphql-transport-ws', {
      open: () => viewer.send('{"type":"connection_init"}'),
      message: (bytes, start, end) => {
        const gift = acknowledged ? giftReceiptOf(bytes, start, end) : undefined;
        if (gift) return onGift(index, gift.sequence, gift.sentAtMs);
        const message = JSON.parse(bytes.toString('utf8', start, end)) as { type: string; payload?: unknown };
        if (message.type === 'connection_ack') {
          acknowledged = true;
          subscribed[index] = 1;
          viewer.send(JSON.stringify({ id: '1', type: 'subscribe', payload: SUBSCRIPTION }));
          resolve(true);
        } else if (message.type === 'ping') viewer.send('{"type":"pong"}');
        else if (message.type === 'next') onResult(index, message.payload as Result);
        else if (message.type === 'error') noteEnd(`error: ${JSON.stringify(message.payload)}`);
        else if (message.type === 'complete') noteEnd('complete');
      },
      closed: (reason) => {
        if (!acknowledged) return void (failed(reason ?? 'closed'), resolve(false));
        if (reason !== undefined && !closing) noteEnd(reason);
      },
    });
    closers.push(() => viewer.close());
  });
}

/** One viewer on graphql-ws's own client: connects, and once acknowledged, subscribes. */
function openLibrarySubscriber(index: number): Promise<boolean> {
  return new Promise((resolve) => {
    const client = createClient({
      url: WS_URLS[index % WS_URLS.length]!.href,
      webSocketImpl: WebSocket,
      lazy: false,
      retryAttempts: 0,
      keepAlive: 0, // the server pings every 15 s; client pings would only add load
      onNonLazyError: (error) => {
        failed(error instanceof Error ? error.message : `close ${(error as { code?: number }).code ?? '?'} ${(error as { reason?: string }).reason ?? ''}`.trim());
        resolve(false);
      },
      on: {
        connected: () => {
          subscribed[index] = 1;
          client.subscribe<Record<string, Event>>(SUBSCRIPTION, {
            next: (result) => onResult(index, result as Result),
            error: (error) => noteEnd(error instanceof Error ? error.message : `close ${(error as { code?: number }).code ?? '?'}`),
            complete: () => noteEnd('complete'),
          });
          resolve(true);
        },
      },
    });
    closers.push(() => client.dispose());
  });
}
const openSubscriber = CLIENT === 'graphql-ws' ? openLibrarySubscriber : openProtocolSubscriber;

const send = (message: object) => process.send!(message);

// The bench opens viewers a step at a time ('open'), interleaving this process's with the probes' (see
// bench/fanout.ts), so that the server is not handed 10,000 handshakes at once.
let connected = 0;
let opened = 0;
async function open(count: number) {
  const batch = Array.from({ length: Math.min(count, SUBSCRIBERS - opened) }, () => openSubscriber(opened++));
  for (const ok of await Promise.all(batch)) ok ? connected++ : connectFailures++;
  send({ type: 'opened', connected, failed: connectFailures });
}
send({ type: 'ready' });

// How late this process's own event loop runs: if it is busy, receipts are stamped late and the
// latency says more about the load generator than the server.
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
let cpuAtStart = process.cpuUsage();
let startedAt = Date.now();

/** [sequence, ms after its sentAt, receipts] for every gift receipt so far. */
function receipts(): [number, number, number][] {
  const counted: [number, number, number][] = [...late].map(([key, count]) => [Math.floor(key / (LATE_MS + 1)), key % (LATE_MS + 1), count]);
  for (const [sequence, histogram] of histograms) histogram.forEach((count, ms) => void (count && counted.push([sequence, ms, count])));
  return counted;
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
    byType: { ...Object.fromEntries(byType), ...(giftMessages ? { GiftSentEvent: giftMessages } : {}) },
    rampMessages,
    firstReceipt,
    lastReceipt,
    receipts: receipts(),
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

process.on('message', async (message: { type: string; expected?: number; count?: number }) => {
  if (message.type === 'open') {
    await open(message.count ?? 0);
  } else if (message.type === 'start') {
    // A measured window starts; each 'start' begins a new one (bench:fanout-ab measures a room's rounds
    // on the same viewers). Viewer-count announcements heard while subscribing are not part of any.
    // Whether each viewer heard every sequence is kept across windows.
    rampMessages += [...byType.values()].reduce((a, b) => a + b, 0);
    byType.clear();
    histograms.clear();
    late.clear();
    giftMessages = 0;
    firstReceipt = lastReceipt = 0;
    cpuAtStart = process.cpuUsage();
    startedAt = Date.now();
    loopDelay.reset();
    loopDelay.enable();
  } else if (message.type === 'report') {
    send(report(message.expected ?? 0));
  } else if (message.type === 'close') {
    closing = true;
    await Promise.all(closers.map((close) => close()));
    process.exit(0);
  }
});
