-- CreateEnum
CREATE TYPE "Asset" AS ENUM ('COIN', 'DIAMOND');

-- CreateEnum
CREATE TYPE "AccountOwner" AS ENUM ('USER', 'PLATFORM');

-- CreateEnum
CREATE TYPE "EntryKind" AS ENUM ('PURCHASE', 'GIFT', 'REFUND', 'CHARGEBACK');

-- CreateEnum
CREATE TYPE "PurchaseStatus" AS ENUM ('PENDING', 'SUCCEEDED', 'DECLINED', 'REFUNDED', 'CHARGED_BACK');

-- CreateEnum
CREATE TYPE "LiveSessionStatus" AS ENUM ('LIVE', 'ENDED');

-- CreateEnum
CREATE TYPE "RestrictionKind" AS ENUM ('BUYING', 'GIFTING', 'RECEIVING', 'PAYOUTS');

-- AlterTable
ALTER TABLE "User" ADD COLUMN     "dailyLimitCoins" BIGINT,
ADD COLUMN     "pendingDailyLimit" BIGINT,
ADD COLUMN     "pendingLimitActiveAt" TIMESTAMPTZ(3),
ADD COLUMN     "restrictions" "RestrictionKind"[] DEFAULT ARRAY[]::"RestrictionKind"[];

-- CreateTable
CREATE TABLE "Account" (
    "id" UUID NOT NULL,
    "owner" "AccountOwner" NOT NULL,
    "userId" UUID,
    "code" TEXT,
    "asset" "Asset" NOT NULL,
    "balance" BIGINT NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Account_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "JournalEntry" (
    "id" UUID NOT NULL,
    "kind" "EntryKind" NOT NULL,
    "memo" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "JournalEntry_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Posting" (
    "id" BIGSERIAL NOT NULL,
    "entryId" UUID NOT NULL,
    "accountId" UUID NOT NULL,
    "asset" "Asset" NOT NULL,
    "amount" BIGINT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Posting_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "IdempotencyKey" (
    "callerId" UUID NOT NULL,
    "key" TEXT NOT NULL,
    "operation" TEXT NOT NULL,
    "requestHash" TEXT NOT NULL,
    "outcome" JSONB,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "IdempotencyKey_pkey" PRIMARY KEY ("callerId","key")
);

-- CreateTable
CREATE TABLE "CoinBundle" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "coins" BIGINT NOT NULL,
    "bonusCoins" BIGINT NOT NULL DEFAULT 0,
    "sortOrder" INTEGER NOT NULL DEFAULT 0,
    "retiredAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "CoinBundle_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "BundlePrice" (
    "bundleId" UUID NOT NULL,
    "region" TEXT NOT NULL,
    "amountMinor" BIGINT NOT NULL,
    "currency" CHAR(3) NOT NULL,

    CONSTRAINT "BundlePrice_pkey" PRIMARY KEY ("bundleId","region")
);

-- CreateTable
CREATE TABLE "Purchase" (
    "id" UUID NOT NULL,
    "buyerId" UUID NOT NULL,
    "bundleId" UUID NOT NULL,
    "coins" BIGINT NOT NULL,
    "amountMinor" BIGINT NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "provider" TEXT NOT NULL,
    "providerPaymentId" TEXT,
    "status" "PurchaseStatus" NOT NULL DEFAULT 'PENDING',
    "creditEntryId" UUID,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "Purchase_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ChargebackDebt" (
    "id" UUID NOT NULL,
    "userId" UUID NOT NULL,
    "purchaseId" UUID NOT NULL,
    "coins" BIGINT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ChargebackDebt_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "WebhookEvent" (
    "provider" TEXT NOT NULL,
    "eventId" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "receivedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "WebhookEvent_pkey" PRIMARY KEY ("provider","eventId")
);

-- CreateTable
CREATE TABLE "Gift" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "coins" BIGINT NOT NULL,
    "imageUrl" TEXT NOT NULL,
    "animationUrl" TEXT,
    "sortOrder" INTEGER NOT NULL DEFAULT 0,
    "active" BOOLEAN NOT NULL DEFAULT true,
    "countries" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Gift_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "LiveSession" (
    "id" UUID NOT NULL,
    "creatorId" UUID NOT NULL,
    "title" TEXT NOT NULL,
    "status" "LiveSessionStatus" NOT NULL DEFAULT 'LIVE',
    "startedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "endedAt" TIMESTAMPTZ(3),

    CONSTRAINT "LiveSession_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "SentGift" (
    "id" UUID NOT NULL,
    "liveSessionId" UUID NOT NULL,
    "senderId" UUID NOT NULL,
    "creatorId" UUID NOT NULL,
    "giftId" UUID NOT NULL,
    "quantity" INTEGER NOT NULL,
    "coins" BIGINT NOT NULL,
    "diamonds" BIGINT NOT NULL,
    "comboId" TEXT,
    "entryId" UUID NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "SentGift_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "RestrictionChange" (
    "id" UUID NOT NULL,
    "userId" UUID NOT NULL,
    "kind" "RestrictionKind" NOT NULL,
    "placed" BOOLEAN NOT NULL,
    "reason" TEXT NOT NULL,
    "adminId" UUID NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "RestrictionChange_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "DailySpend" (
    "userId" UUID NOT NULL,
    "day" DATE NOT NULL,
    "coins" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "DailySpend_pkey" PRIMARY KEY ("userId","day")
);

-- CreateIndex
CREATE UNIQUE INDEX "Account_userId_asset_key" ON "Account"("userId", "asset");

-- CreateIndex
CREATE UNIQUE INDEX "Account_code_asset_key" ON "Account"("code", "asset");

-- CreateIndex
CREATE INDEX "Posting_entryId_idx" ON "Posting"("entryId");

-- CreateIndex
CREATE INDEX "Posting_accountId_id_idx" ON "Posting"("accountId", "id");

-- CreateIndex
CREATE INDEX "IdempotencyKey_createdAt_idx" ON "IdempotencyKey"("createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "Purchase_creditEntryId_key" ON "Purchase"("creditEntryId");

-- CreateIndex
CREATE INDEX "Purchase_buyerId_createdAt_idx" ON "Purchase"("buyerId", "createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "Purchase_provider_providerPaymentId_key" ON "Purchase"("provider", "providerPaymentId");

-- CreateIndex
CREATE UNIQUE INDEX "ChargebackDebt_purchaseId_key" ON "ChargebackDebt"("purchaseId");

-- CreateIndex
CREATE INDEX "ChargebackDebt_userId_idx" ON "ChargebackDebt"("userId");

-- CreateIndex
CREATE INDEX "LiveSession_creatorId_startedAt_idx" ON "LiveSession"("creatorId", "startedAt");

-- CreateIndex
CREATE UNIQUE INDEX "SentGift_entryId_key" ON "SentGift"("entryId");

-- CreateIndex
CREATE INDEX "SentGift_liveSessionId_createdAt_idx" ON "SentGift"("liveSessionId", "createdAt");

-- CreateIndex
CREATE INDEX "SentGift_senderId_createdAt_idx" ON "SentGift"("senderId", "createdAt");

-- CreateIndex
CREATE INDEX "SentGift_creatorId_createdAt_idx" ON "SentGift"("creatorId", "createdAt");

-- CreateIndex
CREATE INDEX "RestrictionChange_userId_createdAt_idx" ON "RestrictionChange"("userId", "createdAt");

-- AddForeignKey
ALTER TABLE "Account" ADD CONSTRAINT "Account_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Posting" ADD CONSTRAINT "Posting_entryId_fkey" FOREIGN KEY ("entryId") REFERENCES "JournalEntry"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Posting" ADD CONSTRAINT "Posting_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "Account"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "BundlePrice" ADD CONSTRAINT "BundlePrice_bundleId_fkey" FOREIGN KEY ("bundleId") REFERENCES "CoinBundle"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Purchase" ADD CONSTRAINT "Purchase_buyerId_fkey" FOREIGN KEY ("buyerId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Purchase" ADD CONSTRAINT "Purchase_bundleId_fkey" FOREIGN KEY ("bundleId") REFERENCES "CoinBundle"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Purchase" ADD CONSTRAINT "Purchase_creditEntryId_fkey" FOREIGN KEY ("creditEntryId") REFERENCES "JournalEntry"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ChargebackDebt" ADD CONSTRAINT "ChargebackDebt_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ChargebackDebt" ADD CONSTRAINT "ChargebackDebt_purchaseId_fkey" FOREIGN KEY ("purchaseId") REFERENCES "Purchase"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "LiveSession" ADD CONSTRAINT "LiveSession_creatorId_fkey" FOREIGN KEY ("creatorId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "SentGift" ADD CONSTRAINT "SentGift_liveSessionId_fkey" FOREIGN KEY ("liveSessionId") REFERENCES "LiveSession"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "SentGift" ADD CONSTRAINT "SentGift_senderId_fkey" FOREIGN KEY ("senderId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "SentGift" ADD CONSTRAINT "SentGift_creatorId_fkey" FOREIGN KEY ("creatorId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "SentGift" ADD CONSTRAINT "SentGift_giftId_fkey" FOREIGN KEY ("giftId") REFERENCES "Gift"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "SentGift" ADD CONSTRAINT "SentGift_entryId_fkey" FOREIGN KEY ("entryId") REFERENCES "JournalEntry"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RestrictionChange" ADD CONSTRAINT "RestrictionChange_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RestrictionChange" ADD CONSTRAINT "RestrictionChange_adminId_fkey" FOREIGN KEY ("adminId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "DailySpend" ADD CONSTRAINT "DailySpend_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Platform accounts: where coins are issued and spent coins retired, and where diamonds are issued.
-- Fixed ids, so every instance knows them without a lookup (src/domain/ledger.ts).
INSERT INTO "Account" ("id", "owner", "code", "asset") VALUES
  ('00000000-0000-4000-8000-000000000001', 'PLATFORM', 'coin-issuance', 'COIN'),
  ('00000000-0000-4000-8000-000000000002', 'PLATFORM', 'coin-revenue', 'COIN'),
  ('00000000-0000-4000-8000-000000000003', 'PLATFORM', 'diamond-issuance', 'DIAMOND');
