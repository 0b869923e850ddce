// npm run bench:fanout-floor: what this machine can deliver at all, whatever the server does. A bare `ws`
// server (no GraphQL, no database, no room logic) sends RATE messages a second, each the size and shape
// of bench:fanout's, to SUBSCRIBERS plain `ws` clients in a separate load process that reads each one
// (bench/gift-receipt.ts) and checks its sequence, as bench:fanout's load process does. The same figures
// as bench:fanout, so the two read side by side: what remains between them is Ovation's own cost; what the floor itself misses
// of the target, no server design on this machine can meet.
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import WebSocket, { WebSocketServer } from 'ws';
import { giftReceiptOf } from './gift-receipt.js';
import { cpuSecondsOf, machineJiffies, memoryOf } from './support.js';

const SUBSCRIBERS = Number(process.env.SUBSCRIBERS ?? 10_000);
const RATE = Number(process.env.RATE ?? 10);
const SECONDS = Number(process.env.SECONDS ?? 30);
const role = process.argv[2] ?? 'main';

// A graphql-ws `next` message as bench:fanout's subscribers receive it.
const message = (sequence: number) =>
  `{"id":"0d4c3a0e-7d1f-4e0b-9a5e-1f2b3c4d5e6f","type":"next","payload":{"data":{"liveSessionEvents":{"__typename":"GiftSentEvent","sequence":${sequence},"sentAt":"${new Date().toISOString()}"}}}}`;

if (role === 'server') {
  // Sends each message to every client: one write per client per message, as one message per gift is.
  const sockets = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await once(sockets, 'listening');
  process.send!({ type: 'listening', port: (sockets.address() as { port: number }).port });
  process.on('message', async (command: { type: string }) => {
    if (command.type !== 'start') return;
    const t0 = performance.now();
    for (let sequence = 1; sequence <= RATE * SECONDS; sequence++) {
      const wait = t0 + ((sequence - 1) * 1000) / RATE - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const text = message(sequence);
      for (const client of sockets.clients) client.send(text);
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
  const clients: WebSocket[] = [];
  const connect = (i: number) => {
    const client = new WebSocket(`ws://127.0.0.1:${process.env.FLOOR_PORT}`);
    client.on('message', (data) => {
      const now = Date.now();
      const gift = giftReceiptOf(String(data));
      if (!gift) return void faults++;
      const { sequence, sentAtMs } = gift;
      if (firstReceipt === 0) firstReceipt = now;
      lastReceipt = now;
      received++;
      histogram[Math.max(0, Math.min(600_000, now - sentAtMs))]!++;
      if (sequence !== last[i]! + 1) faults++;
      last[i] = sequence;
    });
    clients.push(client);
    return once(client, 'open');
  };
  for (let i = 0; i < SUBSCRIBERS; i += 500) await Promise.all(Array.from({ length: Math.min(500, SUBSCRIBERS - i) }, (_, j) => connect(i + j)));
  process.send!({ type: 'ready' });
  const cpuBefore = process.cpuUsage();
  const started = Date.now();
  delay.enable();
  process.on('message', (command: { type: string }) => {
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
      for (const client of clients) client.terminate();
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
    new Promise<T>((resolve) => from.on('message', (reply: { type: string }) => reply.type === type && resolve(reply as T)));
  const server = child('server');
  const { port } = await next<{ port: number }>(server, 'listening');
  console.log(`Connecting ${SUBSCRIBERS} plain WebSocket clients from a separate process...`);
  const load = child('load', { FLOOR_PORT: String(port) });
  await next(load, 'ready');
  console.log(`Sending ${RATE * SECONDS} messages at ${RATE}/s to each...`);
  const cpuBefore = cpuSecondsOf(server.pid!);
  const machineBefore = machineJiffies();
  const started = Date.now();
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, memoryOf(server.pid!).rss)), 200);
  server.send({ type: 'start' });
  await next(server, 'sent');
  type Report = { received: number; lastReceipt: number; faults: number; p50: number; p99: number; max: number; complete: number; cpuPercent: number; loopDelayP99Ms: number };
  let report: Report;
  const expected = SUBSCRIBERS * RATE * SECONDS;
  for (const deadline = Date.now() + 60_000; ; ) {
    load.send({ type: 'report' });
    report = await next<Report>(load, 'report');
    if (report.received >= expected || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  clearInterval(sampler);
  const cpuAfter = cpuSecondsOf(server.pid!);
  const machineAfter = machineJiffies();
  const seconds = (Date.now() - started) / 1000;
  const serverCpu = cpuAfter.user - cpuBefore.user + (cpuAfter.system - cpuBefore.system);
  const window = (report.lastReceipt - started) / 1000;
  console.log('');
  console.log(`Delivery latency      : p50 ${report.p50} ms  p99 ${report.p99} ms  max ${report.max} ms  (send to receipt)`);
  console.log(`Delivered             : ${report.received} of ${expected} messages in ${window.toFixed(1)} s = ${(report.received / window).toFixed(0)} msgs/s; ${report.complete} of ${SUBSCRIBERS} clients complete, ${report.faults} out of order`);
  console.log(`Server CPU            : ${((serverCpu / seconds) * 100).toFixed(0)}% of a core (user ${(((cpuAfter.user - cpuBefore.user) / seconds) * 100).toFixed(0)}%, kernel ${(((cpuAfter.system - cpuBefore.system) / seconds) * 100).toFixed(0)}%), ${((serverCpu * 1e6) / Math.max(1, report.received)).toFixed(1)} µs per message; RSS peak ${(peak / 1024).toFixed(0)} MB`);
  console.log(`Load process          : ${report.cpuPercent.toFixed(0)}% of a core, event-loop delay p99 ${report.loopDelayP99Ms.toFixed(0)} ms`);
  console.log(`Machine               : ${(((machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total)) * 100).toFixed(0)}% busy`);
  console.log(`Floor ${report.p99 < 250 && report.received === expected ? 'meets' : 'does NOT meet'} bench:fanout's delivery target (p99 < 250 ms, every message) at ${SUBSCRIBERS} subscribers and ${RATE}/s`);
  load.send({ type: 'close' });
  server.kill();
  process.exit(0);
}
