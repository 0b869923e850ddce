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
 * 200 once applied (or already applied: providers retry until they get a 2xx), 400 when untrusted,
 * 404 when no provider is configured. Settles every error itself: a sender that breaks off its body
 * costs a log line, never the process.
 */
export async function handlePaymentWebhook(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  { db, payments: provider, announcer }: Services,
  log: Logger,
  report: (outcome: WebhookOutcome) => void,
) {
  const reply = (outcome: WebhookOutcome, status: number, body: object) => {
    report(outcome);
    if (res.headersSent || res.destroyed) return;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (!provider) return reply('rejected', 404, { error: 'No payment provider is configured' });
  let rawBody: string;
  try {
    rawBody = await readBody(req);
  } catch (error) {
    if (!(error instanceof BodyTooLargeError)) {
      log.info({ reason: (error as Error).message }, 'payment webhook body broken off by its sender');
      return reply('rejected', 400, { error: 'Incomplete body' });
    }
    // The rest of the body is not read, so the connection can't carry another request.
    res.setHeader('connection', 'close');
    return reply('rejected', 413, { error: 'Body too large' });
  }
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') headers.set(name, value);
  try {
    const event = provider.readWebhook(rawBody, headers, new Date());
    const { result } = await applyPaymentEvent(db, announcer, provider, event);
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

class BodyTooLargeError extends Error {}

/** The whole body as text; rejects when the sender breaks it off or sends more than MAX_BODY_BYTES. */
function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) return void chunks.push(chunk);
      req.pause();
      reject(new BodyTooLargeError());
    });
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    // 'aborted' comes with an 'error' on the request; either settles this once.
    req.once('error', reject);
    req.once('close', () => reject(new Error('connection closed before the body ended')));
  });
}
