// npm run bench:webhooks: how long a brand's back-end waits to hear of a match, under a burst of matched
// gifts. A burst of BURST gifts (1,000), each matched by an active campaign, is sent at once over HTTP;
// a local HTTP endpoint of the brand receives one signed match.made per gift (brand webhooks, delivered by
// the job queue). Printed: from each gift's answer (its commit) to its event's arrival, p50/p95/p99/max;
// deliveries per second; duplicates; then the ledger audit.
// The server runs with NODE_ENV=test: in production the brand's endpoint could not be on 127.0.0.1.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPrismaClient } from '../src/db/client.js';
import { applyMigrations } from '../src/db/migrate.js';
import { registerWebhookEndpoint } from '../src/domain/brands/webhooks/endpoints.js';
import { fundedUsers, giftSending, inParallel, openCampaign, openRoom, percentile, printAudit, serverPlan, startBenchPostgres, startServerProcess } from './support.js';

const BURST = Number(process.env.BURST ?? 1000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 64);

const arrived = new Map<string, number[]>();
const endpoint = http.createServer((req, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk: string) => (body += chunk));
  req.on('end', () => {
    const at = performance.now();
    const event = JSON.parse(body) as { type: string; data: { sentGiftId?: string } };
    if (event.type === 'match.made' && event.data.sentGiftId) arrived.set(event.data.sentGiftId, [...(arrived.get(event.data.sentGiftId) ?? []), at]);
    res.writeHead(204).end();
  });
});
await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));

const postgres = await startBenchPostgres();
await applyMigrations(postgres.url);
const plan = await serverPlan(postgres.url);
plan.env.NODE_ENV = 'test';
const server = await startServerProcess(plan);
const db = createPrismaClient(postgres.url, 10);
try {
  console.log(`Setting up: ${BURST} senders, one creator live, a campaign matching every gift, the brand's endpoint...`);
  const room = await openRoom(db, 'Webhook burst');
  await openCampaign(db, room);
  const brand = await db.brand.findFirstOrThrow({ include: { members: true } });
  const owner = await db.user.findUniqueOrThrow({ where: { id: brand.members[0]!.userId } });
  await registerWebhookEndpoint(db, { allowPrivate: true }, { viewer: { userId: owner.id, roles: owner.roles } }, {
    brandId: brand.id,
    url: `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/ovation`,
    eventTypes: ['MATCH_MADE'],
  });
  const sending = await giftSending(room, await fundedUsers(db, BURST, 'burst_sender'));

  console.log(`Burst: ${BURST} gifts, ${CONCURRENCY} at a time...`);
  const committed = new Map<string, number>();
  const started = performance.now();
  const refused: string[] = [];
  await inParallel(
    Array.from({ length: BURST }, (_, i) => i),
    CONCURRENCY,
    async (i) => {
      const response = await fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...sending.senders[i]! },
        body: JSON.stringify({ query: sending.query, variables: { input: { ...(sending.variables as { input: object }).input, idempotencyKey: `webhook-burst-${i}` } } }),
      });
      const at = performance.now();
      const text = await response.text();
      const id = /"id":"([^"]+)"/.exec(text)?.[1];
      if (!id) return refused.push(/"code":"([A-Z_]+)"/.exec(text)?.[1] ?? `HTTP ${response.status}`);
      committed.set(Buffer.from(id, 'base64').toString('utf8').split(':')[1]!, at);
    },
  );
  const sentMs = performance.now() - started;
  const deadline = Date.now() + 120_000;
  while ([...committed.keys()].some((id) => !arrived.has(id)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  const lastArrival = Math.max(...[...arrived.values()].map((times) => times[0]!));
  const latencies = [...committed].filter(([id]) => arrived.has(id)).map(([id, at]) => arrived.get(id)![0]! - at).sort((a, b) => a - b);
  const duplicates = [...arrived.values()].reduce((sum, times) => sum + times.length - 1, 0);
  const fmt = (ms: number) => `${ms.toFixed(0)} ms`;
  console.log(`\nGifts: ${committed.size} matched and answered in ${fmt(sentMs)} (${refused.length} refused${refused.length ? `: ${[...new Set(refused)].join(', ')}` : ''})`);
  console.log(`Events received: ${latencies.length} of ${committed.size}, ${duplicates} duplicate(s); last ${fmt(lastArrival - started)} after the burst began`);
  console.log(`Delivery: ${((latencies.length / (lastArrival - started)) * 1000).toFixed(0)} events/s`);
  console.log(`From a gift's answer to its event at the brand: p50 ${fmt(percentile(latencies, 50))}, p95 ${fmt(percentile(latencies, 95))}, p99 ${fmt(percentile(latencies, 99))}, max ${fmt(latencies.at(-1) ?? 0)}`);
  const matches = await db.giftMatch.count();
  console.log(`Matches in the ledger: ${matches}; deliveries DELIVERED: ${await db.webhookDelivery.count({ where: { status: 'DELIVERED' } })}`);
  const clean = await printAudit(db);
  if (!clean || latencies.length !== committed.size) process.exitCode = 1;
} finally {
  await server.stop();
  await db.$disconnect();
  await postgres.stop();
  endpoint.close();
}
