-- The money rules the database enforces itself, beneath the domain's own checks (ledger.md): should a
-- code path ever skip a rule, its statement fails and its transaction moves nothing. Cross-row rules
-- (entries sum to zero, balances equal their postings, debts explain negative wallets) are the audit's.

-- Entries are immutable: a mistake is corrected by a reversing entry, never by changing the journal.
CREATE FUNCTION refuse_journal_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'The journal is append-only: % on "%" is refused; correct an entry with a reversing entry', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'restrict_violation';
END
$$;

CREATE TRIGGER "JournalEntry_append_only" BEFORE UPDATE OR DELETE OR TRUNCATE ON "JournalEntry"
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_journal_change();
CREATE TRIGGER "Posting_append_only" BEFORE UPDATE OR DELETE OR TRUNCATE ON "Posting"
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_journal_change();

-- A posting moves something.
ALTER TABLE "Posting" ADD CONSTRAINT "Posting_amount_check" CHECK (amount <> 0);

-- An account is a user's or the platform's, never both or neither.
ALTER TABLE "Account" ADD CONSTRAINT "Account_owner_check"
  CHECK (CASE owner WHEN 'USER' THEN "userId" IS NOT NULL AND code IS NULL ELSE "userId" IS NULL AND code IS NOT NULL END);
-- Only the platform's accounts run negative (issuance), and a user's coins through a chargeback debt.
ALTER TABLE "Account" ADD CONSTRAINT "Account_balance_check" CHECK (balance >= 0 OR owner = 'PLATFORM' OR asset = 'COIN');

ALTER TABLE "SentGift" ADD CONSTRAINT "SentGift_amounts_check" CHECK (quantity BETWEEN 1 AND 99 AND coins > 0 AND diamonds >= 0);
ALTER TABLE "Gift" ADD CONSTRAINT "Gift_coins_check" CHECK (coins > 0);
ALTER TABLE "CoinBundle" ADD CONSTRAINT "CoinBundle_coins_check" CHECK (coins > 0 AND "bonusCoins" >= 0);
ALTER TABLE "BundlePrice" ADD CONSTRAINT "BundlePrice_amountMinor_check" CHECK ("amountMinor" > 0);
ALTER TABLE "Purchase" ADD CONSTRAINT "Purchase_amounts_check" CHECK (coins > 0 AND "amountMinor" > 0);
ALTER TABLE "ChargebackDebt" ADD CONSTRAINT "ChargebackDebt_coins_check" CHECK (coins > 0);
ALTER TABLE "DailySpend" ADD CONSTRAINT "DailySpend_coins_check" CHECK (coins >= 0);
ALTER TABLE "User" ADD CONSTRAINT "User_limits_check" CHECK ("dailyLimitCoins" >= 0 AND "pendingDailyLimit" >= 0);
ALTER TABLE "LiveSession" ADD CONSTRAINT "LiveSession_totals_check"
  CHECK ("lastSequence" >= 0 AND "giftCount" >= 0 AND "uniqueGifters" >= 0 AND "totalCoins" >= 0 AND "totalDiamonds" >= 0 AND "goalCoins" > 0);
ALTER TABLE "SessionSupporter" ADD CONSTRAINT "SessionSupporter_coins_check" CHECK (coins > 0 AND gifts > 0);
ALTER TABLE "CreatorSupportDay" ADD CONSTRAINT "CreatorSupportDay_coins_check" CHECK (coins > 0);
ALTER TABLE "CreatorSupporter" ADD CONSTRAINT "CreatorSupporter_coins_check" CHECK (coins > 0);
