-- Less for each gift to write (docs/money.md, "What a gift writes").

-- Indexes nothing reads: an entry's postings are read only by the audit, which reads them all; a
-- session's gifts are read through its room events, and nothing lists a sender's gifts. Each cost every
-- posting or sent gift a B-tree insert.
DROP INDEX "Posting_entryId_idx";
DROP INDEX "SentGift_liveSessionId_createdAt_idx";
DROP INDEX "SentGift_senderId_createdAt_idx";

-- A creator's all-time supporter totals now take a session's totals when it ends, and a live session's
-- are read from SessionSupporter: take the live sessions' coins back out, which gifts added until now.
WITH live AS (
  SELECT s."creatorId", t."senderId", sum(t.coins) AS coins
  FROM "SessionSupporter" t JOIN "LiveSession" s ON s.id = t."liveSessionId"
  WHERE s.status = 'LIVE'
  GROUP BY s."creatorId", t."senderId"),
emptied AS (
  DELETE FROM "CreatorSupporter" c USING live l
  WHERE c."creatorId" = l."creatorId" AND c."senderId" = l."senderId" AND c.coins = l.coins)
UPDATE "CreatorSupporter" c SET coins = c.coins - l.coins
FROM live l
WHERE c."creatorId" = l."creatorId" AND c."senderId" = l."senderId" AND c.coins > l.coins;
