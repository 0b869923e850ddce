import type { Database } from '../db/client.js';
import { transaction } from '../db/transaction.js';
import { PLATFORM } from './ledger.js';

export type Violation = { invariant: string; detail: string };

const json = (value: unknown) => JSON.stringify(value, (_key, v) => (typeof v === 'bigint' ? v.toString() : v));

/**
 * Checks every invariant of docs/money.md against the whole database and reports each violation found.
 * Read-only; run at REPEATABLE READ so all checks see one consistent moment.
 */
export async function auditLedger(db: Database): Promise<Violation[]> {
  return transaction(
    db,
    async (tx) => {
      const violations: Violation[] = [];
      const report = (invariant: string, rows: unknown[]) => {
        for (const row of rows) violations.push({ invariant, detail: json(row) });
      };

      report(
        'Each entry sums to zero per asset',
        await tx.$queryRaw`
          SELECT "entryId", asset, sum(amount) AS sum FROM "Posting" GROUP BY "entryId", asset HAVING sum(amount) <> 0`,
      );
      report(
        'Each entry has at least two postings',
        await tx.$queryRaw`
          SELECT e.id FROM "JournalEntry" e LEFT JOIN "Posting" p ON p."entryId" = e.id GROUP BY e.id HAVING count(p.id) < 2`,
      );
      report(
        "Each account's balance equals the sum of its postings",
        await tx.$queryRaw`
          SELECT a.id, a.balance, coalesce(sum(p.amount), 0) AS postings
          FROM "Account" a LEFT JOIN "Posting" p ON p."accountId" = a.id
          GROUP BY a.id HAVING a.balance <> coalesce(sum(p.amount), 0)`,
      );
      report(
        'Postings are in the asset of their account',
        await tx.$queryRaw`SELECT p.id, p.asset, a.asset AS "accountAsset" FROM "Posting" p JOIN "Account" a ON a.id = p."accountId" WHERE p.asset <> a.asset`,
      );
      // The gift path's rows carry no foreign keys (docs/money.md, "What a gift writes"): this is their proof.
      report(
        'Every posting, sent gift and room event names rows that exist',
        await tx.$queryRaw`
          SELECT 'Posting' AS "table", p.id::text AS id FROM "Posting" p
          WHERE NOT EXISTS (SELECT 1 FROM "JournalEntry" e WHERE e.id = p."entryId") OR NOT EXISTS (SELECT 1 FROM "Account" a WHERE a.id = p."accountId")
          UNION ALL
          SELECT 'SentGift', g.id::text FROM "SentGift" g
          WHERE NOT EXISTS (SELECT 1 FROM "LiveSession" s WHERE s.id = g."liveSessionId" AND s."creatorId" = g."creatorId")
             OR NOT EXISTS (SELECT 1 FROM "User" u WHERE u.id = g."senderId") OR NOT EXISTS (SELECT 1 FROM "Gift" c WHERE c.id = g."giftId")
             OR NOT EXISTS (SELECT 1 FROM "JournalEntry" e WHERE e.id = g."entryId")
          UNION ALL
          SELECT 'RoomEvent', r."liveSessionId"::text || '/' || r.sequence FROM "RoomEvent" r
          WHERE NOT EXISTS (SELECT 1 FROM "LiveSession" s WHERE s.id = r."liveSessionId")
             OR (r."sentGiftId" IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "SentGift" g WHERE g.id = r."sentGiftId" AND g."liveSessionId" = r."liveSessionId"))`,
      );
      // Sums are numeric in PostgreSQL: read as text, compared as BigInt.
      const [coins] = await tx.$queryRaw<{ outstanding: string; wallets: string; debts: string }[]>`
        SELECT
          (-(SELECT balance FROM "Account" WHERE id = ${PLATFORM.coinIssuance}::uuid)
            - (SELECT balance FROM "Account" WHERE id = ${PLATFORM.coinRevenue}::uuid))::text AS outstanding,
          coalesce((SELECT sum(balance) FROM "Account" WHERE owner IN ('USER', 'BRAND', 'CAMPAIGN') AND asset = 'COIN' AND balance > 0), 0)::text AS wallets,
          coalesce((SELECT -sum(balance) FROM "Account" WHERE owner = 'USER' AND asset = 'COIN' AND balance < 0), 0)::text AS debts`;
      if (coins && BigInt(coins.outstanding) !== BigInt(coins.wallets) - BigInt(coins.debts)) {
        report('Coins outstanding = coins in wallets + brand and campaign budgets - debts', [coins]);
      }
      // Diamonds leave creators only for payouts: they sit in the payout hold, then are paid out.
      const [diamonds] = await tx.$queryRaw<{ issued: string; creators: string; held: string; paidOut: string }[]>`
        SELECT (-(SELECT balance FROM "Account" WHERE id = ${PLATFORM.diamondIssuance}::uuid))::text AS issued,
               coalesce((SELECT sum(balance) FROM "Account" WHERE owner = 'USER' AND asset = 'DIAMOND'), 0)::text AS creators,
               (SELECT balance FROM "Account" WHERE id = ${PLATFORM.payoutHold}::uuid)::text AS held,
               (SELECT balance FROM "Account" WHERE id = ${PLATFORM.diamondPaidOut}::uuid)::text AS "paidOut"`;
      if (diamonds && BigInt(diamonds.issued) !== BigInt(diamonds.creators) + BigInt(diamonds.held) + BigInt(diamonds.paidOut)) {
        report('Diamonds issued = diamonds held by creators + in the payout hold + paid out', [diamonds]);
      }
      const [payouts] = await tx.$queryRaw<{ held: string; inProgress: string; paidOut: string; paid: string }[]>`
        SELECT (SELECT balance FROM "Account" WHERE id = ${PLATFORM.payoutHold}::uuid)::text AS held,
               coalesce((SELECT sum(diamonds) FROM "Payout" WHERE status IN ('REQUESTED', 'APPROVED', 'PROCESSING')), 0)::text AS "inProgress",
               (SELECT balance FROM "Account" WHERE id = ${PLATFORM.diamondPaidOut}::uuid)::text AS "paidOut",
               coalesce((SELECT sum(diamonds) FROM "Payout" WHERE status = 'PAID'), 0)::text AS paid`;
      if (payouts && BigInt(payouts.held) !== BigInt(payouts.inProgress)) {
        report('Diamonds in the payout hold = payouts REQUESTED, APPROVED or PROCESSING', [{ held: payouts.held, inProgress: payouts.inProgress }]);
      }
      if (payouts && BigInt(payouts.paidOut) !== BigInt(payouts.paid)) {
        report('Diamonds paid out = payouts PAID and not returned', [{ paidOut: payouts.paidOut, paid: payouts.paid }]);
      }
      // Each entry a payout names moves exactly its diamonds, in two postings, between the accounts its
      // status says; and it names the entries its status says it has.
      report(
        "Each payout's entries match its status",
        await tx.$queryRaw`
          WITH creator_account AS (
            SELECT p.id AS "payoutId", a.id AS "accountId" FROM "Payout" p JOIN "Account" a ON a."userId" = p."creatorId" AND a.asset = 'DIAMOND'),
          expected AS (
            SELECT p.id AS "payoutId", p."holdEntryId" AS "entryId", 'PAYOUT_HOLD' AS kind, c."accountId" AS "from", ${PLATFORM.payoutHold}::uuid AS "to", p.diamonds
            FROM "Payout" p LEFT JOIN creator_account c ON c."payoutId" = p.id
            UNION ALL
            SELECT p.id, p."paidEntryId", 'PAYOUT_PAID', ${PLATFORM.payoutHold}::uuid, ${PLATFORM.diamondPaidOut}::uuid, p.diamonds
            FROM "Payout" p WHERE p."paidEntryId" IS NOT NULL
            UNION ALL
            SELECT p.id, p."reversalEntryId", 'PAYOUT_REVERSAL',
                   CASE WHEN p.status = 'RETURNED' THEN ${PLATFORM.diamondPaidOut}::uuid ELSE ${PLATFORM.payoutHold}::uuid END, c."accountId", p.diamonds
            FROM "Payout" p LEFT JOIN creator_account c ON c."payoutId" = p.id WHERE p."reversalEntryId" IS NOT NULL)
          SELECT e."payoutId", e."entryId", e.kind FROM expected e JOIN "JournalEntry" j ON j.id = e."entryId"
          WHERE j.kind::text <> e.kind
             OR (SELECT count(*) FROM "Posting" po WHERE po."entryId" = e."entryId") <> 2
             OR NOT EXISTS (SELECT 1 FROM "Posting" po WHERE po."entryId" = e."entryId" AND po."accountId" = e."from" AND po.amount = -e.diamonds)
             OR NOT EXISTS (SELECT 1 FROM "Posting" po WHERE po."entryId" = e."entryId" AND po."accountId" = e."to" AND po.amount = e.diamonds)
          UNION ALL
          SELECT p.id, NULL, p.status::text FROM "Payout" p
          WHERE (p."paidEntryId" IS NOT NULL) <> (p.status IN ('PAID', 'RETURNED'))
             OR (p."reversalEntryId" IS NOT NULL) <> (p.status IN ('REJECTED', 'CANCELED', 'FAILED', 'RETURNED'))`,
      );
      report(
        'Each payout entry belongs to a payout',
        await tx.$queryRaw`
          SELECT e.id, e.kind FROM "JournalEntry" e
          WHERE (e.kind = 'PAYOUT_HOLD' AND NOT EXISTS (SELECT 1 FROM "Payout" p WHERE p."holdEntryId" = e.id))
             OR (e.kind = 'PAYOUT_PAID' AND NOT EXISTS (SELECT 1 FROM "Payout" p WHERE p."paidEntryId" = e.id))
             OR (e.kind = 'PAYOUT_REVERSAL' AND NOT EXISTS (SELECT 1 FROM "Payout" p WHERE p."reversalEntryId" = e.id))`,
      );
      report(
        'No user balance is negative without a recorded chargeback debt',
        await tx.$queryRaw`
          SELECT a.id, a."userId", a.asset, a.balance, coalesce(d.coins, 0) AS "recordedDebt"
          FROM "Account" a
          LEFT JOIN (SELECT "userId", sum(coins) AS coins FROM "ChargebackDebt" GROUP BY "userId") d ON d."userId" = a."userId"
          WHERE a.owner = 'USER' AND a.balance < 0 AND (a.asset <> 'COIN' OR -a.balance > coalesce(d.coins, 0))`,
      );
      report(
        'Each idempotency key has at most one entry',
        await tx.$queryRaw`
          SELECT outcome->'ok' AS result, count(*) AS keys FROM "IdempotencyKey"
          WHERE outcome ? 'ok' GROUP BY outcome->'ok' HAVING count(*) > 1`,
      );
      report(
        'Each gift entry belongs to exactly one sent gift, and each sent gift has its entry',
        await tx.$queryRaw`
          SELECT e.id AS "entryId", g.id AS "sentGiftId" FROM "JournalEntry" e FULL JOIN "SentGift" g ON g."entryId" = e.id
          WHERE (e.kind = 'GIFT' OR g.id IS NOT NULL) AND (e.id IS NULL OR g.id IS NULL)`,
      );
      report(
        'Each purchase entry credits exactly one purchase',
        await tx.$queryRaw`
          SELECT e.id FROM "JournalEntry" e LEFT JOIN "Purchase" p ON p."creditEntryId" = e.id
          WHERE e.kind = 'PURCHASE' AND p.id IS NULL`,
      );
      report(
        'Each refund, chargeback, dispute-won and failed-refund entry is one purchase adjustment, moving its coins',
        await tx.$queryRaw`
          SELECT e.id, e.kind, a.coins FROM "JournalEntry" e
          FULL JOIN "PurchaseAdjustment" a ON a."entryId" = e.id
          LEFT JOIN (SELECT p."entryId", sum(p.amount) AS amount FROM "Posting" p JOIN "Account" ac ON ac.id = p."accountId" AND ac.owner = 'USER'
                     GROUP BY p."entryId") w ON w."entryId" = e.id
          WHERE (e.kind IN ('REFUND', 'CHARGEBACK', 'CHARGEBACK_REVERSAL', 'REFUND_REVERSAL') OR a.id IS NOT NULL)
            AND (a.id IS NULL OR e.id IS NULL OR e.kind NOT IN ('REFUND', 'CHARGEBACK', 'CHARGEBACK_REVERSAL', 'REFUND_REVERSAL') OR coalesce(w.amount, 0) <> -a.coins)`,
      );
      report(
        "Each purchase's coins taken back equal its adjustments, and only a credited purchase has any",
        await tx.$queryRaw`
          SELECT p.id, p."coinsTakenBack", coalesce(a.coins, 0) AS adjusted FROM "Purchase" p
          LEFT JOIN (SELECT "purchaseId", sum(coins) AS coins FROM "PurchaseAdjustment" GROUP BY "purchaseId") a ON a."purchaseId" = p.id
          WHERE p."coinsTakenBack" <> coalesce(a.coins, 0) OR (a.coins IS NOT NULL AND p."creditEntryId" IS NULL)`,
      );
      report(
        'Each committed gift has exactly one room event',
        await tx.$queryRaw`
          SELECT g.id AS "sentGiftId" FROM "SentGift" g LEFT JOIN "RoomEvent" e ON e."sentGiftId" = g.id WHERE e."sentGiftId" IS NULL`,
      );
      report(
        "Each room's events are numbered 1..n without gaps",
        await tx.$queryRaw`
          SELECT s.id, s."lastSequence", count(e.sequence)::int AS events, coalesce(max(e.sequence), 0) AS highest
          FROM "LiveSession" s LEFT JOIN "RoomEvent" e ON e."liveSessionId" = s.id
          GROUP BY s.id HAVING count(e.sequence) <> s."lastSequence" OR coalesce(max(e.sequence), 0) <> s."lastSequence"`,
      );
      // Leaderboards are totals kept beside the gifts (src/domain/leaderboards.ts): each must add up to
      // them, a creator's all-time totals over their ended sessions only.
      report(
        'Supporter totals add up to the gifts',
        await tx.$queryRaw`
          SELECT 'SessionSupporter' AS "table", coalesce(t."liveSessionId", g."liveSessionId")::text AS "of", coalesce(t."senderId", g."senderId")::text AS sender,
            t.coins, g.coins AS gifted
          FROM "SessionSupporter" t
          FULL JOIN (SELECT "liveSessionId", "senderId", sum(coins) AS coins, count(*) AS gifts FROM "SentGift" GROUP BY 1, 2) g
            ON g."liveSessionId" = t."liveSessionId" AND g."senderId" = t."senderId"
          WHERE t.coins IS DISTINCT FROM g.coins OR t.gifts IS DISTINCT FROM g.gifts
          UNION ALL
          SELECT 'CreatorSupportDay', coalesce(t."creatorId", g."creatorId")::text || ' ' || coalesce(t.day, g.day)::text, coalesce(t."senderId", g."senderId")::text,
            t.coins, g.coins
          FROM "CreatorSupportDay" t
          FULL JOIN (SELECT "creatorId", ("createdAt" AT TIME ZONE 'UTC')::date AS day, "senderId", sum(coins) AS coins FROM "SentGift" GROUP BY 1, 2, 3) g
            ON g."creatorId" = t."creatorId" AND g.day = t.day AND g."senderId" = t."senderId"
          WHERE t.coins IS DISTINCT FROM g.coins
          UNION ALL
          SELECT 'CreatorSupporter', coalesce(t."creatorId", g."creatorId")::text, coalesce(t."senderId", g."senderId")::text, t.coins, g.coins
          FROM "CreatorSupporter" t
          FULL JOIN (SELECT s."creatorId", p."senderId", sum(p.coins) AS coins
                     FROM "SessionSupporter" p JOIN "LiveSession" s ON s.id = p."liveSessionId" WHERE s.status = 'ENDED' GROUP BY 1, 2) g
            ON g."creatorId" = t."creatorId" AND g."senderId" = t."senderId"
          WHERE t.coins IS DISTINCT FROM g.coins`,
      );
      report(
        'No brand or campaign budget is negative',
        await tx.$queryRaw`SELECT id, owner, balance FROM "Account" WHERE owner IN ('BRAND', 'CAMPAIGN') AND balance < 0`,
      );
      report(
        'Each brand funding entry credits exactly one succeeded funding',
        await tx.$queryRaw`
          SELECT e.id, f.id AS "fundingId", f.status FROM "JournalEntry" e FULL JOIN "BrandFunding" f ON f."creditEntryId" = e.id
          WHERE (e.kind = 'BRAND_FUNDING' AND f.id IS NULL) OR (f.id IS NOT NULL AND (f."creditEntryId" IS NULL) <> (f.status <> 'SUCCEEDED'))`,
      );
      report(
        "Each brand funding adjustment entry is one adjustment, moving its coins out of (or back into) the brand's budget",
        await tx.$queryRaw`
          SELECT e.id, a.coins, b.amount FROM "JournalEntry" e
          FULL JOIN "BrandFundingAdjustment" a ON a."entryId" = e.id
          LEFT JOIN (SELECT p."entryId", sum(p.amount) AS amount FROM "Posting" p JOIN "Account" ac ON ac.id = p."accountId" AND ac.owner = 'BRAND'
                     GROUP BY p."entryId") b ON b."entryId" = e.id
          WHERE (e.kind = 'BRAND_FUNDING_ADJUSTMENT' OR a.id IS NOT NULL)
            AND (a.id IS NULL OR e.id IS NULL OR e.kind <> 'BRAND_FUNDING_ADJUSTMENT' OR coalesce(b.amount, 0) <> -a.coins)`,
      );
      report(
        "Each brand funding's coins taken back equal its adjustments, and only a credited funding has any",
        await tx.$queryRaw`
          SELECT f.id, f."takenBackCoins", coalesce(a.coins, 0) AS adjusted FROM "BrandFunding" f
          LEFT JOIN (SELECT "fundingId", sum(coins) AS coins FROM "BrandFundingAdjustment" GROUP BY "fundingId") a ON a."fundingId" = f.id
          WHERE f."takenBackCoins" <> coalesce(a.coins, 0) OR (a.coins IS NOT NULL AND f."creditEntryId" IS NULL)`,
      );
      // A campaign's account holds its budget less what it matched until it is settled, then nothing.
      report(
        "Reserved coins equal the unspent budgets of unsettled campaigns",
        await tx.$queryRaw`
          SELECT c.id, c.status, c."budgetCoins", c."matchedCoins", a.balance FROM "MatchingCampaign" c LEFT JOIN "Account" a ON a.id = c."accountId"
          WHERE (c."reserveEntryId" IS NULL) <> (c."accountId" IS NULL)
             OR (c."accountId" IS NOT NULL AND a.balance <> CASE WHEN c.status = 'SETTLED' THEN 0 ELSE c."budgetCoins" - c."matchedCoins" END)`,
      );
      report(
        "Each campaign's matched coins and gifts are the sum of its matches, and each viewer's share too",
        await tx.$queryRaw`
          SELECT c.id FROM "MatchingCampaign" c LEFT JOIN "GiftMatch" m ON m."campaignId" = c.id
          GROUP BY c.id HAVING c."matchedCoins" <> coalesce(sum(m.coins), 0) OR c."giftsMatched" <> count(m.id)
          UNION ALL
          SELECT v."campaignId" FROM "CampaignViewer" v
          WHERE v."matchedCoins" <> (SELECT coalesce(sum(coins), 0) FROM "GiftMatch" m WHERE m."campaignId" = v."campaignId" AND m."viewerId" = v."viewerId")`,
      );
      report(
        'Each match entry belongs to exactly one match, and each match has its entry',
        await tx.$queryRaw`
          SELECT e.id AS "entryId", m.id AS "matchId" FROM "JournalEntry" e FULL JOIN "GiftMatch" m ON m."entryId" = e.id
          WHERE (e.kind = 'GIFT_MATCH' OR m.id IS NOT NULL) AND (e.id IS NULL OR m.id IS NULL OR e.kind <> 'GIFT_MATCH')`,
      );
      // An automatic match is told in its gift's event; a manual one in an event of its own.
      report(
        'Each match has exactly one room event',
        await tx.$queryRaw`
          SELECT m.id FROM "GiftMatch" m
          WHERE (SELECT count(*) FROM "RoomEvent" r WHERE r."giftMatchId" = m.id)
              + (SELECT count(*) FROM "RoomEvent" r WHERE r."sentGiftId" = m."sentGiftId" AND r.payload->'matches' @> jsonb_build_array(jsonb_build_object('id', m.id::text))) <> 1`,
      );
      return violations;
    },
    { isolationLevel: 'RepeatableRead', timeoutMs: 120_000 },
  );
}
