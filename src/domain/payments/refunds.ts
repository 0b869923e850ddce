import type { PaymentEvent, PaymentProvider } from './provider.js';

/**
 * What stands refunded of a payment after a refund event, or null when that changes nothing. A provider
 * that can say (refundedSoFar) is asked, under the payment's row lock, so a refund that failed comes off
 * and every order of events ends the same. Otherwise the events' running totals are taken as told, the
 * highest heard: one told late or twice changes nothing.
 */
export async function refundedAfter(provider: PaymentProvider, event: PaymentEvent, payment: { refundedMinor: bigint; amountMinor: bigint }): Promise<bigint | null> {
  if (provider.refundedSoFar) {
    const refunded = await provider.refundedSoFar(event.providerPaymentId);
    return refunded === payment.refundedMinor || refunded > payment.amountMinor ? null : refunded;
  }
  const told = event.refundedMinor ?? payment.amountMinor;
  return told <= payment.refundedMinor || told > payment.amountMinor ? null : told;
}
