-- AlterTable
ALTER TABLE "User" ADD COLUMN     "countryChangesAt" TIMESTAMPTZ(3),
ADD COLUMN     "pendingCountry" CHAR(2);
