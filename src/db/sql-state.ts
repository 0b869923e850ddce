import pg from 'pg';
import { Prisma } from '../generated/prisma/client.js';

/** What PostgreSQL said when it failed a statement: its SQLSTATE and its message. */
export type StatementFailure = { sqlState: string; message: string };

type AdapterError = { name?: unknown; cause?: { originalCode?: unknown; originalMessage?: unknown } | null };

/**
 * PostgreSQL's own answer inside an error from either path to the database: pg's error on the driver
 * path (driver.ts); on Prisma's, the driver adapter's error (whatever Prisma code wraps it: P2034 for a
 * serialization failure or deadlock in an ORM statement, P2010 for any failure of a raw one), which
 * keeps PostgreSQL's code and message as `originalCode` and `originalMessage`. Undefined for anything
 * PostgreSQL did not say (a lost connection, a bug).
 */
export function statementFailure(error: unknown): StatementFailure | undefined {
  if (error instanceof pg.DatabaseError) return error.code ? { sqlState: error.code, message: error.message } : undefined;
  const adapterError = (
    error instanceof Prisma.PrismaClientKnownRequestError ? (error.meta as { driverAdapterError?: unknown } | undefined)?.driverAdapterError : error
  ) as AdapterError | null | undefined;
  if (adapterError?.name !== 'DriverAdapterError') return undefined;
  const { originalCode, originalMessage } = adapterError.cause ?? {};
  return typeof originalCode === 'string' ? { sqlState: originalCode, message: typeof originalMessage === 'string' ? originalMessage : '' } : undefined;
}
