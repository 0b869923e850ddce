import { DisputeStatus } from '../../generated/prisma/client.js';
import type { PaymentEvent } from './provider.js';

/** A payment's dispute as a purchase or a brand funding stores it. */
export type Dispute = { dispute: DisputeStatus | null; disputeId: string | null; disputeOpenedAt: Date | null };

/**
 * The payment's dispute after a dispute event, or null when the event changes nothing. One dispute opens
 * once and closes once, and a closure heard first stands (its opening, told late, changes nothing). A
 * payment may have more than one: an inquiry that closed can be followed by a chargeback, which the
 * provider opens as a dispute of its own. The newest dispute is the payment's, so news of an older one
 * changes nothing, whatever order the events arrive in. A dispute the provider does not name (the
 * sandbox's) and one stored before disputes were named are taken to be the same dispute.
 */
export function disputeAfter(current: Dispute, event: PaymentEvent): Dispute | null {
  const to = event.type === 'payment.charged_back' ? DisputeStatus.OPEN : event.type === 'payment.dispute_won' ? DisputeStatus.WON : DisputeStatus.LOST;
  const next: Dispute = { dispute: to, disputeId: event.dispute?.id ?? null, disputeOpenedAt: event.dispute?.openedAt ?? null };
  if (current.dispute === null) return next;
  const same = current.disputeId === null || next.disputeId === null || current.disputeId === next.disputeId;
  if (same) {
    if (to === DisputeStatus.OPEN || current.dispute !== DisputeStatus.OPEN) return null;
    return { dispute: to, disputeId: current.disputeId ?? next.disputeId, disputeOpenedAt: current.disputeOpenedAt ?? next.disputeOpenedAt };
  }
  return isNewer(next, current) ? next : null;
}

/** Opened later, or (opened in the same second) the greater id, so that every order of events agrees. */
function isNewer(a: Dispute, b: Dispute): boolean {
  const at = a.disputeOpenedAt?.getTime() ?? 0;
  const bt = b.disputeOpenedAt?.getTime() ?? 0;
  return at !== bt ? at > bt : a.disputeId! > b.disputeId!;
}
