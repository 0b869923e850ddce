-- CreateEnum
CREATE TYPE "PayoutMethodKind" AS ENUM ('BANK_ACCOUNT', 'EMAIL_WALLET');

-- CreateEnum
CREATE TYPE "PayoutStatus" AS ENUM ('REQUESTED', 'APPROVED', 'REJECTED', 'PROCESSING', 'PAID', 'FAILED', 'RETURNED', 'CANCELED');

-- CreateEnum
CREATE TYPE "PayoutHoldReason" AS ENUM ('COMPLIANCE_REVIEW', 'FRAUD_REVIEW', 'DOCUMENTS_REQUIRED', 'METHOD_UNVERIFIED', 'ACCOUNT_RESTRICTED');

-- CreateEnum
CREATE TYPE "PayoutActor" AS ENUM ('CREATOR', 'ADMIN', 'PROVIDER', 'SYSTEM');

-- CreateEnum
CREATE TYPE "PayoutChangeKind" AS ENUM ('STATUS', 'APPROVAL', 'HOLD_PLACED', 'HOLD_RELEASED');

-- AlterEnum
-- This migration adds more than one value to an enum.
-- With PostgreSQL versions 11 and earlier, this is not possible
-- in a single migration. This can be worked around by creating
-- multiple migrations, each migration adding only one value to
-- the enum.


ALTER TYPE "EntryKind" ADD VALUE 'PAYOUT_HOLD';
ALTER TYPE "EntryKind" ADD VALUE 'PAYOUT_PAID';
ALTER TYPE "EntryKind" ADD VALUE 'PAYOUT_REVERSAL';

-- CreateTable
CREATE TABLE "PayoutMethod" (
    "id" UUID NOT NULL,
    "creatorId" UUID NOT NULL,
    "kind" "PayoutMethodKind" NOT NULL,
    "destination" TEXT NOT NULL,
    "routingNumber" TEXT,
    "holderName" TEXT,
    "provider" TEXT NOT NULL,
    "verifiedAt" TIMESTAMPTZ(3),
    "verifiedById" UUID,
    "verifiedByEvent" TEXT,
    "usableFrom" TIMESTAMPTZ(3) NOT NULL,
    "removedAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "PayoutMethod_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Payout" (
    "id" UUID NOT NULL,
    "creatorId" UUID NOT NULL,
    "methodId" UUID NOT NULL,
    "status" "PayoutStatus" NOT NULL DEFAULT 'REQUESTED',
    "diamonds" BIGINT NOT NULL,
    "amountMinor" BIGINT NOT NULL,
    "feeMinor" BIGINT NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "provider" TEXT NOT NULL,
    "providerPayoutId" TEXT,
    "approvalsNeeded" INTEGER NOT NULL,
    "firstApproverId" UUID,
    "reason" TEXT,
    "holdEntryId" UUID NOT NULL,
    "paidEntryId" UUID,
    "reversalEntryId" UUID,
    "nextCheckAt" TIMESTAMPTZ(3),
    "submittedAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "Payout_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "PayoutHold" (
    "id" UUID NOT NULL,
    "payoutId" UUID NOT NULL,
    "reason" "PayoutHoldReason" NOT NULL,
    "note" TEXT,
    "placedById" UUID,
    "placedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "releasedAt" TIMESTAMPTZ(3),
    "releasedById" UUID,

    CONSTRAINT "PayoutHold_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "PayoutChange" (
    "id" BIGSERIAL NOT NULL,
    "payoutId" UUID NOT NULL,
    "kind" "PayoutChangeKind" NOT NULL,
    "fromStatus" "PayoutStatus",
    "status" "PayoutStatus" NOT NULL,
    "holdReason" "PayoutHoldReason",
    "actor" "PayoutActor" NOT NULL,
    "actorId" UUID,
    "providerEventId" TEXT,
    "note" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "PayoutChange_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "PayoutMethod_creatorId_createdAt_idx" ON "PayoutMethod"("creatorId", "createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "Payout_holdEntryId_key" ON "Payout"("holdEntryId");

-- CreateIndex
CREATE UNIQUE INDEX "Payout_paidEntryId_key" ON "Payout"("paidEntryId");

-- CreateIndex
CREATE UNIQUE INDEX "Payout_reversalEntryId_key" ON "Payout"("reversalEntryId");

-- CreateIndex
CREATE INDEX "Payout_creatorId_createdAt_idx" ON "Payout"("creatorId", "createdAt");

-- CreateIndex
CREATE INDEX "Payout_status_createdAt_idx" ON "Payout"("status", "createdAt");

-- CreateIndex
CREATE INDEX "Payout_nextCheckAt_idx" ON "Payout"("nextCheckAt");

-- CreateIndex
CREATE UNIQUE INDEX "Payout_provider_providerPayoutId_key" ON "Payout"("provider", "providerPayoutId");

-- CreateIndex
CREATE INDEX "PayoutHold_payoutId_idx" ON "PayoutHold"("payoutId");

-- CreateIndex
CREATE INDEX "PayoutChange_payoutId_id_idx" ON "PayoutChange"("payoutId", "id");

-- AddForeignKey
ALTER TABLE "PayoutMethod" ADD CONSTRAINT "PayoutMethod_creatorId_fkey" FOREIGN KEY ("creatorId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PayoutMethod" ADD CONSTRAINT "PayoutMethod_verifiedById_fkey" FOREIGN KEY ("verifiedById") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Payout" ADD CONSTRAINT "Payout_creatorId_fkey" FOREIGN KEY ("creatorId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Payout" ADD CONSTRAINT "Payout_methodId_fkey" FOREIGN KEY ("methodId") REFERENCES "PayoutMethod"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Payout" ADD CONSTRAINT "Payout_firstApproverId_fkey" FOREIGN KEY ("firstApproverId") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Payout" ADD CONSTRAINT "Payout_holdEntryId_fkey" FOREIGN KEY ("holdEntryId") REFERENCES "JournalEntry"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Payout" ADD CONSTRAINT "Payout_paidEntryId_fkey" FOREIGN KEY ("paidEntryId") REFERENCES "JournalEntry"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Payout" ADD CONSTRAINT "Payout_reversalEntryId_fkey" FOREIGN KEY ("reversalEntryId") REFERENCES "JournalEntry"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PayoutHold" ADD CONSTRAINT "PayoutHold_payoutId_fkey" FOREIGN KEY ("payoutId") REFERENCES "Payout"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PayoutHold" ADD CONSTRAINT "PayoutHold_placedById_fkey" FOREIGN KEY ("placedById") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PayoutHold" ADD CONSTRAINT "PayoutHold_releasedById_fkey" FOREIGN KEY ("releasedById") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PayoutChange" ADD CONSTRAINT "PayoutChange_payoutId_fkey" FOREIGN KEY ("payoutId") REFERENCES "Payout"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PayoutChange" ADD CONSTRAINT "PayoutChange_actorId_fkey" FOREIGN KEY ("actorId") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- Added by hand: what the datamodel cannot say (listed in MIGRATION_ONLY, test/database/migrations.test.ts).

-- Payouts' platform accounts: diamonds held for payouts in progress, and diamonds paid out. Fixed ids,
-- as the others (src/domain/ledger.ts).
INSERT INTO "Account" ("id", "owner", "code", "asset") VALUES
  ('00000000-0000-4000-8000-000000000004', 'PLATFORM', 'payout-hold', 'DIAMOND'),
  ('00000000-0000-4000-8000-000000000005', 'PLATFORM', 'diamond-paid-out', 'DIAMOND');

-- Neither runs negative: only a payout's own diamonds leave the hold, and no more come back from the
-- paid-out account than a payout put there.
ALTER TABLE "Account" ADD CONSTRAINT "Account_payout_balances_check"
  CHECK (code IS NULL OR code NOT IN ('payout-hold', 'diamond-paid-out') OR balance >= 0);

ALTER TABLE "Payout" ADD CONSTRAINT "Payout_amounts_check"
  CHECK (diamonds > 0 AND "amountMinor" > 0 AND "feeMinor" >= 0 AND "feeMinor" < "amountMinor" AND "approvalsNeeded" IN (1, 2));

-- A payout's entries follow its status: paid out once PAID (and still after a return), reversed once
-- the diamonds went back to the creator.
ALTER TABLE "Payout" ADD CONSTRAINT "Payout_entries_check" CHECK (
  ("paidEntryId" IS NOT NULL) = (status IN ('PAID', 'RETURNED'))
  AND ("reversalEntryId" IS NOT NULL) = (status IN ('REJECTED', 'CANCELED', 'FAILED', 'RETURNED')));

-- The lifecycle, beneath the domain's own checks: a payout starts REQUESTED, moves only along the
-- published transitions, never while a hold is in force towards APPROVED or PROCESSING, reaches an end
-- with no hold in force, and keeps its amounts, creator, method and entries once set.
CREATE FUNCTION check_payout_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.status <> 'REQUESTED' THEN
      RAISE EXCEPTION 'A payout starts REQUESTED, not %', NEW.status USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
  END IF;
  IF (NEW."creatorId", NEW."methodId", NEW.diamonds, NEW."amountMinor", NEW."feeMinor", NEW.currency, NEW."holdEntryId", NEW."approvalsNeeded")
       IS DISTINCT FROM (OLD."creatorId", OLD."methodId", OLD.diamonds, OLD."amountMinor", OLD."feeMinor", OLD.currency, OLD."holdEntryId", OLD."approvalsNeeded")
     OR (OLD."paidEntryId" IS NOT NULL AND NEW."paidEntryId" IS DISTINCT FROM OLD."paidEntryId")
     OR (OLD."reversalEntryId" IS NOT NULL AND NEW."reversalEntryId" IS DISTINCT FROM OLD."reversalEntryId") THEN
    RAISE EXCEPTION 'A payout''s amounts, creator, method and entries never change' USING ERRCODE = 'check_violation';
  END IF;
  IF NEW.status = OLD.status THEN
    RETURN NEW;
  END IF;
  IF (OLD.status::text, NEW.status::text) NOT IN (
       ('REQUESTED', 'APPROVED'), ('REQUESTED', 'REJECTED'), ('REQUESTED', 'CANCELED'), ('APPROVED', 'PROCESSING'),
       ('PROCESSING', 'PAID'), ('PROCESSING', 'FAILED'), ('PAID', 'RETURNED')) THEN
    RAISE EXCEPTION 'A % payout cannot become %', OLD.status, NEW.status USING ERRCODE = 'check_violation';
  END IF;
  IF NEW.status IN ('APPROVED', 'PROCESSING', 'REJECTED', 'CANCELED', 'FAILED', 'RETURNED')
     AND EXISTS (SELECT 1 FROM "PayoutHold" WHERE "payoutId" = NEW.id AND "releasedAt" IS NULL) THEN
    RAISE EXCEPTION 'Payout % has a hold in force', NEW.id USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END
$$;

CREATE TRIGGER "Payout_lifecycle" BEFORE INSERT OR UPDATE ON "Payout"
  FOR EACH ROW EXECUTE FUNCTION check_payout_change();

-- At most one hold in force per reason, and holds only on payouts that have not reached the provider.
CREATE UNIQUE INDEX "PayoutHold_in_force_key" ON "PayoutHold" ("payoutId", reason) WHERE "releasedAt" IS NULL;

CREATE FUNCTION check_payout_hold() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM "Payout" WHERE id = NEW."payoutId" AND status IN ('REQUESTED', 'APPROVED')) THEN
    RAISE EXCEPTION 'Only a REQUESTED or APPROVED payout can be held' USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END
$$;

CREATE TRIGGER "PayoutHold_early_only" BEFORE INSERT ON "PayoutHold"
  FOR EACH ROW EXECUTE FUNCTION check_payout_hold();

-- Where a method pays never changes (a change is a new method), and it is verified by someone.
ALTER TABLE "PayoutMethod" ADD CONSTRAINT "PayoutMethod_details_check" CHECK (
  CASE kind WHEN 'BANK_ACCOUNT' THEN "routingNumber" IS NOT NULL AND "holderName" IS NOT NULL
            ELSE "routingNumber" IS NULL AND "holderName" IS NULL END
  AND ("verifiedAt" IS NULL) = ("verifiedById" IS NULL AND "verifiedByEvent" IS NULL));

CREATE FUNCTION refuse_payout_destination_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'Where a payout method pays never changes: register a new method instead' USING ERRCODE = 'restrict_violation';
END
$$;

CREATE TRIGGER "PayoutMethod_destination_fixed" BEFORE UPDATE OF "creatorId", kind, destination, "routingNumber", "holderName", provider ON "PayoutMethod"
  FOR EACH ROW WHEN ((NEW."creatorId", NEW.kind, NEW.destination, NEW."routingNumber", NEW."holderName", NEW.provider)
                     IS DISTINCT FROM (OLD."creatorId", OLD.kind, OLD.destination, OLD."routingNumber", OLD."holderName", OLD.provider))
  EXECUTE FUNCTION refuse_payout_destination_change();

-- A payout's history is kept as it happened.
CREATE FUNCTION refuse_payout_history_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'A payout''s history is append-only: % on "%" is refused', TG_OP, TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END
$$;

CREATE TRIGGER "PayoutChange_append_only" BEFORE UPDATE OR DELETE OR TRUNCATE ON "PayoutChange"
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_payout_history_change();
