import { z } from 'zod';
import type { Database } from '../db/client.js';
import { transaction } from '../db/transaction.js';
import { LiveSessionStatus, Role, type LiveSession } from '../generated/prisma/client.js';
import { ForbiddenError, NotFoundError, ValidationError } from './errors.js';
import type { Policy } from './policy.js';
import { checkAge } from './safeguards.js';
import { validate } from './validation.js';

const title = z.string().trim().min(1, 'must not be empty').max(120, 'must be at most 120 characters');

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

/** The creator ends their session; gifts can no longer be sent into it. */
export async function endLiveSession(db: Database, creatorId: string, liveSessionId: string, now = new Date()): Promise<LiveSession> {
  await db.liveSession.updateMany({
    where: { id: liveSessionId, creatorId, status: LiveSessionStatus.LIVE },
    data: { status: LiveSessionStatus.ENDED, endedAt: now },
  });
  const session = await db.liveSession.findUnique({ where: { id: liveSessionId } });
  // Ending an ended session is harmless: it returns the session as it is.
  if (!session || session.creatorId !== creatorId) throw new NotFoundError('Live session');
  return session;
}
