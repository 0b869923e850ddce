// npm run bench:fanout-floor: the machine's own cost of fan-out, whatever the server does. A bare `ws`
// server (no GraphQL, no database, no room logic) writes each of RATE messages a second, the size and
// shape of bench:fanout's, to each of SUBSCRIBERS WebSocket clients (bench/websocket-viewer.ts) in two
// load processes (PROBES of them in one of their own, as bench:fanout has), which read each message
// (bench/gift-receipt.ts) and check its sequence. The same figures as bench:fanout, side by side.
//
// FLOOR_WRITES picks how the server writes:
// - 'each' (the default): one write per client per message. Its server CPU per message is what one
//   socket write costs here, and whether it keeps up at all shows what that allows on this machine.
// - 'sweep': what bench:fanout's room does (src/events/fanout/hub.ts), with nothing else around it: it goes
//   round the clients in turn, and each client gets everything it has not had yet in one write of
//   prebuilt frames. Its latency is the best that design can do here, at this moment: bench:fanout's,
//   taken just before or after, shows what the rest of the server adds to it.
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import { textFrames } from '../src/events/fanout/websocket-frames.js';
import { giftReceiptOf } from './gift-receipt.js';
import { cpuSecondsOf, machineJiffies, memoryOf, openingSteps, writeCallsOf } from './support.js';
import { connectViewer, type Viewer } from './websocket-viewer.js';

const SUBSCRIBERS = Number(process.env.SUBSCRIBERS ?? 10_000);
const RATE = Number(process.env.RATE ?? 10);
const PROBES = Math.min(Number(process.env.PROBES ?? 100), SUBSCRIBERS); // as in bench:fanout
const SECONDS = Number(process.env.SECONDS ?? 30);
const WRITES = process.env.FLOOR_WRITES ?? 'each';
const role = process.argv[2] ?? 'main';
if (WRITES !== 'each' && WRITES !== 'sweep') throw new Error(`FLOOR_WRITES is 'each' or 'sweep', not '${WRITES}'`);

// A graphql-ws `next` message as bench:fanout's subscribers receive it. sentAt is when the message was
// due, not when its broadcast began: a server that falls behind the rate shows it in the latency, as
// bench:fanout's does (a gift's sentAt is stamped before it commits, whenever the room gets to it).
const message = (sequence: number, dueAt: Date) =>
  `{"id":"0d4c3a0e-7d1f-4e0b-9a5e-1f2b3c4d5e6f","type":"next","payload":{"data":{"liveSessionEvents":{"__typename":"GiftSentEvent","sequence":${sequence},"sentAt":"${dueAt.toISOString()}"}}}}`;

if (role === 'server') {
  const sockets = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await once(sockets, 'listening');
  process.send!({ type: 'listening', port: (sockets.address() as { port: number }).port });
  // For the sweep: each client's TCP connection, and how many of the messages so far it has been given.
  const clients: { connection: Socket; given: number }[] = [];
  if (WRITES === 'sweep') sockets.on('connection', (_socket, request) => clients.push({ connection: request.socket, given: 0 }));
  const frames: Buffer[] = [];
  let more: (() => void) | undefined;
  const publish = WRITES === 'each'
    ? (text: string) => sockets.clients.forEach((client) => client.send(text))
    : (text: string) => {
        frames.push(Buffer.from(textFrames('', [Buffer.from(text).toString('latin1')], ''), 'latin1'));
        more?.();
      };
  // As the room's sweep does: 250 clients, then the event loop's other work (here the next message's
  // timer), then the next 250; a round ends when every client has had all that was there when it began.
  async function sweep() {
    for (;;) {
      if (clients.every((client) => client.given === frames.length)) {
        await new Promise<void>((resolve) => (more = resolve));
        continue;
      }
      for (let at = 0; at < clients.length; at += 250) {
        if (at > 0) await new Promise((resolve) => setImmediate(resolve));
        for (const client of clients.slice(at, at + 250)) {
          const upTo = frames.length;
          if (client.given === upTo) continue;
          client.connection.write(upTo - client.given === 1 ? frames[client.given]! : Buffer.concat(frames.slice(client.given, upTo)));
          client.given = upTo;
        }
      }
    }
  }
  process.on('message', async (command: { type: string }) => {
    if (command.type !== 'start') return;
    if (WRITES === 'sweep') void sweep();
    const t0 = performance.now();
    const startedAt = Date.now();
    for (let sequence = 1; sequence <= RATE * SECONDS; sequence++) {
      const wait = t0 + ((sequence - 1) * 1000) / RATE - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      publish(message(sequence, new Date(startedAt + ((sequence - 1) * 1000) / RATE)));
    }
    process.send!({ type: 'sent' });
  });
} else if (role === 'load') {
  const histogram = new Uint32Array(600_001);
  const last = new Int32Array(SUBSCRIBERS);
  let received = 0;
  let firstReceipt = 0;
  let lastReceipt = 0;
  let faults = 0;
  const delay = monitorEventLoopDelay();
  const clients: Viewer[] = [];
  const connect = (i: number) =>
    new Promise<void>((opened, failed) => {
      const client = connectViewer(new URL(`ws://127.0.0.1:${process.env.FLOOR_PORT}/`), 'floor', {
        open: () => opened(),
        message: (bytes, start, end) => {
          const now = Date.now();
          const gift = giftReceiptOf(bytes, start, end);
          if (!gift) return void faults++;
          const { sequence, sentAtMs } = gift;
          if (firstReceipt === 0) firstReceipt = now;
          lastReceipt = now;
          received++;
          histogram[Math.max(0, Math.min(600_000, now - sentAtMs))]!++;
          if (sequence !== last[i]! + 1) faults++;
          last[i] = sequence;
        },
        closed: (reason) => (reason === undefined ? undefined : (faults++, failed(new Error(reason)))),
      });
      clients.push(client);
    });
  // Opened a step at a time on the bench's say ('open'), interleaved with the other load process's.
  let opened = 0;
  process.send!({ type: 'ready' });
  let cpuBefore = process.cpuUsage();
  let started = Date.now();
  process.on('message', async (command: { type: string; count?: number }) => {
    if (command.type === 'open') {
      const count = Math.min(command.count ?? 0, SUBSCRIBERS - opened);
      await Promise.all(Array.from({ length: count }, () => connect(opened++)));
      process.send!({ type: 'opened' });
    }
    if (command.type === 'start') {
      cpuBefore = process.cpuUsage();
      started = Date.now();
      delay.enable();
    }
    if (command.type === 'report') {
      const at = (p: number) => {
        let seen = 0;
        for (let ms = 0; ms < histogram.length; ms++) if ((seen += histogram[ms]!) >= (p / 100) * received) return ms;
        return 0;
      };
      const cpu = process.cpuUsage(cpuBefore);
      process.send!({
        type: 'report', received, firstReceipt, lastReceipt, faults, p50: at(50), p99: at(99), max: at(100),
        complete: last.filter((sequence) => sequence === RATE * SECONDS).length,
        cpuPercent: ((cpu.user + cpu.system) / 1000 / (Date.now() - started)) * 100, loopDelayP99Ms: delay.percentile(99) / 1e6,
      });
    }
    if (command.type === 'close') {
      await Promise.all(clients.map((client) => client.close()));
      process.exit(0);
    }
  });
} else {
  const fdLimit = Number(/Max open files\s+(\d+)/.exec(fs.readFileSync('/proc/self/limits', 'utf8'))?.[1] ?? Infinity);
  if (fdLimit < SUBSCRIBERS + 1024) {
    console.error(`Open-file limit ${fdLimit} is too low for ${SUBSCRIBERS} subscribers: run \`ulimit -n ${SUBSCRIBERS + 4096}\` first.`);
    process.exit(1);
  }
  const child = (name: string, env: Record<string, string> = {}) =>
    fork(import.meta.filename, [name], { execArgv: ['--import', 'tsx'], env: { ...process.env, ...env } });
  const next = <T>(from: ChildProcess, type: string) =>
    new Promise<T>((resolve) => {
      const hear = (reply: { type: string }) => reply.type === type && (from.off('message', hear), resolve(reply as T));
      from.on('message', hear);
    });
  const server = child('server');
  const { port } = await next<{ port: number }>(server, 'listening');
  console.log(`Connecting ${SUBSCRIBERS} WebSocket clients from two processes (${SUBSCRIBERS - PROBES} + ${PROBES} probes), as bench:fanout does...`);
  const load = child('load', { FLOOR_PORT: String(port), SUBSCRIBERS: String(SUBSCRIBERS - PROBES) });
  const probes = child('load', { FLOOR_PORT: String(port), SUBSCRIBERS: String(PROBES) });
  await Promise.all([next(load, 'ready'), next(probes, 'ready')]);
  // The server sends to clients in the order they connected, so the probes are spread through that order.
  for (const step of openingSteps(SUBSCRIBERS, PROBES)) {
    load.send({ type: 'open', count: step.others });
    probes.send({ type: 'open', count: step.probes });
    await Promise.all([next(load, 'opened'), next(probes, 'opened')]);
  }
  console.log(`Sending ${RATE * SECONDS} messages at ${RATE}/s to each...`);
  for (const side of [load, probes]) side.send({ type: 'start' });
  const cpuBefore = cpuSecondsOf(server.pid!);
  const writesBefore = writeCallsOf(server.pid!);
  const machineBefore = machineJiffies();
  const started = Date.now();
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, memoryOf(server.pid!).rss)), 200);
  server.send({ type: 'start' });
  await next(server, 'sent');
  type Report = { received: number; lastReceipt: number; faults: number; p50: number; p99: number; max: number; complete: number; cpuPercent: number; loopDelayP99Ms: number };
  let report: Report;
  let probed: Report;
  const expected = SUBSCRIBERS * RATE * SECONDS;
  for (const deadline = Date.now() + 60_000; ; ) {
    for (const side of [load, probes]) side.send({ type: 'report' });
    [report, probed] = await Promise.all([next<Report>(load, 'report'), next<Report>(probes, 'report')]);
    if (report.received + probed.received >= expected || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const received = report.received + probed.received;
  clearInterval(sampler);
  const cpuAfter = cpuSecondsOf(server.pid!);
  const writes = writeCallsOf(server.pid!) - writesBefore;
  const machineAfter = machineJiffies();
  const seconds = (Date.now() - started) / 1000;
  const serverCpu = cpuAfter.user - cpuBefore.user + (cpuAfter.system - cpuBefore.system);
  const window = (Math.max(report.lastReceipt, probed.lastReceipt) - started) / 1000;
  console.log('');
  console.log('Delivery latency, from when each message was due to receipt:');
  console.log(`  ${String(PROBES).padStart(5)} probe clients  : p50 ${probed.p50} ms  p99 ${probed.p99} ms  max ${probed.max} ms  (a process of their own, nearly idle)`);
  console.log(`  ${String(SUBSCRIBERS - PROBES).padStart(5)} other clients  : p50 ${report.p50} ms  p99 ${report.p99} ms  max ${report.max} ms  (one busy process: its own lag included)`);
  console.log(`Delivered             : ${received} of ${expected} messages in ${window.toFixed(1)} s = ${(received / window).toFixed(0)} msgs/s; ${report.complete + probed.complete} of ${SUBSCRIBERS} clients complete, ${report.faults + probed.faults} out of order`);
  console.log(`Server CPU            : ${((serverCpu / seconds) * 100).toFixed(0)}% of a core (user ${(((cpuAfter.user - cpuBefore.user) / seconds) * 100).toFixed(0)}%, kernel ${(((cpuAfter.system - cpuBefore.system) / seconds) * 100).toFixed(0)}%), ${((serverCpu * 1e6) / Math.max(1, received)).toFixed(1)} µs per message; RSS peak ${(peak / 1024).toFixed(0)} MB`);
  const perWrite = (seconds: number) => ((seconds * 1e6) / Math.max(1, writes)).toFixed(1);
  console.log(`Server writes         : ${writes} system calls, ${(received / Math.max(1, writes)).toFixed(2)} messages per write, ${perWrite(serverCpu)} µs of server CPU per write (user ${perWrite(cpuAfter.user - cpuBefore.user)}, kernel ${perWrite(cpuAfter.system - cpuBefore.system)})`);
  console.log(`Load process          : ${report.cpuPercent.toFixed(0)}% of a core, event-loop delay p99 ${report.loopDelayP99Ms.toFixed(0)} ms`);
  console.log(`Probe process         : ${probed.cpuPercent.toFixed(0)}% of a core, event-loop delay p99 ${probed.loopDelayP99Ms.toFixed(0)} ms`);
  console.log(`Machine               : ${(((machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total)) * 100).toFixed(0)}% busy`);
  const design = WRITES === 'each' ? 'One write per client per message' : 'A sweep with one write per client per round';
  console.log(`${design} ${probed.p99 < 250 && received === expected ? 'meets' : 'does NOT meet'} bench:fanout's delivery target (p99 < 250 ms at the probes, every message) at ${SUBSCRIBERS} subscribers and ${RATE}/s`);
  for (const side of [load, probes]) side.send({ type: 'close' });
  server.kill();
  process.exit(0);
}
