import type http from 'node:http';
import { WebhookRejectedError } from '../domain/payments/provider.js';
import { applyPayoutEvent } from '../domain/payouts/lifecycle.js';
import { applyPaymentEvent } from '../domain/purchases.js';
import { paymentEventOf } from '../domain/payments/stripe.js';
import { PAYOUT_EVENT_TYPES, payoutEventOf } from '../domain/payouts/stripe.js';
import { readStripeEvent } from '../domain/stripe/client.js';
import type { Logger } from '../logger.js';
import type { Services } from '../schema/context.js';
import type { WebhookKind, WebhookOutcome } from './metrics.js';

export const WEBHOOK_PATH = '/webhooks/payments';
export const PAYOUT_WEBHOOK_PATH = '/webhooks/payouts';
export const STRIPE_WEBHOOK_PATH = '/webhooks/stripe';
const MAX_BODY_BYTES = 64 * 1024;

type Reply = (outcome: WebhookOutcome, status: number, body: object) => void;

/** Counts a webhook delivery's outcome for operators (metrics.ts). */
export type WebhookReport = (kind: WebhookKind, outcome: WebhookOutcome) => void;

const replier =
  (res: http.ServerResponse, report: (outcome: WebhookOutcome) => void): Reply =>
  (outcome, status, body) => {
    report(outcome);
    if (res.headersSent || res.destroyed) return;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

/**
 * What both providers' webhooks share: the raw body read whole (signatures are checked over it exactly
 * as received) and its headers; undefined once it has answered a body it could not read. Settles every
 * error itself: a sender that breaks off its body costs a log line, never the process.
 */
async function receive(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  reply: Reply,
  log: Logger,
  what: string,
): Promise<{ rawBody: string; bytes: Buffer; headers: Headers } | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readBody(req);
  } catch (error) {
    if (!(error instanceof BodyTooLargeError)) {
      log.info({ reason: (error as Error).message }, `${what} webhook body broken off by its sender`);
      reply('rejected', 400, { error: 'Incomplete body' });
      return undefined;
    }
    // The rest of the body is not read, so the connection can't carry another request.
    res.setHeader('connection', 'close');
    reply('rejected', 413, { error: 'Body too large' });
    return undefined;
  }
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') headers.set(name, value);
  return { rawBody: bytes.toString('utf8'), bytes, headers };
}

/** 400 for a webhook that must not be trusted; 500 (the provider retries) for anything else. */
function failed(error: unknown, reply: Reply, log: Logger, what: string): void {
  if (error instanceof WebhookRejectedError) {
    log.warn({ reason: error.message }, `${what} webhook rejected`);
    return reply('rejected', 400, { error: error.message });
  }
  log.error({ err: error }, `${what} webhook failed`);
  reply('failed', 500, { error: 'Internal error; retry later' });
}

/**
 * The payment provider's webhook. 200 once applied (or already applied: providers retry until they get
 * a 2xx), 400 when untrusted, 404 when no provider is configured; each outcome is `report`ed.
 */
export async function handlePaymentWebhook(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  { db, payments: provider, announcer }: Services,
  log: Logger,
  report: WebhookReport,
) {
  const reply = replier(res, (outcome) => report('payment', outcome));
  if (!provider) return reply('rejected', 404, { error: 'No payment provider is configured' });
  const body = await receive(req, res, reply, log, 'payment');
  if (!body) return;
  try {
    const event = provider.readWebhook(body.rawBody, body.headers, new Date());
    const { result } = await applyPaymentEvent(db, announcer, provider, event);
    log.info({ eventId: event.eventId, type: event.type, result }, 'payment webhook');
    reply(result, 200, { received: true, result });
  } catch (error) {
    failed(error, reply, log, 'payment');
  }
}

/**
 * The payout provider's webhook: outcomes of payouts and verifications of payout methods, each applied
 * once (the domain announces what changed). Answers as the payment webhook does.
 */
export async function handlePayoutWebhook(req: http.IncomingMessage, res: http.ServerResponse, { payouts }: Services, log: Logger, report: WebhookReport) {
  const { provider } = payouts;
  const reply = replier(res, (outcome) => report('payout', outcome));
  if (!provider) return reply('rejected', 404, { error: 'No payout provider is configured' });
  const body = await receive(req, res, reply, log, 'payout');
  if (!body) return;
  try {
    const event = provider.readWebhook(body.rawBody, body.headers, new Date());
    const result = await applyPayoutEvent(payouts, provider, event);
    log.info({ eventId: event.eventId, type: event.type, result }, 'payout webhook');
    reply(result, 200, { received: true, result });
  } catch (error) {
    failed(error, reply, log, 'payout');
  }
}

/**
 * Stripe's webhooks, at their own path: one endpoint for the platform's events and for its connected
 * accounts' (each endpoint's signing secret in STRIPE_WEBHOOK_SECRETS). Verified with the library over
 * the raw bytes, then applied once: payment events to purchases, payout and account events to payouts,
 * each deduplicated on the event id in the transaction of its effect. Events Ovation does not act on
 * are acknowledged (200) and not kept. 404 unless PAYMENT_PROVIDER=stripe.
 */
export async function handleStripeWebhook(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  services: Services,
  log: Logger,
  report: WebhookReport,
) {
  // Counted as a payment's unless the event is of a type the payouts read (a rejected one is a payment's).
  let kind: WebhookKind = 'payment';
  const reply = replier(res, (outcome) => report(kind, outcome));
  const { stripe, payments, payouts, db, announcer } = services;
  if (!stripe) return reply('rejected', 404, { error: 'Stripe is not configured' });
  const body = await receive(req, res, reply, log, 'stripe');
  if (!body) return;
  try {
    const event = readStripeEvent(stripe.client, stripe.webhookSecrets, body.bytes, body.headers.get('stripe-signature'), new Date());
    const payment = paymentEventOf(event);
    if (PAYOUT_EVENT_TYPES.has(event.type)) kind = 'payout';
    const payout = payment ? null : payoutEventOf(event);
    const result =
      payment && payments
        ? (await applyPaymentEvent(db, announcer, payments, payment)).result
        : payout && payouts.provider
          ? await applyPayoutEvent(payouts, payouts.provider, payout)
          : 'ignored';
    log.info({ eventId: event.id, type: event.type, account: event.account, result }, 'stripe webhook');
    reply(result, 200, { received: true, result });
  } catch (error) {
    failed(error, reply, log, 'stripe');
  }
}

class BodyTooLargeError extends Error {}

/** The whole body, as received; rejects when the sender breaks it off or sends more than MAX_BODY_BYTES. */
function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) return void chunks.push(chunk);
      req.pause();
      reject(new BodyTooLargeError());
    });
    req.once('end', () => resolve(Buffer.concat(chunks)));
    // 'aborted' comes with an 'error' on the request; either settles this once.
    req.once('error', reject);
    req.once('close', () => reject(new Error('connection closed before the body ended')));
  });
}
