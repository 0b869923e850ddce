-- The gift path's foreign keys, replaced (docs/money.md, "What a gift writes"). Each gift inserted a
-- posting pair per asset, a sent gift and a room event, and PostgreSQL checked 15 foreign keys for them,
-- each a query and a row lock: a fifth of PostgreSQL's CPU per gift. The batch takes every id it writes
-- from a row it read or wrote in the same transaction, and the statements fail unless the rows they
-- update exist (balances, live sessions). What the keys also guaranteed, that a referenced row cannot
-- disappear or change its id, the triggers below keep for every table these rows name; the audit proves
-- the references whole ("Every posting, sent gift and room event names rows that exist").
ALTER TABLE "Posting" DROP CONSTRAINT "Posting_entryId_fkey";
ALTER TABLE "Posting" DROP CONSTRAINT "Posting_accountId_fkey";
ALTER TABLE "SentGift" DROP CONSTRAINT "SentGift_liveSessionId_fkey";
ALTER TABLE "SentGift" DROP CONSTRAINT "SentGift_senderId_fkey";
ALTER TABLE "SentGift" DROP CONSTRAINT "SentGift_creatorId_fkey";
ALTER TABLE "SentGift" DROP CONSTRAINT "SentGift_giftId_fkey";
ALTER TABLE "SentGift" DROP CONSTRAINT "SentGift_entryId_fkey";
ALTER TABLE "RoomEvent" DROP CONSTRAINT "RoomEvent_liveSessionId_fkey";
ALTER TABLE "RoomEvent" DROP CONSTRAINT "RoomEvent_sentGiftId_fkey";

CREATE FUNCTION refuse_referenced_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'Rows of "%" are named by the ledger and the rooms: % of them is refused', TG_TABLE_NAME,
    CASE TG_OP WHEN 'UPDATE' THEN 'changing the id' ELSE TG_OP END
    USING ERRCODE = 'restrict_violation';
END
$$;

-- Statement-level for removals and row-level only for an UPDATE that names id: no cost on the gift path.
CREATE TRIGGER "Account_kept" BEFORE DELETE OR TRUNCATE ON "Account" FOR EACH STATEMENT EXECUTE FUNCTION refuse_referenced_change();
CREATE TRIGGER "Account_id_fixed" BEFORE UPDATE OF id ON "Account" FOR EACH ROW EXECUTE FUNCTION refuse_referenced_change();
CREATE TRIGGER "User_kept" BEFORE DELETE OR TRUNCATE ON "User" FOR EACH STATEMENT EXECUTE FUNCTION refuse_referenced_change();
CREATE TRIGGER "User_id_fixed" BEFORE UPDATE OF id ON "User" FOR EACH ROW EXECUTE FUNCTION refuse_referenced_change();
CREATE TRIGGER "LiveSession_kept" BEFORE DELETE OR TRUNCATE ON "LiveSession" FOR EACH STATEMENT EXECUTE FUNCTION refuse_referenced_change();
CREATE TRIGGER "LiveSession_id_fixed" BEFORE UPDATE OF id ON "LiveSession" FOR EACH ROW EXECUTE FUNCTION refuse_referenced_change();
CREATE TRIGGER "Gift_kept" BEFORE DELETE OR TRUNCATE ON "Gift" FOR EACH STATEMENT EXECUTE FUNCTION refuse_referenced_change();
CREATE TRIGGER "Gift_id_fixed" BEFORE UPDATE OF id ON "Gift" FOR EACH ROW EXECUTE FUNCTION refuse_referenced_change();
CREATE TRIGGER "SentGift_kept" BEFORE DELETE OR TRUNCATE ON "SentGift" FOR EACH STATEMENT EXECUTE FUNCTION refuse_referenced_change();
CREATE TRIGGER "SentGift_id_fixed" BEFORE UPDATE OF id ON "SentGift" FOR EACH ROW EXECUTE FUNCTION refuse_referenced_change();
