import type { PayoutMethodKind } from '../../generated/prisma/client.js';

/** What a payout provider does for Ovation. One implementation per provider; `sandbox` is built in. */
export type PayoutProvider = {
  name: string;
  /**
   * Sends a payout's cash. `payoutId` is Ovation's reference: the provider keeps it as the transfer's
   * idempotency key and echoes it in its webhooks. `pending` means the outcome arrives later.
   */
  send(request: PayoutRequest): Promise<PayoutAnswer>;
  /**
   * What became of a payout sent earlier: for one whose outcome never arrived (a lost webhook, a send
   * that failed in transit) or one paid that may still come back. `not_found`: the provider never got it.
   */
  lookup(request: PayoutRequest, now: Date): Promise<PayoutLookup>;
  /** How long after a payout is paid to ask once more whether it was returned; null: only webhooks tell. */
  returnCheckAfterMs: number | null;
  /** Verifies a webhook's signatures over the raw body and reads it; throws WebhookRejectedError if it must not be trusted. */
  readWebhook(rawBody: string, headers: Headers, now: Date): PayoutEvent;
};

export type PayoutDestination = { kind: PayoutMethodKind; destination: string; routingNumber: string | null; holderName: string | null };

/** `amountCents` is what arrives: the payout's cash value less its fee. */
export type PayoutRequest = { payoutId: string; amountCents: bigint; currency: string; destination: PayoutDestination; submittedAt: Date };

export type PayoutAnswer = { status: 'paid' | 'failed' | 'pending'; providerPayoutId: string; failureReason?: string };

export type PayoutLookup = { status: 'paid' | 'failed' | 'returned' | 'pending' | 'not_found'; providerPayoutId?: string; failureReason?: string };

export type PayoutEventType = 'payout.paid' | 'payout.failed' | 'payout.returned' | 'payout_method.verified';

export type PayoutEvent =
  | { eventId: string; type: 'payout.paid' | 'payout.failed' | 'payout.returned'; payoutId: string; providerPayoutId: string; reason?: string }
  | { eventId: string; type: 'payout_method.verified'; methodId: string };
