import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { WebhookRejectedError, type ChargeResult, type PaymentEvent, type PaymentProvider } from './provider.js';

/** Test payment methods of the built-in sandbox provider. */
export const SANDBOX_METHODS = {
  succeeds: 'pm_sandbox_success',
  declined: 'pm_sandbox_declined',
  /** Stays pending until a `payment.succeeded` (or `payment.failed`) webhook arrives, as does a purchase with no payment method. */
  succeedsByWebhook: 'pm_sandbox_webhook',
} as const;

export const SIGNATURE_HEADER = 'ovation-signature';
const TOLERANCE_SECONDS = 5 * 60;

const event = z.object({
  id: z.string().min(1),
  type: z.enum(['payment.succeeded', 'payment.failed', 'payment.refunded', 'payment.charged_back']),
  data: z.object({ paymentId: z.string().min(1), purchaseId: z.uuid().optional() }),
});

/** The sandbox's payment id for a purchase: deterministic, so tests and demos can send its webhooks. */
export const sandboxPaymentId = (purchaseId: string) => `sbx_${purchaseId}`;

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`, as a provider would sign a webhook. */
export function signWebhook(secret: string, rawBody: string, at: Date): string {
  const timestamp = Math.floor(at.getTime() / 1000);
  return `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex')}`;
}

export function createSandboxProvider(webhookSecret: string): PaymentProvider {
  // The charges this process made, for lookup (a payment confirmed by webhook stays pending here).
  const charges = new Map<string, ChargeResult['status']>();
  const outcome = (paymentMethod: string | null): ChargeResult['status'] =>
    paymentMethod === SANDBOX_METHODS.succeeds ? 'succeeded' : paymentMethod === SANDBOX_METHODS.succeedsByWebhook || paymentMethod === null ? 'pending' : 'declined';
  return {
    name: 'sandbox',
    async charge({ purchaseId, paymentMethod }) {
      const status = outcome(paymentMethod);
      charges.set(purchaseId, status);
      return { status, providerPaymentId: sandboxPaymentId(purchaseId), ...(status === 'declined' ? { declineReason: 'The card was declined' } : {}) };
    },
    async lookup({ purchaseId }) {
      const status = charges.get(purchaseId);
      return status ? { status, providerPaymentId: sandboxPaymentId(purchaseId) } : { status: 'not_found' };
    },
    readWebhook(rawBody, headers, now) {
      const header = headers.get(SIGNATURE_HEADER) ?? '';
      const parts = Object.fromEntries(header.split(',').map((part) => part.trim().split('=', 2) as [string, string]));
      const timestamp = Number(parts.t);
      if (!Number.isInteger(timestamp) || !parts.v1) throw new WebhookRejectedError('Missing or malformed signature');
      if (Math.abs(now.getTime() / 1000 - timestamp) > TOLERANCE_SECONDS) throw new WebhookRejectedError('Signature timestamp outside the 5-minute tolerance');
      const expected = createHmac('sha256', webhookSecret).update(`${timestamp}.${rawBody}`).digest();
      const given = Buffer.from(parts.v1, 'hex');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new WebhookRejectedError('Bad signature');
      let parsed;
      try {
        parsed = event.parse(JSON.parse(rawBody));
      } catch {
        throw new WebhookRejectedError('Unreadable event');
      }
      return { eventId: parsed.id, type: parsed.type, providerPaymentId: parsed.data.paymentId, purchaseId: parsed.data.purchaseId } satisfies PaymentEvent;
    },
  };
}
