-- AlterTable
ALTER TABLE "LiveSession" ADD COLUMN     "giftCount" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "goalCoins" BIGINT,
ADD COLUMN     "goalReachedAt" TIMESTAMPTZ(3),
ADD COLUMN     "lastSequence" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "topGifterIds" UUID[] DEFAULT ARRAY[]::UUID[],
ADD COLUMN     "totalCoins" BIGINT NOT NULL DEFAULT 0,
ADD COLUMN     "totalDiamonds" BIGINT NOT NULL DEFAULT 0,
ADD COLUMN     "uniqueGifters" INTEGER NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "RoomEvent" (
    "liveSessionId" UUID NOT NULL,
    "sequence" INTEGER NOT NULL,
    "sentGiftId" UUID NOT NULL,
    "payload" JSONB NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "RoomEvent_pkey" PRIMARY KEY ("liveSessionId","sequence")
);

-- CreateTable
CREATE TABLE "SessionSupporter" (
    "liveSessionId" UUID NOT NULL,
    "senderId" UUID NOT NULL,
    "coins" BIGINT NOT NULL,
    "gifts" INTEGER NOT NULL,
    "lastGiftAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "SessionSupporter_pkey" PRIMARY KEY ("liveSessionId","senderId")
);

-- CreateTable
CREATE TABLE "CreatorSupportDay" (
    "creatorId" UUID NOT NULL,
    "senderId" UUID NOT NULL,
    "day" DATE NOT NULL,
    "coins" BIGINT NOT NULL,

    CONSTRAINT "CreatorSupportDay_pkey" PRIMARY KEY ("creatorId","day","senderId")
);

-- CreateTable
CREATE TABLE "CreatorSupporter" (
    "creatorId" UUID NOT NULL,
    "senderId" UUID NOT NULL,
    "coins" BIGINT NOT NULL,

    CONSTRAINT "CreatorSupporter_pkey" PRIMARY KEY ("creatorId","senderId")
);

-- CreateTable
CREATE TABLE "RoomPresence" (
    "liveSessionId" UUID NOT NULL,
    "instanceId" TEXT NOT NULL,
    "viewers" INTEGER NOT NULL,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "RoomPresence_pkey" PRIMARY KEY ("liveSessionId","instanceId")
);

-- CreateIndex
CREATE UNIQUE INDEX "RoomEvent_sentGiftId_key" ON "RoomEvent"("sentGiftId");

-- CreateIndex
CREATE INDEX "SessionSupporter_liveSessionId_coins_senderId_idx" ON "SessionSupporter"("liveSessionId", "coins" DESC, "senderId");

-- CreateIndex
CREATE INDEX "CreatorSupportDay_day_creatorId_idx" ON "CreatorSupportDay"("day", "creatorId");

-- CreateIndex
CREATE INDEX "CreatorSupporter_creatorId_coins_senderId_idx" ON "CreatorSupporter"("creatorId", "coins" DESC, "senderId");

-- CreateIndex
CREATE INDEX "LiveSession_status_idx" ON "LiveSession"("status");

-- AddForeignKey
ALTER TABLE "RoomEvent" ADD CONSTRAINT "RoomEvent_liveSessionId_fkey" FOREIGN KEY ("liveSessionId") REFERENCES "LiveSession"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RoomEvent" ADD CONSTRAINT "RoomEvent_sentGiftId_fkey" FOREIGN KEY ("sentGiftId") REFERENCES "SentGift"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "SessionSupporter" ADD CONSTRAINT "SessionSupporter_liveSessionId_fkey" FOREIGN KEY ("liveSessionId") REFERENCES "LiveSession"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "SessionSupporter" ADD CONSTRAINT "SessionSupporter_senderId_fkey" FOREIGN KEY ("senderId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "CreatorSupportDay" ADD CONSTRAINT "CreatorSupportDay_creatorId_fkey" FOREIGN KEY ("creatorId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "CreatorSupportDay" ADD CONSTRAINT "CreatorSupportDay_senderId_fkey" FOREIGN KEY ("senderId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "CreatorSupporter" ADD CONSTRAINT "CreatorSupporter_creatorId_fkey" FOREIGN KEY ("creatorId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "CreatorSupporter" ADD CONSTRAINT "CreatorSupporter_senderId_fkey" FOREIGN KEY ("senderId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RoomPresence" ADD CONSTRAINT "RoomPresence_liveSessionId_fkey" FOREIGN KEY ("liveSessionId") REFERENCES "LiveSession"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
