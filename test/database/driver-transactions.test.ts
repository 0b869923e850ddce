import net from 'node:net';
import { describe, expect, test } from 'vitest';
import { combine, failedCheck, failUnless } from '../../src/db/combine.js';
import { transaction } from '../../src/db/transaction.js';
import { Prisma } from '../../src/generated/prisma/client.js';
import { createTestDatabase } from '../support/database.js';

// The gift batch runs its raw SQL on the pg pool under Prisma (src/db/driver.ts). The domain functions
// it calls also run in Prisma transactions, so both kinds must read and write alike.

const { db } = await createTestDatabase();

const probe = (at: Date) => Prisma.sql`
  SELECT 9007199254740993::bigint AS big, ${at}::date AS day, ${at}::timestamptz AS at, '{"a": [1, "2"]}'::jsonb AS doc,
         ARRAY['00000000-0000-4000-8000-000000000001']::uuid[] AS ids, 7 AS small, NULL::bigint AS nothing`;

describe('a driver transaction', () => {
  test('reads what a Prisma transaction reads: bigint as bigint, a date at UTC midnight, JSON parsed', async () => {
    const at = new Date('2026-11-22T23:30:00.000Z');
    const viaPrisma = await transaction(db, (tx) => tx.$queryRaw(probe(at)));
    const viaDriver = await transaction(db, (tx) => tx.$queryRaw(probe(at)), { driver: true });
    expect(viaDriver).toEqual(viaPrisma);
    expect(viaDriver).toEqual([
      { big: 9007199254740993n, day: new Date('2026-11-22T00:00:00Z'), at, doc: { a: [1, '2'] }, ids: ['00000000-0000-4000-8000-000000000001'], small: 7, nothing: null },
    ]);
  });

  test('sends lists as they are, whatever their elements hold', async () => {
    const texts = ['plain', '', 'NULL', 'null', null, 'a "quoted" word', 'back\\slash', 'comma, and {braces}', ' spaced ', 'émoji 🎁', '{"a": [1, "2"]}', 'a\nline'];
    const ids = ['00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002'];
    const [row] = await transaction(
      db,
      (tx) => tx.$queryRaw<{ texts: (string | null)[]; ids: string[]; numbers: string[]; instants: Date[]; docs: unknown[] }[]>(
        Prisma.sql`SELECT ${texts}::text[] AS texts, ${ids}::uuid[] AS ids, ${[1n, -2n, 9007199254740993n]}::bigint[]::text[] AS numbers,
                          ${[new Date('2026-11-22T23:30:00.000Z')]}::timestamptz[] AS instants, ${[JSON.stringify({ say: 'a "b" \\ c' })]}::jsonb[] AS docs`,
      ),
      { driver: true },
    );
    expect(row).toEqual({ texts, ids, numbers: ['1', '-2', '9007199254740993'], instants: [new Date('2026-11-22T23:30:00.000Z')], docs: [{ say: 'a "b" \\ c' }] });
  });

  test("sends a Date as the instant it is, whatever the server process's time zone", async () => {
    const zone = process.env.TZ;
    process.env.TZ = 'America/Los_Angeles';
    try {
      const [row] = await transaction(db, (tx) => tx.$queryRaw<{ day: Date }[]>`SELECT ${new Date('2026-11-22T00:00:00Z')}::date AS day`, { driver: true });
      expect(row!.day).toEqual(new Date('2026-11-22T00:00:00Z'));
    } finally {
      process.env.TZ = zone;
    }
  });

  test('rolls back everything it wrote when the work fails, and its connection serves the next one', async () => {
    const handle = `driver_${Date.now()}`;
    const failing = transaction(
      db,
      async (tx) => {
        await tx.$executeRaw`INSERT INTO "User" (id, handle, "displayName", "birthDate", country, "updatedAt") VALUES (gen_random_uuid(), ${handle}, 'Driver', '1990-01-01', 'US', now())`;
        throw new Error('the work failed');
      },
      { driver: true },
    );
    await expect(failing).rejects.toThrow('the work failed');
    expect(await db.user.count({ where: { handle } })).toBe(0);
    // Every pooled connection still works (none was left inside the failed transaction).
    const answers = await Promise.all(Array.from({ length: 30 }, () => transaction(db, (tx) => tx.$queryRaw<{ one: number }[]>`SELECT 1 AS one`, { driver: true })));
    expect(answers.flat()).toEqual(Array.from({ length: 30 }, () => ({ one: 1 })));
  });

  test('whose connection PostgreSQL ends while it holds it fails, and the process and the pool carry on', async () => {
    const work = transaction(
      db,
      async (tx) => {
        const [{ pid }] = (await tx.$queryRaw<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`) as [{ pid: number }];
        // A restart or a failover, as the connection sees it: its server ends it while it sits idle.
        await db.$queryRaw`SELECT pg_terminate_backend(${pid}::int)`;
        await new Promise((resolve) => setTimeout(resolve, 200));
        return tx.$queryRaw`SELECT 1`;
      },
      { driver: true },
    );
    await expect(work).rejects.toThrow();
    expect(await transaction(db, (tx) => tx.$queryRaw`SELECT 2 AS two`, { driver: true })).toEqual([{ two: 2 }]);
  });

  test('writes the statements it sends in one turn at once: a round trip is one write to the socket, not one per statement', async () => {
    await transaction(db, (tx) => tx.$queryRaw`SELECT 0`, { driver: true }); // a connection already open
    const writes: number[] = [];
    const socket = net.Socket.prototype as unknown as { _write: (...args: unknown[]) => void; _writev: (chunks: unknown[], ...args: unknown[]) => void };
    const [write, writev] = [socket._write, socket._writev];
    socket._write = function (this: unknown, ...args: unknown[]) {
      writes.push(1);
      return write.apply(this, args);
    };
    socket._writev = function (this: unknown, chunks: unknown[], ...args: unknown[]) {
      writes.push(chunks.length);
      return writev.apply(this, [chunks, ...args]);
    };
    try {
      await transaction(db, (tx) => Promise.all([tx.$queryRaw`SELECT 1`, tx.$queryRaw`SELECT 2`, tx.$queryRaw`SELECT 3`]), { driver: true });
    } finally {
      Object.assign(socket, { _write: write, _writev: writev });
    }
    // BEGIN and the three statements, then COMMIT.
    expect(writes).toHaveLength(2);
  });

  test('gives up on a statement after the transaction timeout instead of holding its locks forever', async () => {
    const [row] = await transaction(db, (tx) => tx.$queryRaw<{ timeout: string }[]>`SELECT current_setting('statement_timeout') AS timeout`, { driver: true });
    expect(row!.timeout).toBe('30s');
  });

  const insertUser = (handle: string) =>
    Prisma.sql`INSERT INTO "User" (id, handle, "displayName", "birthDate", country, "updatedAt") VALUES (gen_random_uuid(), ${handle}, 'Driver', '1990-01-01', 'US', now())`;

  test('commits from inside the work, behind statements sent without waiting for them', async () => {
    const handle = `driver_${Date.now()}_pipelined`;
    const [inserted, [row]] = await transaction(
      db,
      async (tx) => {
        const writing = tx.$executeRaw(insertUser(handle));
        const reading = tx.$queryRaw<{ users: number }[]>`SELECT count(*)::int AS users FROM "User" WHERE handle = ${handle}`;
        const [written, read] = await Promise.all([writing, reading, tx.commit()]);
        return [written, read] as const;
      },
      { driver: true },
    );
    expect(inserted).toBe(1);
    expect(row!.users).toBe(1);
    expect(await db.user.count({ where: { handle } })).toBe(1);
  });

  test('a statement whose check fails rolls everything back though COMMIT was already sent, and says which check', async () => {
    const handle = `driver_${Date.now()}_refused`;
    const failing = transaction(
      db,
      async (tx) => {
        const writing = tx.$executeRaw(insertUser(handle));
        const checking = tx.$queryRaw(combine({}, Prisma.sql`SELECT ${failUnless(Prisma.sql`1 = 2`, 'one-is-two')}`));
        await Promise.all([writing, checking, tx.commit()]);
      },
      { driver: true },
    );
    const error = await failing.then(() => undefined, (reason: unknown) => reason);
    expect(failedCheck(error)).toBe('one-is-two');
    expect(await db.user.count({ where: { handle } })).toBe(0);
  });

  test('prepares its statements, so PostgreSQL plans each text once per connection rather than every time', async () => {
    const prepared = await transaction(
      db,
      async (tx) => {
        await tx.$queryRaw`SELECT ${'a'}::text AS probe_prepared`;
        return tx.$queryRaw<{ statement: string }[]>`SELECT statement FROM pg_prepared_statements WHERE statement LIKE '%probe_prepared%'`;
      },
      { driver: true },
    );
    expect(prepared.map((row) => row.statement)).toContain('SELECT $1::text AS probe_prepared');
  });
});
