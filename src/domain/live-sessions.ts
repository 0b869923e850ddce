import { z } from 'zod';
import type { Database } from '../db/client.js';
import { transaction } from '../db/transaction.js';
import type { Announcer } from '../events/announcer.js';
import { LiveSessionStatus, Role, type LiveSession } from '../generated/prisma/client.js';
import { foldSessionSupporters } from './leaderboards.js';
import { ForbiddenError, LiveSessionEndedError, NotFoundError, ValidationError } from './errors.js';
import type { Policy } from './policy.js';
import { checkAge } from './safeguards.js';
import { validate } from './validation.js';

const title = z.string().trim().min(1, 'must not be empty').max(120, 'must be at most 120 characters');
const goalCoins = z.bigint().min(1n, 'must be at least 1 coin').max(10n ** 12n, 'is too large');

/** A creator goes live. One live session at a time per creator. */
export async function startLiveSession(db: Database, policy: Policy, creatorId: string, input: { title: string }, now = new Date()): Promise<LiveSession> {
  const data = validate(z.object({ title }), input);
  return transaction(db, async (tx) => {
    // Locking the creator makes "one live session at a time" hold against a double tap.
    const [locked] = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM "User" WHERE id = ${creatorId}::uuid FOR NO KEY UPDATE`;
    if (!locked) throw new NotFoundError('User');
    const user = await tx.user.findUniqueOrThrow({ where: { id: creatorId } });
    if (!user.roles.includes(Role.CREATOR)) throw new ForbiddenError('Only creators can go live');
    checkAge(policy, user, 'go live', now);
    const live = await tx.liveSession.findFirst({ where: { creatorId, status: LiveSessionStatus.LIVE } });
    if (live) throw new ValidationError([{ field: 'liveSessionId', message: 'you are already live; end that session first' }]);
    return tx.liveSession.create({ data: { creatorId, title: data.title, startedAt: now } });
  });
}

/**
 * The creator ends their session; gifts can no longer be sent into it. The room hears that it ended and
 * after which gift (its last sequence is final: no gift commits into an ended session); its streams complete.
 * Its supporters join the creator's all-time leaderboard in the same transaction.
 */
export async function endLiveSession(db: Database, announcer: Announcer, creatorId: string, liveSessionId: string, now = new Date()): Promise<LiveSession> {
  const { ended, session } = await transaction(db, async (tx) => {
    const { count } = await tx.liveSession.updateMany({
      where: { id: liveSessionId, creatorId, status: LiveSessionStatus.LIVE },
      data: { status: LiveSessionStatus.ENDED, endedAt: now },
    });
    if (count === 1) await foldSessionSupporters(tx, liveSessionId);
    return { ended: count === 1, session: await tx.liveSession.findUnique({ where: { id: liveSessionId } }) };
  });
  // Ending an ended session is harmless: it returns the session as it is, and announces nothing.
  if (!session || session.creatorId !== creatorId) throw new NotFoundError('Live session');
  if (ended) announcer.liveSessionEnded(session.id, session.lastSequence);
  return session;
}

/**
 * The creator sets the session's coin goal (or replaces it). A goal is always something still to reach:
 * it must be above the coins already gifted in the session, and setting it starts it afresh (not
 * reached), so the gift that reaches it is announced as reaching it, once. A goal at or below the
 * progress is refused: it would be reached with no gift to announce it.
 */
export async function setLiveSessionGoal(
  db: Database,
  announcer: Announcer,
  creatorId: string,
  liveSessionId: string,
  input: { goalCoins: bigint },
): Promise<LiveSession> {
  const data = validate(z.object({ goalCoins }), input);
  const { set, session } = await transaction(db, async (tx) => {
    // A conditional update: it waits for a gift batch holding the session's row and then sees its
    // totals, so "above the progress" is checked against every committed gift. Once it has updated, the
    // row stays locked until commit: the read that follows, which the room hears, is this goal at this
    // progress, never a gift's that committed in between.
    const { count } = await tx.liveSession.updateMany({
      where: { id: liveSessionId, creatorId, status: LiveSessionStatus.LIVE, totalCoins: { lt: data.goalCoins } },
      data: { goalCoins: data.goalCoins, goalReachedAt: null },
    });
    return { set: count === 1, session: await tx.liveSession.findUnique({ where: { id: liveSessionId } }) };
  });
  if (!session) throw new NotFoundError('Live session');
  if (set) {
    announcer.goalSet(session.id, { goalCoins: session.goalCoins!, progressCoins: session.totalCoins, atSequence: session.lastSequence });
    return session;
  }
  if (session.creatorId !== creatorId) throw new ForbiddenError("Only the session's creator can set its goal");
  if (session.status !== LiveSessionStatus.LIVE) throw new LiveSessionEndedError();
  throw new ValidationError([{ field: 'goalCoins', message: `must be above the ${session.totalCoins} coins already gifted in this session` }]);
}
