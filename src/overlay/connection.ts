import { createClient, type SubscribePayload } from 'graphql-ws';

/** Where the page left off: the session and the sequence of the last gift it rendered. */
export type Cursor = { liveSessionId: string; sequence: number };

/** How a subscription ended for good: the page says so and stops. */
export type Final = 'revoked' | 'unknown-token';

type Options<Event> = {
  url: string;
  /** The trusted document's id ("sha256:<hex>"), sent instead of its text. */
  documentId: string;
  variables: (cursor: Cursor | null) => Record<string, unknown>;
  /** The page's own cursor, read at every (re)subscription. */
  cursor: () => Cursor | null;
  /** Forgets the cursor (the server refused it: its database no longer has that point). */
  forget: () => void;
  onEvent: (event: Event) => Final | void;
  onStatus: (status: 'connecting' | Final) => void;
};

/** A ping every 10 s; no pong within 5 s closes the socket, which reconnects. */
const PING_MS = 10_000;
const PONG_MS = 5_000;
const MAX_BACKOFF_MS = 30_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const codeOf = (result: { errors?: readonly { extensions?: Record<string, unknown> }[] }) => result.errors?.map((error) => error.extensions?.code)[0];

/**
 * Keeps the overlay's subscription open for as long as the page lives. graphql-ws's own retry would
 * subscribe again with the variables of the first time; this subscribes afresh on every connection with
 * the page's cursor (`after`), so every gift missed while away is heard once. Any end but a final one
 * (server restart, network drop, RESUME_REQUIRED, a missed pong) reconnects, with backoff from 0.5 s to
 * 30 s, reset once events flow.
 */
export async function follow<Event>(options: Options<Event>): Promise<void> {
  for (let attempt = 0; ; ) {
    options.onStatus('connecting');
    const outcome = await subscribeOnce(options, () => (attempt = 0));
    if (outcome === 'revoked' || outcome === 'unknown-token') {
      options.onStatus(outcome);
      return;
    }
    if (outcome === 'bad-cursor') options.forget();
    const backoff = Math.min(MAX_BACKOFF_MS, 500 * 2 ** attempt);
    attempt = Math.min(attempt + 1, 10);
    await sleep(outcome === 'resume' ? 0 : backoff / 2 + Math.random() * (backoff / 2));
  }
}

type Outcome = Final | 'resume' | 'bad-cursor' | 'retry';

function subscribeOnce<Event>(options: Options<Event>, flowing: () => void): Promise<Outcome> {
  let socket: WebSocket | undefined;
  let pong: ReturnType<typeof setTimeout> | undefined;
  const client = createClient({
    url: options.url,
    lazy: true,
    retryAttempts: 0,
    keepAlive: PING_MS,
    on: {
      connected: (connected) => (socket = connected as WebSocket),
      ping: (received) => {
        if (!received) pong = setTimeout(() => socket?.close(4408, 'No pong'), PONG_MS);
      },
      pong: (received) => {
        if (received) clearTimeout(pong);
      },
      closed: () => clearTimeout(pong),
    },
  });
  return new Promise<Outcome>((resolve) => {
    // graphql-ws requires a query string: an empty one, and the id beside it, as over HTTP.
    const payload: SubscribePayload & { documentId: string } = { query: '', documentId: options.documentId, variables: options.variables(options.cursor()) };
    client.subscribe<{ overlayEvents: Event }>(
      payload,
      {
        next: (result) => {
          const code = codeOf(result);
          if (code === 'OVERLAY_TOKEN_REVOKED') return resolve('revoked');
          if (code === 'UNAUTHENTICATED') return resolve('unknown-token');
          if (code === 'RESUME_REQUIRED') return resolve('resume');
          if (code === 'VALIDATION_FAILED') return resolve('bad-cursor');
          if (code !== undefined || !result.data) return resolve('retry');
          flowing();
          const final = options.onEvent(result.data.overlayEvents);
          if (final) resolve(final);
        },
        error: () => resolve('retry'),
        complete: () => resolve('retry'),
      },
    );
  }).finally(() => {
    clearTimeout(pong);
    void client.dispose();
  });
}
