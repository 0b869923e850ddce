import { Prisma } from '../generated/prisma/client.js';
import { statementFailure } from './sql-state.js';

/**
 * Several statements as one: each becomes a named WITH clause, then `select` (which may read their
 * RETURNING rows). One round trip instead of one per statement, which is what a hot path pays for;
 * PostgreSQL checks foreign keys at the end of the statement, so a clause may insert rows that
 * reference another's.
 */
export function combine(clauses: Record<string, Prisma.Sql>, select: Prisma.Sql = Prisma.sql`SELECT 1`): Prisma.Sql {
  const named = Object.entries(clauses).map(([name, sql]) => Prisma.sql`${Prisma.raw(`"${name}"`)} AS (${sql})`);
  return named.length ? Prisma.sql`WITH ${Prisma.join(named, ', ')} ${select}` : select;
}

/** The SQLSTATE `fail_statement` raises (migration statement_checks): a class of our own. */
const FAILED_CHECK = 'OV001';

/**
 * A select column that fails the statement, and with it the transaction, when `condition` is false: for
 * checks on a statement's outcome that must hold before a COMMIT already sent behind it (driver.ts).
 */
export function failUnless(condition: Prisma.Sql, check: string): Prisma.Sql {
  return Prisma.sql`CASE WHEN NOT (${condition}) THEN fail_statement(${check}) END`;
}

/** The check that failed a statement through failUnless, if that is what happened (on either path: see sql-state.ts). */
export function failedCheck(error: unknown): string | undefined {
  const failure = statementFailure(error);
  return failure?.sqlState === FAILED_CHECK ? failure.message : undefined;
}
