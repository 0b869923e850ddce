-- AlterEnum
ALTER TYPE "EntryKind" ADD VALUE 'BRAND_FUNDING_ADJUSTMENT';

-- AlterTable
ALTER TABLE "BrandFunding" ADD COLUMN     "dispute" "DisputeStatus",
ADD COLUMN     "refundedMinor" BIGINT NOT NULL DEFAULT 0,
ADD COLUMN     "takenBackCoins" BIGINT NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "BrandFundingAdjustment" (
    "id" UUID NOT NULL,
    "fundingId" UUID NOT NULL,
    "entryId" UUID NOT NULL,
    "coins" BIGINT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "BrandFundingAdjustment_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "BrandFundingAdjustment_entryId_key" ON "BrandFundingAdjustment"("entryId");

-- CreateIndex
CREATE INDEX "BrandFundingAdjustment_fundingId_idx" ON "BrandFundingAdjustment"("fundingId");

-- AddForeignKey
ALTER TABLE "BrandFundingAdjustment" ADD CONSTRAINT "BrandFundingAdjustment_fundingId_fkey" FOREIGN KEY ("fundingId") REFERENCES "BrandFunding"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "BrandFundingAdjustment" ADD CONSTRAINT "BrandFundingAdjustment_entryId_fkey" FOREIGN KEY ("entryId") REFERENCES "JournalEntry"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Hand-written: what a funding's refunds and disputes take back stays within what it paid and credited.
ALTER TABLE "BrandFunding" ADD CONSTRAINT "BrandFunding_taken_back_check"
  CHECK ("takenBackCoins" >= 0 AND "takenBackCoins" <= coins AND "refundedMinor" >= 0 AND "refundedMinor" <= "amountMinor");
