import { createHmac, timingSafeEqual } from 'node:crypto';
import { WebhookRejectedError } from './payments/provider.js';

/** Ovation's webhook signature, on what providers send us and on what we send brands. */
export const SIGNATURE_HEADER = 'ovation-signature';
const TOLERANCE_SECONDS = 5 * 60;

const hmac = (secret: string, timestamp: number, rawBody: string) => createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest();

/**
 * `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`, one v1 per secret: while a secret is being
 * rotated the sender signs with the old and the new one.
 */
export function signWebhook(secrets: string[], rawBody: string, at: Date): string {
  const timestamp = Math.floor(at.getTime() / 1000);
  return [`t=${timestamp}`, ...secrets.map((secret) => `v1=${hmac(secret, timestamp, rawBody).toString('hex')}`)].join(',');
}

/**
 * Trusts a body when any of its v1 signatures was made with any of `secrets` (the new secret and the
 * one being retired both verify) within 5 minutes of `now`. Constant-time comparisons.
 */
export function verifyWebhook(secrets: string[], rawBody: string, header: string | null, now: Date): void {
  const parts = (header ?? '').split(',').map((part) => part.trim().split('=', 2) as [string, string | undefined]);
  const timestamps = parts.filter(([key]) => key === 't').map(([, value]) => Number(value));
  const signatures = parts.filter(([key, value]) => key === 'v1' && value && /^[0-9a-f]{64}$/i.test(value)).map(([, value]) => Buffer.from(value!, 'hex'));
  const timestamp = timestamps[0]!;
  if (timestamps.length !== 1 || !Number.isInteger(timestamp) || signatures.length === 0) throw new WebhookRejectedError('Missing or malformed signature');
  if (Math.abs(now.getTime() / 1000 - timestamp) > TOLERANCE_SECONDS) throw new WebhookRejectedError('Signature timestamp outside the 5-minute tolerance');
  const expected = secrets.map((secret) => hmac(secret, timestamp, rawBody));
  // Every pair is compared, so the time taken says nothing about which one matched.
  let trusted = false;
  for (const given of signatures) for (const wanted of expected) trusted = timingSafeEqual(given, wanted) || trusted;
  if (!trusted) throw new WebhookRejectedError('Bad signature');
}
