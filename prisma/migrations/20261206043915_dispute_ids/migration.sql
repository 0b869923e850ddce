-- AlterTable
ALTER TABLE "Purchase" ADD COLUMN     "disputeId" TEXT,
ADD COLUMN     "disputeOpenedAt" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "BrandFunding" ADD COLUMN     "disputeId" TEXT,
ADD COLUMN     "disputeOpenedAt" TIMESTAMPTZ(3);
