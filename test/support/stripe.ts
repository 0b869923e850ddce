import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import type { StripeSettings } from '../../src/domain/stripe/client.js';
import { releaseWhenDone } from './wait.js';

// A local stand-in of the parts of Stripe's API Ovation calls, for the real `stripe` library to talk to
// (Stripe itself cannot be reached from the test machines). It answers with Stripe's documented object
// shapes, keeps idempotency keys as Stripe does (the same key answers the first response again), and
// records every request. Test payment methods follow Stripe's test cards.

export const STAND_IN_KEY = 'sk_test_ovationstandin';
/** Two signing secrets: the account endpoint's and the Connect endpoint's (or an old and a new one during a rotation). */
export const STAND_IN_WEBHOOK_SECRETS = ['whsec_ovationaccountendpoint', 'whsec_ovationconnectendpoint'] as const;

export const TEST_CARDS = {
  visa: 'pm_card_visa',
  declined: 'pm_card_chargeDeclined',
  authenticationRequired: 'pm_card_authenticationRequired',
} as const;

/** One request as the stand-in received it. */
export type RecordedRequest = {
  method: string;
  path: string;
  idempotencyKey: string | undefined;
  /** The Stripe-Account header: a request made on a connected account. */
  account: string | undefined;
  amount: number | undefined;
  currency: string | undefined;
  metadata: Record<string, string>;
  params: Record<string, string>;
};

type Answer = { status: number; body: object };
type Json = Record<string, unknown>;

const newId = (prefix: string) => `${prefix}_${randomBytes(12).toString('hex')}`;
const now = () => Math.floor(Date.now() / 1000);

/** Form fields as the library sends them (metadata[key]=value), read back into flat params and a metadata object. */
function readForm(text: string): { params: Record<string, string>; metadata: Record<string, string> } {
  const params: Record<string, string> = {};
  const metadata: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(text)) {
    const inMetadata = /^metadata\[(.+)\]$/.exec(key);
    if (inMetadata) metadata[inMetadata[1]!] = value;
    else params[key] = value;
  }
  return { params, metadata };
}

const error = (status: number, fields: Json): Answer => ({ status, body: { error: fields } });

export type StripeStandIn = Awaited<ReturnType<typeof startStripeStandIn>>;

export async function startStripeStandIn() {
  const requests: RecordedRequest[] = [];
  const intents = new Map<string, Json>();
  const transfers = new Map<string, Json>();
  const payouts = new Map<string, Json>();
  const refunds = new Map<string, Json>();
  const answered = new Map<string, Answer>();
  /** Requests (by method and path prefix) whose effect happens but whose answer is lost on the way: the socket is destroyed. */
  const drops: { match: string; times: number }[] = [];
  /** Requests held back until released: their effect happens at once, their answer waits. */
  const holds: { match: string; release: Promise<void> }[] = [];

  const intentCharge = (intent: Json) => intent.latest_charge as string | null;
  /** What stands refunded of a PaymentIntent: its refunds that did not fail. */
  const refundedOf = (intentId: string) =>
    [...refunds.values()].filter((refund) => refund.payment_intent === intentId && refund.status !== 'failed').reduce((sum, refund) => sum + (refund.amount as number), 0);

  function createIntent(params: Record<string, string>, metadata: Record<string, string>): Answer {
    const id = newId('pi');
    const intent: Json = {
      id,
      object: 'payment_intent',
      amount: Number(params.amount),
      amount_received: 0,
      currency: params.currency,
      metadata,
      client_secret: `${id}_secret_${randomBytes(8).toString('hex')}`,
      status: 'requires_payment_method',
      payment_method: params.payment_method ?? null,
      last_payment_error: null,
      next_action: null,
      latest_charge: null,
      canceled_at: null,
      cancellation_reason: null,
      created: now(),
      livemode: false,
    };
    intents.set(id, intent);
    const method = params.payment_method;
    if (!method || params.confirm !== 'true') return { status: 200, body: intent };
    if (method === TEST_CARDS.visa) {
      Object.assign(intent, { status: 'succeeded', amount_received: intent.amount, latest_charge: newId('ch') });
      return { status: 200, body: intent };
    }
    if (method === TEST_CARDS.authenticationRequired) {
      Object.assign(intent, { status: 'requires_action', next_action: { type: 'use_stripe_sdk', use_stripe_sdk: {} } });
      return { status: 200, body: intent };
    }
    if (method === TEST_CARDS.declined) {
      const failure = { type: 'card_error', code: 'card_declined', decline_code: 'generic_decline', message: 'Your card was declined.' };
      Object.assign(intent, { status: 'requires_payment_method', last_payment_error: failure, latest_charge: newId('ch') });
      return error(402, { ...failure, payment_intent: intent });
    }
    intents.delete(id);
    return error(400, { type: 'invalid_request_error', code: 'resource_missing', param: 'payment_method', message: `No such PaymentMethod: '${method}'` });
  }

  function route(method: string, path: string, params: Record<string, string>, metadata: Record<string, string>, account: string | undefined): Answer {
    let match: RegExpExecArray | null;
    if (method === 'POST' && path === '/v1/payment_intents') return createIntent(params, metadata);
    if ((match = /^\/v1\/payment_intents\/([^/]+)(\/cancel)?$/.exec(path))) {
      const intent = intents.get(match[1]!);
      if (!intent) return error(404, { type: 'invalid_request_error', code: 'resource_missing', message: 'No such payment_intent' });
      if (method === 'GET') return { status: 200, body: intent };
      if (match[2] && method === 'POST') {
        if (!['requires_payment_method', 'requires_confirmation', 'requires_action', 'requires_capture'].includes(intent.status as string)) {
          return error(400, { type: 'invalid_request_error', code: 'payment_intent_unexpected_state', message: `You cannot cancel this PaymentIntent because it has a status of ${intent.status}.` });
        }
        Object.assign(intent, { status: 'canceled', canceled_at: now(), cancellation_reason: params.cancellation_reason ?? null });
        return { status: 200, body: intent };
      }
    }
    if (method === 'GET' && path === '/v1/refunds') {
      // Newest first, as Stripe lists them; one page holds them all here.
      const data = [...refunds.values()].filter((refund) => !params.payment_intent || refund.payment_intent === params.payment_intent).reverse();
      return { status: 200, body: { object: 'list', data, has_more: false, url: '/v1/refunds' } };
    }
    if (method === 'POST' && path === '/v1/transfers') {
      const id = newId('tr');
      const transfer: Json = {
        id,
        object: 'transfer',
        amount: Number(params.amount),
        amount_reversed: 0,
        currency: params.currency,
        destination: params.destination,
        transfer_group: params.transfer_group ?? null,
        metadata,
        reversed: false,
        reversals: { object: 'list', data: [], has_more: false, url: `/v1/transfers/${id}/reversals` },
        created: now(),
        livemode: false,
      };
      transfers.set(id, transfer);
      return { status: 200, body: transfer };
    }
    if (method === 'GET' && path === '/v1/transfers') {
      const data = [...transfers.values()].filter((transfer) => !params.transfer_group || transfer.transfer_group === params.transfer_group);
      return { status: 200, body: { object: 'list', data, has_more: false, url: '/v1/transfers' } };
    }
    if ((match = /^\/v1\/transfers\/([^/]+)(\/reversals)?$/.exec(path))) {
      const transfer = transfers.get(match[1]!);
      if (!transfer) return error(404, { type: 'invalid_request_error', code: 'resource_missing', message: 'No such transfer' });
      if (method === 'GET' && !match[2]) return { status: 200, body: transfer };
      if (method === 'POST' && match[2]) {
        if (transfer.reversed) return error(400, { type: 'invalid_request_error', code: 'transfer_already_reversed', message: 'This transfer has already been fully reversed.' });
        const reversal = { id: newId('trr'), object: 'transfer_reversal', amount: transfer.amount, currency: transfer.currency, transfer: transfer.id, metadata, created: now() };
        (transfer.reversals as { data: Json[] }).data.push(reversal);
        Object.assign(transfer, { reversed: true, amount_reversed: transfer.amount });
        return { status: 200, body: reversal };
      }
    }
    if (method === 'POST' && path === '/v1/payouts') {
      if (!account) return error(400, { type: 'invalid_request_error', message: 'Ovation pays out from connected accounts only' });
      const payout: Json = {
        id: newId('po'),
        object: 'payout',
        amount: Number(params.amount),
        currency: params.currency,
        metadata,
        status: 'pending',
        failure_code: null,
        failure_message: null,
        arrival_date: now() + 86400,
        created: now(),
        livemode: false,
        account,
      };
      payouts.set(payout.id as string, payout);
      return { status: 200, body: payout };
    }
    if ((match = /^\/v1\/payouts\/([^/]+)$/.exec(path)) && method === 'GET') {
      const payout = payouts.get(match[1]!);
      if (!payout || payout.account !== account) return error(404, { type: 'invalid_request_error', code: 'resource_missing', message: 'No such payout' });
      return { status: 200, body: payout };
    }
    return error(404, { type: 'invalid_request_error', message: `Unrecognized request URL (${method}: ${path})` });
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const url = new URL(req.url!, 'http://stand-in');
      const text = req.method === 'GET' ? url.searchParams.toString() : Buffer.concat(chunks).toString('utf8');
      const { params, metadata } = readForm(text);
      const idempotencyKey = req.headers['idempotency-key'] as string | undefined;
      const account = req.headers['stripe-account'] as string | undefined;
      const method = req.method!;
      requests.push({
        method,
        path: url.pathname,
        idempotencyKey,
        account,
        amount: params.amount === undefined ? undefined : Number(params.amount),
        currency: params.currency,
        metadata,
        params,
      });
      // As Stripe does: a key seen before answers its first response again, without doing anything.
      const keyOf = idempotencyKey && `${account ?? ''}:${idempotencyKey}`;
      let answer = keyOf ? answered.get(keyOf) : undefined;
      if (!answer) {
        answer = route(method, url.pathname, params, metadata, account);
        if (keyOf) answered.set(keyOf, answer);
      }
      const described = `${method} ${url.pathname}`;
      const held = holds.find((hold) => described.startsWith(hold.match));
      if (held) await held.release;
      const drop = drops.find((candidate) => candidate.times > 0 && described.startsWith(candidate.match));
      if (drop) {
        drop.times--;
        req.socket.destroy();
        return;
      }
      res.writeHead(answer.status, { 'content-type': 'application/json', 'request-id': newId('req'), 'stripe-should-retry': 'false' });
      res.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const stop = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  releaseWhenDone(stop);
  const signer = new Stripe(STAND_IN_KEY);

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    intents,
    transfers,
    payouts,
    /** What Ovation's settings point at: this stand-in, with the stand-in's key and signing secrets. */
    settings(cancelUnconfirmedAfterMs = 60 * 60_000): StripeSettings {
      return { secretKey: STAND_IN_KEY, webhookSecrets: [...STAND_IN_WEBHOOK_SECRETS], cancelUnconfirmedAfterMs, api: { host: '127.0.0.1', port, protocol: 'http' } };
    },
    /** The environment that points a test server's Stripe at this stand-in. */
    environment(): Record<string, string> {
      return { PAYMENT_PROVIDER: 'stripe', STRIPE_SECRET_KEY: STAND_IN_KEY, STRIPE_WEBHOOK_SECRETS: STAND_IN_WEBHOOK_SECRETS.join(','), STRIPE_API_URL: `http://127.0.0.1:${port}` };
    },
    /** The next `times` requests starting with `match` ("POST /v1/payment_intents") take effect, but their answers are lost. */
    dropAnswers(match: string, times = 1) {
      drops.push({ match, times });
    },
    /** Requests starting with `match` take effect at once but are answered only once `release` is called. */
    holdAnswers(match: string) {
      let release!: () => void;
      const hold = { match, release: new Promise<void>((resolve) => (release = resolve)) };
      holds.push(hold);
      return () => {
        holds.splice(holds.indexOf(hold), 1);
        release();
      };
    },
    requestsTo(method: string, pathPrefix: string) {
      return requests.filter((request) => request.method === method && request.path.startsWith(pathPrefix));
    },
    /** The PaymentIntent Ovation made for a purchase, by the metadata it carries. */
    intentFor(purchaseId: string): Json {
      const intent = [...intents.values()].find((candidate) => (candidate.metadata as Record<string, string>).ovation_purchase_id === purchaseId);
      if (!intent) throw new Error(`No PaymentIntent for purchase ${purchaseId}`);
      return intent;
    },
    /** The buyer's app confirms a PaymentIntent with a card, as Stripe.js would: it succeeds (with a charge) or fails. */
    confirm(intentId: string, outcome: 'succeeded' | 'failed') {
      const intent = intents.get(intentId)!;
      if (outcome === 'succeeded') Object.assign(intent, { status: 'succeeded', amount_received: intent.amount, latest_charge: newId('ch'), last_payment_error: null });
      else Object.assign(intent, { status: 'requires_payment_method', last_payment_error: { type: 'card_error', code: 'card_declined', message: 'Your card was declined.' } });
      return intent;
    },
    /** A Payout on a connected account ends: paid, or failed with Stripe's failure code. */
    settlePayout(payoutId: string, outcome: 'paid' | 'failed', failureCode = 'account_closed') {
      const payout = payouts.get(payoutId)!;
      if (outcome === 'paid') Object.assign(payout, { status: 'paid' });
      else Object.assign(payout, { status: 'failed', failure_code: failureCode, failure_message: 'The bank account has been closed.' });
      return payout;
    },
    /** A refund of a PaymentIntent's charge, as made in Stripe's Dashboard: it stands until failRefund. */
    refund(intentId: string, amount: number): Json {
      const intent = intents.get(intentId)!;
      const refund: Json = { id: newId('re'), object: 'refund', amount, currency: intent.currency, charge: intentCharge(intent), payment_intent: intent.id, status: 'succeeded', metadata: {}, created: now() };
      refunds.set(refund.id as string, refund);
      return refund;
    },
    /** A refund fails (the card was closed, say): the money goes back to the account, not to the buyer. */
    failRefund(refundId: string): Json {
      return Object.assign(refunds.get(refundId)!, { status: 'failed', failure_reason: 'expired_or_canceled_card' });
    },
    /** The Charge behind a PaymentIntent, as charge.refunded carries it (amount_refunded: the running total; by default, what stands refunded). */
    charge(intentId: string, amountRefunded = refundedOf(intentId)): Json {
      const intent = intents.get(intentId)!;
      return {
        id: intentCharge(intent),
        object: 'charge',
        amount: intent.amount,
        amount_refunded: amountRefunded,
        refunded: amountRefunded === intent.amount,
        currency: intent.currency,
        payment_intent: intent.id,
        metadata: {},
        status: 'succeeded',
      };
    },
    /** A Dispute of a PaymentIntent's charge, opened at `openedAt` (an inquiry's statuses start with "warning_"). */
    dispute(intentId: string, status: 'needs_response' | 'won' | 'lost' | 'warning_needs_response' | 'warning_closed', id = newId('dp'), openedAt = new Date()): Json {
      const intent = intents.get(intentId)!;
      const created = Math.floor(openedAt.getTime() / 1000);
      return { id, object: 'dispute', amount: intent.amount, currency: intent.currency, charge: intentCharge(intent), payment_intent: intent.id, status, reason: 'fraudulent', created };
    },
    /** An event as Stripe sends it, and its Stripe-Signature header (the library's generateTestHeaderString). */
    signedEvent(type: string, object: Json, options: { account?: string; id?: string; at?: Date; secret?: string } = {}) {
      const event = {
        id: options.id ?? newId('evt'),
        object: 'event',
        api_version: '2025-01-01',
        created: now(),
        type,
        livemode: false,
        pending_webhooks: 1,
        request: { id: null, idempotency_key: null },
        data: { object },
        ...(options.account ? { account: options.account } : {}),
      };
      const payload = JSON.stringify(event);
      const signature = signer.webhooks.generateTestHeaderString({
        payload,
        secret: options.secret ?? STAND_IN_WEBHOOK_SECRETS[0],
        ...(options.at ? { timestamp: Math.floor(options.at.getTime() / 1000) } : {}),
      });
      return { id: event.id, payload, signature };
    },
    stop,
  };
}

/** Posts a signed Stripe event to a server's /webhooks/stripe, as Stripe delivers it. */
export async function deliver(serverUrl: string, event: { payload: string; signature: string | null }) {
  const response = await fetch(`${new URL(serverUrl).origin}/webhooks/stripe`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(event.signature === null ? {} : { 'stripe-signature': event.signature }) },
    body: event.payload,
  });
  return { status: response.status, body: (await response.json()) as { result?: string; error?: string } };
}
