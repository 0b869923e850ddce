import type http from 'node:http';
import { WebhookRejectedError } from '../domain/payments/provider.js';
import { applyPaymentEvent } from '../domain/purchases.js';
import type { Logger } from '../logger.js';
import type { Services } from '../schema/context.js';
import type { WebhookOutcome } from './metrics.js';

export const WEBHOOK_PATH = '/webhooks/payments';
const MAX_BODY_BYTES = 64 * 1024;

/**
 * The payment provider's webhook: the signature is checked over the raw body, exactly as received.
 * 200 once applied (or already applied: providers retry until they get a 2xx), 400 when untrusted.
 */
export async function handlePaymentWebhook(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  { db, payments: provider, pubsub }: Services,
  log: Logger,
  report: (outcome: WebhookOutcome) => void,
) {
  const reply = (outcome: WebhookOutcome, status: number, body: object) => {
    report(outcome);
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return reply('rejected', 413, { error: 'Body too large' });
    chunks.push(chunk as Buffer);
  }
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') headers.set(name, value);
  try {
    const event = provider.readWebhook(Buffer.concat(chunks).toString('utf8'), headers, new Date());
    const { result, buyerId } = await applyPaymentEvent(db, provider, event);
    if (buyerId) pubsub.publish('walletUpdated', buyerId, { userId: buyerId });
    log.info({ eventId: event.eventId, type: event.type, result }, 'payment webhook');
    reply(result, 200, { received: true, result });
  } catch (error) {
    if (error instanceof WebhookRejectedError) {
      log.warn({ reason: error.message }, 'payment webhook rejected');
      return reply('rejected', 400, { error: error.message });
    }
    log.error({ err: error }, 'payment webhook failed');
    reply('failed', 500, { error: 'Internal error; retry later' });
  }
}
