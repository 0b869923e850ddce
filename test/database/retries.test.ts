import { describe, expect, test } from 'vitest';
import { transaction } from '../../src/db/transaction.js';
import type { SqlTx } from '../../src/db/driver.js';
import { createTestDatabase } from '../support/database.js';
import { createUser } from '../support/users.js';

// A serialization failure or a deadlock is PostgreSQL asking for the transaction to be run again: the
// one transaction helper does so, on either kind of transaction, whatever shape the error comes in
// (pg's own, or Prisma's for an ORM or a raw statement), and never passes it on to the caller.

const { db } = await createTestDatabase();

const rename = (tx: SqlTx, userId: string, displayName: string) => tx.$executeRaw`UPDATE "User" SET "displayName" = ${displayName} WHERE id = ${userId}::uuid`;

/** Resolves once `count` parties have called it: each waits for the others. */
function meeting(count: number) {
  let arrived = 0;
  let open!: () => void;
  const all = new Promise<void>((resolve) => (open = resolve));
  return () => {
    if (++arrived === count) open();
    return all;
  };
}

describe('the transaction helper runs again what PostgreSQL could not serialize', () => {
  test.each([
    ['an ORM statement', 'orm'],
    ['a raw statement', 'raw'],
  ] as const)('a serialization failure on %s in a Prisma transaction is retried, and the retry commits', async (_case, statement) => {
    const user = await createUser(db);
    let attempts = 0;
    await transaction(
      db,
      async (tx) => {
        attempts++;
        await tx.user.findUniqueOrThrow({ where: { id: user.id } });
        // Someone else changes the row after this transaction's snapshot: at REPEATABLE READ, updating it fails (40001).
        if (attempts === 1) await db.user.update({ where: { id: user.id }, data: { displayName: 'Meanwhile' } });
        if (statement === 'orm') await tx.user.update({ where: { id: user.id }, data: { displayName: 'Retried' } });
        else await rename(tx, user.id, 'Retried');
      },
      { isolationLevel: 'RepeatableRead' },
    );
    expect(attempts).toBe(2);
    expect((await db.user.findUniqueOrThrow({ where: { id: user.id } })).displayName).toBe('Retried');
  });

  test.each([
    ['Prisma transactions', false],
    ['driver transactions', true],
  ] as const)('a deadlock between %s is retried: both commit', async (_case, driver) => {
    const [first, second] = await Promise.all([createUser(db), createUser(db)]);
    const bothHoldOne = meeting(2);
    let attempts = 0;
    // Each locks one row, waits until the other holds its own, then asks for the other's: PostgreSQL fails one (40P01).
    const crossing = (mine: string, theirs: string) => async (tx: SqlTx) => {
      attempts++;
      await rename(tx, mine, 'Crossed');
      if (attempts <= 2) await bothHoldOne();
      await rename(tx, theirs, 'Crossed');
    };
    const run = (work: (tx: SqlTx) => Promise<void>) => (driver ? transaction(db, work, { driver: true }) : transaction(db, work));
    await Promise.all([run(crossing(first.id, second.id)), run(crossing(second.id, first.id))]);
    // One ran again (or more than once: its retry may cross the other again, and be retried in turn).
    expect(attempts).toBeGreaterThanOrEqual(3);
    expect(await db.user.count({ where: { id: { in: [first.id, second.id] }, displayName: 'Crossed' } })).toBe(2);
  });
});
