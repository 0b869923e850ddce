import Stripe from 'stripe';
import { STRIPE_KEY_LIFETIME_MS, stripeAmount, type StripeSettings } from '../stripe/client.js';
import { WebhookRejectedError, type ChargeRequest, type ChargeResult, type PaymentEvent, type PaymentLookup, type PaymentProvider } from './provider.js';

/** The metadata Ovation puts on every PaymentIntent: what it pays for, and Ovation's id for it. */
export const PAYMENT_METADATA = { kind: 'ovation_kind', purchaseId: 'ovation_purchase_id' } as const;

/** Our idempotency key for a purchase's PaymentIntent: one purchase, one PaymentIntent, however often it is sent. */
export const paymentIntentKey = (purchaseId: string) => `ovation-purchase-${purchaseId}`;

/** Stripe's own words for a refusal, as the buyer sees them (the library adds its request id to `message`). */
const stripeWords = (error: Stripe.errors.StripeError) => (error.raw as { message?: string } | undefined)?.message ?? 'The card was declined';

/** What a PaymentIntent's state means for the purchase. */
function outcomeOf(intent: Stripe.PaymentIntent): ChargeResult {
  const known = { providerPaymentId: intent.id, ...(intent.client_secret ? { clientSecret: intent.client_secret } : {}) };
  switch (intent.status) {
    case 'succeeded':
      return { status: 'succeeded', ...known };
    case 'canceled':
      return { status: 'declined', ...known, declineReason: 'The payment was canceled' };
    case 'requires_payment_method':
      // After a failed attempt Stripe waits for another payment method; Ovation declines the purchase.
      return intent.last_payment_error
        ? { status: 'declined', ...known, declineReason: intent.last_payment_error.message ?? 'The payment was declined' }
        : { status: 'pending', ...known, nextAction: 'confirm' };
    case 'requires_confirmation':
      return { status: 'pending', ...known, nextAction: 'confirm' };
    case 'requires_action':
      return { status: 'pending', ...known, nextAction: 'authenticate' };
    default: // processing (a bank debit), requires_capture: Stripe tells the outcome by webhook
      return { status: 'pending', ...known };
  }
}

const lookupOf = ({ status, providerPaymentId }: ChargeResult): PaymentLookup => ({ status, ...(providerPaymentId ? { providerPaymentId } : {}) });

/**
 * Coin purchases through Stripe PaymentIntents. `charge` creates one for the regional price, with the
 * purchase's id in its metadata and paymentIntentKey as its idempotency key: with a PaymentMethod id it
 * is confirmed at once (no redirects: the buyer's app handles authentication with the client secret);
 * without one the buyer's app confirms it with the client secret. Outcomes arrive by webhook
 * (src/edge/webhooks.ts, handleStripeWebhook).
 */
export function createStripePaymentProvider(stripe: Stripe, settings: StripeSettings): PaymentProvider {
  const create = async (request: ChargeRequest): Promise<ChargeResult> => {
    const params: Stripe.PaymentIntentCreateParams = {
      amount: stripeAmount(request.amountMinor),
      currency: request.currency.toLowerCase(),
      metadata: { [PAYMENT_METADATA.kind]: request.kind, [PAYMENT_METADATA.purchaseId]: request.purchaseId },
      ...(request.paymentMethod
        ? { payment_method: request.paymentMethod, confirm: true, automatic_payment_methods: { enabled: true, allow_redirects: 'never' } }
        : { automatic_payment_methods: { enabled: true } }),
    };
    try {
      return outcomeOf(await stripe.paymentIntents.create(params, { idempotencyKey: paymentIntentKey(request.purchaseId) }));
    } catch (error) {
      // A declined card: the PaymentIntent exists, and waits for another payment method (Ovation declines).
      if (error instanceof Stripe.errors.StripeCardError) {
        const intent = error.payment_intent;
        return {
          status: 'declined',
          ...(intent ? { providerPaymentId: intent.id, ...(intent.client_secret ? { clientSecret: intent.client_secret } : {}) } : {}),
          declineReason: stripeWords(error),
        };
      }
      // A payment method Stripe does not know or cannot use: nothing was created.
      if (error instanceof Stripe.errors.StripeInvalidRequestError && error.param === 'payment_method') {
        return { status: 'declined', declineReason: 'This payment method cannot be used' };
      }
      throw error;
    }
  };
  return {
    name: 'stripe',
    abandonAfterMs: settings.cancelUnconfirmedAfterMs,
    // After a failed attempt a PaymentIntent waits for another payment method; paid, its coins are owed.
    declinedMayStillSucceed: true,
    charge: create,
    async refundedSoFar(paymentIntentId) {
      let refunded = 0n;
      for await (const refund of stripe.refunds.list({ payment_intent: paymentIntentId, limit: 100 })) {
        if (refund.status !== 'failed' && refund.status !== 'canceled') refunded += BigInt(refund.amount);
      }
      return refunded;
    },
    async lookup(payment, now) {
      if (payment.providerPaymentId) return lookupOf(outcomeOf(await stripe.paymentIntents.retrieve(payment.providerPaymentId)));
      // The create call never answered: sent again with the same key, Stripe answers with the first
      // PaymentIntent (or makes it now). Past the key's lifetime a second one could be made, so never then:
      // the purchase is declined, and a payment that did succeed is still credited by its webhook.
      if (now.getTime() - payment.createdAt.getTime() >= STRIPE_KEY_LIFETIME_MS) return { status: 'not_found' };
      return lookupOf(await create(payment));
    },
    async abandon(payment) {
      if (!payment.providerPaymentId) return { status: 'not_found' };
      try {
        const intent = await stripe.paymentIntents.cancel(
          payment.providerPaymentId,
          { cancellation_reason: 'abandoned' },
          { idempotencyKey: `${paymentIntentKey(payment.purchaseId)}-cancel` },
        );
        return lookupOf(outcomeOf(intent));
      } catch (error) {
        // It can't be canceled any more (paid, or processing meanwhile): say what it is now.
        if (!(error instanceof Stripe.errors.StripeInvalidRequestError)) throw error;
        return lookupOf(outcomeOf(await stripe.paymentIntents.retrieve(payment.providerPaymentId)));
      }
    },
    readWebhook() {
      throw new WebhookRejectedError("Stripe's webhooks are received at /webhooks/stripe");
    },
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The PaymentIntent id of a charge or dispute (an id, or the object when expanded). */
const intentId = (value: string | Stripe.PaymentIntent | null | undefined) => (typeof value === 'string' ? value : (value?.id ?? null));

/**
 * A verified Stripe event as a payment event (for a coin purchase or a brand's funding: applyPaymentEvent
 * tells them apart), or null when it is not one of ours.
 */
export function paymentEventOf(event: Stripe.Event): PaymentEvent | null {
  const ours = (metadata: Stripe.Metadata | null | undefined) =>
    !metadata?.[PAYMENT_METADATA.kind] || ['coin_purchase', 'brand_funding'].includes(metadata[PAYMENT_METADATA.kind]!);
  const purchaseIdIn = (metadata: Stripe.Metadata | null | undefined) => {
    const id = metadata?.[PAYMENT_METADATA.purchaseId];
    return id && UUID.test(id) ? id : undefined;
  };
  const base = (providerPaymentId: string | null, purchaseId?: string) =>
    providerPaymentId ? { eventId: event.id, providerPaymentId, ...(purchaseId ? { purchaseId } : {}) } : null;
  switch (event.type) {
    case 'payment_intent.succeeded':
    case 'payment_intent.payment_failed':
    case 'payment_intent.canceled': {
      const intent = event.data.object;
      if (!ours(intent.metadata)) return null;
      const found = base(intent.id, purchaseIdIn(intent.metadata));
      return found && { ...found, type: event.type === 'payment_intent.succeeded' ? 'payment.succeeded' : 'payment.failed' };
    }
    case 'charge.refunded': {
      const charge = event.data.object;
      if (!ours(charge.metadata)) return null;
      const found = base(intentId(charge.payment_intent), purchaseIdIn(charge.metadata));
      return found && { ...found, type: 'payment.refunded', refundedMinor: BigInt(charge.amount_refunded) };
    }
    // A refund that failed (or changed otherwise) after charge.refunded told it: what stands refunded is
    // read again (refundedSoFar).
    case 'charge.refund.updated':
    case 'refund.failed': {
      const found = base(intentId(event.data.object.payment_intent));
      return found && { ...found, type: 'payment.refunded' };
    }
    case 'charge.dispute.created':
    case 'charge.dispute.closed': {
      const dispute = event.data.object;
      const payment = base(intentId(dispute.payment_intent));
      if (!payment) return null;
      const found = { ...payment, dispute: { id: dispute.id, openedAt: new Date(dispute.created * 1000) } };
      if (event.type === 'charge.dispute.created') return { ...found, type: 'payment.charged_back' };
      // Closed as won (or an inquiry closed without a chargeback): the coins come back. Lost: they stay taken.
      if (dispute.status === 'won' || dispute.status === 'warning_closed') return { ...found, type: 'payment.dispute_won' };
      if (dispute.status === 'lost') return { ...found, type: 'payment.dispute_lost' };
      return null;
    }
    default:
      return null;
  }
}
