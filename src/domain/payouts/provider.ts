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
  /**
   * Takes back what a payout sent before its diamonds return to the creator, when the money would
   * otherwise stay out of the platform's reach (Stripe: a failed payout's money is back in the creator's
   * connected account; the Transfer there is reversed). Done once per payout whatever the number of
   * calls; says the reversal's id, or null when nothing was sent. Absent: nothing to take back.
   */
  recall?(request: PayoutRequest): Promise<string | null>;
  /** The kinds of payout method it pays to; absent: every kind. */
  methodKinds?: readonly PayoutMethodKind[];
  /** Verifies a webhook's signatures over the raw body and reads it; throws WebhookRejectedError if it must not be trusted. */
  readWebhook(rawBody: string, headers: Headers, now: Date): PayoutEvent;
};

export type PayoutDestination = { kind: PayoutMethodKind; destination: string; routingNumber: string | null; holderName: string | null };

/** `amountCents` is what arrives: the payout's cash value less its fee. */
export type PayoutRequest = {
  payoutId: string;
  amountCents: bigint;
  currency: string;
  destination: PayoutDestination;
  submittedAt: Date;
  /** What the provider told of it so far, if anything. */
  providerPayoutId?: string | null;
  providerTransferId?: string | null;
};

/** `providerTransferId`: money moved on the way (Stripe: the Transfer to the connected account), even when the payout itself failed. */
export type PayoutAnswer = { status: 'paid' | 'failed' | 'pending'; providerPayoutId?: string; providerTransferId?: string; failureReason?: string };

export type PayoutLookup = {
  status: 'paid' | 'failed' | 'returned' | 'pending' | 'not_found';
  providerPayoutId?: string;
  providerTransferId?: string;
  failureReason?: string;
};

export type PayoutEventType = 'payout.paid' | 'payout.failed' | 'payout.returned' | 'payout_method.verified';

export type PayoutEvent =
  | { eventId: string; type: 'payout.paid' | 'payout.failed' | 'payout.returned'; payoutId: string; providerPayoutId: string; reason?: string }
  | { eventId: string; type: 'payout_method.verified'; methodId: string }
  /** Stripe: a connected account can now receive payouts; the methods paying to it are verified. */
  | { eventId: string; type: 'payout_method.verified'; destination: string };
