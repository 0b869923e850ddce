import { PayoutStatus, type Prisma } from '../../generated/prisma/client.js';
import { ValidationError } from '../errors.js';

export type ReviewQueueFilter = {
  /** Default: the payouts waiting for an operator (REQUESTED). */
  statuses?: PayoutStatus[];
  creatorId?: string;
  minAmountCents?: bigint;
  maxAmountCents?: bigint;
  /** Requested before (older than) this. */
  requestedBefore?: Date;
  requestedAfter?: Date;
  /** Only payouts with (true) or without (false) a hold in force. */
  held?: boolean;
};

/** The operators' review queue as a query: filters by status, amount, age, creator and holds, oldest first. */
export function reviewQueue(filter: ReviewQueueFilter): { where: Prisma.PayoutWhereInput; orderBy: Prisma.PayoutOrderByWithRelationInput[] } {
  const { minAmountCents: min, maxAmountCents: max } = filter;
  if (min !== undefined && max !== undefined && min > max) throw new ValidationError([{ field: 'filter.maxAmountCents', message: 'must not be below minAmountCents' }]);
  const holdInForce = { some: { releasedAt: null } };
  return {
    where: {
      status: { in: filter.statuses?.length ? filter.statuses : [PayoutStatus.REQUESTED] },
      ...(filter.creatorId ? { creatorId: filter.creatorId } : {}),
      ...(min !== undefined || max !== undefined ? { amountMinor: { ...(min !== undefined ? { gte: min } : {}), ...(max !== undefined ? { lte: max } : {}) } } : {}),
      ...(filter.requestedBefore || filter.requestedAfter
        ? { createdAt: { ...(filter.requestedBefore ? { lt: filter.requestedBefore } : {}), ...(filter.requestedAfter ? { gte: filter.requestedAfter } : {}) } }
        : {}),
      ...(filter.held === true ? { holds: holdInForce } : filter.held === false ? { NOT: { holds: holdInForce } } : {}),
    },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
  };
}
