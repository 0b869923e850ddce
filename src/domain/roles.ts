import { z } from 'zod';
import type { Database } from '../db/client.js';
import { transaction } from '../db/transaction.js';
import type { Announcer } from '../events/announcer.js';
import { Role, type User } from '../generated/prisma/client.js';
import { LastAdminError, NotFoundError } from './errors.js';
import type { Policy } from './policy.js';
import { checkAge } from './safeguards.js';
import { validate } from './validation.js';

/**
 * Roles live in the database, never in a token (src/edge/accounts.ts reads them for each request). Every
 * change is kept in RoleChange with who made it and why, and announced after commit so every instance
 * forgets what it remembered of the account.
 */
export type RoleChangeRequest = {
  userId: string;
  role: Role;
  granted: boolean;
  reason: string;
  /** Null when the user changed their own role (becomeCreator) or the command line granted it. */
  adminId: string | null;
};

const reasonInput = z.object({ reason: z.string().trim().min(3, 'say why, in a few words').max(500) });

export async function changeRole(db: Database, announcer: Announcer, change: RoleChangeRequest, check?: (user: User) => void): Promise<User> {
  const { reason } = validate(reasonInput, { reason: change.reason });
  const user = await transaction(db, async (tx) => {
    if (change.role === Role.ADMIN && !change.granted) {
      // Every admin is locked, in one order, before counting: two admins revoking each other at once
      // must not both see the other remain.
      const admins = await tx.$queryRaw<{ id: string; suspended: boolean }[]>`
        SELECT id, "suspendedAt" IS NOT NULL AS suspended FROM "User" WHERE 'ADMIN' = ANY(roles) ORDER BY id FOR NO KEY UPDATE`;
      const others = admins.filter((admin) => admin.id !== change.userId && !admin.suspended);
      if (admins.some((admin) => admin.id === change.userId) && others.length === 0) throw new LastAdminError();
    }
    // Locked, as changeRestriction does: two changes at once must not write each other's roles away.
    const [locked] = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM "User" WHERE id = ${change.userId}::uuid FOR NO KEY UPDATE`;
    if (!locked) throw new NotFoundError('User');
    const current = await tx.user.findUniqueOrThrow({ where: { id: change.userId } });
    check?.(current);
    const roles = new Set(current.roles);
    if (change.granted) roles.add(change.role);
    else roles.delete(change.role);
    if (roles.size === current.roles.length && change.granted === current.roles.includes(change.role)) return current;
    await tx.roleChange.create({ data: { userId: change.userId, adminId: change.adminId, role: change.role, granted: change.granted, reason } });
    return tx.user.update({ where: { id: change.userId }, data: { roles: [...roles] } });
  });
  announcer.accountChanged(user.id);
  return user;
}

/** An admin grants or revokes ADMIN. */
export function setAdmin(db: Database, announcer: Announcer, change: { adminId: string; userId: string; admin: boolean; reason: string }): Promise<User> {
  return changeRole(db, announcer, { userId: change.userId, role: Role.ADMIN, granted: change.admin, reason: change.reason, adminId: change.adminId });
}

/** A signed-in adult (by the go-live age gate of their country) becomes a creator. */
export function becomeCreator(db: Database, announcer: Announcer, policy: Policy, userId: string, now = new Date()): Promise<User> {
  return changeRole(db, announcer, { userId, role: Role.CREATOR, granted: true, reason: 'became a creator', adminId: null }, (user) =>
    checkAge(policy, user, 'go live', now),
  );
}

/** An operator suspends an account or lifts its suspension; recorded, and announced so every instance applies it at once. */
export async function changeSuspension(
  db: Database,
  announcer: Announcer,
  change: { adminId: string; userId: string; suspended: boolean; reason: string },
  now = new Date(),
): Promise<User> {
  const { reason } = validate(reasonInput, { reason: change.reason });
  const user = await transaction(db, async (tx) => {
    const [locked] = await tx.$queryRaw<{ suspendedAt: Date | null }[]>`SELECT "suspendedAt" FROM "User" WHERE id = ${change.userId}::uuid FOR NO KEY UPDATE`;
    if (!locked) throw new NotFoundError('User');
    await tx.suspensionChange.create({ data: { userId: change.userId, adminId: change.adminId, suspended: change.suspended, reason } });
    return tx.user.update({
      where: { id: change.userId },
      data: { suspendedAt: change.suspended ? (locked.suspendedAt ?? now) : null },
    });
  });
  announcer.accountChanged(user.id);
  return user;
}
