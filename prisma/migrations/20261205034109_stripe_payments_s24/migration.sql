-- CreateEnum
CREATE TYPE "DisputeStatus" AS ENUM ('OPEN', 'WON', 'LOST');

-- AlterEnum
ALTER TYPE "EntryKind" ADD VALUE 'CHARGEBACK_REVERSAL';

-- AlterEnum
ALTER TYPE "PayoutMethodKind" ADD VALUE 'STRIPE_ACCOUNT';

-- AlterTable
ALTER TABLE "Purchase" ADD COLUMN     "clientSecret" TEXT,
ADD COLUMN     "coinsTakenBack" BIGINT NOT NULL DEFAULT 0,
ADD COLUMN     "dispute" "DisputeStatus",
ADD COLUMN     "nextAction" TEXT,
ADD COLUMN     "paymentMethod" TEXT,
ADD COLUMN     "refundedMinor" BIGINT NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "Payout" ADD COLUMN     "providerTransferId" TEXT,
ADD COLUMN     "transferReversalId" TEXT;

-- CreateTable
CREATE TABLE "PurchaseAdjustment" (
    "id" UUID NOT NULL,
    "purchaseId" UUID NOT NULL,
    "entryId" UUID NOT NULL,
    "coins" BIGINT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "PurchaseAdjustment_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "PurchaseAdjustment_entryId_key" ON "PurchaseAdjustment"("entryId");

-- CreateIndex
CREATE INDEX "PurchaseAdjustment_purchaseId_idx" ON "PurchaseAdjustment"("purchaseId");

-- AddForeignKey
ALTER TABLE "PurchaseAdjustment" ADD CONSTRAINT "PurchaseAdjustment_purchaseId_fkey" FOREIGN KEY ("purchaseId") REFERENCES "Purchase"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PurchaseAdjustment" ADD CONSTRAINT "PurchaseAdjustment_entryId_fkey" FOREIGN KEY ("entryId") REFERENCES "JournalEntry"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Guards beneath the domain's rules (docs/money.md): a purchase never gives back more coins than it
-- credited, nor records more refunded than was paid; an adjustment always moves coins.
ALTER TABLE "Purchase" ADD CONSTRAINT "Purchase_taken_back_check" CHECK ("coinsTakenBack" >= 0 AND "coinsTakenBack" <= coins AND "refundedMinor" >= 0 AND "refundedMinor" <= "amountMinor");
ALTER TABLE "PurchaseAdjustment" ADD CONSTRAINT "PurchaseAdjustment_coins_check" CHECK (coins <> 0);
-- An adjustment is part of the money's record: never changed or removed, like the journal.
CREATE TRIGGER "PurchaseAdjustment_append_only" BEFORE UPDATE OR DELETE OR TRUNCATE ON "PurchaseAdjustment"
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_journal_change();
