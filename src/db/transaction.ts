import type { Database } from './client.js';
import { driverTx, sendTogether, type DriverTx } from './driver.js';
import { Prisma } from '../generated/prisma/client.js';
import { statementFailure } from './sql-state.js';

export type Tx = Prisma.TransactionClient;

const MAX_ATTEMPTS = 8;
const TIMEOUT_MS = 30_000;

type PrismaOptions = {
  /** PostgreSQL's default, READ COMMITTED, unless asked: naming a level costs a round trip of its own. */
  isolationLevel?: Prisma.TransactionIsolationLevel;
  /** For work that reads the whole database (the ledger audit); a request's work gets TIMEOUT_MS. */
  timeoutMs?: number;
};

/**
 * The one way to run a unit of work: every check and effect of one request inside one transaction.
 * A serialization failure or deadlock is retried (with jittered back-off), never surfaced to the caller.
 * With `driver: true` the work gets a raw-SQL transaction straight on the pool (driver.ts): for the gift
 * batch, whose statements are all raw SQL.
 */
export function transaction<T>(db: Database, work: (tx: DriverTx) => Promise<T>, options: { driver: true }): Promise<T>;
export function transaction<T>(db: Database, work: (tx: Tx) => Promise<T>, options?: PrismaOptions): Promise<T>;
export async function transaction<T>(
  db: Database,
  work: ((tx: Tx) => Promise<T>) | ((tx: DriverTx) => Promise<T>),
  { isolationLevel, timeoutMs = TIMEOUT_MS, driver }: PrismaOptions & { driver?: true } = {},
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      if (driver) return await onDriver(db, work as (tx: DriverTx) => Promise<T>);
      return await db.$transaction(work as (tx: Tx) => Promise<T>, { ...(isolationLevel ? { isolationLevel } : {}), maxWait: 10_000, timeout: timeoutMs });
    } catch (error) {
      if (attempt >= MAX_ATTEMPTS || !isRetryable(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * 2 ** attempt));
    }
  }
}

async function onDriver<T>(db: Database, work: (tx: DriverTx) => Promise<T>): Promise<T> {
  const client = await db.driver.connect();
  let broken: Error | undefined;
  try {
    const tx = driverTx(client);
    sendTogether(client);
    // BEGIN goes out with the work's first statements, in one round trip. SET LOCAL in the same string:
    // a statement stuck on a lock or a lost client gives up, as a Prisma transaction does at its
    // timeout, instead of holding the connection and its locks.
    const [, result] = await Promise.all([client.query(`BEGIN; SET LOCAL statement_timeout = ${TIMEOUT_MS}`), work(tx)]);
    if (!tx.committing) await tx.commit();
    return result;
  } catch (error) {
    // Sent behind anything still running. A connection that cannot even roll back is dropped from the
    // pool rather than reused.
    await client.query('ROLLBACK').catch((rollbackError: Error) => (broken = rollbackError));
    throw error;
  } finally {
    client.release(broken);
  }
}

/** PostgreSQL's serialization_failure and deadlock_detected: the transaction may succeed if run again. */
const RETRYABLE = new Set(['40001', '40P01']);

const isRetryable = (error: unknown) => RETRYABLE.has(statementFailure(error)?.sqlState ?? '');
