import { z } from 'zod';
import type { Announcer } from '../../events/announcer.js';
import type { Database } from '../../db/client.js';
import { transaction, type Tx } from '../../db/transaction.js';
import {
  Asset,
  EntryKind,
  PayoutActor,
  PayoutChangeKind,
  PayoutHoldReason,
  PayoutStatus,
  RestrictionKind,
  type Payout,
  type PayoutHold,
  type PayoutMethod,
} from '../../generated/prisma/client.js';
import type { Logger } from '../../logger.js';
import {
  AccountRestrictedError,
  NotFoundError,
  OvationError,
  OwnPayoutError,
  PayoutHoldError,
  PayoutOnHoldError,
  PayoutTransitionError,
  SecondApproverRequiredError,
} from '../errors.js';
import { claimKeys, failure, idempotencyKey, replay, storeOutcomes, type Outcome } from '../idempotency.js';
import { PLATFORM, record, userAccountIds, type EntryDraft } from '../ledger.js';
import type { Policy } from '../policy.js';
import { checkNotRestricted } from '../safeguards.js';
import { validate } from '../validation.js';
import type { PayoutEvent, PayoutProvider, PayoutRequest } from './provider.js';

/** What the payout functions work with. `provider` is null when none is configured (see README). */
export type PayoutDeps = { db: Database; policy: Policy; provider: PayoutProvider | null; announce: Announcer; log: Logger };

/** The published lifecycle: the only moves a payout makes (the database refuses any other, migration payouts). */
export const NEXT_STATUSES: Record<PayoutStatus, readonly PayoutStatus[]> = {
  REQUESTED: [PayoutStatus.APPROVED, PayoutStatus.REJECTED, PayoutStatus.CANCELED],
  APPROVED: [PayoutStatus.PROCESSING],
  PROCESSING: [PayoutStatus.PAID, PayoutStatus.FAILED],
  PAID: [PayoutStatus.RETURNED],
  REJECTED: [],
  CANCELED: [],
  FAILED: [],
  RETURNED: [],
};

/** Statuses whose diamonds sit in the payout hold. */
const IN_PROGRESS: PayoutStatus[] = [PayoutStatus.REQUESTED, PayoutStatus.APPROVED, PayoutStatus.PROCESSING];
/** Statuses that count towards the daily cap. */
export const COUNTED_TODAY: PayoutStatus[] = [...IN_PROGRESS, PayoutStatus.PAID];

/** An approved payout is submitted at once; one still approved this long after (the server stopped in between) is submitted by reconciliation. */
const SUBMIT_AGAIN_AFTER_MS = 60_000;
/** A payout with the provider this long without an outcome is looked up (a webhook normally settles it within minutes). */
export const PAYOUT_RECONCILE_AFTER_MS = 15 * 60_000;

/** Who or what makes a change, as the payout's history records it. */
type Actor = { actor: PayoutActor; actorId?: string; providerEventId?: string; note?: string };

const bySystem = (note: string): Actor => ({ actor: PayoutActor.SYSTEM, note });

/** What a transaction changed, announced once it committed. */
export class Changed {
  readonly payouts = new Map<string, string>();
  readonly wallets = new Set<string>();
  payout(payout: Pick<Payout, 'id' | 'creatorId'>): void {
    this.payouts.set(payout.id, payout.creatorId);
  }
  announce(announcer: Announcer): void {
    for (const [payoutId, creatorId] of this.payouts) announcer.payoutChanged(creatorId, payoutId);
    if (this.wallets.size > 0) announcer.walletChanged(this.wallets);
  }
}

/** The payout, locked for this transaction: every change to one payout happens one at a time. */
async function lockPayout(tx: Tx, payoutId: string): Promise<Payout | null> {
  const [row] = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM "Payout" WHERE id = ${payoutId}::uuid FOR NO KEY UPDATE`;
  return row ? tx.payout.findUniqueOrThrow({ where: { id: payoutId } }) : null;
}

const holdsInForce = (tx: Tx, payoutId: string): Promise<PayoutHold[]> =>
  tx.payoutHold.findMany({ where: { payoutId, releasedAt: null }, orderBy: { placedAt: 'asc' } });

function defaultNextCheck(to: PayoutStatus, now: Date): Date | null {
  if (to === PayoutStatus.APPROVED) return new Date(now.getTime() + SUBMIT_AGAIN_AFTER_MS);
  if (to === PayoutStatus.PROCESSING) return new Date(now.getTime() + PAYOUT_RECONCILE_AFTER_MS);
  return null;
}

/** The entry a move makes, if it moves diamonds: paid out from the hold, or back to the creator. */
async function entryFor(tx: Tx, payout: Payout, to: PayoutStatus): Promise<EntryDraft | null> {
  const diamonds = payout.diamonds;
  if (to === PayoutStatus.PAID) {
    return {
      kind: EntryKind.PAYOUT_PAID,
      memo: `Payout ${payout.id} paid`,
      postings: [
        { accountId: PLATFORM.payoutHold, asset: Asset.DIAMOND, amount: -diamonds },
        { accountId: PLATFORM.diamondPaidOut, asset: Asset.DIAMOND, amount: diamonds },
      ],
    };
  }
  if (to === PayoutStatus.REJECTED || to === PayoutStatus.CANCELED || to === PayoutStatus.FAILED || to === PayoutStatus.RETURNED) {
    const creatorAccount = (await userAccountIds(tx, [payout.creatorId], Asset.DIAMOND)).get(payout.creatorId)!;
    return {
      kind: EntryKind.PAYOUT_REVERSAL,
      memo: `Payout ${payout.id} ${to.toLowerCase()}: diamonds back to the creator`,
      postings: [
        { accountId: to === PayoutStatus.RETURNED ? PLATFORM.diamondPaidOut : PLATFORM.payoutHold, asset: Asset.DIAMOND, amount: -diamonds },
        { accountId: creatorAccount, asset: Asset.DIAMOND, amount: diamonds },
      ],
    };
  }
  return null;
}

type MoveDetails = { reason?: string; providerPayoutId?: string; nextCheckAt?: Date | null; submittedAt?: Date };

/**
 * Moves a locked payout to `to`, with the entry that move makes and a line of history; refuses a move
 * the lifecycle does not have, and one towards the provider while a hold is in force. A payout that
 * ends (rejected, canceled) takes no hold with it: they are released by the same actor.
 */
async function moveTo(tx: Tx, payout: Payout, to: PayoutStatus, by: Actor, changed: Changed, now: Date, details: MoveDetails = {}): Promise<Payout> {
  if (!NEXT_STATUSES[payout.status].includes(to)) throw new PayoutTransitionError(payout.status, to);
  const holds = await holdsInForce(tx, payout.id);
  if (holds.length > 0 && (to === PayoutStatus.APPROVED || to === PayoutStatus.PROCESSING)) throw new PayoutOnHoldError(holds.map((hold) => hold.reason));
  for (const hold of holds) await releaseHold(tx, payout, hold, by, changed, now);
  const entry = await entryFor(tx, payout, to);
  const [entryId] = entry ? await record(tx, [entry]) : [];
  const updated = await tx.payout.update({
    where: { id: payout.id },
    data: {
      status: to,
      ...(to === PayoutStatus.PAID ? { paidEntryId: entryId } : entryId ? { reversalEntryId: entryId } : {}),
      ...(details.reason ? { reason: details.reason } : {}),
      ...(details.providerPayoutId && !payout.providerPayoutId ? { providerPayoutId: details.providerPayoutId } : {}),
      ...(details.submittedAt ? { submittedAt: details.submittedAt } : {}),
      nextCheckAt: details.nextCheckAt === undefined ? defaultNextCheck(to, now) : details.nextCheckAt,
    },
  });
  await tx.payoutChange.create({
    data: { payoutId: payout.id, kind: PayoutChangeKind.STATUS, fromStatus: payout.status, status: to, ...history(by, details.reason), createdAt: now },
  });
  changed.payout(updated);
  if (entry?.kind === EntryKind.PAYOUT_REVERSAL) changed.wallets.add(payout.creatorId);
  return updated;
}

const history = (by: Actor, note?: string) => ({
  actor: by.actor,
  actorId: by.actorId ?? null,
  providerEventId: by.providerEventId ?? null,
  note: note ?? by.note ?? null,
});

/** Records a change that is not a move (an approval of two, a hold), for the history and subscribers. */
async function note(tx: Tx, payout: Payout, kind: PayoutChangeKind, by: Actor, changed: Changed, now: Date, extra: { holdReason?: PayoutHoldReason; note?: string } = {}) {
  await tx.payoutChange.create({
    data: { payoutId: payout.id, kind, fromStatus: payout.status, status: payout.status, holdReason: extra.holdReason ?? null, ...history(by, extra.note), createdAt: now },
  });
  changed.payout(payout);
}

async function placeHold(tx: Tx, payout: Payout, reason: PayoutHoldReason, by: Actor, changed: Changed, now: Date, holdNote?: string): Promise<void> {
  if (payout.status !== PayoutStatus.REQUESTED && payout.status !== PayoutStatus.APPROVED) {
    throw new PayoutHoldError(`Only a REQUESTED or APPROVED payout can be held; this one is ${payout.status}`);
  }
  if ((await holdsInForce(tx, payout.id)).some((hold) => hold.reason === reason)) throw new PayoutHoldError(`This payout is already held for ${reason}`);
  await tx.payoutHold.create({ data: { payoutId: payout.id, reason, note: holdNote ?? null, placedById: by.actorId ?? null, placedAt: now } });
  // A held payout is not submitted, so reconciliation has nothing to do for it until the hold is released.
  if (payout.status === PayoutStatus.APPROVED) await tx.payout.update({ where: { id: payout.id }, data: { nextCheckAt: null } });
  await note(tx, payout, PayoutChangeKind.HOLD_PLACED, by, changed, now, { holdReason: reason, note: holdNote });
}

async function releaseHold(tx: Tx, payout: Payout, hold: PayoutHold, by: Actor, changed: Changed, now: Date, releaseNote?: string): Promise<void> {
  await tx.payoutHold.update({ where: { id: hold.id }, data: { releasedAt: now, releasedById: by.actor === PayoutActor.ADMIN ? by.actorId! : null } });
  await note(tx, payout, PayoutChangeKind.HOLD_RELEASED, by, changed, now, { holdReason: hold.reason, note: releaseNote });
}

/** Whether a payout may be approved without an operator under `policy`. */
export const approvedAutomatically = (policy: Policy, payout: Pick<Payout, 'amountMinor' | 'approvalsNeeded'>): boolean =>
  payout.approvalsNeeded === 1 && policy.payouts.autoApproveMaxCents !== null && payout.amountMinor <= policy.payouts.autoApproveMaxCents;

/** The automatic approval of a payout that qualifies and that nothing holds. */
export async function approveAutomatically(tx: Tx, policy: Policy, payout: Payout, changed: Changed, now: Date): Promise<Payout> {
  if (payout.status !== PayoutStatus.REQUESTED || !approvedAutomatically(policy, payout) || (await holdsInForce(tx, payout.id)).length > 0) return payout;
  return moveTo(tx, payout, PayoutStatus.APPROVED, bySystem(`approved automatically: up to ${policy.payouts.autoApproveMaxCents} US cents`), changed, now);
}

// ---------------------------------------------------------------------------------------------------
// Decisions: the creator's and operators'. Each takes an idempotency key (they move diamonds or send
// money) and is one transaction; a refusal is the key's outcome too and changes nothing.

const decisionInput = z.object({ payoutId: z.uuid('is not a payout id'), idempotencyKey });
const reasoned = decisionInput.extend({ reason: z.string().trim().min(3, 'say why, in a few words').max(500) });

type Decision = z.input<typeof decisionInput>;
type ReasonedDecision = z.input<typeof reasoned>;

/**
 * Runs one decision on a locked payout under the caller's key, in one transaction. A refusal rolls back
 * to before the work (a savepoint), so it changes nothing, and is stored as the key's outcome.
 */
async function decide(
  deps: PayoutDeps,
  callerId: string,
  operation: string,
  input: { payoutId: string; idempotencyKey: string },
  work: (tx: Tx, payout: Payout, changed: Changed) => Promise<unknown>,
): Promise<string> {
  const claim = { callerId, key: input.idempotencyKey, operation, input: { ...input, idempotencyKey: undefined } };
  const { outcome, changed } = await transaction(deps.db, async (tx) => {
    const changed = new Changed();
    const [claimed] = await claimKeys<{ payoutId: string; changeId: string }>(tx, [claim]);
    if (claimed!.kind === 'refused') throw claimed!.error;
    if (claimed!.kind === 'replay') return { outcome: claimed!.outcome, changed };
    let outcome: Outcome<{ payoutId: string; changeId: string }>;
    await tx.$executeRaw`SAVEPOINT decision`;
    try {
      const payout = await lockPayout(tx, input.payoutId);
      if (!payout) throw new NotFoundError('Payout');
      await work(tx, payout, changed);
      // The line of history the decision wrote: a key stands for one change (the audit checks it).
      const [last] = await tx.$queryRaw<{ changeId: string }[]>`SELECT max(id)::text AS "changeId" FROM "PayoutChange" WHERE "payoutId" = ${payout.id}::uuid`;
      outcome = { ok: { payoutId: payout.id, changeId: last!.changeId } };
    } catch (error) {
      if (!(error instanceof OvationError)) throw error;
      await tx.$executeRaw`ROLLBACK TO SAVEPOINT decision`;
      changed.payouts.clear();
      changed.wallets.clear();
      outcome = failure(error);
    }
    await storeOutcomes(tx, [{ callerId, key: input.idempotencyKey, outcome }]);
    return { outcome, changed };
  });
  changed.announce(deps.announce);
  return replay(outcome).payoutId;
}

const operatorMayDecide = (adminId: string, payout: Payout) => {
  if (payout.creatorId === adminId) throw new OwnPayoutError();
};

/** The creator calls off a payout still REQUESTED: its diamonds come back. */
export async function cancelPayout(deps: PayoutDeps, creatorId: string, input: Decision, now = new Date()): Promise<Payout> {
  const data = validate(decisionInput, input);
  const payoutId = await decide(deps, creatorId, 'cancelPayout', data, async (tx, payout, changed) => {
    if (payout.creatorId !== creatorId) throw new NotFoundError('Payout');
    await moveTo(tx, payout, PayoutStatus.CANCELED, { actor: PayoutActor.CREATOR, actorId: creatorId }, changed, now);
  });
  return deps.db.payout.findUniqueOrThrow({ where: { id: payoutId } });
}

/**
 * An operator approves a REQUESTED payout that nothing holds. One above the second-approval amount
 * needs two different operators: the first approval is recorded and the payout stays REQUESTED. Once
 * approved it is submitted to the provider at once.
 */
export async function approvePayout(deps: PayoutDeps, adminId: string, input: Decision, now = new Date()): Promise<Payout> {
  const data = validate(decisionInput, input);
  const payoutId = await decide(deps, adminId, 'approvePayout', data, async (tx, payout, changed) => {
    operatorMayDecide(adminId, payout);
    if (!NEXT_STATUSES[payout.status].includes(PayoutStatus.APPROVED)) throw new PayoutTransitionError(payout.status, PayoutStatus.APPROVED);
    const holds = await holdsInForce(tx, payout.id);
    if (holds.length > 0) throw new PayoutOnHoldError(holds.map((hold) => hold.reason));
    checkNotRestricted(await tx.user.findUniqueOrThrow({ where: { id: payout.creatorId } }), RestrictionKind.PAYOUTS);
    const by = { actor: PayoutActor.ADMIN, actorId: adminId };
    if (payout.approvalsNeeded === 2 && payout.firstApproverId === adminId) throw new SecondApproverRequiredError();
    if (payout.approvalsNeeded === 2 && payout.firstApproverId === null) {
      const approvedOnce = await tx.payout.update({ where: { id: payout.id }, data: { firstApproverId: adminId } });
      await note(tx, approvedOnce, PayoutChangeKind.APPROVAL, by, changed, now, { note: 'first of two approvals' });
      return;
    }
    await moveTo(tx, payout, PayoutStatus.APPROVED, by, changed, now);
  });
  await submitApproved(deps, payoutId, now);
  return deps.db.payout.findUniqueOrThrow({ where: { id: payoutId } });
}

/** An operator turns down a REQUESTED payout, saying why (the creator sees it); its diamonds come back. */
export async function rejectPayout(deps: PayoutDeps, adminId: string, input: ReasonedDecision, now = new Date()): Promise<Payout> {
  const data = validate(reasoned, input);
  const payoutId = await decide(deps, adminId, 'rejectPayout', data, async (tx, payout, changed) => {
    operatorMayDecide(adminId, payout);
    await moveTo(tx, payout, PayoutStatus.REJECTED, { actor: PayoutActor.ADMIN, actorId: adminId }, changed, now, { reason: data.reason });
  });
  return deps.db.payout.findUniqueOrThrow({ where: { id: payoutId } });
}

/**
 * An operator records that a payout with the provider failed (the provider told them otherwise than by
 * webhook); its diamonds come back. A later word from the provider that it was paid changes nothing.
 */
export async function markPayoutFailed(deps: PayoutDeps, adminId: string, input: ReasonedDecision, now = new Date()): Promise<Payout> {
  const data = validate(reasoned, input);
  // Taken back from where it was sent first, as for the provider's own word; not for one's own payout (refused below).
  const own = await deps.db.payout.count({ where: { id: data.payoutId, creatorId: adminId } });
  if (deps.provider && own === 0) await recallSent(deps, deps.provider, data.payoutId);
  const payoutId = await decide(deps, adminId, 'markPayoutFailed', data, async (tx, payout, changed) => {
    operatorMayDecide(adminId, payout);
    await moveTo(tx, payout, PayoutStatus.FAILED, { actor: PayoutActor.ADMIN, actorId: adminId }, changed, now, { reason: data.reason });
  });
  return deps.db.payout.findUniqueOrThrow({ where: { id: payoutId } });
}

// ---------------------------------------------------------------------------------------------------
// Holds: placed and released by operators (and by the server, for a creator restricted from payouts).

const holdInput = z.object({
  payoutId: z.uuid('is not a payout id'),
  reason: z.enum(PayoutHoldReason),
  note: z.string().trim().min(3, 'say why, in a few words').max(500).optional(),
});

export type HoldInput = z.input<typeof holdInput>;

/** Runs an operator's hold change on a locked payout in one transaction, and announces it after commit. */
async function changeHold(deps: PayoutDeps, adminId: string, input: HoldInput, work: (tx: Tx, payout: Payout, changed: Changed) => Promise<unknown>) {
  const data = validate(holdInput, input);
  const changed = await transaction(deps.db, async (tx) => {
    const changed = new Changed();
    const payout = await lockPayout(tx, data.payoutId);
    if (!payout) throw new NotFoundError('Payout');
    operatorMayDecide(adminId, payout);
    await work(tx, payout, changed);
    return changed;
  });
  changed.announce(deps.announce);
  return data;
}

/** An operator stops a REQUESTED or APPROVED payout from moving on until the hold is released. */
export async function placePayoutHold(deps: PayoutDeps, adminId: string, input: HoldInput, now = new Date()): Promise<Payout> {
  const data = await changeHold(deps, adminId, input, (tx, payout, changed) =>
    placeHold(tx, payout, input.reason, { actor: PayoutActor.ADMIN, actorId: adminId }, changed, now, input.note?.trim()),
  );
  return deps.db.payout.findUniqueOrThrow({ where: { id: data.payoutId } });
}

/**
 * An operator releases a hold. Once nothing holds it, a payout goes on as if it had never been held:
 * approved automatically if it qualifies, submitted at once if it was approved.
 */
export async function releasePayoutHold(deps: PayoutDeps, adminId: string, input: HoldInput, now = new Date()): Promise<Payout> {
  const data = await changeHold(deps, adminId, input, async (tx, payout, changed) => {
    const hold = (await holdsInForce(tx, payout.id)).find((held) => held.reason === input.reason);
    if (!hold) throw new NotFoundError(`A ${input.reason} hold on this payout`);
    await releaseHold(tx, payout, hold, { actor: PayoutActor.ADMIN, actorId: adminId }, changed, now, input.note?.trim());
    if ((await holdsInForce(tx, payout.id)).length > 0) return;
    if (payout.status === PayoutStatus.APPROVED) await tx.payout.update({ where: { id: payout.id }, data: { nextCheckAt: now } });
    else await approveAutomatically(tx, deps.policy, payout, changed, now);
  });
  await submitApproved(deps, data.payoutId, now);
  return deps.db.payout.findUniqueOrThrow({ where: { id: data.payoutId } });
}

// ---------------------------------------------------------------------------------------------------
// The provider: submission, its answers, its webhooks, and reconciliation when an answer never came.

const requestFor = (payout: Payout, method: PayoutMethod): PayoutRequest => ({
  payoutId: payout.id,
  amountCents: payout.amountMinor - payout.feeMinor,
  currency: payout.currency,
  destination: { kind: method.kind, destination: method.destination, routingNumber: method.routingNumber, holderName: method.holderName },
  submittedAt: payout.submittedAt!,
  providerPayoutId: payout.providerPayoutId,
  providerTransferId: payout.providerTransferId,
});

/**
 * Keeps the provider's ids for a payout the first time it tells them: its transfer, and the money it
 * moved on the way (Stripe's Transfer), so later lookups and a recall find them.
 */
async function keepProviderIds(deps: PayoutDeps, payoutId: string, ids: { providerPayoutId?: string; providerTransferId?: string }): Promise<void> {
  const { providerPayoutId, providerTransferId } = ids;
  if (providerTransferId) await deps.db.payout.updateMany({ where: { id: payoutId, providerTransferId: null }, data: { providerTransferId } });
  if (providerPayoutId) await deps.db.payout.updateMany({ where: { id: payoutId, providerPayoutId: null }, data: { providerPayoutId } });
}

/**
 * Before a payout's diamonds come back for a failure or a return: whatever the provider sent on the way
 * is taken back first (Stripe: the Transfer to the connected account is reversed, once, and the
 * reversal's id kept), so a creator is never paid twice. Throws when the provider can't: the payout then
 * stays as it is, and the webhook (retried by the provider) or reconciliation tries again.
 */
async function recallSent(deps: PayoutDeps, provider: PayoutProvider, payoutId: string, providerPayoutId?: string): Promise<void> {
  if (!provider.recall) return;
  const payout = await deps.db.payout.findUnique({ where: { id: payoutId }, include: { method: true } });
  if (!payout || payout.provider !== provider.name || payout.transferReversalId) return;
  // A word about another of the provider's transfers is ignored (applyPayoutEvent): nothing to take back for it.
  if (providerPayoutId && payout.providerPayoutId && payout.providerPayoutId !== providerPayoutId) return;
  if (payout.status !== PayoutStatus.PROCESSING && payout.status !== PayoutStatus.PAID) return;
  const reversalId = await provider.recall(requestFor(payout, payout.method));
  if (reversalId) await deps.db.payout.updateMany({ where: { id: payoutId, transferReversalId: null }, data: { transferReversalId: reversalId } });
}

/**
 * Submits an APPROVED payout to the provider, like purchases charge: PROCESSING is committed first (so
 * only one instance ever sends it, and a webhook can't arrive before it), the provider is called outside
 * any transaction, and its answer is applied in another. A payout held, or whose creator has been
 * restricted from payouts meanwhile (a hold is placed, so the creator sees why), stays APPROVED; without
 * a provider, approved payouts wait for one. Safe to call for any payout, any number of times: it
 * says whether this call sent it.
 */
export async function submitApproved(deps: PayoutDeps, payoutId: string, now = new Date()): Promise<boolean> {
  const { provider } = deps;
  if (!provider) return false;
  const { changed, request } = await transaction(deps.db, async (tx) => {
    const changed = new Changed();
    const payout = await lockPayout(tx, payoutId);
    if (payout?.status !== PayoutStatus.APPROVED) return { changed };
    if ((await holdsInForce(tx, payoutId)).length > 0) {
      await tx.payout.update({ where: { id: payoutId }, data: { nextCheckAt: null } });
      return { changed };
    }
    const creator = await tx.user.findUniqueOrThrow({ where: { id: payout.creatorId } });
    if (creator.restrictions.includes(RestrictionKind.PAYOUTS)) {
      await placeHold(tx, payout, PayoutHoldReason.ACCOUNT_RESTRICTED, bySystem('the creator is restricted from payouts'), changed, now);
      return { changed };
    }
    const processing = await moveTo(tx, payout, PayoutStatus.PROCESSING, bySystem(`submitted to ${provider.name}`), changed, now, { submittedAt: now });
    const method = await tx.payoutMethod.findUniqueOrThrow({ where: { id: payout.methodId } });
    return { changed, request: requestFor(processing, method) };
  });
  changed.announce(deps.announce);
  if (!request) return false;
  let answer;
  try {
    answer = await provider.send(request);
  } catch (error) {
    // The provider may or may not have it: it stays PROCESSING, and its webhook or reconciliation settles it.
    deps.log.warn({ err: error, payoutId }, 'payout provider did not answer; the payout stays PROCESSING');
    return true;
  }
  const by = { actor: PayoutActor.PROVIDER, note: "the provider's answer to the payout" };
  if (answer.status === 'pending') {
    await keepProviderIds(deps, payoutId, answer);
  } else {
    await keepProviderIds(deps, payoutId, { providerTransferId: answer.providerTransferId });
    await settle(deps, payoutId, answer.status, by, { providerPayoutId: answer.providerPayoutId, reason: answer.failureReason }, now);
  }
  return true;
}

type ProviderOutcome = 'paid' | 'failed' | 'returned';

/**
 * Applies what the provider says about a locked payout, once: paid (PROCESSING -> PAID), failed
 * (PROCESSING -> FAILED, or PAID -> RETURNED: a late failure), returned (PAID -> RETURNED, or through PAID
 * when the return is the first thing heard). Anything else it says about a payout is stale and ignored.
 */
async function settleLocked(
  tx: Tx,
  deps: PayoutDeps,
  payout: Payout,
  outcome: ProviderOutcome,
  by: Actor,
  details: { providerPayoutId?: string; reason?: string },
  changed: Changed,
  now: Date,
): Promise<boolean> {
  const returnCheckAfterMs = deps.provider?.returnCheckAfterMs ?? null;
  const paid = (current: Payout) =>
    moveTo(tx, current, PayoutStatus.PAID, by, changed, now, {
      providerPayoutId: details.providerPayoutId,
      nextCheckAt: returnCheckAfterMs === null ? null : new Date(now.getTime() + returnCheckAfterMs),
    });
  const withReason = { providerPayoutId: details.providerPayoutId, reason: details.reason ?? `the provider says it ${outcome}` };
  if (payout.status === PayoutStatus.PROCESSING) {
    if (outcome === 'paid') await paid(payout);
    else if (outcome === 'failed') await moveTo(tx, payout, PayoutStatus.FAILED, by, changed, now, withReason);
    else await moveTo(tx, await paid(payout), PayoutStatus.RETURNED, by, changed, now, withReason);
    return true;
  }
  if (payout.status === PayoutStatus.PAID && outcome !== 'paid') {
    await moveTo(tx, payout, PayoutStatus.RETURNED, by, changed, now, withReason);
    return true;
  }
  return false;
}

async function settle(deps: PayoutDeps, payoutId: string, outcome: ProviderOutcome, by: Actor, details: { providerPayoutId?: string; reason?: string }, now: Date) {
  if (outcome !== 'paid' && deps.provider) await recallSent(deps, deps.provider, payoutId);
  const { settled, changed } = await transaction(deps.db, async (tx) => {
    const changed = new Changed();
    const payout = await lockPayout(tx, payoutId);
    return { settled: !!payout && (await settleLocked(tx, deps, payout, outcome, by, details, changed, now)), changed };
  });
  changed.announce(deps.announce);
  return settled;
}

export type PayoutWebhookResult = 'applied' | 'duplicate' | 'ignored';

/** Where payout webhooks' event ids are kept (WebhookEvent), apart from the payment provider's. */
const webhookSource = (provider: PayoutProvider) => `payouts:${provider.name}`;

/**
 * Applies a verified payout-provider event exactly once: its id is recorded in the same transaction as
 * its effect, so a replay finds it and changes nothing; and the payout is locked, so the same outcome
 * told twice under different ids is applied once.
 */
export async function applyPayoutEvent(deps: PayoutDeps, provider: PayoutProvider, event: PayoutEvent, now = new Date()): Promise<PayoutWebhookResult> {
  if (event.type === 'payout.failed' || event.type === 'payout.returned') {
    // Unless this event was applied already: then there is nothing to take back for it.
    const seen = await deps.db.webhookEvent.count({ where: { provider: webhookSource(provider), eventId: event.eventId } });
    if (seen === 0) await recallSent(deps, provider, event.payoutId, event.providerPayoutId);
  }
  const { result, changed } = await transaction(deps.db, async (tx) => {
    const changed = new Changed();
    const fresh = await tx.$executeRaw`
      INSERT INTO "WebhookEvent" (provider, "eventId", type) VALUES (${webhookSource(provider)}, ${event.eventId}, ${event.type})
      ON CONFLICT DO NOTHING`;
    if (fresh === 0) return { result: 'duplicate' as const, changed };
    if (event.type === 'payout_method.verified') {
      // By our id, or (Stripe) by the connected account the provider says can now receive payouts.
      const methodIds =
        'methodId' in event
          ? [event.methodId]
          : (
              await tx.payoutMethod.findMany({
                where: { provider: provider.name, destination: event.destination, verifiedAt: null, removedAt: null },
                orderBy: { id: 'asc' },
                select: { id: true },
              })
            ).map((method) => method.id);
      let verified = false;
      for (const methodId of methodIds) verified = (await verifyLocked(tx, methodId, { verifiedByEvent: event.eventId }, now, provider.name)) || verified;
      return { result: verified ? ('applied' as const) : ('ignored' as const), changed };
    }
    const payout = await lockPayout(tx, event.payoutId);
    // Only the provider that has the payout speaks for it, and only about its own transfer.
    if (!payout || payout.provider !== provider.name || (payout.providerPayoutId && payout.providerPayoutId !== event.providerPayoutId)) {
      return { result: 'ignored' as const, changed };
    }
    const outcome = event.type === 'payout.paid' ? 'paid' : event.type === 'payout.failed' ? 'failed' : 'returned';
    const by = { actor: PayoutActor.PROVIDER, providerEventId: event.eventId };
    const settled = await settleLocked(tx, deps, payout, outcome, by, { providerPayoutId: event.providerPayoutId, reason: event.reason }, changed, now);
    return { result: settled ? ('applied' as const) : ('ignored' as const), changed };
  });
  changed.announce(deps.announce);
  return result;
}

/**
 * Verifies a payout method for the provider's callback (only the provider that pays it) or an operator;
 * verifying one already verified, or removed, changes nothing. The creator is locked first (as adding a method does), so a method added at the same
 * moment sees this one verified and waits out the cooling-off period.
 */
export async function verifyLocked(
  tx: Tx,
  methodId: string,
  by: { verifiedById: string } | { verifiedByEvent: string },
  now: Date,
  provider?: string,
): Promise<boolean> {
  const method = await tx.payoutMethod.findUnique({ where: { id: methodId } });
  if (!method || method.removedAt || (provider !== undefined && method.provider !== provider)) return false;
  await tx.$queryRaw`SELECT id FROM "User" WHERE id = ${method.creatorId}::uuid FOR NO KEY UPDATE`;
  const verified = await tx.payoutMethod.updateMany({ where: { id: methodId, verifiedAt: null }, data: { verifiedAt: now, ...by } });
  return verified.count === 1;
}

export type PayoutsReconciled = { submitted: number; paid: number; failed: number; returned: number; stillPending: number; unanswered: number };

const RECONCILE_BATCH = 100;

/**
 * Settles what the provider never told: each payout whose check is due (nextCheckAt) is looked at. An
 * approved one not yet submitted is submitted; one with the provider, or paid and still returnable, is
 * looked up outside any transaction and settled in one that applies the answer only if it still
 * applies (a webhook or another instance may have come first). A payout the provider never received
 * failed: nothing was sent. Safe on every instance at once.
 */
export async function reconcilePayouts(deps: PayoutDeps, provider: PayoutProvider, now = new Date()): Promise<PayoutsReconciled> {
  const due = await deps.db.payout.findMany({
    where: { provider: provider.name, nextCheckAt: { lte: now }, status: { in: [PayoutStatus.APPROVED, PayoutStatus.PROCESSING, PayoutStatus.PAID] } },
    orderBy: { nextCheckAt: 'asc' },
    take: RECONCILE_BATCH,
    include: { method: true },
  });
  const reconciled: PayoutsReconciled = { submitted: 0, paid: 0, failed: 0, returned: 0, stillPending: 0, unanswered: 0 };
  const byLookup = { actor: PayoutActor.PROVIDER, note: "the provider's answer to a lookup" };
  for (const payout of due) {
    if (payout.status === PayoutStatus.APPROVED) {
      if (await submitApproved(deps, payout.id, now)) reconciled.submitted++;
      continue;
    }
    let found;
    try {
      found = await provider.lookup(requestFor(payout, payout.method), now);
    } catch {
      reconciled.unanswered++; // asked again on the next run
      continue;
    }
    const { status } = found;
    await keepProviderIds(deps, payout.id, status === 'pending' ? found : { providerTransferId: found.providerTransferId });
    if (status === 'not_found') {
      if (payout.status !== PayoutStatus.PROCESSING) await checkedAgain(deps, payout, null);
      else if (await settle(deps, payout.id, 'failed', byLookup, { reason: 'the provider never received it: nothing was sent' }, now)) reconciled.failed++;
    } else if (status === 'pending') {
      reconciled.stillPending++;
      await checkedAgain(deps, payout, new Date(now.getTime() + PAYOUT_RECONCILE_AFTER_MS));
    } else if (status === 'paid' && payout.status === PayoutStatus.PAID) {
      // Paid, and not returned by the time a return would have come: nothing more to ask.
      await checkedAgain(deps, payout, null);
    } else if (await settle(deps, payout.id, status, byLookup, { providerPayoutId: found.providerPayoutId, reason: found.failureReason }, now)) {
      reconciled[status]++;
    }
  }
  return reconciled;
}

/** The next look at a payout, unless it moved on meanwhile. */
async function checkedAgain(deps: PayoutDeps, payout: Payout, nextCheckAt: Date | null): Promise<void> {
  await deps.db.payout.updateMany({ where: { id: payout.id, status: payout.status, nextCheckAt: payout.nextCheckAt }, data: { nextCheckAt } });
}
