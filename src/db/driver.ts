import { createHash } from 'node:crypto';
import type { Duplex } from 'node:stream';
import pg from 'pg';
import { Prisma } from '../generated/prisma/client.js';

/**
 * What raw-SQL domain code needs of a transaction. A Prisma transaction has it, and so does a driver
 * transaction (below), so the same domain functions run on either.
 */
export type SqlTx = {
  $queryRaw<T = unknown>(query: TemplateStringsArray | Prisma.Sql, ...values: unknown[]): Promise<T>;
  $executeRaw(query: TemplateStringsArray | Prisma.Sql, ...values: unknown[]): Promise<number>;
};

/** A driver transaction: it can commit from inside the work, behind statements still running. */
export type DriverTx = SqlTx & {
  /**
   * Sends COMMIT behind every statement already sent, without waiting for them; resolves once the
   * transaction committed and rejects if it rolled back (a statement before it failed). Work that ends
   * this way must make its checks fail inside SQL (see `failUnless`), since COMMIT is already on its way.
   */
  commit(): Promise<void>;
  readonly committing: boolean;
};

/**
 * A transaction on a connection of the pg pool that Prisma's adapter runs on, for the gift batch only.
 * Prisma's own CPU per statement it forwards to that same pool, paid by every gift, capped the server on
 * this one path (measured: docs/architecture.md, "The gift path"). Results come back typed as Prisma's raw
 * queries return them: bigint for int8, dates at UTC midnight.
 *
 * The pool's connections pipeline (client.ts): a statement goes out as soon as it is called, in call
 * order, so statements sent before any of them is awaited share one round trip. PostgreSQL still runs
 * them one after another, each with its own snapshot.
 */
export function driverTx(client: pg.PoolClient): DriverTx {
  let committing = false;
  const run = (query: TemplateStringsArray | Prisma.Sql, values: unknown[]) => {
    const sql = query instanceof Prisma.Sql ? query : Prisma.sql(query, ...values);
    sendTogether(client);
    return client.query({ name: statementName(sql.text), text: sql.text, values: sql.values.map(asParameter), types: PRISMA_LIKE_TYPES });
  };
  return {
    $queryRaw: async <T>(query: TemplateStringsArray | Prisma.Sql, ...values: unknown[]) => (await run(query, values)).rows as T,
    $executeRaw: async (query: TemplateStringsArray | Prisma.Sql, ...values: unknown[]) => (await run(query, values)).rowCount ?? 0,
    async commit() {
      committing = true;
      sendTogether(client);
      const { command } = await client.query('COMMIT');
      // COMMIT in a transaction that a failed statement aborted answers ROLLBACK, not an error.
      if (command !== 'COMMIT') throw new Error('The transaction rolled back');
    },
    get committing() {
      return committing;
    },
  };
}

/**
 * Holds back the connection's writes until the statements sent in this turn of the event loop are all
 * queued, then writes them at once. pg writes each statement on its own: one system call each, and on
 * loopback each wakes PostgreSQL to read a part of the round trip; a batch sends seven statements in two
 * round trips (docs/benchmarks.md, "Issue 26"). pg corks its socket too, per statement: corks nest.
 */
export function sendTogether(client: pg.PoolClient): void {
  const socket = (client as unknown as { connection: { stream: Duplex } }).connection.stream;
  if (corked.has(socket)) return;
  corked.add(socket);
  socket.cork();
  process.nextTick(() => {
    corked.delete(socket);
    socket.uncork();
  });
}

const corked = new WeakSet<Duplex>();

/**
 * Each statement is prepared once per connection, under a name from its text, so PostgreSQL can reuse
 * its plan: planning the batch's large statements was a large share of the batch's time in PostgreSQL
 * (docs/architecture.md, "The gift path"). Prepared statements must name their columns (`SELECT *` fails
 * once a migration adds one). The driver path passes lists as array parameters, so its statements are
 * a handful of fixed texts; past MAX_PREPARED distinct texts (a statement built with spliced-in values
 * would get there), the rest run unprepared rather than fill every connection with one-off plans.
 */
function statementName(text: string): string | undefined {
  let name = preparedNames.get(text);
  if (name === undefined && preparedNames.size < MAX_PREPARED) {
    name = `ovation_${createHash('sha1').update(text).digest('hex')}`;
    preparedNames.set(text, name);
  }
  return name;
}

const MAX_PREPARED = 100;
const preparedNames = new Map<string, string>();

// pg would send a Date in the process's local time zone, and `::date` then takes the local day.
function asParameter(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(asParameter);
  return value;
}

const INT8 = 20;
const DATE = 1082;

const PRISMA_LIKE_TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === INT8) return (text: string) => BigInt(text);
    if (oid === DATE) return (text: string) => new Date(`${text}T00:00:00Z`);
    return pg.types.getTypeParser(oid, format);
  }) as pg.CustomTypesConfig['getTypeParser'],
};
