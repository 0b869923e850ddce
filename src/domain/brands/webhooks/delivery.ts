import http from 'node:http';
import https from 'node:https';
import type { Database } from '../../../db/client.js';
import { transaction } from '../../../db/transaction.js';
import { BrandEventType, WebhookDeliveryStatus, type BrandEvent, type WebhookEndpoint } from '../../../generated/prisma/client.js';
import type { Logger } from '../../../logger.js';
import { SIGNATURE_HEADER, signWebhook } from '../../webhook-signature.js';
import { guardedLookup, type AddressPolicy } from './addresses.js';
import { recordBrandEvents, scheduleDeliveries } from './events.js';

export type DeliveryOptions = {
  /** One attempt's time limit, connection to last byte. */
  timeoutMs: number;
  /** How long a delivery is retried before it is marked FAILED. */
  retryForMs: number;
  /** An endpoint failing (no success) for this long is disabled. */
  disableAfterMs: number;
  /** The first retry's delay; each next one doubles, up to an hour, with jitter. */
  backoffMs: number;
};

const MAX_BACKOFF_MS = 3_600_000;
/** Deliveries read at once, then sent one after another. */
const PAGE = 100;
/** What is kept of a failing endpoint's answer, for the brand to see. */
const ERROR_CHARS = 300;

/** The event as a brand's back-end receives it (README, "Brand webhooks"). */
export function eventBody(event: BrandEvent): string {
  return JSON.stringify({
    id: event.id,
    type: event.type.toLowerCase().replace('_', '.'),
    createdAt: event.createdAt.toISOString(),
    brandId: event.brandId,
    campaignId: event.campaignId,
    data: event.data,
  });
}

/** Full jitter over an exponential curve: retries of many deliveries spread out instead of arriving together. */
export const backoff = (attempt: number, baseMs: number) => {
  const ceiling = Math.min(MAX_BACKOFF_MS, baseMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
};

type Attempt = { ok: boolean; statusCode: number | null; error: string | null };

/**
 * Delivers an endpoint's waiting deliveries of one order key (a campaign, or the brand), oldest first,
 * as the job queue's task: one job per endpoint and order key runs at a time (its queue), on whichever
 * instance takes it. A failed attempt holds the deliveries behind it, so a campaign's events arrive in
 * order; it is retried with backoff until `retryForMs` has passed, then marked FAILED and the next goes.
 */
export function createWebhookDeliverer(db: Database, policy: AddressPolicy, log: Logger, options: DeliveryOptions) {
  const lookup = guardedLookup(policy);

  function attempt(endpoint: WebhookEndpoint, secrets: string[], body: string, eventId: string, now: Date): Promise<Attempt> {
    return new Promise((resolve) => {
      let url: URL;
      try {
        url = new URL(endpoint.url);
      } catch {
        return resolve({ ok: false, statusCode: null, error: 'The URL is invalid' });
      }
      const send = url.protocol === 'https:' ? https.request : url.protocol === 'http:' && policy.allowPrivate ? http.request : undefined;
      if (!send) return resolve({ ok: false, statusCode: null, error: 'Only https:// URLs are called' });
      const request = send(url, {
        method: 'POST',
        lookup: lookup as never,
        timeout: options.timeoutMs,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Ovation-Webhooks/1',
          'ovation-event-id': eventId,
          [SIGNATURE_HEADER]: signWebhook(secrets, body, now),
        },
      });
      const timer = setTimeout(() => request.destroy(new Error(`No answer within ${options.timeoutMs} ms`)), options.timeoutMs);
      request.on('timeout', () => request.destroy(new Error(`No answer within ${options.timeoutMs} ms`)));
      request.on('error', (error) => {
        clearTimeout(timer);
        resolve({ ok: false, statusCode: null, error: error.message.slice(0, ERROR_CHARS) });
      });
      request.on('response', (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          if (text.length < ERROR_CHARS) text += chunk;
        });
        response.on('end', () => {
          clearTimeout(timer);
          const status = response.statusCode ?? 0;
          const ok = status >= 200 && status < 300;
          resolve({ ok, statusCode: status, error: ok ? null : `HTTP ${status}${text ? `: ${text.slice(0, ERROR_CHARS)}` : ''}` });
        });
        response.on('error', (error) => {
          clearTimeout(timer);
          resolve({ ok: false, statusCode: status(response), error: error.message.slice(0, ERROR_CHARS) });
        });
      });
      request.end(body);
    });
  }

  /** Disables an endpoint failing for too long, and tells the brand through its other endpoints. */
  async function disableIfFailingLong(endpoint: WebhookEndpoint, failingSince: Date, now: Date, lastError: string | null): Promise<boolean> {
    if (now.getTime() - failingSince.getTime() < options.disableAfterMs) return false;
    const reason = `Failing since ${failingSince.toISOString()}${lastError ? ` (last: ${lastError.slice(0, 100)})` : ''}`;
    await transaction(db, async (tx) => {
      const { count } = await tx.webhookEndpoint.updateMany({ where: { id: endpoint.id, disabledAt: null }, data: { disabledAt: now, disabledReason: reason } });
      if (count === 1) {
        await recordBrandEvents(tx, [
          { brandId: endpoint.brandId, campaignId: null, type: BrandEventType.ENDPOINT_DISABLED, data: { endpointId: endpoint.id, url: endpoint.url, reason } },
        ]);
      }
    });
    log.warn({ endpointId: endpoint.id, brandId: endpoint.brandId }, 'webhook endpoint disabled after failing');
    return true;
  }

  /** Deliveries sent successfully, recorded together (one statement for a page of them). */
  async function recordDelivered(endpointId: string, delivered: { id: string; attempts: number; statusCode: number }[], at: Date) {
    if (delivered.length === 0) return;
    await db.$transaction([
      db.$executeRaw`
        UPDATE "WebhookDelivery" d SET status = 'DELIVERED', attempts = a.attempts, "lastStatusCode" = a.status, "lastError" = NULL,
          "lastAttemptAt" = ${at}::timestamptz, "deliveredAt" = now()
        FROM unnest(${delivered.map((item) => item.id)}::uuid[], ${delivered.map((item) => item.attempts)}::int[], ${delivered.map((item) => item.statusCode)}::int[])
          AS a(id, attempts, status)
        WHERE d.id = a.id`,
      db.webhookEndpoint.update({ where: { id: endpointId }, data: { lastSuccessAt: at, failingSince: null } }),
    ]);
  }

  return async function deliverWebhooks(payload: unknown): Promise<void> {
    const { endpointId, orderKey } = payload as { endpointId: string; orderKey: string };
    for (;;) {
      const now = new Date();
      const endpoint = await db.webhookEndpoint.findUnique({ where: { id: endpointId }, include: { secrets: true } });
      if (!endpoint || endpoint.disabledAt) return;
      // A page of what waits, oldest first: sent one after another (a campaign's events keep their order),
      // and stopped at the first failure, which holds the rest until it is retried.
      const waiting = await db.webhookDelivery.findMany({
        where: { endpointId, orderKey, status: WebhookDeliveryStatus.PENDING },
        orderBy: { position: 'asc' },
        take: PAGE,
        include: { event: true },
      });
      if (waiting.length === 0) return;
      if (waiting[0]!.nextAttemptAt > now) return scheduleDeliveries(db, endpointId, [orderKey], waiting[0]!.nextAttemptAt);
      const secrets = endpoint.secrets.filter((secret) => !secret.expiresAt || secret.expiresAt > now).map((secret) => secret.secret);
      const delivered: { id: string; attempts: number; statusCode: number }[] = [];
      let failed: { delivery: (typeof waiting)[number]; outcome: Attempt } | undefined;
      for (const delivery of waiting) {
        const outcome = await attempt(endpoint, secrets, eventBody(delivery.event), delivery.eventId, new Date());
        if (!outcome.ok) {
          failed = { delivery, outcome };
          break;
        }
        delivered.push({ id: delivery.id, attempts: delivery.attempts + 1, statusCode: outcome.statusCode! });
      }
      await recordDelivered(endpointId, delivered, now);
      if (!failed) continue;

      const { delivery, outcome } = failed;
      const attempts = delivery.attempts + 1;
      const recorded = { attempts, lastStatusCode: outcome.statusCode, lastError: outcome.error, lastAttemptAt: now };
      const failingSince = (delivered.length > 0 ? null : endpoint.failingSince) ?? now;
      const givingUp = now.getTime() - delivery.createdAt.getTime() >= options.retryForMs;
      const nextAttemptAt = new Date(now.getTime() + backoff(attempts, options.backoffMs));
      await db.$transaction([
        db.webhookDelivery.update({
          where: { id: delivery.id },
          data: givingUp ? { ...recorded, status: WebhookDeliveryStatus.FAILED } : { ...recorded, nextAttemptAt },
        }),
        db.webhookEndpoint.update({ where: { id: endpointId }, data: { failingSince } }),
      ]);
      log.info({ endpointId, deliveryId: delivery.id, attempts, statusCode: outcome.statusCode, givingUp }, 'webhook delivery failed');
      if (await disableIfFailingLong(endpoint, failingSince, now, outcome.error)) return;
      if (!givingUp) return scheduleDeliveries(db, endpointId, [orderKey], nextAttemptAt);
    }
  };
}

const status = (response: http.IncomingMessage) => response.statusCode ?? null;
