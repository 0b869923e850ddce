/** What a payment provider does for Ovation. One implementation per provider: `sandbox` (built in) and `stripe`. */
export type PaymentProvider = {
  name: string;
  /** Charges for a purchase. `pending` means the outcome arrives later by webhook. */
  charge(request: ChargeRequest): Promise<ChargeResult>;
  /**
   * What became of a payment whose outcome never arrived (a lost webhook, a charge call that failed in
   * transit). `not_found` means the provider never received the charge.
   */
  lookup(payment: PendingPayment, now: Date): Promise<PaymentLookup>;
  /**
   * Cancels a payment the buyer never confirmed, so it can no longer be paid, and says what became of it
   * (one paid meanwhile is `succeeded`). Absent: the provider's payments never wait for the buyer.
   */
  abandon?(payment: PendingPayment, now: Date): Promise<PaymentLookup>;
  /** How long a payment may wait for the buyer to confirm it before `abandon` cancels it. */
  abandonAfterMs?: number;
  /** A declined payment may still be paid (and is then credited); otherwise a decline is final. */
  declinedMayStillSucceed?: boolean;
  /**
   * What stands refunded of a payment now, in minor units: its refunds that did not fail and were not
   * canceled. Absent: the provider's refund events carry their running total, which is taken as told.
   */
  refundedSoFar?(providerPaymentId: string): Promise<bigint>;
  /** Verifies a webhook's signature over the raw body and reads it; throws WebhookRejectedError if it must not be trusted. */
  readWebhook(rawBody: string, headers: Headers, now: Date): PaymentEvent;
};

/**
 * What a payment pays for: a viewer's coin purchase, or coins for a brand's budget (src/domain/brands/
 * budgets.ts), each settled by its own code; the provider carries the kind in its metadata.
 */
export type PaymentKind = 'coin_purchase' | 'brand_funding';

/**
 * `purchaseId` is Ovation's reference for the payment: the provider keeps it with the payment (its
 * idempotency key and metadata) and echoes it in its webhooks, which may arrive before `charge` returns.
 * `paymentMethod`: the provider's payment method to charge at once (Stripe: a PaymentMethod id), or
 * null when the buyer's app confirms the payment itself (Stripe: with the client secret).
 */
export type ChargeRequest = { kind: PaymentKind; purchaseId: string; amountMinor: bigint; currency: string; paymentMethod: string | null };

/**
 * `clientSecret` and `nextAction` are for the buyer's app: "confirm" (no payment method was given) or
 * "authenticate" (e.g. 3-D Secure), both done with the client secret. A decline the provider refused
 * before making a payment has no `providerPaymentId`.
 */
export type ChargeResult = {
  status: 'succeeded' | 'declined' | 'pending';
  providerPaymentId?: string;
  declineReason?: string;
  clientSecret?: string;
  nextAction?: 'confirm' | 'authenticate';
};

/** A purchase still pending, as reconciliation asks about it: the charge as it was asked for, and what is known of it. */
export type PendingPayment = ChargeRequest & { providerPaymentId: string | null; createdAt: Date };

export type PaymentLookup = { status: 'succeeded' | 'declined' | 'pending' | 'not_found'; providerPaymentId?: string };

export type PaymentEventType =
  | 'payment.succeeded'
  | 'payment.failed'
  | 'payment.refunded'
  | 'payment.charged_back'
  | 'payment.dispute_won'
  | 'payment.dispute_lost';

/**
 * `refundedMinor` (payment.refunded): the total refunded so far, in minor units; absent, all of it (where
 * the provider has refundedSoFar, the event only says that the payment's refunds changed).
 * A dispute opened (charged_back) takes every coin back until it is closed; won gives them back.
 * `dispute` (dispute events): which of the payment's disputes, and when the provider opened it
 * (disputes.ts); absent where the provider names none.
 */
export type PaymentEvent = {
  eventId: string;
  type: PaymentEventType;
  providerPaymentId: string;
  purchaseId?: string;
  refundedMinor?: bigint;
  dispute?: { id: string; openedAt: Date };
};

export class WebhookRejectedError extends Error {
  override name = 'WebhookRejectedError';
}
