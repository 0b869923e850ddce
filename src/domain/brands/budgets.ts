import { z } from 'zod';
import type { Database } from '../../db/client.js';
import { transaction, type Tx } from '../../db/transaction.js';
import { Asset, BrandFundingSource, BrandFundingStatus, DisputeStatus, EntryKind, type BrandFunding } from '../../generated/prisma/client.js';
import { DEFAULT_REGION, priceFor } from '../bundles.js';
import { BundleUnavailableError, NotFoundError, OvationError, PaymentDeclinedError, PaymentProviderUnavailableError } from '../errors.js';
import { claimKeys, failure, idempotencyKey, replay, storeOutcomes, type Outcome } from '../idempotency.js';
import { PLATFORM, record } from '../ledger.js';
import { disputeAfter } from '../payments/disputes.js';
import { refundedAfter } from '../payments/refunds.js';
import type { ChargeResult, PaymentEvent, PaymentProvider } from '../payments/provider.js';
import { RECONCILE_AFTER_MS, waitingForFirstCall } from '../purchases.js';
import { validate } from '../validation.js';
import { authorizeBrand, type BrandCaller } from './access.js';

/** What a brand holds: coins it may still commit, and coins committed to campaigns not yet settled. */
export type BrandBudget = { brandId: string; budgetAccountId: string; availableCoins: bigint; reservedCoins: bigint };

export async function brandBudget(db: Database | Tx, brandId: string): Promise<BrandBudget> {
  const [row] = await db.$queryRaw<{ budgetAccountId: string; available: bigint; reserved: string }[]>`
    SELECT b."budgetAccountId", a.balance AS available,
      (SELECT coalesce(sum(ca.balance), 0) FROM "MatchingCampaign" c JOIN "Account" ca ON ca.id = c."accountId"
       WHERE c."brandId" = b.id AND c.status <> 'SETTLED')::text AS reserved
    FROM "Brand" b JOIN "Account" a ON a.id = b."budgetAccountId" WHERE b.id = ${brandId}::uuid`;
  if (!row) throw new NotFoundError('Brand');
  return { brandId, budgetAccountId: row.budgetAccountId, availableCoins: row.available, reservedCoins: BigInt(row.reserved) };
}

const MAX_BUNDLES = 1000;
const fundInput = z.object({
  brandId: z.uuid('is not a brand id'),
  bundleId: z.uuid('is not a coin bundle id'),
  quantity: z.number().int('must be a whole number').min(1, 'must be at least 1').max(MAX_BUNDLES, `must be at most ${MAX_BUNDLES}`),
  paymentMethod: z.string().trim().min(1, 'must not be empty').max(200),
  idempotencyKey,
});

type FundingOutcome = Outcome<{ fundingId: string }>;

/**
 * A brand buys coins for its budget through the payment provider, as a viewer buys coins: `quantity`
 * of a bundle at its DEFAULT price (brands are invoiced in the platform's home currency). Credited
 * exactly once when the payment succeeds; the provider is called between two transactions, and a retry
 * with the same key gets the first result. Idempotency keys are the brand's (one space for its keys and
 * people).
 */
export async function fundBrandBudget(db: Database, provider: PaymentProvider | null, caller: BrandCaller, input: z.input<typeof fundInput>): Promise<BrandFunding> {
  const data = validate(fundInput, input);
  const claim = { callerId: data.brandId, key: data.idempotencyKey, operation: 'fundBrandBudget', input: { ...data, idempotencyKey: undefined } };
  const started = await waitingForFirstCall(() => transaction<{ replayed: FundingOutcome } | { funding: BrandFunding }>(db, async (tx) => {
    if (!(await tx.brand.findUnique({ where: { id: data.brandId }, select: { id: true } }))) throw new NotFoundError('Brand');
    await authorizeBrand(tx, caller, data.brandId, 'funds');
    if (!provider) throw new PaymentProviderUnavailableError('Funding by card is unavailable: this server has no payment provider configured.');
    const claimed = (await claimKeys<{ fundingId: string }>(tx, [claim]))[0]!;
    if (claimed.kind === 'refused') throw claimed.error;
    if (claimed.kind === 'replay') return { replayed: claimed.outcome };
    try {
      const bundle = await tx.coinBundle.findUnique({ where: { id: data.bundleId }, include: { prices: true } });
      if (!bundle) throw new NotFoundError('Coin bundle');
      if (bundle.retiredAt) throw new BundleUnavailableError('This coin bundle has been retired');
      const price = priceFor(bundle.prices, DEFAULT_REGION);
      if (!price) throw new BundleUnavailableError('This coin bundle has no DEFAULT price');
      const quantity = BigInt(data.quantity);
      const funding = await tx.brandFunding.create({
        data: {
          brandId: data.brandId, source: BrandFundingSource.PAYMENT, coins: (bundle.coins + bundle.bonusCoins) * quantity,
          amountMinor: price.amountMinor * quantity, currency: price.currency, provider: provider.name,
        },
      });
      return { funding };
    } catch (error) {
      if (!(error instanceof OvationError)) throw error;
      await storeOutcomes(tx, [{ callerId: data.brandId, key: data.idempotencyKey, outcome: failure(error) }]);
      return { replayed: failure(error) };
    }
  }));
  if ('replayed' in started) return db.brandFunding.findUniqueOrThrow({ where: { id: replay(started.replayed).fundingId } });

  let charge: ChargeResult;
  try {
    // The funding's id is Ovation's reference for the payment, as a purchase's is.
    charge = await provider!.charge({ kind: 'brand_funding', purchaseId: started.funding.id, amountMinor: started.funding.amountMinor, currency: started.funding.currency, paymentMethod: data.paymentMethod });
  } catch (error) {
    const unavailable = new PaymentProviderUnavailableError();
    await transaction(db, (tx) => storeOutcomes(tx, [{ callerId: data.brandId, key: data.idempotencyKey, outcome: failure(unavailable) }]));
    throw Object.assign(unavailable, { cause: error });
  }
  const outcome = await transaction(db, async (tx) => {
    await tx.$queryRaw`SELECT id FROM "BrandFunding" WHERE id = ${started.funding.id}::uuid FOR NO KEY UPDATE`;
    const funding = await tx.brandFunding.update({ where: { id: started.funding.id }, data: { providerPaymentId: charge.providerPaymentId } });
    // The provider's webhook may have settled it already: only a pending one is settled here.
    const settledNow = charge.status !== 'pending' && (await settleFunding(tx, funding, charge.status));
    const declined = settledNow ? charge.status === 'declined' : funding.status === BrandFundingStatus.DECLINED;
    const result: FundingOutcome = declined ? failure(new PaymentDeclinedError(charge.declineReason)) : { ok: { fundingId: funding.id } };
    await storeOutcomes(tx, [{ callerId: data.brandId, key: data.idempotencyKey, outcome: result }]);
    return result;
  });
  return db.brandFunding.findUniqueOrThrow({ where: { id: replay(outcome).fundingId } });
}

const invoiceInput = z.object({
  brandId: z.uuid('is not a brand id'),
  coins: z.bigint().positive('must be more than 0').max(10n ** 12n, 'is too large'),
  amountMinor: z.bigint().nonnegative('must not be negative'),
  currency: z.string().trim().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as USD'),
  invoiceReference: z.string().trim().min(1, 'must not be empty').max(100),
  idempotencyKey,
});

/** An operator records an invoice the brand paid outside Ovation: its coins are credited at once, once per key. */
export async function recordInvoicePayment(db: Database, adminId: string, input: z.input<typeof invoiceInput>): Promise<BrandFunding> {
  const data = validate(invoiceInput, input);
  const outcome = await transaction(db, async (tx) => {
    const claimed = (await claimKeys<{ fundingId: string }>(tx, [{ callerId: adminId, key: data.idempotencyKey, operation: 'recordBrandInvoicePayment', input: { ...data, idempotencyKey: undefined } }]))[0]!;
    if (claimed.kind === 'refused') throw claimed.error;
    if (claimed.kind === 'replay') return claimed.outcome;
    if (!(await tx.brand.findUnique({ where: { id: data.brandId }, select: { id: true } }))) throw new NotFoundError('Brand');
    const funding = await tx.brandFunding.create({
      data: {
        brandId: data.brandId, source: BrandFundingSource.INVOICE, coins: data.coins, amountMinor: data.amountMinor, currency: data.currency,
        invoiceReference: data.invoiceReference, recordedById: adminId,
      },
    });
    await creditFunding(tx, funding);
    const result: FundingOutcome = { ok: { fundingId: funding.id } };
    await storeOutcomes(tx, [{ callerId: adminId, key: data.idempotencyKey, outcome: result }]);
    return result;
  });
  return db.brandFunding.findUniqueOrThrow({ where: { id: replay(outcome).fundingId } });
}

/**
 * A payment-provider event about a brand funding (applyPaymentEvent hands over those that name no
 * purchase), inside its transaction: a pending funding is credited or declined, once; a refund
 * (refundedAfter) or a dispute (disputeAfter) takes coins back from the brand's budget, and a won dispute
 * or a failed refund gives them back (adjustFunding). Each event applies once, in any order, as a
 * purchase's do.
 */
export async function applyFundingEvent(tx: Tx, provider: PaymentProvider, event: PaymentEvent): Promise<'applied' | 'ignored'> {
  const [locked] = await tx.$queryRaw<{ id: string }[]>`
    SELECT id FROM "BrandFunding"
    WHERE provider = ${provider.name}
      AND ("providerPaymentId" = ${event.providerPaymentId} OR ("providerPaymentId" IS NULL AND id = ${event.purchaseId ?? null}::uuid))
    FOR NO KEY UPDATE`;
  if (!locked) return 'ignored';
  const funding = await tx.brandFunding.update({ where: { id: locked.id }, data: { providerPaymentId: event.providerPaymentId } });
  switch (event.type) {
    case 'payment.succeeded':
    case 'payment.failed':
      return (await settleFunding(tx, funding, event.type === 'payment.succeeded' ? 'succeeded' : 'declined')) ? 'applied' : 'ignored';
    case 'payment.refunded': {
      const refundedMinor = await refundedAfter(provider, event, funding);
      if (refundedMinor === null) return 'ignored';
      await adjustFunding(tx, await tx.brandFunding.update({ where: { id: funding.id }, data: { refundedMinor } }));
      return 'applied';
    }
    case 'payment.charged_back':
    case 'payment.dispute_won':
    case 'payment.dispute_lost': {
      const dispute = disputeAfter(funding, event);
      if (!dispute) return 'ignored';
      await adjustFunding(tx, await tx.brandFunding.update({ where: { id: funding.id }, data: dispute }));
      return 'applied';
    }
  }
}

/**
 * Coins a funding's refunds and dispute call back: every coin while a dispute is open or once it is lost;
 * else the refunded share, rounded down (in the brand's favour, as a buyer's refund is). Nothing before
 * the funding is credited.
 */
export function coinsCalledBack(funding: Pick<BrandFunding, 'status' | 'coins' | 'amountMinor' | 'refundedMinor' | 'dispute'>): bigint {
  if (funding.status !== BrandFundingStatus.SUCCEEDED) return 0n;
  if (funding.dispute === DisputeStatus.OPEN || funding.dispute === DisputeStatus.LOST) return funding.coins;
  return funding.amountMinor === 0n ? 0n : (funding.coins * funding.refundedMinor) / funding.amountMinor;
}

/**
 * Brings what a funding has taken back from the brand's budget towards what its refunds and dispute call
 * back: takes from the coins the brand still has available (never from its campaigns' reserved budgets,
 * never below zero), or gives back what a won dispute returns. What the budget could not cover stays
 * owed (`coinsCalledBack - takenBackCoins`) for an operator to settle with the brand.
 */
async function adjustFunding(tx: Tx, funding: BrandFunding): Promise<void> {
  const [budget] = await tx.$queryRaw<{ id: string; balance: bigint }[]>`
    SELECT a.id, a.balance FROM "Account" a JOIN "Brand" b ON b."budgetAccountId" = a.id WHERE b.id = ${funding.brandId}::uuid FOR NO KEY UPDATE OF a`;
  const wanted = coinsCalledBack(funding) - funding.takenBackCoins;
  const coins = wanted > budget!.balance ? budget!.balance : wanted;
  if (coins === 0n) return;
  const [entryId] = await record(tx, [
    {
      kind: EntryKind.BRAND_FUNDING_ADJUSTMENT,
      memo: `Brand funding ${funding.id} ${coins > 0n ? 'taken back' : 'given back'}`,
      postings: [
        { accountId: budget!.id, asset: Asset.COIN, amount: -coins },
        { accountId: PLATFORM.coinIssuance, asset: Asset.COIN, amount: coins },
      ],
    },
  ]);
  await tx.brandFundingAdjustment.create({ data: { fundingId: funding.id, entryId: entryId!, coins } });
  await tx.brandFunding.update({ where: { id: funding.id }, data: { takenBackCoins: funding.takenBackCoins + coins } });
}

/** Brand fundings pending this long are looked up at their provider, as purchases are (RECONCILE_AFTER_MS). */
const RECONCILE_BATCH = 100;

/**
 * Housekeeping, with purchase reconciliation: brand fundings whose outcome never arrived are looked up at
 * the provider and credited or declined, each once. Safe on many instances at once. Returns how many it settled.
 */
export async function reconcileBrandFundings(db: Database, provider: PaymentProvider, now = new Date()): Promise<number> {
  const stale = await db.brandFunding.findMany({
    where: { status: BrandFundingStatus.PENDING, provider: provider.name, createdAt: { lt: new Date(now.getTime() - RECONCILE_AFTER_MS) } },
    orderBy: { createdAt: 'asc' },
    take: RECONCILE_BATCH,
    select: { id: true, amountMinor: true, currency: true, providerPaymentId: true, createdAt: true },
  });
  let settled = 0;
  for (const { id, amountMinor, currency, providerPaymentId, createdAt } of stale) {
    const pending = { kind: 'brand_funding' as const, purchaseId: id, amountMinor, currency, paymentMethod: null, providerPaymentId, createdAt };
    const found = await provider.lookup(pending, now).catch(() => undefined);
    if (!found || found.status === 'pending') continue;
    const applied = await transaction(db, async (tx) => {
      await tx.$queryRaw`SELECT id FROM "BrandFunding" WHERE id = ${id}::uuid FOR NO KEY UPDATE`;
      const funding = await tx.brandFunding.findUniqueOrThrow({ where: { id } });
      return settleFunding(tx, funding, found.status === 'succeeded' ? 'succeeded' : 'declined');
    });
    if (applied) settled++;
  }
  return settled;
}

/** Credits or declines a pending funding; one no longer pending is left as it is. */
async function settleFunding(tx: Tx, funding: BrandFunding, outcome: 'succeeded' | 'declined'): Promise<boolean> {
  if (funding.status !== BrandFundingStatus.PENDING) return false;
  if (outcome === 'succeeded') await creditFunding(tx, funding);
  else await tx.brandFunding.update({ where: { id: funding.id }, data: { status: BrandFundingStatus.DECLINED } });
  return true;
}

/** Issues a funding's coins into the brand's budget, once (a funding no longer pending is left alone). */
async function creditFunding(tx: Tx, funding: BrandFunding): Promise<void> {
  if (funding.status !== BrandFundingStatus.PENDING) return;
  const { budgetAccountId } = await tx.brand.findUniqueOrThrow({ where: { id: funding.brandId }, select: { budgetAccountId: true } });
  const [entryId] = await record(tx, [
    {
      kind: EntryKind.BRAND_FUNDING,
      memo: `Brand funding ${funding.id}`,
      postings: [
        { accountId: PLATFORM.coinIssuance, asset: Asset.COIN, amount: -funding.coins },
        { accountId: budgetAccountId, asset: Asset.COIN, amount: funding.coins },
      ],
    },
  ]);
  const credited = await tx.brandFunding.update({ where: { id: funding.id }, data: { status: BrandFundingStatus.SUCCEEDED, creditEntryId: entryId } });
  // A refund or dispute told before the payment succeeded applies now.
  if (coinsCalledBack(credited) > 0n) await adjustFunding(tx, credited);
}

