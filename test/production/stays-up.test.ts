import net from 'node:net';
import { describe, expect, test } from 'vitest';
import { createTestDatabase } from '../support/database.js';
import { startServerProcess } from '../support/process.js';
import { TEST_JWT_SECRET, TEST_WEBHOOK_SECRET } from '../support/server.js';
import { eventually } from '../support/wait.js';

// A server in a process of its own, as production runs it: what a client sends must never end it.
const database = await createTestDatabase();
const server = await startServerProcess({
  NODE_ENV: 'production',
  DATABASE_URL: database.url,
  JWT_SECRET: TEST_JWT_SECRET,
  PAYMENT_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
  ENABLE_SANDBOX_PROVIDERS: 'true',
  HOST: '127.0.0.1',
  PORT: '0',
  LOG_LEVEL: 'info',
});
const { port } = new URL(server.url!);

/** Sends the head of a POST that promises 1,000 bytes, then 10 of them, then hangs up. */
async function breakOff(path: string): Promise<void> {
  const socket = net.connect(Number(port), '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"id":"ev`);
  await new Promise((resolve) => setTimeout(resolve, 50));
  socket.destroy();
}

const healthy = () => fetch(new URL('/healthz', server.url), { signal: AbortSignal.timeout(5_000) }).then((response) => response.status);

describe('nothing a client sends stops the server', () => {
  test('a payment webhook whose body is broken off costs a log line, not the process', async () => {
    await breakOff('/webhooks/payments');
    await eventually(async () => server.log.find((line) => line.msg === 'payment webhook body broken off by its sender'), 'the log line');
    expect(server.child.exitCode).toBeNull();
    expect(await healthy()).toBe(200);
  });

  test('a payout webhook whose body is broken off costs a log line, not the process', async () => {
    await breakOff('/webhooks/payouts');
    await eventually(async () => server.log.find((line) => line.msg === 'payout webhook body broken off by its sender'), 'the log line');
    expect(server.child.exitCode).toBeNull();
    expect(await healthy()).toBe(200);
  });

  test('a GraphQL request whose body is broken off leaves the server serving', async () => {
    await breakOff('/graphql');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(server.child.exitCode).toBeNull();
    expect(await healthy()).toBe(200);
  });

  test('many broken-off requests at once leave nothing logged as an error', async () => {
    await Promise.all(Array.from({ length: 20 }, (_, i) => breakOff(i % 2 ? '/graphql' : '/webhooks/payments')));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(server.child.exitCode).toBeNull();
    expect(await healthy()).toBe(200);
    expect(server.log.filter((line) => line.level >= 50)).toEqual([]);
  });
});
