-- CreateEnum
CREATE TYPE "BrandRole" AS ENUM ('OWNER', 'MEMBER');

-- CreateEnum
CREATE TYPE "ApiKeyScope" AS ENUM ('READ', 'CAMPAIGNS', 'MATCH', 'FUNDS');

-- CreateEnum
CREATE TYPE "BrandFundingSource" AS ENUM ('PAYMENT', 'INVOICE');

-- CreateEnum
CREATE TYPE "BrandFundingStatus" AS ENUM ('PENDING', 'SUCCEEDED', 'DECLINED');

-- CreateEnum
CREATE TYPE "CampaignStatus" AS ENUM ('DRAFT', 'SCHEDULED', 'ACTIVE', 'PAUSED', 'EXHAUSTED', 'ENDED', 'SETTLED');

-- CreateEnum
CREATE TYPE "RemainderRule" AS ENUM ('RETURN_TO_BRAND', 'GIVE_TO_CREATOR');

-- AlterEnum
-- This migration adds more than one value to an enum.
-- With PostgreSQL versions 11 and earlier, this is not possible
-- in a single migration. This can be worked around by creating
-- multiple migrations, each migration adding only one value to
-- the enum.


ALTER TYPE "AccountOwner" ADD VALUE 'BRAND';
ALTER TYPE "AccountOwner" ADD VALUE 'CAMPAIGN';

-- AlterEnum
-- This migration adds more than one value to an enum.
-- With PostgreSQL versions 11 and earlier, this is not possible
-- in a single migration. This can be worked around by creating
-- multiple migrations, each migration adding only one value to
-- the enum.


ALTER TYPE "EntryKind" ADD VALUE 'BRAND_FUNDING';
ALTER TYPE "EntryKind" ADD VALUE 'CAMPAIGN_RESERVE';
ALTER TYPE "EntryKind" ADD VALUE 'GIFT_MATCH';
ALTER TYPE "EntryKind" ADD VALUE 'CAMPAIGN_REMAINDER';

-- DropForeignKey
ALTER TABLE "RoomEvent" DROP CONSTRAINT "RoomEvent_sentGiftId_fkey";

-- AlterTable
ALTER TABLE "RoomEvent" ADD COLUMN     "giftMatchId" UUID,
ALTER COLUMN "sentGiftId" DROP NOT NULL;

-- CreateTable
CREATE TABLE "Brand" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "budgetAccountId" UUID NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Brand_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "BrandMember" (
    "brandId" UUID NOT NULL,
    "userId" UUID NOT NULL,
    "role" "BrandRole" NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "BrandMember_pkey" PRIMARY KEY ("brandId","userId")
);

-- CreateTable
CREATE TABLE "ApiKey" (
    "id" UUID NOT NULL,
    "brandId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "displayPrefix" TEXT NOT NULL,
    "secretHash" TEXT NOT NULL,
    "scopes" "ApiKeyScope"[],
    "expiresAt" TIMESTAMPTZ(3),
    "revokedAt" TIMESTAMPTZ(3),
    "lastUsedAt" TIMESTAMPTZ(3),
    "replacedById" UUID,
    "createdById" UUID NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ApiKey_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "BrandFunding" (
    "id" UUID NOT NULL,
    "brandId" UUID NOT NULL,
    "source" "BrandFundingSource" NOT NULL,
    "coins" BIGINT NOT NULL,
    "amountMinor" BIGINT NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "provider" TEXT,
    "providerPaymentId" TEXT,
    "invoiceReference" TEXT,
    "recordedById" UUID,
    "status" "BrandFundingStatus" NOT NULL DEFAULT 'PENDING',
    "creditEntryId" UUID,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "BrandFunding_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "MatchingCampaign" (
    "id" UUID NOT NULL,
    "brandId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "creatorId" UUID NOT NULL,
    "liveSessionId" UUID,
    "ratioPercent" INTEGER NOT NULL,
    "perGiftCapCoins" BIGINT,
    "perViewerCapCoins" BIGINT,
    "budgetCoins" BIGINT NOT NULL,
    "startsAt" TIMESTAMPTZ(3) NOT NULL,
    "endsAt" TIMESTAMPTZ(3) NOT NULL,
    "remainderRule" "RemainderRule" NOT NULL,
    "status" "CampaignStatus" NOT NULL DEFAULT 'DRAFT',
    "accountId" UUID,
    "reserveEntryId" UUID,
    "remainderEntryId" UUID,
    "matchedCoins" BIGINT NOT NULL DEFAULT 0,
    "giftsMatched" INTEGER NOT NULL DEFAULT 0,
    "endedAt" TIMESTAMPTZ(3),
    "settledAt" TIMESTAMPTZ(3),
    "remainderCoins" BIGINT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "MatchingCampaign_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "CampaignViewer" (
    "campaignId" UUID NOT NULL,
    "viewerId" UUID NOT NULL,
    "matchedCoins" BIGINT NOT NULL,

    CONSTRAINT "CampaignViewer_pkey" PRIMARY KEY ("campaignId","viewerId")
);

-- CreateTable
CREATE TABLE "GiftMatch" (
    "id" UUID NOT NULL,
    "campaignId" UUID NOT NULL,
    "brandId" UUID NOT NULL,
    "sentGiftId" UUID NOT NULL,
    "liveSessionId" UUID NOT NULL,
    "viewerId" UUID NOT NULL,
    "creatorId" UUID NOT NULL,
    "coins" BIGINT NOT NULL,
    "diamonds" BIGINT NOT NULL,
    "manual" BOOLEAN NOT NULL DEFAULT false,
    "entryId" UUID NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "GiftMatch_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Brand_name_key" ON "Brand"("name");

-- CreateIndex
CREATE UNIQUE INDEX "Brand_budgetAccountId_key" ON "Brand"("budgetAccountId");

-- CreateIndex
CREATE INDEX "BrandMember_userId_idx" ON "BrandMember"("userId");

-- CreateIndex
CREATE UNIQUE INDEX "ApiKey_secretHash_key" ON "ApiKey"("secretHash");

-- CreateIndex
CREATE UNIQUE INDEX "ApiKey_replacedById_key" ON "ApiKey"("replacedById");

-- CreateIndex
CREATE INDEX "ApiKey_brandId_createdAt_idx" ON "ApiKey"("brandId", "createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "BrandFunding_creditEntryId_key" ON "BrandFunding"("creditEntryId");

-- CreateIndex
CREATE INDEX "BrandFunding_brandId_createdAt_idx" ON "BrandFunding"("brandId", "createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "BrandFunding_provider_providerPaymentId_key" ON "BrandFunding"("provider", "providerPaymentId");

-- CreateIndex
CREATE UNIQUE INDEX "MatchingCampaign_accountId_key" ON "MatchingCampaign"("accountId");

-- CreateIndex
CREATE UNIQUE INDEX "MatchingCampaign_reserveEntryId_key" ON "MatchingCampaign"("reserveEntryId");

-- CreateIndex
CREATE UNIQUE INDEX "MatchingCampaign_remainderEntryId_key" ON "MatchingCampaign"("remainderEntryId");

-- CreateIndex
CREATE INDEX "MatchingCampaign_creatorId_status_idx" ON "MatchingCampaign"("creatorId", "status");

-- CreateIndex
CREATE INDEX "MatchingCampaign_brandId_createdAt_idx" ON "MatchingCampaign"("brandId", "createdAt");

-- CreateIndex
CREATE INDEX "MatchingCampaign_status_endsAt_idx" ON "MatchingCampaign"("status", "endsAt");

-- CreateIndex
CREATE UNIQUE INDEX "GiftMatch_entryId_key" ON "GiftMatch"("entryId");

-- CreateIndex
CREATE INDEX "GiftMatch_campaignId_createdAt_idx" ON "GiftMatch"("campaignId", "createdAt");

-- CreateIndex
CREATE INDEX "GiftMatch_sentGiftId_idx" ON "GiftMatch"("sentGiftId");

-- CreateIndex
CREATE UNIQUE INDEX "RoomEvent_giftMatchId_key" ON "RoomEvent"("giftMatchId");

-- AddForeignKey
ALTER TABLE "RoomEvent" ADD CONSTRAINT "RoomEvent_sentGiftId_fkey" FOREIGN KEY ("sentGiftId") REFERENCES "SentGift"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RoomEvent" ADD CONSTRAINT "RoomEvent_giftMatchId_fkey" FOREIGN KEY ("giftMatchId") REFERENCES "GiftMatch"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Brand" ADD CONSTRAINT "Brand_budgetAccountId_fkey" FOREIGN KEY ("budgetAccountId") REFERENCES "Account"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "BrandMember" ADD CONSTRAINT "BrandMember_brandId_fkey" FOREIGN KEY ("brandId") REFERENCES "Brand"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "BrandMember" ADD CONSTRAINT "BrandMember_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ApiKey" ADD CONSTRAINT "ApiKey_brandId_fkey" FOREIGN KEY ("brandId") REFERENCES "Brand"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ApiKey" ADD CONSTRAINT "ApiKey_replacedById_fkey" FOREIGN KEY ("replacedById") REFERENCES "ApiKey"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ApiKey" ADD CONSTRAINT "ApiKey_createdById_fkey" FOREIGN KEY ("createdById") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "BrandFunding" ADD CONSTRAINT "BrandFunding_brandId_fkey" FOREIGN KEY ("brandId") REFERENCES "Brand"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "BrandFunding" ADD CONSTRAINT "BrandFunding_recordedById_fkey" FOREIGN KEY ("recordedById") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "BrandFunding" ADD CONSTRAINT "BrandFunding_creditEntryId_fkey" FOREIGN KEY ("creditEntryId") REFERENCES "JournalEntry"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "MatchingCampaign" ADD CONSTRAINT "MatchingCampaign_brandId_fkey" FOREIGN KEY ("brandId") REFERENCES "Brand"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "MatchingCampaign" ADD CONSTRAINT "MatchingCampaign_creatorId_fkey" FOREIGN KEY ("creatorId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "MatchingCampaign" ADD CONSTRAINT "MatchingCampaign_liveSessionId_fkey" FOREIGN KEY ("liveSessionId") REFERENCES "LiveSession"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "MatchingCampaign" ADD CONSTRAINT "MatchingCampaign_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "MatchingCampaign" ADD CONSTRAINT "MatchingCampaign_reserveEntryId_fkey" FOREIGN KEY ("reserveEntryId") REFERENCES "JournalEntry"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "MatchingCampaign" ADD CONSTRAINT "MatchingCampaign_remainderEntryId_fkey" FOREIGN KEY ("remainderEntryId") REFERENCES "JournalEntry"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "CampaignViewer" ADD CONSTRAINT "CampaignViewer_campaignId_fkey" FOREIGN KEY ("campaignId") REFERENCES "MatchingCampaign"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "CampaignViewer" ADD CONSTRAINT "CampaignViewer_viewerId_fkey" FOREIGN KEY ("viewerId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "GiftMatch" ADD CONSTRAINT "GiftMatch_campaignId_fkey" FOREIGN KEY ("campaignId") REFERENCES "MatchingCampaign"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "GiftMatch" ADD CONSTRAINT "GiftMatch_brandId_fkey" FOREIGN KEY ("brandId") REFERENCES "Brand"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "GiftMatch" ADD CONSTRAINT "GiftMatch_sentGiftId_fkey" FOREIGN KEY ("sentGiftId") REFERENCES "SentGift"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "GiftMatch" ADD CONSTRAINT "GiftMatch_liveSessionId_fkey" FOREIGN KEY ("liveSessionId") REFERENCES "LiveSession"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "GiftMatch" ADD CONSTRAINT "GiftMatch_viewerId_fkey" FOREIGN KEY ("viewerId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "GiftMatch" ADD CONSTRAINT "GiftMatch_creatorId_fkey" FOREIGN KEY ("creatorId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "GiftMatch" ADD CONSTRAINT "GiftMatch_entryId_fkey" FOREIGN KEY ("entryId") REFERENCES "JournalEntry"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Money rules the database enforces beneath the domain's checks (as money_guards does).
-- A brand's or a campaign's coins never run negative: a campaign spends only what it holds.
ALTER TABLE "Account" DROP CONSTRAINT "Account_balance_check";
ALTER TABLE "Account" ADD CONSTRAINT "Account_balance_check" CHECK (balance >= 0 OR owner = 'PLATFORM' OR (owner = 'USER' AND asset = 'COIN'));
ALTER TABLE "MatchingCampaign" ADD CONSTRAINT "MatchingCampaign_terms_check"
  CHECK ("ratioPercent" BETWEEN 1 AND 10000 AND "budgetCoins" > 0 AND "perGiftCapCoins" > 0 AND "perViewerCapCoins" > 0
         AND "endsAt" > "startsAt" AND "matchedCoins" >= 0 AND "matchedCoins" <= "budgetCoins" AND "giftsMatched" >= 0);
ALTER TABLE "CampaignViewer" ADD CONSTRAINT "CampaignViewer_coins_check" CHECK ("matchedCoins" > 0);
ALTER TABLE "GiftMatch" ADD CONSTRAINT "GiftMatch_amounts_check" CHECK (coins > 0 AND diamonds >= 0);
ALTER TABLE "BrandFunding" ADD CONSTRAINT "BrandFunding_amounts_check" CHECK (coins > 0 AND "amountMinor" >= 0);
-- A room event tells of one gift or one manual match.
ALTER TABLE "RoomEvent" ADD CONSTRAINT "RoomEvent_subject_check" CHECK (("sentGiftId" IS NULL) <> ("giftMatchId" IS NULL));
