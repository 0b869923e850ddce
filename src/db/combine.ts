import { Prisma } from '../generated/prisma/client.js';

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
