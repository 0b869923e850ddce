import { z } from 'zod';
import { WebhookRejectedError } from '../payments/provider.js';
import type { PayoutAnswer, PayoutEvent, PayoutLookup, PayoutProvider, PayoutRequest } from './provider.js';
import { SIGNATURE_HEADER, verifyWebhook } from '../webhook-signature.js';

type Behaviour = 'pays' | 'fails' | 'returns' | 'webhookOnly';

/**
 * Test destinations of the built-in sandbox payout provider: what happens to a payout follows from where
 * it goes, so every instance (and every lookup) gives the same answer. Any other destination is paid.
 */
export const SANDBOX_PAYEES: Record<Behaviour, { email: string; accountNumber: string }> = {
  pays: { email: 'pays@sandbox.ovation.dev', accountNumber: '000123450001' },
  fails: { email: 'fails@sandbox.ovation.dev', accountNumber: '000123450002' },
  /** Paid, then returned by the bank the configured time after it was sent. */
  returns: { email: 'returns@sandbox.ovation.dev', accountNumber: '000123450003' },
  /** Stays pending until a `payout.paid` (or `payout.failed`) webhook arrives. */
  webhookOnly: { email: 'webhook@sandbox.ovation.dev', accountNumber: '000123450004' },
};

const behaviourOf = (destination: string): Behaviour =>
  (Object.keys(SANDBOX_PAYEES) as Behaviour[]).find((key) => [SANDBOX_PAYEES[key].email, SANDBOX_PAYEES[key].accountNumber].includes(destination.toLowerCase())) ?? 'pays';

/** The sandbox's transfer id for a payout: deterministic, so tests and demos can send its webhooks. */
export const sandboxPayoutId = (payoutId: string) => `sbxpo_${payoutId}`;

const event = z.discriminatedUnion('type', [
  z.object({
    id: z.string().min(1),
    type: z.enum(['payout.paid', 'payout.failed', 'payout.returned']),
    data: z.object({ payoutId: z.uuid(), providerPayoutId: z.string().min(1).optional(), reason: z.string().max(500).optional() }),
  }),
  z.object({ id: z.string().min(1), type: z.literal('payout_method.verified'), data: z.object({ methodId: z.uuid() }) }),
]);

/** `webhookSecrets`: every secret a webhook may be signed with (more than one while rotating). */
export function createSandboxPayoutProvider({ webhookSecrets, returnAfterMs }: { webhookSecrets: string[]; returnAfterMs: number }): PayoutProvider {
  const answer = (request: PayoutRequest): PayoutAnswer => {
    const behaviour = behaviourOf(request.destination.destination);
    const providerPayoutId = sandboxPayoutId(request.payoutId);
    if (behaviour === 'fails') return { status: 'failed', providerPayoutId, failureReason: 'The sandbox refused this destination' };
    return { status: behaviour === 'webhookOnly' ? 'pending' : 'paid', providerPayoutId };
  };
  return {
    name: 'sandbox',
    returnCheckAfterMs: returnAfterMs,
    async send(request) {
      return answer(request);
    },
    async lookup(request, now): Promise<PayoutLookup> {
      const sent = answer(request);
      if (behaviourOf(request.destination.destination) === 'returns' && now.getTime() - request.submittedAt.getTime() >= returnAfterMs) {
        return { status: 'returned', providerPayoutId: sent.providerPayoutId, failureReason: 'The bank returned the transfer' };
      }
      return sent;
    },
    readWebhook(rawBody, headers, now): PayoutEvent {
      verifyWebhook(webhookSecrets, rawBody, headers.get(SIGNATURE_HEADER), now);
      let parsed;
      try {
        parsed = event.parse(JSON.parse(rawBody));
      } catch {
        throw new WebhookRejectedError('Unreadable event');
      }
      if (parsed.type === 'payout_method.verified') return { eventId: parsed.id, type: parsed.type, methodId: parsed.data.methodId };
      const { payoutId, providerPayoutId, reason } = parsed.data;
      return { eventId: parsed.id, type: parsed.type, payoutId, providerPayoutId: providerPayoutId ?? sandboxPayoutId(payoutId), ...(reason ? { reason } : {}) };
    },
  };
}
