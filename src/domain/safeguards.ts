import { z } from 'zod';
import type { Database } from '../db/client.js';
import { transaction } from '../db/transaction.js';
import { RestrictionKind, type User } from '../generated/prisma/client.js';
import { AccountRestrictedError, AgeRestrictedError, NotFoundError, SpendingLimitError } from './errors.js';
import type { Policy } from './policy.js';
import { validate } from './validation.js';

export type AgeGatedAction = 'buy coins' | 'send gifts' | 'receive gifts' | 'go live' | 'cash out';

/** Someone's country as stored: a changed one waits (pendingCountry, countryChangesAt) until its cooling-off ends. */
export type Residence = Pick<User, 'country'> & Partial<Pick<User, 'pendingCountry' | 'countryChangesAt'>>;

type Person = Pick<User, 'birthDate'> & Residence;

export const minimumAge = (policy: Policy, country: string): number => policy.ageGates[country] ?? policy.ageGates.DEFAULT;

/** The country in force at `now`: a changed one once its cooling-off has ended, else the one before. */
export function countryInForce(person: Residence, now: Date): string {
  return person.pendingCountry && person.countryChangesAt && person.countryChangesAt <= now ? person.pendingCountry : person.country;
}

/** The minimum age at `now`: while a country change waits, the stricter gate of the old and new country. */
export function minimumAgeOf(policy: Policy, person: Residence, now: Date): number {
  const inForce = minimumAge(policy, countryInForce(person, now));
  const waiting = person.pendingCountry && person.countryChangesAt && person.countryChangesAt > now ? minimumAge(policy, person.pendingCountry) : 0;
  return Math.max(inForce, waiting);
}

/** Whole years lived on `on` (UTC). */
export function ageOn(birthDate: Date, on: Date): number {
  const age = on.getUTCFullYear() - birthDate.getUTCFullYear();
  const month = on.getUTCMonth() - birthDate.getUTCMonth();
  return month > 0 || (month === 0 && on.getUTCDate() >= birthDate.getUTCDate()) ? age : age - 1;
}

export function checkAge(policy: Policy, person: Person, action: AgeGatedAction, now: Date): void {
  const minimum = minimumAgeOf(policy, person, now);
  if (ageOn(person.birthDate, now) < minimum) throw new AgeRestrictedError(minimum, action);
}

const RESTRICTION_MESSAGES: Record<RestrictionKind, string> = {
  BUYING: 'This account may not buy coins',
  GIFTING: 'This account may not send gifts',
  RECEIVING: 'This creator may not receive gifts',
  PAYOUTS: 'This account may not cash out',
};

export function checkNotRestricted(user: Pick<User, 'restrictions'>, kind: RestrictionKind): void {
  if (user.restrictions.includes(kind)) throw new AccountRestrictedError(kind, RESTRICTION_MESSAGES[kind]);
}

type LimitHolder = Pick<User, 'dailyLimitCoins' | 'pendingDailyLimit' | 'pendingLimitActiveAt'>;

/** The user's own daily limit in force at `now` (a raised limit applies once its cooling-off ends). */
export function personalDailyLimit(user: LimitHolder, now: Date): bigint | null {
  if (user.pendingLimitActiveAt && user.pendingLimitActiveAt <= now) return user.pendingDailyLimit;
  return user.dailyLimitCoins;
}

/** Refuses a spend that would pass the personal daily limit or the platform's daily or weekly cap. */
export function checkSpendingLimits(
  policy: Policy,
  user: LimitHolder,
  spent: { today: bigint; lastSevenDays: bigint },
  coins: bigint,
  now: Date,
): void {
  const personal = personalDailyLimit(user, now);
  const limits = [
    ...(personal === null ? [] : [{ limit: 'USER_DAILY' as const, cap: personal, spent: spent.today }]),
    { limit: 'PLATFORM_DAILY' as const, cap: policy.platformDailyCapCoins, spent: spent.today },
    { limit: 'PLATFORM_WEEKLY' as const, cap: policy.platformWeeklyCapCoins, spent: spent.lastSevenDays },
  ];
  for (const { limit, cap, spent: already } of limits) {
    if (already + coins > cap) throw new SpendingLimitError(limit, cap, cap > already ? cap - already : 0n);
  }
}

/** The UTC day a spend counts towards. */
export const spendDay = (now: Date): Date => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));

const limitInput = z.object({
  dailyLimitCoins: z.bigint().min(0n, 'must not be negative').max(10n ** 12n, 'is too large').nullable(),
});

/**
 * A user sets their own daily limit: lowering (or setting one where there was none) applies at once;
 * raising or removing it applies only after the cooling-off period, so a moment's impulse can't undo it.
 */
export async function setDailyLimit(db: Database, policy: Policy, userId: string, dailyLimitCoins: bigint | null, now = new Date()): Promise<User> {
  const { dailyLimitCoins: wanted } = validate(limitInput, { dailyLimitCoins });
  return transaction(db, async (tx) => {
    // Locked, as changeRestriction does: a raise that read the limit before a concurrent lowering
    // committed would write the old limit back over it.
    const [user] = await tx.$queryRaw<LimitHolder[]>`
      SELECT "dailyLimitCoins", "pendingDailyLimit", "pendingLimitActiveAt" FROM "User" WHERE id = ${userId}::uuid FOR NO KEY UPDATE`;
    if (!user) throw new NotFoundError('User');
    const current = personalDailyLimit(user, now);
    const tightens = wanted !== null && (current === null || wanted <= current);
    return tx.user.update({
      where: { id: userId },
      data: tightens
        ? { dailyLimitCoins: wanted, pendingDailyLimit: null, pendingLimitActiveAt: null }
        : {
            dailyLimitCoins: current,
            pendingDailyLimit: wanted,
            pendingLimitActiveAt: new Date(now.getTime() + policy.limitRaiseCoolingOffMs),
          },
    });
  });
}

const restrictionInput = z.object({ reason: z.string().trim().min(3, 'say why, in a few words').max(500) });

/** An operator places or lifts a restriction; every change is kept with who made it and why. */
export async function changeRestriction(
  db: Database,
  change: { adminId: string; userId: string; kind: RestrictionKind; placed: boolean; reason: string },
): Promise<User> {
  const { reason } = validate(restrictionInput, { reason: change.reason });
  return transaction(db, async (tx) => {
    // As text[]: the driver does not know the enum array type and would hand back the literal "{...}".
    const [user] = await tx.$queryRaw<{ restrictions: RestrictionKind[] }[]>`
      SELECT restrictions::text[] AS restrictions FROM "User" WHERE id = ${change.userId}::uuid FOR NO KEY UPDATE`;
    if (!user) throw new NotFoundError('User');
    const restrictions = new Set(user.restrictions);
    if (change.placed) restrictions.add(change.kind);
    else restrictions.delete(change.kind);
    await tx.restrictionChange.create({
      data: { userId: change.userId, adminId: change.adminId, kind: change.kind, placed: change.placed, reason },
    });
    return tx.user.update({ where: { id: change.userId }, data: { restrictions: [...restrictions] } });
  });
}
