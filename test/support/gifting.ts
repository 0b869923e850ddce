import { encodeGlobalID } from '@pothos/plugin-relay';
import { expect } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { createBundle } from '../../src/domain/bundles.js';
import { DEFAULT_POLICY, type Policy } from '../../src/domain/policy.js';
import { purchaseCoins } from '../../src/domain/purchases.js';
import { silentAnnouncer } from '../../src/events/announcer.js';
import type { User } from '../../src/generated/prisma/client.js';
import { sandbox, uniqueKey } from './money.js';

/** The Relay global id a client would send for a row. */
export const gid = (typename: 'User' | 'Gift' | 'LiveSession' | 'SentGift', id: string) => encodeGlobalID(typename, id);

/** A birth date that makes someone `years` old today (UTC), half a year from their next birthday. */
export function aged(years: number, on = new Date()): Date {
  return new Date(Date.UTC(on.getUTCFullYear() - years - 1, on.getUTCMonth(), on.getUTCDate() + 180));
}

/**
 * Coins bought through the real purchase path under a given policy: how an account comes to hold coins
 * it could not buy today (e.g. bought before moving to a country with a higher age gate).
 */
export async function fundWalletUnder(policy: Policy, db: Database, user: Pick<User, 'id'>, coins: bigint): Promise<void> {
  const bundle = await createBundle(db, { name: `${coins} coins`, coins, prices: [{ region: 'DEFAULT', amountMinor: 99n, currency: 'USD' }] });
  const purchase = await purchaseCoins(db, silentAnnouncer, policy, sandbox, user.id, { bundleId: bundle.id, paymentMethod: 'pm_sandbox_success', idempotencyKey: uniqueKey('fund') });
  expect(purchase.status).toBe('SUCCEEDED');
}

/** No age gate at all: only for arranging coins in a wallet that the gate under test then refuses to spend. */
export const NO_AGE_GATE: Policy = { ...DEFAULT_POLICY, ageGates: { DEFAULT: 0 } };

export type MoneySnapshot = {
  journalEntries: number;
  postings: number;
  sentGifts: number;
  spentCoins: bigint;
  /** Every account holding something, by id. */
  balances: Record<string, bigint>;
};

/** Everything a money movement would change. Two equal snapshots mean nothing moved in between. */
export async function moneySnapshot(db: Database): Promise<MoneySnapshot> {
  const [journalEntries, postings, sentGifts, spent, accounts] = await Promise.all([
    db.journalEntry.count(),
    db.posting.count(),
    db.sentGift.count(),
    db.dailySpend.aggregate({ _sum: { coins: true } }),
    db.account.findMany({ where: { balance: { not: 0n } }, select: { id: true, balance: true } }),
  ]);
  return {
    journalEntries,
    postings,
    sentGifts,
    spentCoins: spent._sum.coins ?? 0n,
    balances: Object.fromEntries(accounts.map((account) => [account.id, account.balance])),
  };
}

/** Counts of each __typename in a list of results, e.g. { SentGift: 37, InsufficientCoinsError: 63 }. */
export function countTypes(results: { __typename: string }[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { __typename } of results) counts[__typename] = (counts[__typename] ?? 0) + 1;
  return counts;
}

/** Settles every promise and counts fulfilled values and rejections by their error class name. */
export async function settleAll<T>(promises: Promise<T>[]): Promise<{ values: T[]; errors: unknown[]; counts: Record<string, number> }> {
  const settled = await Promise.allSettled(promises);
  const values = settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const errors = settled.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
  const counts: Record<string, number> = {};
  if (values.length) counts.fulfilled = values.length;
  for (const error of errors) {
    const name = error instanceof Error ? error.constructor.name : typeof error;
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return { values, errors, counts };
}
