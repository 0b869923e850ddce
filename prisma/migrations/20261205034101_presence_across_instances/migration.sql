-- AlterTable
ALTER TABLE "RoomPresence" DROP COLUMN "viewers",
ADD COLUMN     "accounts" UUID[],
ADD COLUMN     "addressSubscriptions" INTEGER[],
ADD COLUMN     "addresses" TEXT[];
