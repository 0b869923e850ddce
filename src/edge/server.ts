import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { getOperationAST, GraphQLError, type ExecutionArgs, type execute, type subscribe } from 'graphql';
import { createYoga, maskError, type Plugin, type YogaInitialContext } from 'graphql-yoga';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import { AccountSuspendedError, IdentityProviderUnavailableError, NotAuthenticatedError, OvationError, RateLimitedError } from '../domain/errors.js';
import type { Viewer } from '../domain/viewer.js';
import { authenticateApiKey, type BrandKey } from '../domain/brands/access.js';
import { looksLikeApiKey } from '../domain/brands/api-keys.js';
import { ResumeRequiredError } from '../events/fanout/room-stream.js';
import { createSharedSubscriptions, type Delivery } from '../events/fanout/shared-subscriptions.js';
import type { Logger } from '../logger.js';
import type { Context, Identity, Services } from '../schema/context.js';
import { schema } from '../schema/index.js';
import type { Accounts } from './accounts.js';
import { clientAddress, type RateLimits } from './rate-limits.js';
import type { BlockList } from 'node:net';
import { bearerToken, type Auth, type TokenSubject } from './auth.js';
import { MAX_REQUEST_BODY_BYTES, useRequestBodyLimit } from './body-limit.js';
import { useQueryLimits } from './query-limits.js';
import { useReadiness } from './readiness.js';
import { isScrape, serveMetrics, type Metrics, type MetricsAccess } from './metrics.js';
import { GRAPHIQL_OPTIONS, renderOfflineGraphiQL } from './graphiql.js';
import { isOverlayRequest, serveOverlay } from './overlay-pages.js';
import { useSchemaDiscovery } from './schema-discovery.js';
import type { TrustedDocuments } from './trusted-documents.js';
import { handlePaymentWebhook, handlePayoutWebhook, handleStripeWebhook, PAYOUT_WEBHOOK_PATH, STRIPE_WEBHOOK_PATH, WEBHOOK_PATH } from './webhooks.js';

export type ServerDeps = {
  services: Services;
  auth: Auth;
  /** The viewer's roles, from the database (remembered per instance until the account changes). */
  accounts: Accounts;
  log: Logger;
  /** Origins whose pages may call the API from a browser; '*' is any. Tokens travel in headers, never cookies. */
  corsOrigins: string[] | '*';
  metrics: Metrics;
  metricsAccess: MetricsAccess;
  /** The most a query may cost (src/edge/query-limits.ts). */
  maxQueryCost: number;
  /** Introspection and "Did you mean ...?" in errors (src/edge/schema-discovery.ts). */
  introspection: boolean;
  /** Documents sent by id, and whether text is refused (src/edge/trusted-documents.ts). */
  trustedDocuments: TrustedDocuments;
  rateLimits: RateLimits;
  /** TRUST_PROXY: proxies whose X-Forwarded-For names the client. */
  trustedProxies: BlockList | undefined;
};

export type OvationServer = {
  httpServer: http.Server;
  listen(port: number, host?: string): Promise<{ port: number }>;
  /** Stops accepting, lets in-flight requests finish, then closes every socket. */
  close(): Promise<void>;
};

type Initial = YogaInitialContext & { viewer?: Viewer | null; identity?: Identity | null; clientAddress?: string; req?: http.IncomingMessage };
type SignedIn = { viewer: Viewer | null; identity: Identity | null; brandKey?: BrandKey | null };

const GRAPHQL_PATH = '/graphql';
// A client's request id is echoed and logged only if it looks like one.
const REQUEST_ID = /^[\w.-]{1,128}$/;
/** Operations one graphql-ws connection may have open at once: a room page needs three or four. */
export const MAX_SUBSCRIPTIONS_PER_CONNECTION = 100;

/** One port: GraphQL over HTTP and SSE, graphql-ws on the same path, /healthz and /readyz, and /metrics unless elsewhere or off. */
export function createServer({
  services,
  auth,
  accounts,
  log,
  corsOrigins,
  maxQueryCost,
  introspection,
  trustedDocuments,
  metrics,
  metricsAccess,
  rateLimits,
  trustedProxies,
}: ServerDeps): OvationServer {
  const { db, development } = services;
  /** The account a token's subject is (an identity provider's through its IdentityLink), or none yet. */
  const accountOf = async (subject: TokenSubject): Promise<string | undefined> =>
    subject.kind === 'account' ? subject.userId : accounts.linkedAccount(subject.issuer, subject.subject);
  const signedIn = async (subject: TokenSubject | null): Promise<SignedIn> => {
    if (!subject) return { viewer: null, identity: null };
    const identity = subject.kind === 'identity' ? { issuer: subject.issuer, subject: subject.subject } : null;
    const userId = await accountOf(subject);
    return { viewer: userId ? await accounts.viewer(userId) : null, identity };
  };
  // A brand's API key comes as a bearer credential too (`Authorization: Bearer ovbk_...`): it speaks for
  // its brand, with no viewer. Checked against the database on every request, so revocation is at once.
  const signedInWith = async (token: string | undefined): Promise<SignedIn> =>
    token && looksLikeApiKey(token) ? { viewer: null, identity: null, brandKey: await authenticateApiKey(db, token) } : signedIn(token ? await auth.verifyToken(token) : null);

  // Refusals carry their code to the client (and a dropped room subscriber where to resume, for programs
  // rather than in the message); the client's own malformed requests already read well and get a code;
  // anything else is logged and masked, never a stack trace.
  function toClientError(error: unknown, message = 'Unexpected error.', isDev = false): GraphQLError {
    const original = error instanceof GraphQLError ? error.originalError : error;
    if (original instanceof OvationError) {
      if (original instanceof IdentityProviderUnavailableError) log.warn({ err: original.cause }, 'identity provider unavailable');
      return new GraphQLError(original.message, {
        ...(error instanceof GraphQLError ? { nodes: error.nodes, path: error.path } : {}),
        extensions: {
          code: original.code,
          ...(original instanceof ResumeRequiredError ? { lastSequence: original.lastSequence } : {}),
          ...(original instanceof NotAuthenticatedError ? { http: { status: 401 } } : {}),
          ...(original instanceof AccountSuspendedError ? { http: { status: 403 } } : {}),
          ...(original instanceof IdentityProviderUnavailableError
            ? { retryAfterSeconds: original.retryAfterSeconds, http: { status: 503, headers: { 'Retry-After': String(original.retryAfterSeconds) } } }
            : {}),
          ...(original instanceof RateLimitedError
            ? { retryAfterSeconds: original.retryAfterSeconds, http: { status: 429, headers: { 'Retry-After': String(original.retryAfterSeconds) } } }
            : {}),
        },
      });
    }
    if (error instanceof GraphQLError && (!original || original instanceof GraphQLError)) {
      if (error.extensions.code) return error;
      return new GraphQLError(error.message, { nodes: error.nodes, path: error.path, extensions: { ...error.extensions, code: 'BAD_USER_INPUT' } });
    }
    log.error({ err: original ?? error }, 'unexpected error');
    return maskError(error, message, isDev) as GraphQLError;
  }
  // Mutations per signed-in account (or brand), over HTTP and graphql-ws alike; one operation counts once.
  const limitMutations: Plugin<Context> = {
    async onExecute({ args, setResultAndStopExecution }) {
      const context = args.contextValue;
      // A brand's key counts as its brand (all of a brand's keys share one allowance).
      const caller = context.viewer?.userId ?? context.brandKey?.brandId;
      if (!caller || getOperationAST(args.document, args.operationName)?.operation !== 'mutation') return;
      try {
        await rateLimits.consume('mutations', caller);
      } catch (error) {
        setResultAndStopExecution({ errors: [toClientError(error)] });
      }
    },
  };
  // Subscriptions per client address over HTTP (SSE). graphql-ws counts its own in onSubscribe below,
  // before parsing, whatever path the operation then takes; its contexts carry no request.
  const limitSubscriptions: Plugin<Context> = {
    async onSubscribe({ args, setResultAndStopExecution }) {
      const context = args.contextValue as Context & { request?: Request };
      if (!context.request) return;
      try {
        await rateLimits.consume('subscriptions', context.clientAddress ?? 'unknown');
      } catch (error) {
        setResultAndStopExecution({ errors: [toClientError(error)] });
      }
    },
  };
  // Subscription fields marked shared in the schema go through the fan-out (src/events/fanout/).
  const fanout = createSharedSubscriptions({ toClientError: (error) => toClientError(error), viewerKeys: VIEWER_KEYS });
  metrics.fanout(fanout.counts);

  const yoga = createYoga<object, Context>({
    schema,
    graphqlEndpoint: GRAPHQL_PATH,
    maxRequestBodySize: false, // useRequestBodyLimit below bounds bodies instead, for much less
    // useQueryLimits keeps each document's validation instead: Yoga's would keep a cost refusal too.
    parserAndValidationCache: { validationCache: false },
    healthCheckEndpoint: '/healthz',
    landingPage: false,
    cors: (request) => {
      if (corsOrigins === '*') return { origin: '*', credentials: false };
      const origin = request.headers.get('origin');
      // No CORS headers at all for any other origin: its browser keeps the answer from the page.
      return origin && corsOrigins.includes(origin) ? { origin: [origin], credentials: false } : false;
    },
    graphiql: development ? GRAPHIQL_OPTIONS : false,
    renderGraphiQL: renderOfflineGraphiQL,
    logging: {
      debug: (...args) => log.debug({ yoga: args }),
      info: (...args) => log.info({ yoga: args }),
      warn: (...args) => log.warn({ yoga: args }),
      // Unexpected errors are logged once, with their stack, by maskError below.
      error: (...args) => log.debug({ yoga: args }),
    },
    maskedErrors: { maskError: (error, message, isDev) => toClientError(error, message, isDev) },
    context: async (initial: Initial) => ({
      ...('viewer' in initial
        ? { viewer: initial.viewer ?? null, identity: initial.identity ?? null }
        : await signedInWith(bearerToken(initial.request.headers.get('authorization')))),
      clientAddress: initial.clientAddress ?? (initial.req ? clientAddress(initial.req.socket.remoteAddress, initial.req.headers['x-forwarded-for'], trustedProxies) : undefined),
      ...services,
      rateLimits,
    }),
    plugins: [
      metrics.operations,
      limitMutations,
      limitSubscriptions,
      useRequestBodyLimit(),
      ...trustedDocuments.plugins,
      ...useSchemaDiscovery(introspection),
      ...useQueryLimits({ maxCost: maxQueryCost }),
      // The database and (with Redis) the event bus must answer; details go to the log, not the probe.
      useReadiness(async () => {
        try {
          await db.$queryRaw`SELECT 1`;
          return await services.pubsub.ready();
        } catch (error) {
          log.warn({ err: error }, 'not ready');
          return false;
        }
      }),
    ],
  });

  let stopping = false;
  const httpServer = http.createServer((req, res) => {
    const given = req.headers['x-request-id'];
    const requestId = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    const started = performance.now();
    res.setHeader('x-request-id', requestId);
    res.once('finish', () => {
      log.debug({ requestId, method: req.method, url: req.url, status: res.statusCode, ms: Math.round(performance.now() - started) }, 'request');
      // httpServer.close() only drops connections idle at that moment; one whose answer was still on its
      // way would otherwise sit in keep-alive and hold the shutdown until the grace period runs out.
      if (stopping) httpServer.closeIdleConnections();
    });
    // Each handler settles its own errors; what escapes one anyway is a bug, answered as one.
    const failed = (error: unknown) => {
      log.error({ err: error, requestId }, 'request handler failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"Internal error"}');
      else res.destroy();
    };
    try {
      const handled =
        req.method === 'POST' && req.url === WEBHOOK_PATH
          ? handlePaymentWebhook(req, res, services, log, metrics.webhook)
          : req.method === 'POST' && req.url === PAYOUT_WEBHOOK_PATH
            ? handlePayoutWebhook(req, res, services, log, metrics.webhook)
            : req.method === 'POST' && req.url === STRIPE_WEBHOOK_PATH
              ? handleStripeWebhook(req, res, services, log, metrics.webhook)
              : isOverlayRequest(req)
                ? serveOverlay(req, res)
                : metricsAccess.on === 'main-port' && isScrape(req)
                  ? serveMetrics(req, res, metrics.registry, metricsAccess.token, log)
                  : yoga(req, res);
      if (handled instanceof Promise) handled.catch(failed);
    } catch (error) {
      failed(error);
    }
  });

  // A message is bounded as a request body is (ws's default is 100 MiB); past it, ws closes the socket
  // with 1009 before the message is parsed.
  // Signed-in sockets by account: a suspension closes them (4403) on every instance, as soon as it is announced.
  const socketsOf = new Map<string, Set<WebSocket>>();
  // 1013 is WebSocket's "try again later": the identity provider did not answer, the token may be fine.
  const closeCode = (error: unknown) => (error instanceof AccountSuspendedError ? 4403 : error instanceof IdentityProviderUnavailableError ? 1013 : 4401);
  accounts.onChange((userId) => {
    const open = socketsOf.get(userId);
    if (!open?.size) return;
    accounts.viewer(userId).then(
      () => {},
      (error: unknown) => {
        for (const socket of open) socket.close(closeCode(error), error instanceof OvationError ? error.message : 'Unauthorized');
      },
    );
  });
  const addressOf = (request: http.IncomingMessage) => clientAddress(request.socket.remoteAddress, request.headers['x-forwarded-for'], trustedProxies);
  const sockets = new WebSocketServer({
    server: httpServer,
    path: GRAPHQL_PATH,
    maxPayload: MAX_REQUEST_BODY_BYTES,
    // Connections per client address: past the limit the upgrade is answered 429 with Retry-After.
    verifyClient: (info, done) => {
      rateLimits.consume('connections', addressOf(info.req)).then(
        () => done(true),
        (error: unknown) => {
          if (error instanceof RateLimitedError) done(false, 429, 'Too Many Requests', { 'Retry-After': String(error.retryAfterSeconds) });
          else {
            log.error({ err: error }, 'rate limit check failed');
            done(true);
          }
        },
      );
    },
  });
  useServer<Record<string, unknown>, { subject: TokenSubject | null }>(
    {
      execute: (args) => (args.rootValue as Enveloped).execute(args),
      subscribe: (args) => {
        const { subscribe, delivery } = args.rootValue as Enveloped & { delivery: Delivery };
        return fanout.subscribe(args, subscribe, delivery) as ReturnType<typeof subscribe>;
      },
      // The token comes in connectionParams; a bad one closes the socket with the reason.
      onConnect: async (ctx) => {
        try {
          const authorization = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
          const token = bearerToken(typeof authorization === 'string' ? authorization : undefined);
          const subject = token ? await auth.verifyToken(token) : null;
          const userId = subject ? await accountOf(subject) : undefined;
          if (userId) await accounts.viewer(userId);
          ctx.extra.subject = subject;
          if (subject && userId) {
            const socket = ctx.extra.socket;
            const open = socketsOf.get(userId) ?? new Set();
            socketsOf.set(userId, open.add(socket));
            // The socket lives no longer than its token (timers past 24.8 days overflow: those wait for an operation).
            const left = subject.expiresAtMs - Date.now();
            const expiry = left < 2 ** 31 ? setTimeout(() => socket.close(4401, 'The token has expired'), left) : undefined;
            expiry?.unref();
            socket.once('close', () => {
              clearTimeout(expiry);
              open.delete(socket);
              if (open.size === 0 && socketsOf.get(userId) === open) socketsOf.delete(userId);
            });
          }
          return true;
        } catch (error) {
          ctx.extra.socket.close(closeCode(error), error instanceof OvationError ? error.message : 'Unauthorized');
          return false;
        }
      },
      onSubscribe: async (ctx, id, params) => {
        // This one is already counted. Each costs the server memory for as long as it stays open.
        if (Object.keys(ctx.subscriptions).length > MAX_SUBSCRIPTIONS_PER_CONNECTION) {
          return [
            new GraphQLError(`A connection may hold at most ${MAX_SUBSCRIPTIONS_PER_CONNECTION} subscriptions at once: complete one first`, {
              extensions: { code: 'TOO_MANY_SUBSCRIPTIONS' },
            }),
          ];
        }
        // Each operation is the account as it stands now (its roles from the database), under a token
        // that has not expired since the socket connected.
        let signedInAs: SignedIn = { viewer: null, identity: null };
        const subject = ctx.extra.subject;
        if (subject) {
          try {
            if (subject.expiresAtMs <= Date.now()) throw new NotAuthenticatedError('The token has expired');
            signedInAs = await signedIn(subject);
          } catch (error) {
            ctx.extra.socket.close(closeCode(error), error instanceof OvationError ? error.message : 'Unauthorized');
            return [toClientError(error)];
          }
        }
        const address = addressOf(ctx.extra.request);
        const initial = { ...signedInAs, clientAddress: address, params };
        const enveloped = yoga.getEnveloped(initial);
        // The same rules as over HTTP: a trusted document by id, text only unless TRUSTED_DOCUMENTS_ONLY.
        const source = trustedDocuments.socketSource(initial, params);
        if (source instanceof GraphQLError) {
          metrics.socketRefused(source);
          return [source];
        }
        let document;
        try {
          document = enveloped.parse(source);
        } catch (error) {
          const refusal = error instanceof GraphQLError ? error : new GraphQLError('Could not parse the query');
          metrics.socketRefused(refusal);
          return [refusal];
        }
        // Subscriptions started per client address, whatever socket they come on.
        if (getOperationAST(document, params.operationName)?.operation === 'subscription') {
          try {
            await rateLimits.consume('subscriptions', address);
          } catch (error) {
            return [toClientError(error)];
          }
        }
        const errors = enveloped.validate(enveloped.schema, document);
        if (errors.length > 0) return errors;
        const args: ExecutionArgs = {
          schema: enveloped.schema,
          document,
          operationName: params.operationName,
          variableValues: params.variables,
          contextValue: await enveloped.contextFactory(),
          rootValue: { execute: enveloped.execute, subscribe: enveloped.subscribe, delivery: { socket: ctx.extra.socket, connection: ctx.extra.request.socket, id } },
        };
        return args;
      },
    },
    sockets,
    // Pings find dead peers, so their subscriptions end instead of lingering.
    15_000,
  );
  // A socket's 'error' is the client breaking the protocol (an oversized or malformed frame; with no
  // compression negotiated, ws's reader is the only source): ws has already closed it with the code that
  // says so (1009, 1002...). graphql-ws, listening just before, would print it with console.error and a
  // stack, as an internal error, outside the JSON log and for any client to cause at will; it is logged
  // here as what it is instead.
  sockets.on('connection', (socket) => {
    socket.removeAllListeners('error');
    socket.on('error', (error: Error & { code?: string }) => log.info({ code: error.code, reason: error.message }, 'WebSocket client broke the protocol'));
  });

  return {
    httpServer,
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(port, host, () => resolve({ port: (httpServer.address() as AddressInfo).port }));
      }),
    async close() {
      stopping = true;
      const closed = new Promise<void>((resolve) => httpServer.close(() => resolve()));
      httpServer.closeIdleConnections();
      for (const client of sockets.clients) client.close(1001, 'Server shutting down');
      await new Promise<void>((resolve) => sockets.close(() => resolve()));
      // In-flight HTTP requests get a moment to finish; streams (SSE) that never end are cut.
      const deadline = setTimeout(() => httpServer.closeAllConnections(), 5_000);
      await closed;
      clearTimeout(deadline);
      await yoga.dispose();
    },
  };
}

type Enveloped = { execute: typeof execute; subscribe: typeof subscribe };

/** What of a context is one subscriber's: a shared subscription's events are executed without it. */
const VIEWER_KEYS = ['viewer', 'identity', 'clientAddress', 'brandKey'] as const satisfies readonly (keyof Context)[];
