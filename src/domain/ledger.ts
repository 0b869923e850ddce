import { randomUUID } from 'node:crypto';
import type { SqlTx } from '../db/driver.js';
import { combine, failedCheck, failUnless } from '../db/combine.js';
import { Asset, Prisma, type EntryKind } from '../generated/prisma/client.js';

/** Platform accounts have fixed ids (created by the money_core and payouts migrations). */
export const PLATFORM = {
  coinIssuance: '00000000-0000-4000-8000-000000000001',
  coinRevenue: '00000000-0000-4000-8000-000000000002',
  diamondIssuance: '00000000-0000-4000-8000-000000000003',
  /** Diamonds of payouts in progress (created by the payouts migration). */
  payoutHold: '00000000-0000-4000-8000-000000000004',
  /** Diamonds of payouts paid. */
  diamondPaidOut: '00000000-0000-4000-8000-000000000005',
} as const;

const PLATFORM_IDS = new Set<string>(Object.values(PLATFORM));

export type PostingDraft = { accountId: string; asset: Asset; amount: bigint };
export type EntryDraft = { id?: string; kind: EntryKind; memo: string; postings: PostingDraft[] };

/** Per-account sums of a set of entries, applied to the balances last (they lock hot rows). */
export type BalanceChanges = Map<string, { asset: Asset; amount: bigint }>;

export class LedgerError extends Error {
  override name = 'LedgerError';
}

/**
 * The statements that write journal entries and their postings (immutable, never updated), after
 * checking that each entry sums to zero per asset; with the entry ids and the balance changes still to
 * apply. Raw multi-row inserts: on the gift path they run once per batch, and Prisma's createMany costs
 * far more CPU per row than PostgreSQL does.
 */
export function entryWrites(drafts: EntryDraft[]): { writes: { entries: Prisma.Sql; postings: Prisma.Sql }; entryIds: string[]; changes: BalanceChanges } {
  const changes: BalanceChanges = new Map();
  const entries = drafts.map((draft) => ({ id: draft.id ?? randomUUID(), kind: draft.kind, memo: draft.memo }));
  const postings = drafts.flatMap((draft, index) => {
    const sums = new Map<Asset, bigint>();
    for (const posting of draft.postings) {
      if (posting.amount === 0n) throw new LedgerError(`A posting of zero in "${draft.memo}"`);
      sums.set(posting.asset, (sums.get(posting.asset) ?? 0n) + posting.amount);
      const change = changes.get(posting.accountId) ?? { asset: posting.asset, amount: 0n };
      change.amount += posting.amount;
      changes.set(posting.accountId, change);
    }
    if (draft.postings.length < 2 || [...sums.values()].some((sum) => sum !== 0n)) {
      throw new LedgerError(`Entry "${draft.memo}" does not balance`);
    }
    return draft.postings.map((posting) => ({ ...posting, entryId: entries[index]!.id }));
  });
  return {
    writes: {
      entries: Prisma.sql`
        INSERT INTO "JournalEntry" (id, kind, memo)
        SELECT * FROM unnest(${entries.map((e) => e.id)}::uuid[], ${entries.map((e) => e.kind)}::"EntryKind"[], ${entries.map((e) => e.memo)}::text[])`,
      postings: Prisma.sql`
        INSERT INTO "Posting" ("entryId", "accountId", asset, amount)
        SELECT * FROM unnest(${postings.map((p) => p.entryId)}::uuid[], ${postings.map((p) => p.accountId)}::uuid[],
                             ${postings.map((p) => p.asset)}::"Asset"[], ${postings.map((p) => p.amount.toString())}::bigint[])`,
    },
    entryIds: entries.map((entry) => entry.id),
    changes,
  };
}

/**
 * The statement clauses that apply balance changes with one conditional write: a user's balance may not
 * fall below zero unless the account is listed in `mayGoNegative` (a chargeback). Rows are locked in one
 * global order (user coins, user diamonds, then platform) so concurrent transactions never deadlock, and
 * with NO KEY UPDATE: a row naming the account through a foreign key (a brand's, a campaign's) holds KEY
 * SHARE on it while it is written, which FOR UPDATE would wait on. `allApplied` is a select column that fails the statement unless every change applied; a failure
 * it causes reads as a LedgerError through `ledgerFailure`.
 */
export function balanceWrites(changes: BalanceChanges, mayGoNegative: string[] = []): { writes: Record<string, Prisma.Sql>; allApplied: Prisma.Sql; accounts: number } {
  const ids = [...changes.keys()].sort((a, b) => lockRank(a, changes) - lockRank(b, changes) || a.localeCompare(b));
  const amounts = ids.map((id) => changes.get(id)!.amount.toString());
  return {
    accounts: ids.length,
    writes: {
      balance_locks: Prisma.sql`
        SELECT id FROM "Account" WHERE id = ANY(${ids}::uuid[]) ORDER BY array_position(${ids}::uuid[], id) FOR NO KEY UPDATE`,
      balanced: Prisma.sql`
        UPDATE "Account" AS a SET balance = a.balance + d.amount
        FROM unnest(${ids}::uuid[], ${amounts}::bigint[]) AS d(id, amount), balance_locks
        WHERE a.id = d.id AND balance_locks.id = d.id
          AND (a.owner = 'PLATFORM' OR d.amount >= 0 OR a.balance + d.amount >= 0 OR a.id = ANY(${mayGoNegative}::uuid[]))
        RETURNING a.id`,
    },
    allApplied: failUnless(Prisma.sql`(SELECT count(*) FROM balanced) = ${ids.length}`, BALANCES_CHECK),
  };
}

const BALANCES_CHECK = 'balances';

/**
 * The error to report for a statement that failed: a LedgerError when balanceWrites refused a debit
 * (callers check balances under lock before writing, so this means a rule was skipped), else itself.
 */
export function ledgerFailure(error: unknown): unknown {
  return failedCheck(error) === BALANCES_CHECK ? new LedgerError('A debit would have made a balance negative') : error;
}

/** Applies balance changes on their own (see balanceWrites). */
export async function applyBalances(tx: SqlTx, changes: BalanceChanges, mayGoNegative: string[] = []): Promise<void> {
  const { writes, allApplied, accounts } = balanceWrites(changes, mayGoNegative);
  if (accounts === 0) return;
  await tx.$queryRaw(combine(writes, Prisma.sql`SELECT ${allApplied}`)).catch((error: unknown) => {
    throw ledgerFailure(error);
  });
}

function lockRank(id: string, changes: BalanceChanges): number {
  if (PLATFORM_IDS.has(id)) return 2;
  return changes.get(id)!.asset === Asset.COIN ? 0 : 1;
}

/** Writes entries and applies their balances: the whole of one money movement. */
export async function record(tx: SqlTx, drafts: EntryDraft[], mayGoNegative: string[] = []): Promise<string[]> {
  const { writes, entryIds, changes } = entryWrites(drafts);
  await tx.$executeRaw(combine(writes));
  await applyBalances(tx, changes, mayGoNegative);
  return entryIds;
}

/**
 * Each user's account for an asset, opened on first use, in one statement for any number of users and
 * without locking existing rows (a popular creator's account is hot).
 */
export async function userAccountIds(tx: SqlTx, userIds: string[], asset: Asset): Promise<Map<string, string>> {
  const wanted = [...new Set(userIds)].sort();
  const found = new Map<string, string>();
  // A second pass finds an account another transaction opened while this statement ran.
  for (let pass = 0; pass < 2 && found.size < wanted.length; pass++) {
    const rows = await tx.$queryRaw<{ id: string; userId: string }[]>`
      WITH opened AS (
        INSERT INTO "Account" (id, owner, "userId", asset)
        SELECT gen_random_uuid(), 'USER', u, ${asset}::"Asset" FROM unnest(${wanted}::uuid[]) AS u
        WHERE NOT EXISTS (SELECT 1 FROM "Account" WHERE "userId" = u AND asset = ${asset}::"Asset")
        ON CONFLICT ("userId", asset) DO NOTHING
        RETURNING id, "userId")
      SELECT id, "userId" FROM opened
      UNION ALL SELECT id, "userId" FROM "Account" WHERE "userId" = ANY(${wanted}::uuid[]) AND asset = ${asset}::"Asset"`;
    for (const row of rows) found.set(row.userId, row.id);
  }
  if (found.size < wanted.length) throw new LedgerError('Could not open accounts');
  return found;
}

/** The user's account ids for each asset and their balances, locked for this transaction. */
export async function lockUserAccounts(tx: SqlTx, userIds: string[], asset: Asset): Promise<Map<string, { accountId: string; balance: bigint }>> {
  const sorted = [...new Set(userIds)].sort();
  const rows = await tx.$queryRaw<{ id: string; userId: string; balance: bigint }[]>`
    SELECT id, "userId", balance FROM "Account"
    WHERE "userId" = ANY(${sorted}::uuid[]) AND asset = ${asset}::"Asset"
    ORDER BY id FOR NO KEY UPDATE`;
  return new Map(rows.map((row) => [row.userId, { accountId: row.id, balance: row.balance }]));
}
