-- AlterTable
ALTER TABLE "User" ADD COLUMN     "suspendedAt" TIMESTAMPTZ(3);

-- CreateTable
CREATE TABLE "SuspensionChange" (
    "id" UUID NOT NULL,
    "userId" UUID NOT NULL,
    "suspended" BOOLEAN NOT NULL,
    "reason" TEXT NOT NULL,
    "adminId" UUID NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "SuspensionChange_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "SuspensionChange_userId_createdAt_idx" ON "SuspensionChange"("userId", "createdAt");

-- AddForeignKey
ALTER TABLE "SuspensionChange" ADD CONSTRAINT "SuspensionChange_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "SuspensionChange" ADD CONSTRAINT "SuspensionChange_adminId_fkey" FOREIGN KEY ("adminId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
