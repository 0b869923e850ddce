-- CreateTable
CREATE TABLE "OverlayToken" (
    "id" UUID NOT NULL,
    "creatorId" UUID NOT NULL,
    "label" TEXT NOT NULL,
    "secretHash" BYTEA NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revokedAt" TIMESTAMPTZ(3),

    CONSTRAINT "OverlayToken_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "OverlayToken_secretHash_key" ON "OverlayToken"("secretHash");

-- CreateIndex
CREATE INDEX "OverlayToken_creatorId_createdAt_idx" ON "OverlayToken"("creatorId", "createdAt");

-- AddForeignKey
ALTER TABLE "OverlayToken" ADD CONSTRAINT "OverlayToken_creatorId_fkey" FOREIGN KEY ("creatorId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
