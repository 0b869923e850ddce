import Stripe from 'stripe';
import { PayoutMethodKind } from '../../generated/prisma/client.js';
import { WebhookRejectedError } from '../payments/provider.js';
import { STRIPE_KEY_LIFETIME_MS, stripeAmount } from '../stripe/client.js';
import type { PayoutAnswer, PayoutEvent, PayoutProvider, PayoutRequest } from './provider.js';

/** The metadata Ovation puts on every Transfer and Payout it makes: its payout's id. */
export const PAYOUT_METADATA = 'ovation_payout_id';

/** Our idempotency keys for a payout's three calls: each made once, however often it is sent. */
export const payoutKeys = (payoutId: string) => ({
  transfer: `ovation-payout-${payoutId}-transfer`,
  payout: `ovation-payout-${payoutId}-payout`,
  reversal: `ovation-payout-${payoutId}-reversal`,
});

/** The transfer group that ties a payout's Transfer to it, so it is found even when its create call never answered. */
const transferGroup = (payoutId: string) => `ovation-payout-${payoutId}`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Stripe's payouts can fail up to a few business days after they were paid: asked once more after this. */
const RETURN_CHECK_AFTER_MS = 10 * 24 * 3600_000;

/** What the creator sees of a failure: Stripe's failure code, and its words. */
const failureReason = (code: string | null | undefined, message: string | null | undefined) =>
  `Stripe: ${code ?? 'failed'}${message ? ` (${message})` : ''}`;

function answerOf(payout: Stripe.Payout): PayoutAnswer {
  if (payout.status === 'paid') return { status: 'paid', providerPayoutId: payout.id };
  if (payout.status === 'failed' || payout.status === 'canceled') {
    return { status: 'failed', providerPayoutId: payout.id, failureReason: failureReason(payout.failure_code ?? payout.status, payout.failure_message) };
  }
  return { status: 'pending', providerPayoutId: payout.id }; // pending, in_transit: Stripe tells the outcome by webhook
}

/** Stripe said no (a bad request, a refused account): nothing more will come of the call. Anything else may yet have happened. */
const refused = (error: unknown): error is Stripe.errors.StripeError =>
  error instanceof Stripe.errors.StripeInvalidRequestError || error instanceof Stripe.errors.StripePermissionError || error instanceof Stripe.errors.StripeCardError;

/**
 * Payouts through Stripe Connect. A creator's payout method is their connected account (acct_...), which
 * Stripe verifies (`account.updated` with payouts enabled). Sending a payout makes a Transfer of what
 * arrives from the platform's balance to the connected account, then a Payout of it from that account to
 * the creator's bank, each with our idempotency key and the payout's id in its metadata. The connected
 * accounts' payout schedule must be manual, so Stripe pays out only what Ovation asks.
 */
export function createStripePayoutProvider(stripe: Stripe): PayoutProvider {
  const send = async (request: PayoutRequest): Promise<PayoutAnswer> => {
    if (request.destination.kind !== PayoutMethodKind.STRIPE_ACCOUNT) return { status: 'failed', failureReason: 'Stripe pays connected accounts only' };
    const account = request.destination.destination;
    const keys = payoutKeys(request.payoutId);
    const amount = stripeAmount(request.amountCents);
    const currency = request.currency.toLowerCase();
    const metadata = { [PAYOUT_METADATA]: request.payoutId };
    let transfer: Stripe.Transfer;
    try {
      transfer = await stripe.transfers.create(
        { amount, currency, destination: account, transfer_group: transferGroup(request.payoutId), metadata },
        { idempotencyKey: keys.transfer },
      );
    } catch (error) {
      if (refused(error)) return { status: 'failed', failureReason: failureReason(error.code, (error.raw as { message?: string } | undefined)?.message) };
      throw error;
    }
    try {
      const payout = await stripe.payouts.create({ amount, currency, metadata }, { stripeAccount: account, idempotencyKey: keys.payout });
      return { ...answerOf(payout), providerTransferId: transfer.id };
    } catch (error) {
      // The Transfer went through: it is reversed before the diamonds return (recall).
      if (refused(error)) return { status: 'failed', providerTransferId: transfer.id, failureReason: failureReason(error.code, (error.raw as { message?: string } | undefined)?.message) };
      throw error;
    }
  };
  return {
    name: 'stripe',
    methodKinds: [PayoutMethodKind.STRIPE_ACCOUNT],
    returnCheckAfterMs: RETURN_CHECK_AFTER_MS,
    send,
    async lookup(request, now) {
      if (request.providerPayoutId) {
        const payout = await stripe.payouts.retrieve(request.providerPayoutId, {}, { stripeAccount: request.destination.destination });
        return answerOf(payout);
      }
      // The send never answered: sent again with the same keys, Stripe answers with what the first made.
      // Past the keys' lifetime a second Transfer could be made, so never then: an operator settles it.
      if (now.getTime() - request.submittedAt.getTime() >= STRIPE_KEY_LIFETIME_MS) return { status: 'pending' };
      return send(request);
    },
    async recall(request) {
      const transferId =
        request.providerTransferId ?? (await stripe.transfers.list({ transfer_group: transferGroup(request.payoutId), limit: 1 })).data[0]?.id;
      if (!transferId) return null; // nothing was sent
      try {
        const reversal = await stripe.transfers.createReversal(transferId, { metadata: { [PAYOUT_METADATA]: request.payoutId } }, { idempotencyKey: payoutKeys(request.payoutId).reversal });
        return reversal.id;
      } catch (error) {
        // Reversed already (past the key's lifetime Stripe refuses a second reversal): that one stands.
        if (!(error instanceof Stripe.errors.StripeInvalidRequestError)) throw error;
        const transfer = await stripe.transfers.retrieve(transferId);
        if (!transfer.reversed) throw error;
        return transfer.reversals.data[0]?.id ?? `${transferId}:reversed`;
      }
    },
    readWebhook() {
      throw new WebhookRejectedError("Stripe's webhooks are received at /webhooks/stripe");
    },
  };
}

/**
 * The Stripe event types payoutEventOf reads: the payouts' side of Stripe's one webhook endpoint (its
 * metrics count them as payout webhooks). The one list of them: payoutEventOf reads no other type.
 */
export const PAYOUT_EVENT_TYPES: ReadonlySet<Stripe.Event['type']> = new Set(['payout.paid', 'payout.failed', 'payout.canceled', 'account.updated']);

/**
 * A verified Stripe event as a payout event, or null when it is not one (a payout Ovation did not ask
 * for has no payout id in its metadata).
 */
export function payoutEventOf(event: Stripe.Event): PayoutEvent | null {
  if (!PAYOUT_EVENT_TYPES.has(event.type)) return null;
  switch (event.type) {
    case 'payout.paid':
    case 'payout.failed':
    case 'payout.canceled': {
      const payout = event.data.object;
      const payoutId = payout.metadata?.[PAYOUT_METADATA];
      if (!payoutId || !UUID.test(payoutId)) return null;
      if (event.type === 'payout.paid') return { eventId: event.id, type: 'payout.paid', payoutId, providerPayoutId: payout.id };
      // A failure after paid is a return: the lifecycle tells them apart by the payout's status.
      return { eventId: event.id, type: 'payout.failed', payoutId, providerPayoutId: payout.id, reason: failureReason(payout.failure_code ?? payout.status, payout.failure_message) };
    }
    case 'account.updated': {
      const account = event.data.object;
      return account.payouts_enabled ? { eventId: event.id, type: 'payout_method.verified', destination: account.id } : null;
    }
    default:
      return null;
  }
}
