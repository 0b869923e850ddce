import { z } from 'zod';
import type { Database } from '../db/client.js';
import { transaction, type Tx } from '../db/transaction.js';
import type { Announcer } from '../events/announcer.js';
import { Asset, DisputeStatus, EntryKind, PurchaseStatus, RestrictionKind, type Purchase } from '../generated/prisma/client.js';
import { priceFor } from './bundles.js';
import { BundleUnavailableError, IdempotencyInProgressError, NotFoundError, OvationError, PaymentDeclinedError, PaymentProviderUnavailableError } from './errors.js';
import { claimKeys, failure, idempotencyKey, replay, storeOutcomes, type Outcome } from './idempotency.js';
import { lockUserAccounts, PLATFORM, record, userAccountIds } from './ledger.js';
import { disputeAfter } from './payments/disputes.js';
import { refundedAfter } from './payments/refunds.js';
import type { ChargeRequest, ChargeResult, PaymentEvent, PaymentLookup, PaymentProvider, PendingPayment } from './payments/provider.js';
import type { Policy } from './policy.js';
import { checkAge, checkNotRestricted, countryInForce } from './safeguards.js';
import { validate } from './validation.js';
import { applyFundingEvent } from './brands/budgets.js';

const purchaseInput = z.object({
  bundleId: z.uuid('is not a coin bundle id'),
  // Optional: without one the buyer's app confirms the payment itself (Stripe: with the client secret).
  paymentMethod: z.string().trim().min(1, 'must not be empty').max(200).optional(),
  idempotencyKey,
});

export type PurchaseInput = z.input<typeof purchaseInput>;

type PurchaseOutcome = Outcome<{ purchaseId: string }>;

/**
 * Buys a coin bundle at the buyer's regional price. Coins are credited exactly once, when the payment
 * succeeds: now, or later by webhook. The provider is called between two transactions (never inside
 * one); a retry meanwhile waits for the first call's result (IdempotencyInProgressError if that takes too long).
 * With no provider configured, nothing is bought and nothing is stored.
 */
export async function purchaseCoins(
  db: Database,
  announcer: Announcer,
  policy: Policy,
  provider: PaymentProvider | null,
  buyerId: string,
  input: PurchaseInput,
  now = new Date(),
): Promise<Purchase> {
  const data = validate(purchaseInput, input);
  if (!provider) throw new PaymentProviderUnavailableError('Coin purchases are unavailable: this server has no payment provider configured.');
  const claim = { callerId: buyerId, key: data.idempotencyKey, operation: 'purchaseCoins', input: { ...data, idempotencyKey: undefined } };

  const started = await waitingForFirstCall(() => transaction<{ replayed: PurchaseOutcome } | { purchase: Purchase }>(db, async (tx) => {
    const claimed = (await claimKeys<{ purchaseId: string }>(tx, [claim]))[0]!;
    if (claimed.kind === 'refused') throw claimed.error;
    if (claimed.kind === 'replay') return { replayed: claimed.outcome };
    try {
      const buyer = await tx.user.findUniqueOrThrow({ where: { id: buyerId } });
      checkNotRestricted(buyer, RestrictionKind.BUYING);
      checkAge(policy, buyer, 'buy coins', now);
      const bundle = await tx.coinBundle.findUnique({ where: { id: data.bundleId }, include: { prices: true } });
      if (!bundle) throw new NotFoundError('Coin bundle');
      if (bundle.retiredAt) throw new BundleUnavailableError('This coin bundle has been retired');
      const price = priceFor(bundle.prices, countryInForce(buyer, now));
      if (!price) throw new BundleUnavailableError('This coin bundle is not sold in your country');
      const purchase = await tx.purchase.create({
        data: {
          buyerId,
          bundleId: bundle.id,
          coins: bundle.coins + bundle.bonusCoins,
          amountMinor: price.amountMinor,
          currency: price.currency,
          provider: provider.name,
          paymentMethod: data.paymentMethod ?? null,
        },
      });
      return { purchase };
    } catch (error) {
      if (!(error instanceof OvationError)) throw error;
      // A refusal is the key's outcome too: the same retry gets the same answer.
      await storeOutcomes<{ purchaseId: string }>(tx, [{ callerId: buyerId, key: data.idempotencyKey, outcome: failure(error) }]);
      return { replayed: failure(error) };
    }
  }));
  if ('replayed' in started) return db.purchase.findUniqueOrThrow({ where: { id: replay(started.replayed).purchaseId } });

  let charge: ChargeResult;
  try {
    charge = await provider.charge(chargeOf(started.purchase));
  } catch (error) {
    // The charge may or may not have happened. The purchase stays pending for the provider's webhook to
    // settle; the key keeps this answer, so a retry neither charges twice nor waits forever.
    const unavailable = new PaymentProviderUnavailableError();
    await transaction(db, (tx) => storeOutcomes(tx, [{ callerId: buyerId, key: data.idempotencyKey, outcome: failure(unavailable) }]));
    throw Object.assign(unavailable, { cause: error });
  }

  const { outcome, credited } = await transaction(db, async (tx) => {
    // The provider's webhook may have settled the purchase already: only a pending one is settled here.
    const purchase = await tx.purchase.update({
      where: { id: started.purchase.id },
      data: {
        ...(charge.providerPaymentId ? { providerPaymentId: charge.providerPaymentId } : {}),
        clientSecret: charge.clientSecret ?? null,
        nextAction: charge.status === 'pending' ? (charge.nextAction ?? null) : null,
      },
    });
    const settledNow = charge.status !== 'pending' && (await settle(tx, provider, purchase, charge.status));
    const declined = settledNow ? charge.status === 'declined' : purchase.status === PurchaseStatus.DECLINED;
    const result: PurchaseOutcome = declined ? failure(new PaymentDeclinedError(charge.declineReason)) : { ok: { purchaseId: purchase.id } };
    await storeOutcomes(tx, [{ callerId: buyerId, key: data.idempotencyKey, outcome: result }]);
    return { outcome: result, credited: settledNow && charge.status === 'succeeded' };
  });
  // Coins credited by a webhook meanwhile were announced by it.
  if (credited) announcer.walletChanged([buyerId]);
  return db.purchase.findUniqueOrThrow({ where: { id: replay(outcome).purchaseId } });
}

/** How long a retry waits for the first call with its key (which may be talking to the provider) to finish. */
const FIRST_CALL_WAIT_MS = 10_000;

/**
 * Runs `attempt` again while the first call with the same key is still running, so a retry (a double tap,
 * a client timeout) gets the first call's result rather than a refusal; IdempotencyInProgressError only
 * when the first call takes longer than FIRST_CALL_WAIT_MS.
 */
export async function waitingForFirstCall<T>(attempt: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + FIRST_CALL_WAIT_MS;
  for (let pause = 10; ; pause = Math.min(pause * 2, 200)) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof IdempotencyInProgressError) || Date.now() + pause > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}

/** The charge a purchase asks its provider for: the same every time it is asked (a retry must match the first call). */
const chargeOf = (purchase: Purchase): ChargeRequest => ({
  kind: 'coin_purchase',
  purchaseId: purchase.id,
  amountMinor: purchase.amountMinor,
  currency: purchase.currency,
  paymentMethod: purchase.paymentMethod,
});

/**
 * Settles a purchase (locked by the caller): credits its coins, or marks it declined. Only a pending one
 * is settled, except that a provider whose declined payments may still be paid (Stripe: the buyer's app
 * confirms the same PaymentIntent with another card) has a declined one credited when it says it was
 * paid after all: money taken is coins owed. Anything else is left as it is.
 */
async function settle(tx: Tx, provider: PaymentProvider, purchase: Purchase, outcome: 'succeeded' | 'declined'): Promise<boolean> {
  if (outcome === 'succeeded') {
    const settleable = purchase.status === PurchaseStatus.PENDING || (purchase.status === PurchaseStatus.DECLINED && provider.declinedMayStillSucceed === true);
    if (!settleable) return false;
    await creditPurchase(tx, purchase);
    return true;
  }
  if (purchase.status !== PurchaseStatus.PENDING) return false;
  await tx.purchase.update({ where: { id: purchase.id }, data: { status: PurchaseStatus.DECLINED, nextAction: null } });
  return true;
}

/** A purchase still pending this long is looked up at its provider (a webhook normally settles it within seconds). */
export const RECONCILE_AFTER_MS = 15 * 60_000;
const RECONCILE_BATCH = 100;

export type Reconciled = { credited: number; declined: number; stillPending: number; unanswered: number };

/**
 * Settles purchases whose outcome never arrived (a lost webhook, a charge call that failed in transit,
 * so the buyer may have paid and has no coins): each purchase pending longer than RECONCILE_AFTER_MS is
 * looked up at its provider, outside any transaction, then credited or declined in a transaction that
 * settles it only if it is still pending (a webhook may have come meanwhile). A payment the provider
 * never received is declined: nothing was charged. A payment the buyer left unconfirmed longer than the
 * provider's `abandonAfterMs` is canceled there (`abandon`) and declined. A credit is announced to the
 * buyer's wallet once committed. Safe to run on every instance at once.
 */
export async function reconcilePurchases(db: Database, announcer: Announcer, provider: PaymentProvider, now = new Date()): Promise<Reconciled> {
  const reconciled: Reconciled = { credited: 0, declined: 0, stillPending: 0, unanswered: 0 };
  const stale = await db.purchase.findMany({
    where: { status: PurchaseStatus.PENDING, provider: provider.name, createdAt: { lt: new Date(now.getTime() - RECONCILE_AFTER_MS) } },
    orderBy: { createdAt: 'asc' },
    take: RECONCILE_BATCH,
    select: { id: true },
  });
  for (const { id } of stale) await reconcileOne(db, announcer, provider, id, 'pending', reconciled, now);
  // Declined, yet still payable at the provider (Stripe: a PaymentIntent after a failed attempt keeps its
  // client secret): canceled too once the buyer's time to confirm is over.
  if (provider.abandon && provider.declinedMayStillSucceed && provider.abandonAfterMs !== undefined) {
    const open = await db.purchase.findMany({
      where: { status: PurchaseStatus.DECLINED, provider: provider.name, clientSecret: { not: null }, createdAt: { lt: new Date(now.getTime() - provider.abandonAfterMs) } },
      orderBy: { createdAt: 'asc' },
      take: RECONCILE_BATCH,
      select: { id: true },
    });
    for (const { id } of open) await reconcileOne(db, announcer, provider, id, 'declined', reconciled, now);
  }
  return reconciled;
}

/**
 * Asks the provider about one purchase, outside any transaction (a declined one is not asked: only
 * canceled), cancels its payment when left unconfirmed too long, and settles it in a transaction that
 * settles it only if it still may be (a webhook may have come meanwhile).
 */
async function reconcileOne(
  db: Database,
  announcer: Announcer,
  provider: PaymentProvider,
  id: string,
  was: 'pending' | 'declined',
  reconciled: Reconciled,
  now: Date,
): Promise<void> {
  let found: PaymentLookup;
  let abandoned = false;
  try {
    const purchase = await db.purchase.findUniqueOrThrow({ where: { id } });
    const payment: PendingPayment = { ...chargeOf(purchase), providerPaymentId: purchase.providerPaymentId, createdAt: purchase.createdAt };
    found = was === 'declined' ? { status: 'pending' } : await provider.lookup(payment, now);
    // Left unconfirmed too long: canceled at the provider, so it can no longer be paid, then declined.
    if (found.status === 'pending' && provider.abandon && now.getTime() - purchase.createdAt.getTime() >= (provider.abandonAfterMs ?? Infinity)) {
      found = await provider.abandon({ ...payment, providerPaymentId: found.providerPaymentId ?? payment.providerPaymentId }, now);
      abandoned = true;
    }
  } catch {
    reconciled.unanswered++; // asked again on the next run
    return;
  }
  if (found.status === 'pending') {
    reconciled.stillPending++;
    return;
  }
  const outcome = found.status === 'succeeded' ? 'succeeded' : 'declined';
  const { settled, buyerId } = await transaction(db, async (tx) => {
    await tx.$queryRaw`SELECT id FROM "Purchase" WHERE id = ${id}::uuid FOR NO KEY UPDATE`;
    let purchase = await tx.purchase.findUniqueOrThrow({ where: { id } });
    if (purchase.status === PurchaseStatus.PENDING && found.providerPaymentId && !purchase.providerPaymentId) {
      purchase = await tx.purchase.update({ where: { id }, data: { providerPaymentId: found.providerPaymentId } });
    }
    const settled = await settle(tx, provider, purchase, outcome);
    // Canceled at the provider: nothing can pay it any more, and its client secret is of no use.
    if (abandoned && outcome === 'declined') await tx.purchase.update({ where: { id }, data: { clientSecret: null, nextAction: null } });
    return { settled, buyerId: purchase.buyerId };
  });
  if (!settled) return;
  reconciled[outcome === 'succeeded' ? 'credited' : 'declined']++;
  if (outcome === 'succeeded') announcer.walletChanged([buyerId]);
}

/**
 * Credits a purchase's coins: issued by the platform into the buyer's wallet. A refund or dispute heard
 * of before the payment's success (the provider does not promise order) is applied right after.
 */
async function creditPurchase(tx: Tx, purchase: Purchase): Promise<void> {
  const wallet = (await userAccountIds(tx, [purchase.buyerId], Asset.COIN)).get(purchase.buyerId)!;
  const [entryId] = await record(tx, [
    {
      kind: EntryKind.PURCHASE,
      memo: `Purchase ${purchase.id}`,
      postings: [
        { accountId: PLATFORM.coinIssuance, asset: Asset.COIN, amount: -purchase.coins },
        { accountId: wallet, asset: Asset.COIN, amount: purchase.coins },
      ],
    },
  ]);
  const credited = await tx.purchase.update({ where: { id: purchase.id }, data: { status: PurchaseStatus.SUCCEEDED, creditEntryId: entryId, nextAction: null } });
  await adjust(tx, credited, 'credit');
}

const disputeInForce = (purchase: Purchase) => purchase.dispute === DisputeStatus.OPEN || purchase.dispute === DisputeStatus.LOST;

/**
 * The coins a credited purchase should have taken back, from what the provider has said of it: all of
 * them while a dispute is open or lost; otherwise the refunded share, rounded down, in the buyer's
 * favour (a refund of 50 of 99 cents on 70 coins takes back floor(70 x 50 / 99) = 35).
 */
export function coinsOwedBack(purchase: Pick<Purchase, 'coins' | 'amountMinor' | 'refundedMinor' | 'dispute'>): bigint {
  if (purchase.dispute === DisputeStatus.OPEN || purchase.dispute === DisputeStatus.LOST) return purchase.coins;
  return (purchase.coins * purchase.refundedMinor) / purchase.amountMinor;
}

/**
 * Brings a credited purchase's coins in line with what the provider has said (refunds, a dispute): takes
 * back what is owed, or gives back what a won dispute or a failed refund returns (`because` says which),
 * in one entry. Coins already spent leave the wallet negative, recorded as a debt that blocks spending
 * until later purchases cover it. Says whether coins moved; a purchase not credited yet changes nothing
 * (its credit applies it).
 */
async function adjust(tx: Tx, purchase: Purchase, because: 'credit' | 'refund' | 'dispute'): Promise<boolean> {
  if (!purchase.creditEntryId) return false;
  const owed = coinsOwedBack(purchase);
  const change = owed - purchase.coinsTakenBack;
  if (change === 0n) return false;
  const wallet = (await lockUserAccounts(tx, [purchase.buyerId], Asset.COIN)).get(purchase.buyerId)!;
  const [kind, what] =
    change > 0n
      ? disputeInForce(purchase) ? [EntryKind.CHARGEBACK, 'Chargeback'] : [EntryKind.REFUND, 'Refund']
      : because === 'dispute' ? [EntryKind.CHARGEBACK_REVERSAL, 'Dispute won'] : [EntryKind.REFUND_REVERSAL, 'Refund failed'];
  const [entryId] = await record(
    tx,
    [
      {
        kind,
        memo: `${what} of purchase ${purchase.id}`,
        postings: [
          { accountId: wallet.accountId, asset: Asset.COIN, amount: -change },
          { accountId: PLATFORM.coinIssuance, asset: Asset.COIN, amount: change },
        ],
      },
    ],
    [wallet.accountId],
  );
  await tx.purchaseAdjustment.create({ data: { purchaseId: purchase.id, entryId: entryId!, coins: change } });
  const covered = wallet.balance <= 0n ? 0n : wallet.balance < change ? wallet.balance : change;
  if (change > 0n && change > covered) {
    await tx.$executeRaw`
      INSERT INTO "ChargebackDebt" (id, "userId", "purchaseId", coins) VALUES (gen_random_uuid(), ${purchase.buyerId}::uuid, ${purchase.id}::uuid, ${change - covered})
      ON CONFLICT ("purchaseId") DO UPDATE SET coins = "ChargebackDebt".coins + EXCLUDED.coins`;
  }
  const status = owed < purchase.coins ? PurchaseStatus.SUCCEEDED : disputeInForce(purchase) ? PurchaseStatus.CHARGED_BACK : PurchaseStatus.REFUNDED;
  await tx.purchase.update({ where: { id: purchase.id }, data: { coinsTakenBack: owed, status } });
  return true;
}

export type WebhookResult = { result: 'applied' | 'duplicate' | 'ignored' };

/**
 * Applies a verified payment-provider event exactly once: the event id is recorded in the same
 * transaction as its effect, so a replay finds it and changes nothing. A buyer whose coins it moved
 * (credited, refunded, charged back) hears of it once it has committed.
 */
export async function applyPaymentEvent(db: Database, announcer: Announcer, provider: PaymentProvider, event: PaymentEvent): Promise<WebhookResult> {
  const { result, coinsMovedFor } = await transaction(db, async (tx): Promise<WebhookResult & { coinsMovedFor?: string }> => {
    const fresh = await tx.$executeRaw`
      INSERT INTO "WebhookEvent" (provider, "eventId", type) VALUES (${provider.name}, ${event.eventId}, ${event.type})
      ON CONFLICT DO NOTHING`;
    if (fresh === 0) return { result: 'duplicate' };
    // By the provider's payment id, or, when the event beat purchaseCoins to storing that id, by our reference.
    const [locked] = await tx.$queryRaw<{ id: string }[]>`
      SELECT id FROM "Purchase"
      WHERE provider = ${provider.name}
        AND ("providerPaymentId" = ${event.providerPaymentId} OR ("providerPaymentId" IS NULL AND id = ${event.purchaseId ?? null}::uuid))
      FOR NO KEY UPDATE`;
    // An event naming no purchase may be about a brand's funding (src/domain/brands/budgets.ts).
    if (!locked) return { result: await applyFundingEvent(tx, provider, event) };
    const purchase = await tx.purchase.update({ where: { id: locked.id }, data: { providerPaymentId: event.providerPaymentId } });
    const moved = (coinsMoved: boolean): WebhookResult & { coinsMovedFor?: string } =>
      coinsMoved ? { result: 'applied', coinsMovedFor: purchase.buyerId } : { result: 'ignored' };
    switch (event.type) {
      case 'payment.succeeded':
        return moved(await settle(tx, provider, purchase, 'succeeded'));
      case 'payment.failed':
        return { result: (await settle(tx, provider, purchase, 'declined')) ? 'applied' : 'ignored' };
      case 'payment.refunded': {
        const refundedMinor = await refundedAfter(provider, event, purchase);
        if (refundedMinor === null) return { result: 'ignored' };
        return moved(await adjust(tx, await tx.purchase.update({ where: { id: purchase.id }, data: { refundedMinor } }), 'refund'));
      }
      case 'payment.charged_back':
      case 'payment.dispute_won':
      case 'payment.dispute_lost': {
        const dispute = disputeAfter(purchase, event);
        if (!dispute) return { result: 'ignored' };
        return moved(await adjust(tx, await tx.purchase.update({ where: { id: purchase.id }, data: dispute }), 'dispute'));
      }
    }
  });
  if (coinsMovedFor) announcer.walletChanged([coinsMovedFor]);
  return { result };
}
