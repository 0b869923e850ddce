import { pino } from 'pino';
import { describe, expect, test } from 'vitest';
import { SANDBOX_METHODS } from '../../src/domain/payments/sandbox.js';
import { PurchasesWallet } from '../purchases/documents.js';
import { bought, createTestBundle, paymentEvent, postWebhook, signedIn } from '../purchases/support.js';
import { SendRoomGift } from '../rooms-live/documents.js';
import { watchRoom } from '../rooms-live/support.js';
import { gid } from '../support/gifting.js';
import { ok, post, request, TEST_DOCUMENTS } from '../support/graphql.js';
import { scrape } from '../support/metrics.js';
import { createCatalogGift, createFundedViewer, createLiveCreator, uniqueKey } from '../support/money.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { tokenFor } from '../support/users.js';
import { eventually, releaseWhenDone, within } from '../support/wait.js';
import { openSocket, subscribe } from '../support/ws.js';
import { UserUpdated } from '../realtime/profile-documents.js';

// Operators watch each instance through Prometheus metrics at /metrics. Each test below reads an
// instance of its own, so its counts are exactly what the test did.

const first = await startTestServer({ env: 'development' });
const { db, database } = first;

/** A second instance over this file's database (in development unless told), stopped when the test ends. */
async function anotherInstance(options: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
  const instance = await startTestServer({ database, env: 'development', ...options });
  releaseWhenDone(instance.stop);
  return instance;
}
const metricsOf = (instance: TestServer) => scrape(instance.metricsUrl!);

describe('what /metrics shows', () => {
  test('gifts committed and refused by reason, their batches, and requests by operation name', async () => {
    const instance = await anotherInstance();
    const { session } = await createLiveCreator(db);
    const rose = await createCatalogGift(db, 10n);
    const fan = await createFundedViewer(db, 15n);
    const token = await tokenFor(fan);
    const send = async (idempotencyKey: string) => {
      const input = { liveSessionId: gid('LiveSession', session.id), giftId: gid('Gift', rose.id), idempotencyKey };
      return (await ok(instance.url, SendRoomGift, { input }, { token })).sendGift.__typename;
    };

    const key = uniqueKey('gift');
    expect(await send(key)).toBe('SentGift');
    expect(await send(uniqueKey('gift'))).toBe('InsufficientCoinsError');
    // A retry gets the first result; it is a request, but not another gift.
    expect(await send(key)).toBe('SentGift');

    const metrics = await metricsOf(instance);
    expect(metrics.value('ovation_gifts_committed_total')).toBe(1);
    expect(metrics.value('ovation_gifts_refused_total', { reason: 'INSUFFICIENT_COINS' })).toBe(1);
    expect(metrics.value('ovation_gifts_refused_total')).toBe(1);
    // Sent one at a time, each gift had a batch (and a transaction) of its own.
    expect(metrics.value('ovation_gift_batch_size_count')).toBe(3);
    expect(metrics.value('ovation_gift_batch_size_sum')).toBe(3);
    expect(metrics.value('ovation_gift_batch_commit_seconds_count')).toBe(3);
    expect(metrics.value('ovation_graphql_requests_total', { operation: 'SendRoomGift', type: 'mutation' })).toBe(3);
    expect(metrics.value('ovation_graphql_request_duration_seconds_count', { operation: 'SendRoomGift', type: 'mutation' })).toBe(3);
    expect(metrics.value('ovation_graphql_errors_total')).toBe(0);
    // Instances in one process keep their own counts.
    expect((await metricsOf(first)).value('ovation_gifts_committed_total')).toBe(0);
  });

  test('errors by operation name and code: a signed-out wallet query, a document the schema refuses', async () => {
    const instance = await anotherInstance();

    expect((await request(instance.url, PurchasesWallet, {})).errors?.map((error) => error.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    expect((await post(instance.url, 'query Misspelt { wallet { coinz } }')).errors?.map((error) => error.extensions?.code)).toEqual(['GRAPHQL_VALIDATION_FAILED']);

    const metrics = await metricsOf(instance);
    expect(metrics.value('ovation_graphql_requests_total', { operation: 'PurchasesWallet', type: 'query' })).toBe(1);
    expect(metrics.value('ovation_graphql_errors_total', { operation: 'PurchasesWallet', code: 'UNAUTHENTICATED' })).toBe(1);
    expect(metrics.value('ovation_graphql_requests_total', { operation: 'Misspelt', type: 'query' })).toBe(1);
    expect(metrics.value('ovation_graphql_errors_total', { operation: 'Misspelt', code: 'GRAPHQL_VALIDATION_FAILED' })).toBe(1);
  });

  test('requests refused before they run: a document that does not parse, and text where only trusted documents run, over HTTP and graphql-ws', async () => {
    const instance = await anotherInstance({ variables: { TRUSTED_DOCUMENTS: TEST_DOCUMENTS, TRUSTED_DOCUMENTS_ONLY: 'true' } });
    const open = await anotherInstance();

    expect((await post(instance.url, '{ __typename }')).errors?.map((error) => error.extensions?.code)).toEqual(['PERSISTED_DOCUMENT_REQUIRED']);
    expect((await post(open.url, '{ gifts {')).errors?.map((error) => error.extensions?.code)).toEqual(['GRAPHQL_PARSE_FAILED']);
    const socket = openSocket(instance.url);
    await socket.connected;
    const refused = await within(subscribe(socket, UserUpdated).ended, 'the text subscription to be refused');
    expect(refused.error).toEqual([expect.objectContaining({ extensions: { code: 'PERSISTED_DOCUMENT_REQUIRED' } })]);
    await socket.dispose();

    expect((await metricsOf(instance)).value('ovation_graphql_errors_total', { operation: 'anonymous', code: 'PERSISTED_DOCUMENT_REQUIRED' })).toBe(2);
    expect((await metricsOf(open)).value('ovation_graphql_errors_total', { operation: 'anonymous', code: 'GRAPHQL_PARSE_FAILED' })).toBe(1);
  });

  test('payment webhooks by outcome: applied, duplicate, rejected', async () => {
    const instance = await anotherInstance();
    const buyer = await signedIn(db);
    const purchase = await bought(instance, buyer, (await createTestBundle(db)).id, SANDBOX_METHODS.succeedsByWebhook);
    const event = paymentEvent('payment.succeeded', purchase.dbId);

    expect((await postWebhook(instance, event)).body.result).toBe('applied');
    expect((await postWebhook(instance, event)).body.result).toBe('duplicate');
    expect((await postWebhook(instance, paymentEvent('payment.succeeded', purchase.dbId), { secret: 'someone-elses-secret-0000' })).status).toBe(400);

    const metrics = await metricsOf(instance);
    expect(metrics.value('ovation_payment_webhooks_total', { outcome: 'applied' })).toBe(1);
    expect(metrics.value('ovation_payment_webhooks_total', { outcome: 'duplicate' })).toBe(1);
    expect(metrics.value('ovation_payment_webhooks_total', { outcome: 'rejected' })).toBe(1);
    expect(metrics.value('ovation_payment_webhooks_total')).toBe(3);
  });

  test('live-session subscribers: up as graphql-ws subscribers join a room, down as they leave', async () => {
    const instance = await anotherInstance();
    const { session } = await createLiveCreator(db);
    const subscribersReach = (count: number) =>
      eventually(async () => ((await metricsOf(instance)).value('ovation_live_session_subscribers') === count ? true : undefined), `${count} subscribers`);
    expect((await metricsOf(instance)).value('ovation_live_session_subscribers')).toBe(0);

    const one = watchRoom(openSocket(instance.url), session);
    const otherSocket = openSocket(instance.url);
    watchRoom(otherSocket, session);
    await subscribersReach(2);

    one.unsubscribe();
    await subscribersReach(1);
    await otherSocket.dispose();
    await subscribersReach(0);
  });
});

describe('who may read /metrics', () => {
  const METRICS_TOKEN = 'metrics-token-0123456789';
  const mainPortMetrics = (instance: TestServer) => new URL('/metrics', instance.url).toString();

  test('in development, with nothing configured, anyone may, on the main port', async () => {
    expect(first.metricsUrl).toBe(mainPortMetrics(first));
    expect((await scrape(first.metricsUrl!)).status).toBe(200);
  });

  test('with METRICS_TOKEN, only a request bearing the token (401 otherwise)', async () => {
    const instance = await anotherInstance({ env: 'production', variables: { METRICS_TOKEN } });

    expect(instance.metricsUrl).toBe(mainPortMetrics(instance));
    expect((await scrape(instance.metricsUrl!)).status).toBe(401);
    expect((await scrape(instance.metricsUrl!, 'not-the-metrics-token-000')).status).toBe(401);
    expect((await scrape(instance.metricsUrl!, METRICS_TOKEN)).status).toBe(200);
  });

  test('in production with neither METRICS_PORT nor METRICS_TOKEN, nobody: /metrics is not served, and the start-up log says so', async () => {
    const lines: string[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const instance = await anotherInstance({ env: 'production', log });

    expect(instance.metricsUrl).toBeUndefined();
    expect((await scrape(mainPortMetrics(instance))).status).toBe(404);
    expect(lines.map((line) => JSON.parse(line) as { msg: string; metrics?: string })).toContainEqual(
      expect.objectContaining({ metrics: 'off', msg: expect.stringMatching(/^metrics are off/) }),
    );
  });

  test('with METRICS_PORT, on a port of its own (for a private network) and not on the main port', async () => {
    const instance = await anotherInstance({ env: 'production', variables: { METRICS_PORT: '0' } });
    const own = new URL(instance.metricsUrl!);

    expect(own.port).not.toBe(String(instance.port));
    expect(own.pathname).toBe('/metrics');
    expect((await scrape(instance.metricsUrl!)).status).toBe(200);
    expect((await scrape(mainPortMetrics(instance))).status).toBe(404);
    expect((await fetch(new URL('/graphql', own))).status).toBe(404);
  });

  test('with METRICS_PORT and METRICS_TOKEN, on its own port and only with the token', async () => {
    const instance = await anotherInstance({ env: 'production', variables: { METRICS_PORT: '0', METRICS_TOKEN } });

    expect(new URL(instance.metricsUrl!).port).not.toBe(String(instance.port));
    expect((await scrape(instance.metricsUrl!)).status).toBe(401);
    expect((await scrape(instance.metricsUrl!, METRICS_TOKEN)).status).toBe(200);
  });
});
