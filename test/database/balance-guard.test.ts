import { describe, expect, test } from 'vitest';
import { transaction } from '../../src/db/transaction.js';
import { LedgerError, PLATFORM, record, userAccountIds } from '../../src/domain/ledger.js';
import { Asset, EntryKind } from '../../src/generated/prisma/client.js';
import { createTestDatabase } from '../support/database.js';
import { balances, createFundedViewer, expectCleanAudit } from '../support/money.js';

// Every spending path checks the balance under lock before it writes. The balance write itself is the
// last guard: should a path ever skip its check, the ledger still refuses to take a wallet below zero,
// and the whole transaction moves nothing, on either kind of transaction.

const { db } = await createTestDatabase();

const overspend = (walletId: string, coins: bigint) => [
  {
    kind: EntryKind.REFUND,
    memo: 'a debit nobody checked',
    postings: [
      { accountId: walletId, asset: Asset.COIN, amount: -coins },
      { accountId: PLATFORM.coinRevenue, asset: Asset.COIN, amount: coins },
    ],
  },
];

describe('a debit that would take a wallet below zero', () => {
  test.each([
    ['a Prisma transaction', {}],
    ['a driver transaction', { driver: true }],
  ] as const)('is refused in %s as a LedgerError, and nothing of the transaction is kept', async (_, options) => {
    const viewer = await createFundedViewer(db, 30n);
    const walletId = (await userAccountIds(db, [viewer.id], Asset.COIN)).get(viewer.id)!;
    const entriesBefore = await db.journalEntry.count();

    const attempt = transaction(db, (tx) => record(tx, overspend(walletId, 31n)), options as { driver: true });

    await expect(attempt).rejects.toBeInstanceOf(LedgerError);
    expect(await balances(db, viewer)).toMatchObject({ coins: 30n });
    expect(await db.journalEntry.count()).toBe(entriesBefore);
    await expectCleanAudit(db);
  });

  test('goes through when the wallet holds enough', async () => {
    const viewer = await createFundedViewer(db, 30n);
    const walletId = (await userAccountIds(db, [viewer.id], Asset.COIN)).get(viewer.id)!;
    // A refund of the viewer's purchase, written by hand: with its adjustment, as the audit asks of every refund.
    const purchase = await db.purchase.findFirstOrThrow({ where: { buyerId: viewer.id } });
    await transaction(db, async (tx) => {
      const [entryId] = await record(tx, overspend(walletId, 30n));
      await tx.purchaseAdjustment.create({ data: { purchaseId: purchase.id, entryId: entryId!, coins: 30n } });
      await tx.purchase.update({ where: { id: purchase.id }, data: { coinsTakenBack: 30n } });
    });
    expect(await balances(db, viewer)).toMatchObject({ coins: 0n });
    await expectCleanAudit(db);
  });
});
