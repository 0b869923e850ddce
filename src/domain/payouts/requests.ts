import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { transaction, type Tx } from '../../db/transaction.js';
import { Asset, EntryKind, PayoutActor, PayoutChangeKind, PayoutStatus, RestrictionKind, type Payout, type PayoutMethod } from '../../generated/prisma/client.js';
import {
  InsufficientDiamondsError,
  NotFoundError,
  OvationError,
  PayoutBelowMinimumError,
  PayoutDailyCapError,
  PayoutMethodLockedError,
  PayoutMethodUnverifiedError,
  PayoutProviderUnavailableError,
} from '../errors.js';
import { claimKeys, failure, idempotencyKey, replay, storeOutcomes } from '../idempotency.js';
import { lockUserAccounts, PLATFORM, record } from '../ledger.js';
import { wholeCents } from '../policy.js';
import { checkAge, checkNotRestricted, spendDay } from '../safeguards.js';
import { validate } from '../validation.js';
import { approvedAutomatically, approveAutomatically, Changed, COUNTED_TODAY, submitApproved, type PayoutDeps } from './lifecycle.js';

/** Payouts are in US dollars for now; other currencies later. */
export const PAYOUT_CURRENCY = 'USD';

const quoteInput = z.object({
  diamonds: z.bigint().min(1n, 'must be at least 1 diamond').max(10n ** 15n, 'is too large'),
  methodId: z.uuid('is not a payout method id'),
});
const requestInput = quoteInput.extend({ idempotencyKey });

export type PayoutQuoteInput = z.input<typeof quoteInput>;
export type RequestPayoutInput = z.input<typeof requestInput>;

/** What a payout of some diamonds to a method would be, before the creator confirms it. */
export type PayoutQuote = {
  /** The diamonds asked for. */
  askedDiamonds: bigint;
  /** Those the payout would hold: as many as make whole cents. */
  diamonds: bigint;
  /** The rest, which stays with the creator. */
  keptDiamonds: bigint;
  amountCents: bigint;
  feeCents: bigint;
  /** What arrives: the cash amount less the fee (never below zero). */
  netCents: bigint;
  currency: string;
  method: PayoutMethod | null;
  /** Operators who must approve it: none when it would be approved automatically. */
  approvalsNeeded: number;
  /** Every reason the request would be refused now, in the order the request checks them; empty if it would go through. */
  refusals: OvationError[];
};

/**
 * Everything a request checks, read in `tx`. With `lock`, the creator and their diamonds are locked
 * first, so checks and the hold that follows see no concurrent request of theirs in between (the daily
 * cap and the balance hold under any number of requests at once).
 */
async function assess(tx: Tx, deps: PayoutDeps, creatorId: string, input: z.output<typeof quoteInput>, now: Date, lock: boolean) {
  const { policy } = deps;
  const refusals: OvationError[] = [];
  const refuse = (check: () => void) => {
    try {
      check();
    } catch (error) {
      if (!(error instanceof OvationError)) throw error;
      refusals.push(error);
    }
  };
  if (!deps.provider) refusals.push(new PayoutProviderUnavailableError());
  if (lock) await tx.$queryRaw`SELECT id FROM "User" WHERE id = ${creatorId}::uuid FOR NO KEY UPDATE`;
  const creator = await tx.user.findUniqueOrThrow({ where: { id: creatorId } });
  refuse(() => checkNotRestricted(creator, RestrictionKind.PAYOUTS));
  refuse(() => checkAge(policy, creator, 'cash out', now));

  const method = await tx.payoutMethod.findFirst({ where: { id: input.methodId, creatorId, removedAt: null } });
  if (!method) refusals.push(new NotFoundError('Payout method'));
  else if (!method.verifiedAt) refusals.push(new PayoutMethodUnverifiedError());
  else if (method.usableFrom > now) refusals.push(new PayoutMethodLockedError(method.usableFrom));

  const { cents, diamonds } = wholeCents(input.diamonds);
  if (diamonds < policy.payouts.minimumDiamonds) refusals.push(new PayoutBelowMinimumError(policy.payouts.minimumDiamonds));

  const day = spendDay(now);
  const [today] = await tx.$queryRaw<{ cents: bigint }[]>`
    SELECT coalesce(sum("amountMinor"), 0)::bigint AS cents FROM "Payout"
    WHERE "creatorId" = ${creatorId}::uuid AND "createdAt" >= ${day} AND "createdAt" < ${new Date(day.getTime() + 86_400_000)}
      AND status = ANY(${COUNTED_TODAY}::"PayoutStatus"[])`;
  const cap = policy.payouts.dailyCapCents;
  if (today!.cents + cents > cap) refusals.push(new PayoutDailyCapError(cap, cap > today!.cents ? cap - today!.cents : 0n));

  const account = lock
    ? (await lockUserAccounts(tx, [creatorId], Asset.DIAMOND)).get(creatorId)
    : await tx.account.findFirst({ where: { userId: creatorId, asset: Asset.DIAMOND }, select: { id: true, balance: true } }).then((found) => found && { accountId: found.id, balance: found.balance });
  const available = account?.balance ?? 0n;
  if (available < diamonds) refusals.push(new InsufficientDiamondsError(diamonds, available));

  const feeCents = policy.payouts.feeCents;
  const approvalsNeeded = cents > policy.payouts.secondApprovalAboveCents ? 2 : 1;
  const quote: PayoutQuote = {
    askedDiamonds: input.diamonds,
    diamonds,
    keptDiamonds: input.diamonds - diamonds,
    amountCents: cents,
    feeCents,
    netCents: cents > feeCents ? cents - feeCents : 0n,
    currency: PAYOUT_CURRENCY,
    method,
    approvalsNeeded: approvedAutomatically(policy, { amountMinor: cents, approvalsNeeded }) ? 0 : approvalsNeeded,
    refusals,
  };
  return { quote, approvalsNeeded, accountId: account?.accountId };
}

/** The quote a creator sees before confirming: the amounts, and any reason the request would be refused. */
export async function quotePayout(deps: PayoutDeps, creatorId: string, input: PayoutQuoteInput, now = new Date()): Promise<PayoutQuote> {
  const data = validate(quoteInput, input);
  return (await assess(deps.db, deps, creatorId, data, now, false)).quote;
}

/**
 * A creator cashes out diamonds, as quoted. In one transaction with the checks: the diamonds move to the
 * payout hold, the cash amount is fixed, and the payout is REQUESTED (APPROVED at once if it qualifies
 * for automatic approval, then submitted to the provider). Idempotent on the creator's key: a retry gets
 * the first call's payout or refusal. Without a payout provider, nothing is asked for and nothing stored.
 */
export async function requestPayout(deps: PayoutDeps, creatorId: string, input: RequestPayoutInput, now = new Date()): Promise<Payout> {
  const data = validate(requestInput, input);
  const { provider } = deps;
  if (!provider) throw new PayoutProviderUnavailableError();
  const claim = { callerId: creatorId, key: data.idempotencyKey, operation: 'requestPayout', input: { ...data, idempotencyKey: undefined } };
  const { outcome, changed } = await transaction(deps.db, async (tx) => {
    const changed = new Changed();
    const [claimed] = await claimKeys<{ payoutId: string }>(tx, [claim]);
    if (claimed!.kind === 'refused') throw claimed!.error;
    if (claimed!.kind === 'replay') return { outcome: claimed!.outcome, changed };
    const { quote, approvalsNeeded, accountId } = await assess(tx, deps, creatorId, data, now, true);
    if (quote.refusals.length > 0) {
      // Nothing was written: the refusal is the key's outcome, and the same retry gets it again.
      const refused = failure(quote.refusals[0]!);
      await storeOutcomes(tx, [{ callerId: creatorId, key: data.idempotencyKey, outcome: refused }]);
      return { outcome: refused, changed };
    }
    const payoutId = randomUUID();
    const [holdEntryId] = await record(tx, [
      {
        kind: EntryKind.PAYOUT_HOLD,
        memo: `Payout ${payoutId}`,
        postings: [
          { accountId: accountId!, asset: Asset.DIAMOND, amount: -quote.diamonds },
          { accountId: PLATFORM.payoutHold, asset: Asset.DIAMOND, amount: quote.diamonds },
        ],
      },
    ]);
    const payout = await tx.payout.create({
      data: {
        id: payoutId,
        creatorId,
        methodId: data.methodId,
        diamonds: quote.diamonds,
        amountMinor: quote.amountCents,
        feeMinor: quote.feeCents,
        currency: quote.currency,
        provider: provider.name,
        approvalsNeeded,
        holdEntryId: holdEntryId!,
        createdAt: now,
      },
    });
    await tx.payoutChange.create({
      data: { payoutId, kind: PayoutChangeKind.STATUS, status: PayoutStatus.REQUESTED, actor: PayoutActor.CREATOR, actorId: creatorId, createdAt: now },
    });
    changed.payout(payout);
    changed.wallets.add(creatorId);
    await approveAutomatically(tx, deps.policy, payout, changed, now);
    const outcome = { ok: { payoutId } };
    await storeOutcomes(tx, [{ callerId: creatorId, key: data.idempotencyKey, outcome }]);
    return { outcome, changed };
  });
  changed.announce(deps.announce);
  const { payoutId } = replay(outcome);
  await submitApproved(deps, payoutId, now);
  return deps.db.payout.findUniqueOrThrow({ where: { id: payoutId } });
}
