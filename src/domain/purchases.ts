import { z } from 'zod';
import type { Database } from '../db/client.js';
import { transaction, type Tx } from '../db/transaction.js';
import type { Announcer } from '../events/announcer.js';
import { Asset, EntryKind, PurchaseStatus, RestrictionKind, type Purchase } from '../generated/prisma/client.js';
import { priceFor } from './bundles.js';
import { BundleUnavailableError, IdempotencyInProgressError, NotFoundError, OvationError, PaymentDeclinedError, PaymentProviderUnavailableError } from './errors.js';
import { claimKeys, failure, idempotencyKey, replay, storeOutcomes, type Outcome } from './idempotency.js';
import { lockUserAccounts, PLATFORM, record, userAccountIds } from './ledger.js';
import type { ChargeResult, PaymentEvent, PaymentProvider } from './payments/provider.js';
import type { Policy } from './policy.js';
import { checkAge, checkNotRestricted, countryInForce } from './safeguards.js';
import { validate } from './validation.js';
import { applyFundingEvent } from './brands/budgets.js';

const purchaseInput = z.object({
  bundleId: z.uuid('is not a coin bundle id'),
  paymentMethod: z.string().trim().min(1, 'must not be empty').max(200),
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
    charge = await provider.charge({
      purchaseId: started.purchase.id,
      amountMinor: started.purchase.amountMinor,
      currency: started.purchase.currency,
      paymentMethod: data.paymentMethod,
    });
  } catch (error) {
    // The charge may or may not have happened. The purchase stays pending for the provider's webhook to
    // settle; the key keeps this answer, so a retry neither charges twice nor waits forever.
    const unavailable = new PaymentProviderUnavailableError();
    await transaction(db, (tx) => storeOutcomes(tx, [{ callerId: buyerId, key: data.idempotencyKey, outcome: failure(unavailable) }]));
    throw Object.assign(unavailable, { cause: error });
  }

  const { outcome, credited } = await transaction(db, async (tx) => {
    // The provider's webhook may have settled the purchase already: only a pending one is settled here.
    const purchase = await tx.purchase.update({ where: { id: started.purchase.id }, data: { providerPaymentId: charge.providerPaymentId } });
    const settledNow = charge.status !== 'pending' && (await settle(tx, purchase, charge.status));
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

/** Settles a pending purchase: credits its coins, or marks it declined. One no longer pending is left as it is. */
async function settle(tx: Tx, purchase: Purchase, outcome: 'succeeded' | 'declined'): Promise<boolean> {
  if (purchase.status !== PurchaseStatus.PENDING) return false;
  if (outcome === 'succeeded') await creditPurchase(tx, purchase);
  else await tx.purchase.update({ where: { id: purchase.id }, data: { status: PurchaseStatus.DECLINED } });
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
 * never received is declined: nothing was charged. A credit is announced to the buyer's wallet once
 * committed. Safe to run on every instance at once.
 */
export async function reconcilePurchases(db: Database, announcer: Announcer, provider: PaymentProvider, now = new Date()): Promise<Reconciled> {
  const stale = await db.purchase.findMany({
    where: { status: PurchaseStatus.PENDING, provider: provider.name, createdAt: { lt: new Date(now.getTime() - RECONCILE_AFTER_MS) } },
    orderBy: { createdAt: 'asc' },
    take: RECONCILE_BATCH,
    select: { id: true },
  });
  const reconciled: Reconciled = { credited: 0, declined: 0, stillPending: 0, unanswered: 0 };
  for (const { id } of stale) {
    let found;
    try {
      found = await provider.lookup(id);
    } catch {
      reconciled.unanswered++; // asked again on the next run
      continue;
    }
    if (found.status === 'pending') {
      reconciled.stillPending++;
      continue;
    }
    const outcome = found.status === 'succeeded' ? 'succeeded' : 'declined';
    const { settled, buyerId } = await transaction(db, async (tx) => {
      await tx.$queryRaw`SELECT id FROM "Purchase" WHERE id = ${id}::uuid FOR NO KEY UPDATE`;
      const purchase = await tx.purchase.findUniqueOrThrow({ where: { id } });
      if (purchase.status === PurchaseStatus.PENDING && found.providerPaymentId && !purchase.providerPaymentId) {
        await tx.purchase.update({ where: { id }, data: { providerPaymentId: found.providerPaymentId } });
      }
      return { settled: await settle(tx, purchase, outcome), buyerId: purchase.buyerId };
    });
    if (!settled) continue;
    reconciled[outcome === 'succeeded' ? 'credited' : 'declined']++;
    if (outcome === 'succeeded') announcer.walletChanged([buyerId]);
  }
  return reconciled;
}

/** Credits a pending purchase's coins: issued by the platform into the buyer's wallet. */
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
  await tx.purchase.update({ where: { id: purchase.id }, data: { status: PurchaseStatus.SUCCEEDED, creditEntryId: entryId } });
}

/**
 * Takes a purchase's coins back (refund or chargeback). Coins already spent leave the wallet negative,
 * recorded as a debt that blocks spending until later purchases cover it.
 */
async function takeBack(tx: Tx, purchase: Purchase, kind: typeof EntryKind.REFUND | typeof EntryKind.CHARGEBACK): Promise<void> {
  const wallet = (await lockUserAccounts(tx, [purchase.buyerId], Asset.COIN)).get(purchase.buyerId)!;
  await record(
    tx,
    [
      {
        kind,
        memo: `${kind === EntryKind.REFUND ? 'Refund' : 'Chargeback'} of purchase ${purchase.id}`,
        postings: [
          { accountId: wallet.accountId, asset: Asset.COIN, amount: -purchase.coins },
          { accountId: PLATFORM.coinIssuance, asset: Asset.COIN, amount: purchase.coins },
        ],
      },
    ],
    [wallet.accountId],
  );
  const spentAlready = wallet.balance >= purchase.coins ? 0n : purchase.coins - (wallet.balance > 0n ? wallet.balance : 0n);
  if (spentAlready > 0n) await tx.chargebackDebt.create({ data: { userId: purchase.buyerId, purchaseId: purchase.id, coins: spentAlready } });
  await tx.purchase.update({
    where: { id: purchase.id },
    data: { status: kind === EntryKind.REFUND ? PurchaseStatus.REFUNDED : PurchaseStatus.CHARGED_BACK },
  });
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
    switch (event.type) {
      case 'payment.succeeded':
        return (await settle(tx, purchase, 'succeeded')) ? { result: 'applied', coinsMovedFor: purchase.buyerId } : { result: 'ignored' };
      case 'payment.failed':
        return { result: (await settle(tx, purchase, 'declined')) ? 'applied' : 'ignored' };
      case 'payment.refunded':
      case 'payment.charged_back':
        if (purchase.status !== PurchaseStatus.SUCCEEDED) return { result: 'ignored' };
        await takeBack(tx, purchase, event.type === 'payment.refunded' ? EntryKind.REFUND : EntryKind.CHARGEBACK);
        return { result: 'applied', coinsMovedFor: purchase.buyerId };
    }
  });
  if (coinsMovedFor) announcer.walletChanged([coinsMovedFor]);
  return { result };
}
