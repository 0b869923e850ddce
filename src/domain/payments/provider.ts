/** What a payment provider does for Ovation. One implementation per provider; `sandbox` is built in. */
export type PaymentProvider = {
  name: string;
  /** Charges for a purchase. `pending` means the outcome arrives later by webhook. */
  charge(request: ChargeRequest): Promise<ChargeResult>;
  /**
   * What became of the payment the provider holds under Ovation's reference (`purchaseId`): for purchases
   * whose outcome never arrived (a lost webhook, a charge call that failed in transit). `not_found`
   * means the provider never received the charge.
   */
  lookup(purchaseId: string): Promise<PaymentLookup>;
  /** Verifies a webhook's signature over the raw body and reads it; throws WebhookRejectedError if it must not be trusted. */
  readWebhook(rawBody: string, headers: Headers, now: Date): PaymentEvent;
};

/**
 * `purchaseId` is Ovation's reference for the payment: the provider keeps it with the payment (its
 * idempotency key and metadata) and echoes it in its webhooks, which may arrive before `charge` returns.
 */
export type ChargeRequest = { purchaseId: string; amountMinor: bigint; currency: string; paymentMethod: string };
export type ChargeResult = { status: 'succeeded' | 'declined' | 'pending'; providerPaymentId: string; declineReason?: string };

export type PaymentLookup = { status: 'succeeded' | 'declined' | 'pending' | 'not_found'; providerPaymentId?: string };

export type PaymentEventType = 'payment.succeeded' | 'payment.failed' | 'payment.refunded' | 'payment.charged_back';
export type PaymentEvent = { eventId: string; type: PaymentEventType; providerPaymentId: string; purchaseId?: string };

export class WebhookRejectedError extends Error {
  override name = 'WebhookRejectedError';
}
