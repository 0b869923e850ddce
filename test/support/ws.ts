import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { createClient, type Client, type FormattedExecutionResult, type SubscribePayload } from 'graphql-ws';
import WebSocket from 'ws';
import { documentIdOf } from './graphql.js';
import { Inbox, releaseWhenDone, within } from './wait.js';

export type Closed = { code: number; reason: string };

export type SocketClient = Client & {
  /** Settles when the server acknowledges the connection; rejects if the socket closes first. */
  connected: Promise<void>;
  /** Settles when the socket closes, with the code and reason the server gave. */
  closed: Promise<Closed>;
  /** The socket's close, waited for at most `ms`. */
  nextClose(ms?: number): Promise<Closed>;
};

/** connectionParams that sign the socket in, as a front-end would send them. */
export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/**
 * graphql-ws's own client over a real socket to the server's /graphql URL. It connects at once and never
 * retries, so a refusal shows up as the close the server chose. Disposed when the test is done.
 */
export function openSocket(httpUrl: string, connectionParams: Record<string, unknown> = {}): SocketClient {
  let onConnected!: () => void;
  let onClosed!: (closed: Closed) => void;
  const closed = new Promise<Closed>((resolve) => (onClosed = resolve));
  const connected = new Promise<void>((resolve, reject) => {
    onConnected = resolve;
    void closed.then(({ code, reason }) => reject(new Error(`Socket closed before it connected: ${code} ${reason}`)));
  });
  connected.catch(() => {});
  const client = createClient({
    url: httpUrl.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams,
    lazy: false,
    retryAttempts: 0,
    // A refused connection is asserted through `closed`, not logged.
    onNonLazyError: () => {},
    on: {
      connected: () => onConnected(),
      closed: (event) => {
        const { code, reason } = event as WebSocket.CloseEvent;
        onClosed({ code, reason: String(reason) });
      },
    },
  });
  releaseWhenDone(() => client.dispose());
  return Object.assign(client, { connected, closed, nextClose: (ms?: number) => within(closed, 'the socket to close', ms) });
}

export type Result<Data> = FormattedExecutionResult<Data, unknown>;

export type Subscription<Data> = {
  /** The next result the server sends; fails when the subscription ended first or nothing came in time. */
  next(ms?: number): Promise<Result<Data>>;
  /** Settles when the subscription ends: `error` holds what the server sent (GraphQL errors or a close). */
  ended: Promise<{ error?: unknown }>;
  /** Results as an inbox, for `publishUntilReceived`. */
  results: Inbox<Result<Data>>;
  unsubscribe(): void;
};

/** Starts a typed subscription over the socket; a string document is sent as written (e.g. a malformed one). */
export function subscribe<Data, Variables>(
  client: Client,
  document: TypedDocumentNode<Data, Variables>,
  ...[variables]: Variables extends Record<string, never> ? [Variables?] : [Variables]
): Subscription<Data>;
export function subscribe(client: Client, document: string): Subscription<unknown>;
export function subscribe<Data>(client: Client, document: TypedDocumentNode | string, variables?: Record<string, unknown>): Subscription<Data> {
  return subscribeWith<Data>(client, { query: typeof document === 'string' ? document : print(document), variables });
}

/**
 * A typed subscription sent by its trusted-document id: graphql-ws requires a query string, so an empty
 * one with `documentId` beside it, as urql's subscriptionExchange sends a persisted document.
 */
export function subscribeById<Data, Variables>(
  client: Client,
  document: TypedDocumentNode<Data, Variables>,
  ...[variables]: Variables extends Record<string, never> ? [Variables?] : [Variables]
): Subscription<Data> {
  return subscribeWith<Data>(client, { query: '', documentId: documentIdOf(document as TypedDocumentNode<unknown, never>), variables: variables as Record<string, unknown> | undefined });
}

function subscribeWith<Data>(client: Client, payload: SubscribePayload & { documentId?: string }): Subscription<Data> {
  const results = new Inbox<Result<Data>>('subscription result');
  let onEnded!: (end: { error?: unknown }) => void;
  const ended = new Promise<{ error?: unknown }>((resolve) => (onEnded = resolve));
  const unsubscribe = client.subscribe<Data>(payload, {
    next: (result) => results.push(result),
    error: (error) => {
      results.end(new Error(`The subscription failed: ${describeFailure(error)}`));
      onEnded({ error });
    },
    complete: () => {
      results.end(new Error('The subscription completed'));
      onEnded({});
    },
  });
  return { next: (ms) => results.next(ms), ended, results, unsubscribe };
}

const describeFailure = (error: unknown) =>
  error && typeof error === 'object' && 'code' in error ? `socket closed ${String(error.code)} ${String((error as Partial<Closed>).reason)}` : JSON.stringify(error);
