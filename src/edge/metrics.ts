import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { getOperationAST, GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Config } from '../config.js';
import { OvationError } from '../domain/errors.js';
import type { GiftObserver } from '../domain/gifting.js';
import type { FanoutCounts } from '../events/fanout/shared-subscriptions.js';
import type { Logger } from '../logger.js';

export const METRICS_PATH = '/metrics';

/** What became of one webhook delivery. */
export type WebhookOutcome = 'applied' | 'duplicate' | 'ignored' | 'rejected' | 'failed';
/** What a webhook delivery was about: a payment (purchases, brand fundings) or a payout. */
export type WebhookKind = 'payment' | 'payout';

/** One instance's metrics: its own registry, so instances sharing a process (tests) never mix counts. */
export type Metrics = {
  registry: Registry;
  gifts: GiftObserver;
  webhook(kind: WebhookKind, outcome: WebhookOutcome): void;
  /** Counts and times GraphQL operations over HTTP, SSE and graphql-ws alike. */
  operations: Plugin;
  /** A graphql-ws operation refused before it parsed (a trusted document missing or required, bad syntax). */
  socketRefused(error: GraphQLError): void;
  /** Reads the fan-out's counts of messages sent, by path, at each scrape. */
  fanout(counts: FanoutCounts): void;
};

/**
 * Operation names come from clients: past this many distinct names, new ones are counted as "other", so
 * that a client inventing names cannot grow the registry (and every scrape) without bound.
 */
const MAX_OPERATION_NAMES = 200;
const SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createMetrics({ subscribers }: { subscribers: () => number }): Metrics {
  const registry = new Registry();
  const registers = [registry];
  const requests = new Counter({
    name: 'ovation_graphql_requests_total',
    help: 'GraphQL operations received (valid or not), by operation name and type.',
    labelNames: ['operation', 'type'],
    registers,
  });
  const errors = new Counter({
    name: 'ovation_graphql_errors_total',
    help: 'Errors in GraphQL results (not typed refusals such as INSUFFICIENT_COINS, which are results), by operation name and code.',
    labelNames: ['operation', 'code'],
    registers,
  });
  const duration = new Histogram({
    name: 'ovation_graphql_request_duration_seconds',
    help: 'Seconds from parsing a query or mutation to its result, by operation name and type.',
    labelNames: ['operation', 'type'],
    buckets: SECONDS,
    registers,
  });
  const committed = new Counter({ name: 'ovation_gifts_committed_total', help: 'Gifts committed.', registers });
  const refused = new Counter({
    name: 'ovation_gifts_refused_total',
    help: "Gifts refused, by the refusal's code.",
    labelNames: ['reason'],
    registers,
  });
  const batchSize = new Histogram({
    name: 'ovation_gift_batch_size',
    help: 'Gifts written together in one transaction (group commit).',
    buckets: [1, 2, 4, 8, 16, 32, 64, 100],
    registers,
  });
  const batchSeconds = new Histogram({
    name: 'ovation_gift_batch_commit_seconds',
    help: "Seconds from a gift batch's asking for a connection to its COMMIT.",
    buckets: SECONDS,
    registers,
  });
  // Read from presence at each scrape, so joining and leaving a room cost nothing more.
  new Gauge({
    name: 'ovation_live_session_subscribers',
    help: 'Subscribers to live sessions on this instance.',
    registers,
    collect() {
      this.set(subscribers());
    },
  });
  // The fan-out counts in plain numbers, read at each scrape: a labelled counter's increment per viewer
  // and gift would cost more than the fan-out's own work.
  let fanout: FanoutCounts = { direct: 0, stream: 0 };
  new Counter({
    name: 'ovation_fanout_messages_total',
    help: 'Messages of shared subscriptions (live rooms) sent to graphql-ws subscribers, by path: direct from the room, or through the stream.',
    labelNames: ['path'],
    registers,
    collect() {
      this.reset();
      this.inc({ path: 'direct' }, fanout.direct);
      this.inc({ path: 'stream' }, fanout.stream);
    },
  });
  const webhooks = new Counter({
    name: 'ovation_payment_webhooks_total',
    help: 'Payment webhook deliveries, by outcome.',
    labelNames: ['outcome'],
    registers,
  });
  const payoutWebhooks = new Counter({
    name: 'ovation_payout_webhooks_total',
    help: 'Payout webhook deliveries, by outcome.',
    labelNames: ['outcome'],
    registers,
  });
  return {
    registry,
    gifts: {
      batchCommitted(size, seconds) {
        batchSize.observe(size);
        batchSeconds.observe(seconds);
      },
      giftCommitted: () => committed.inc(),
      giftRefused: (code) => refused.inc({ reason: code }),
    },
    webhook: (kind, outcome) => (kind === 'payout' ? payoutWebhooks : webhooks).inc({ outcome }),
    operations: useOperationMetrics(requests, errors, duration),
    socketRefused: (error) => errors.inc({ operation: 'anonymous', code: codeOf(error) }),
    fanout: (counts) => {
      fanout = counts;
    },
  };
}

type Operation = { started: number; name: string; type: string };

function useOperationMetrics(requests: Counter<'operation' | 'type'>, errors: Counter<'operation' | 'code'>, duration: Histogram<'operation' | 'type'>): Plugin {
  // Keyed by the operation's context, which the parse, validate and execute hooks share.
  const operations = new WeakMap<object, Operation>();
  // HTTP requests whose operation was counted; the others were refused before validation (a document
  // that does not parse, a trusted document missing or required, no query at all): their errors count
  // as the result goes out.
  const counted = new WeakSet<Request>();
  const names = new Set<string>();
  const nameOf = (name: string | undefined) => {
    if (!name) return 'anonymous';
    if (names.size < MAX_OPERATION_NAMES) names.add(name);
    return names.has(name) ? name : 'other';
  };
  const countErrors = (operation: Operation, result: unknown) => {
    for (const error of (result as { errors?: readonly GraphQLError[] }).errors ?? []) errors.inc({ operation: operation.name, code: codeOf(error) });
  };
  return {
    onParse({ context }) {
      operations.set(context, { started: performance.now(), name: 'anonymous', type: 'unknown' });
    },
    onValidate({ context, params: { documentAST } }) {
      return ({ valid }) => {
        const operation = operations.get(context);
        if (!operation) return;
        const requested = (context as { params?: { operationName?: string | null } }).params?.operationName ?? undefined;
        const definition = getOperationAST(documentAST, requested);
        operation.name = nameOf(definition?.name?.value ?? requested);
        operation.type = definition?.operation ?? 'unknown';
        requests.inc({ operation: operation.name, type: operation.type });
        const request = (context as { request?: Request }).request;
        if (request) counted.add(request);
        if (!valid) errors.inc({ operation: operation.name, code: 'GRAPHQL_VALIDATION_FAILED' });
      };
    },
    onExecute({ args }) {
      const operation = operations.get(args.contextValue as object);
      if (!operation) return;
      return {
        onExecuteDone({ result }) {
          countErrors(operation, result);
          duration.observe({ operation: operation.name, type: operation.type }, (performance.now() - operation.started) / 1000);
        },
      };
    },
    onResultProcess({ request, result }) {
      if (counted.has(request)) return;
      for (const each of Array.isArray(result) ? result : [result]) countErrors({ started: 0, name: 'anonymous', type: 'unknown' }, each);
    },
    onSubscribe({ args }) {
      const operation = operations.get(args.contextValue as object);
      if (!operation) return;
      // A subscription refused at the start (e.g. an ended session) has a result, not a stream.
      return { onSubscribeResult: ({ result }) => countErrors(operation, result) };
    },
  };
}

/** The code a client sees for this error (see toClientError in server.ts). */
function codeOf(error: GraphQLError): string {
  const original = error.originalError;
  if (original instanceof OvationError) return original.code;
  if (typeof error.extensions?.code === 'string') return error.extensions.code;
  return original && !(original instanceof GraphQLError) ? 'INTERNAL_SERVER_ERROR' : 'BAD_USER_INPUT';
}

/**
 * Where /metrics is served. METRICS_PORT: on a listener of its own. METRICS_TOKEN: only with the token
 * (on the main port unless METRICS_PORT is set). Neither: open on the main port in development; off
 * anywhere else, where the public port must not tell anyone the traffic and the money flowing.
 */
export type MetricsAccess = { on: 'own-port'; port: number; token?: string } | { on: 'main-port'; token?: string } | { on: 'nowhere' };

export function metricsAccess(config: Pick<Config, 'development' | 'metricsPort' | 'metricsToken'>): MetricsAccess {
  const token = config.metricsToken;
  if (config.metricsPort !== undefined) return { on: 'own-port', port: config.metricsPort, ...(token ? { token } : {}) };
  if (token) return { on: 'main-port', token };
  return config.development ? { on: 'main-port' } : { on: 'nowhere' };
}

/** Answers a scrape; with a token configured, 401 unless the request carries it. */
export async function serveMetrics(req: http.IncomingMessage, res: http.ServerResponse, registry: Registry, token: string | undefined, log: Logger) {
  if (token !== undefined && !carriesToken(req.headers.authorization, token)) {
    res.writeHead(401, { 'www-authenticate': 'Bearer', 'content-type': 'text/plain' });
    res.end('Unauthorized\n');
    return;
  }
  try {
    const body = await registry.metrics();
    res.writeHead(200, { 'content-type': registry.contentType });
    res.end(body);
  } catch (error) {
    log.error({ err: error }, 'metrics failed');
    res.writeHead(500, { 'content-type': 'text/plain' });
    res.end('Internal error\n');
  }
}

// Digests compared in constant time: neither the token's length nor its characters leak through timing.
function carriesToken(header: string | undefined, token: string): boolean {
  const given = /^Bearer\s+(\S+)$/i.exec(header?.trim() ?? '')?.[1] ?? '';
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(token));
}

/** Whether a request is a scrape: GET /metrics, with or without a query string. */
export const isScrape = (req: http.IncomingMessage) => req.method === 'GET' && (req.url ?? '').split('?')[0] === METRICS_PATH;

/** /metrics on a listener of its own (METRICS_PORT), e.g. on an interface only the monitoring network reaches. */
export async function listenForScrapes(registry: Registry, access: { port: number; token?: string }, host: string, log: Logger) {
  const server = http.createServer((req, res) => {
    if (isScrape(req)) return void serveMetrics(req, res, registry, access.token, log);
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('Not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(access.port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
