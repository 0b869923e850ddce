import { describe, expect, test } from 'vitest';
import { auditLedger } from '../../src/domain/audit.js';
import { PLATFORM, record, userAccountIds } from '../../src/domain/ledger.js';
import { transaction } from '../../src/db/transaction.js';
import { Asset, EntryKind } from '../../src/generated/prisma/client.js';
import { createTestDatabase } from '../support/database.js';
import { createFundedViewer, expectCleanAudit } from '../support/money.js';
import { createFundedBrand } from '../brands/support.js';

// Refunds and disputes move a purchase's coins through PurchaseAdjustment rows, each with its entry. The
// audit checks they agree, and the database refuses what no rule allows (migration stripe_payments_s24).
// Each test breaks the rules on purpose, so each has a database of its own.

async function boughtPurchase() {
  const { db } = await createTestDatabase();
  const buyer = await createFundedViewer(db, 70n);
  const purchase = await db.purchase.findFirstOrThrow({ where: { buyerId: buyer.id } });
  await expectCleanAudit(db);
  return { db, buyer, purchase };
}

describe('purchase adjustments', () => {
  test('the audit reports a refund entry that is no adjustment, and coins taken back that no adjustment moved', async () => {
    const { db, buyer, purchase } = await boughtPurchase();
    await transaction(db, async (tx) => {
      const wallet = (await userAccountIds(tx, [buyer.id], Asset.COIN)).get(buyer.id)!;
      await record(tx, [
        {
          kind: EntryKind.REFUND,
          memo: `Refund of purchase ${purchase.id}`,
          postings: [
            { accountId: wallet, asset: Asset.COIN, amount: -10n },
            { accountId: PLATFORM.coinIssuance, asset: Asset.COIN, amount: 10n },
          ],
        },
      ]);
      await tx.purchase.update({ where: { id: purchase.id }, data: { coinsTakenBack: 5n } });
    });
    const invariants = (await auditLedger(db)).map((violation) => violation.invariant);
    expect(invariants).toContain('Each refund, chargeback, dispute-won and failed-refund entry is one purchase adjustment, moving its coins');
    expect(invariants).toContain("Each purchase's coins taken back equal its adjustments, and only a credited purchase has any");
  });

  test('the database refuses more coins taken back than credited, more refunded than paid, and any change to an adjustment', async () => {
    const { db, purchase } = await boughtPurchase();
    await expect(db.purchase.update({ where: { id: purchase.id }, data: { coinsTakenBack: 71n } })).rejects.toThrow(/Purchase_taken_back_check/);
    await expect(db.purchase.update({ where: { id: purchase.id }, data: { refundedMinor: 100n } })).rejects.toThrow(/Purchase_taken_back_check/);
    await expect(db.$executeRaw`UPDATE "PurchaseAdjustment" SET coins = 1`).rejects.toThrow(/append-only/);
    await expect(db.$executeRaw`DELETE FROM "PurchaseAdjustment"`).rejects.toThrow(/append-only/);
    await expectCleanAudit(db);
  });
});

describe('brand funding adjustments', () => {
  test('the audit reports an adjustment entry that is no adjustment and coins taken back that none moved; the database refuses more taken back than credited', async () => {
    const { db } = await createTestDatabase();
    const { brand } = await createFundedBrand(db, 70n);
    const funding = await db.brandFunding.findFirstOrThrow({ where: { brandId: brand.id } });
    await expectCleanAudit(db);
    await transaction(db, async (tx) => {
      await record(tx, [
        {
          kind: EntryKind.BRAND_FUNDING_ADJUSTMENT,
          memo: `Brand funding ${funding.id} taken back`,
          postings: [
            { accountId: brand.budgetAccountId, asset: Asset.COIN, amount: -10n },
            { accountId: PLATFORM.coinIssuance, asset: Asset.COIN, amount: 10n },
          ],
        },
      ]);
      await tx.brandFunding.update({ where: { id: funding.id }, data: { takenBackCoins: 5n } });
    });
    const invariants = (await auditLedger(db)).map((violation) => violation.invariant);
    expect(invariants).toContain("Each brand funding adjustment entry is one adjustment, moving its coins out of (or back into) the brand's budget");
    expect(invariants).toContain("Each brand funding's coins taken back equal its adjustments, and only a credited funding has any");
    await expect(db.brandFunding.update({ where: { id: funding.id }, data: { takenBackCoins: 71n } })).rejects.toThrow(/BrandFunding_taken_back_check/);
  });
});
