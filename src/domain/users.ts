import { z } from 'zod';
import type { Database } from '../db/client.js';
import type { Announcer } from '../events/announcer.js';
import { Prisma, Role, type User } from '../generated/prisma/client.js';
import { transaction } from '../db/transaction.js';
import { ForbiddenError, HandleTakenError, NotFoundError } from './errors.js';
import type { Policy } from './policy.js';
import { countryInForce, type Residence } from './safeguards.js';
import { validate } from './validation.js';

const HANDLE = /^[a-z0-9_.]{3,24}$/;
// Anyone may sign up to watch or to stream; brand and admin accounts are granted by an operator.
const SELF_SERVICE_ROLES = [Role.VIEWER, Role.CREATOR] as const;

const countryCode = z
  .string()
  .transform((code) => code.toUpperCase())
  .pipe(z.string().regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code such as "US"'));

const displayName = z.string().trim().min(1, 'must not be empty').max(50, 'must be at most 50 characters');

const registration = z.object({
  handle: z
    .string()
    .transform((handle) => handle.toLowerCase())
    .pipe(z.string().regex(HANDLE, 'must be 3-24 characters: letters, digits, "_" or "."')),
  displayName,
  birthDate: z
    .date()
    .refine((date) => date.getTime() <= Date.now(), 'must be in the past')
    .refine((date) => date.getUTCFullYear() >= 1900, 'must be after 1900'),
  country: countryCode,
  roles: z.array(z.enum(SELF_SERVICE_ROLES)).min(1, 'pick at least one role').default([Role.VIEWER]),
});

export type Registration = { handle: string; displayName: string; birthDate: Date; country: string; roles?: Role[] };

export async function registerUser(db: Database, input: Registration): Promise<User> {
  const data = validate(registration, input);
  const roles = [...new Set<Role>([Role.VIEWER, ...data.roles])];
  try {
    return await db.user.create({ data: { ...data, roles } });
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
      throw new HandleTakenError(data.handle);
    }
    throw error;
  }
}

/**
 * The first sign-in of an identity provider's identity: its profile becomes an account (a viewer; CREATOR
 * through becomeCreator, ADMIN only from an admin), tied to the identity for good. Birth date and country
 * are the safeguards' basis, so buying, gifting and going live wait for it.
 */
export async function completeProfile(db: Database, identity: { issuer: string; subject: string }, input: Omit<Registration, 'roles'>): Promise<User> {
  const data = validate(registration.omit({ roles: true }), input);
  try {
    return await transaction(db, async (tx) => {
      const linked = await tx.identityLink.findUnique({ where: { issuer_subject: identity } });
      if (linked) throw new ForbiddenError('This identity already has an account');
      const user = await tx.user.create({ data: { ...data, roles: [Role.VIEWER] } });
      await tx.identityLink.create({ data: { ...identity, userId: user.id } });
      return user;
    });
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
      // The handle, or the same identity completing twice at once.
      if (await db.user.findUnique({ where: { handle: data.handle }, select: { id: true } })) throw new HandleTakenError(data.handle);
      throw new ForbiddenError('This identity already has an account');
    }
    throw error;
  }
}

const profileChange = z.object({ displayName: displayName.optional(), country: countryCode.optional() });

export type ProfileChange = { displayName?: string; country?: string };

/**
 * Display name applies at once. A new country cannot loosen a safeguard: it applies only after the
 * cooling-off period (Policy.countryChangeCoolingOffMs), and until then the old country does, with the
 * stricter age gate of the two (safeguards.ts, checkAge). Changing back to the country in force cancels it.
 */
export async function updateProfile(db: Database, announcer: Announcer, policy: Policy, userId: string, input: ProfileChange, now = new Date()): Promise<User> {
  const { displayName, country } = validate(profileChange, input);
  const user = await transaction(db, async (tx) => {
    // Locked: two changes at once must not each start their own cooling-off from a stale country.
    const [current] = await tx.$queryRaw<Residence[]>`
      SELECT country::text AS country, "pendingCountry"::text AS "pendingCountry", "countryChangesAt" FROM "User" WHERE id = ${userId}::uuid FOR NO KEY UPDATE`;
    if (!current) throw new NotFoundError('User');
    const inForce = countryInForce(current, now);
    const residence =
      country === undefined
        ? {}
        : country === inForce
          ? { country: inForce, pendingCountry: null, countryChangesAt: null }
          : country === current.pendingCountry && current.countryChangesAt
            ? {} // already waiting: asking again does not restart the wait
            : { country: inForce, pendingCountry: country, countryChangesAt: new Date(now.getTime() + policy.countryChangeCoolingOffMs) };
    return tx.user.update({ where: { id: userId }, data: { ...(displayName === undefined ? {} : { displayName }), ...residence } });
  });
  announcer.profileChanged(user.id);
  return user;
}

export async function userByHandle(db: Database, handle: string): Promise<User | null> {
  return db.user.findUnique({ where: { handle: handle.toLowerCase() } });
}


/** The country in force for the user now (a changed one applies after its cooling-off); undefined when the account is gone. */
export async function countryOfViewer(db: Database, userId: string, now = new Date()): Promise<string | undefined> {
  const user = await db.user.findUnique({ where: { id: userId }, select: { country: true, pendingCountry: true, countryChangesAt: true } });
  return user ? countryInForce(user, now) : undefined;
}
