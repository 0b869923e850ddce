import { randomUUID } from 'node:crypto';
import type { SqlTx } from '../../db/driver.js';
import { Asset, BrandEventType, EntryKind, Prisma } from '../../generated/prisma/client.js';
import { PLATFORM, type EntryDraft } from '../ledger.js';
import { convertDown, DIAMONDS_PER_COIN, diamondsInUsd } from '../policy.js';
import type { BrandEventInput } from './webhooks/events.js';

/**
 * Automatic matching, inside a gift batch's transaction (src/domain/gifting.ts). docs/brands.md has the
 * rules; in short: every campaign in scope of the gift and running now matches it, in the documented
 * order (the campaign ending soonest first, then the one that started first, then by id), each up to
 * its ratio, its per-gift cap, what is left of its per-viewer cap and of its budget. The last match of
 * a budget is partial; no campaign ever matches more than it holds.
 */

/** A campaign that may match gifts in a session, as the batch read it after locking its budget. */
export type CampaignOffer = {
  id: string;
  brandId: string;
  brandName: string;
  accountId: string;
  creatorId: string;
  /** Null: any of the creator's sessions. */
  liveSessionId: string | null;
  ratioPercent: number;
  perGiftCapCoins: bigint | null;
  perViewerCapCoins: bigint | null;
  /** Coins left in its budget: lowered by each match planned in this batch. */
  remaining: bigint;
  /** Coins matched so far of this batch's senders (by sender id): raised by each match planned. */
  viewers: Map<string, bigint>;
};

/** A match of one gift by one campaign, as the room hears of it (amounts as strings, like the gift's). */
export type RoomMatch = { id: string; campaignId: string; brand: { id: string; name: string }; coins: string; diamonds: string; cashValueUsd: string };

export type PlannedMatch = { id: string; entryId: string; offer: CampaignOffer; coins: bigint; diamonds: bigint };

/** A campaign (alias c) that matches gifts at `now`: reserved, not paused, ended or settled, within its window, budget left. */
const inForce = (now: Date) =>
  Prisma.sql`c.status IN ('SCHEDULED', 'ACTIVE') AND c."startsAt" <= ${now}::timestamptz AND c."endsAt" > ${now}::timestamptz AND c."matchedCoins" < c."budgetCoins"`;

/** A campaign that may match some of a batch's gifts, as the batch's (unlocked) context read found it. */
export type CampaignCandidate = { id: string; accountId: string };

/**
 * The WITH clause, for the gift batch's context read, that finds per creator (of the `creators` clause)
 * the campaigns that may match their gifts now: with no campaign, one index probe per creator of the
 * batch. What it finds is only a candidate: the batch then locks the candidates' budgets and reads them
 * afresh (offersOf), and only those match.
 */
export function campaignCandidatesClause(now: Date): Prisma.Sql {
  return Prisma.sql`
    SELECT c."creatorId" AS creator, json_agg(json_build_object('id', c.id, 'accountId', c."accountId")) AS candidates
    FROM "MatchingCampaign" c WHERE c."creatorId" IN (SELECT id FROM creators) AND ${inForce(now)}
    GROUP BY c."creatorId"`;
}

/**
 * Locks the candidates' budget accounts (in id order, after the senders' wallets, as every batch does,
 * so batches never deadlock; whoever else writes a campaign's budget takes it before anything else) and
 * then, in the next statement, so with everything committed before the lock in view, reads each campaign
 * still in force: its terms, its budget left, and what it matched of the batch's senders so far. In the
 * documented order: the campaign ending soonest first, then the one that started first, then by id.
 * One round trip, and only for a batch that has candidates.
 */
export async function offersOf(tx: SqlTx, candidates: CampaignCandidate[], senderIds: string[], now: Date): Promise<CampaignOffer[]> {
  const accounts = [...new Set(candidates.map((candidate) => candidate.accountId))].sort();
  const [, rows] = await Promise.all([
    tx.$queryRaw`SELECT id FROM "Account" WHERE id = ANY(${accounts}::uuid[]) ORDER BY id FOR NO KEY UPDATE`,
    tx.$queryRaw<OfferRow[]>`
      SELECT c.id, c."brandId", b.name AS "brandName", c."accountId", c."creatorId", c."liveSessionId", c."ratioPercent",
        c."perGiftCapCoins", c."perViewerCapCoins", a.balance AS remaining,
        (SELECT coalesce(json_object_agg(v."viewerId", v."matchedCoins"::text), '{}') FROM "CampaignViewer" v
         WHERE v."campaignId" = c.id AND v."viewerId" = ANY(${[...new Set(senderIds)]}::uuid[])) AS viewers
      FROM "MatchingCampaign" c JOIN "Account" a ON a.id = c."accountId" JOIN "Brand" b ON b.id = c."brandId"
      WHERE c."accountId" = ANY(${accounts}::uuid[]) AND ${inForce(now)} AND a.balance > 0
      ORDER BY c."endsAt", c."startsAt", c.id`,
  ]);
  return rows.map((row) => ({
    id: row.id, brandId: row.brandId, brandName: row.brandName, accountId: row.accountId, creatorId: row.creatorId, liveSessionId: row.liveSessionId,
    ratioPercent: row.ratioPercent, perGiftCapCoins: row.perGiftCapCoins, perViewerCapCoins: row.perViewerCapCoins, remaining: row.remaining,
    viewers: new Map(Object.entries(row.viewers).map(([viewer, coins]) => [viewer, BigInt(coins)])),
  }));
}

type OfferRow = Omit<CampaignOffer, 'viewers'> & { viewers: Record<string, string> };

/** The offers, in order, that may match a gift to `creatorId` in `liveSessionId`. */
export const offersFor = (offers: CampaignOffer[], creatorId: string, liveSessionId: string) =>
  offers.filter((offer) => offer.creatorId === creatorId && (offer.liveSessionId === null || offer.liveSessionId === liveSessionId));

/** What each campaign offered matches of a gift of `coins` by `viewerId`, in order; the offers' budgets and viewer totals go down with it. */
export function planMatches(offers: CampaignOffer[], viewerId: string, coins: bigint): PlannedMatch[] {
  const planned: PlannedMatch[] = [];
  for (const offer of offers) {
    const coinsMatched = matchable(offer, viewerId, (coins * BigInt(offer.ratioPercent)) / 100n);
    if (coinsMatched <= 0n) continue;
    offer.remaining -= coinsMatched;
    offer.viewers.set(viewerId, (offer.viewers.get(viewerId) ?? 0n) + coinsMatched);
    planned.push({ id: randomUUID(), entryId: randomUUID(), offer, coins: coinsMatched, diamonds: convertDown(coinsMatched, DIAMONDS_PER_COIN) });
  }
  return planned;
}

/** As much of `wanted` as the campaign's caps and budget allow for this viewer now. */
export function matchable(offer: CampaignOffer, viewerId: string, wanted: bigint): bigint {
  let coins = wanted;
  if (offer.perGiftCapCoins !== null && coins > offer.perGiftCapCoins) coins = offer.perGiftCapCoins;
  if (offer.perViewerCapCoins !== null) {
    const left = offer.perViewerCapCoins - (offer.viewers.get(viewerId) ?? 0n);
    if (coins > left) coins = left;
  }
  return coins > offer.remaining ? offer.remaining : coins;
}

/** A match's money: the campaign's coins spent (as a gift's are), the creator's diamonds issued at the published rate. */
export function matchEntry(match: PlannedMatch, sentGiftId: string, creatorDiamonds: string): EntryDraft {
  return {
    id: match.entryId,
    kind: EntryKind.GIFT_MATCH,
    memo: `Match ${match.id} of gift ${sentGiftId}`,
    postings: [
      { accountId: match.offer.accountId, asset: Asset.COIN, amount: -match.coins },
      { accountId: PLATFORM.coinRevenue, asset: Asset.COIN, amount: match.coins },
      ...(match.diamonds > 0n
        ? [
            { accountId: PLATFORM.diamondIssuance, asset: Asset.DIAMOND, amount: -match.diamonds },
            { accountId: creatorDiamonds, asset: Asset.DIAMOND, amount: match.diamonds },
          ]
        : []),
    ],
  };
}

export const roomMatchOf = (match: PlannedMatch): RoomMatch => ({
  id: match.id,
  campaignId: match.offer.id,
  brand: { id: match.offer.brandId, name: match.offer.brandName },
  coins: match.coins.toString(),
  diamonds: match.diamonds.toString(),
  cashValueUsd: diamondsInUsd(match.diamonds),
});

export type MatchedGift = { match: PlannedMatch; sentGiftId: string; liveSessionId: string; viewerId: string; creatorId: string };

/**
 * The statements that record matches and add them to their campaigns' and viewers' totals; combined with
 * the gift's other writes (none when nothing was matched). The totals' checks (matchedCoins at most the
 * budget) hold beneath the balance check.
 */
export function matchWrites(matched: MatchedGift[], now: Date, manual = false): Record<string, Prisma.Sql> {
  if (matched.length === 0) return {};
  const column = <T>(pick: (item: MatchedGift) => T) => matched.map(pick);
  return {
    gift_matches: Prisma.sql`
      INSERT INTO "GiftMatch" (id, "campaignId", "brandId", "sentGiftId", "liveSessionId", "viewerId", "creatorId", coins, diamonds, manual, "entryId", "createdAt")
      SELECT id, campaign, brand, gift, session, viewer, creator, coins, diamonds, ${manual}, entry, ${now}::timestamptz
      FROM unnest(${column((m) => m.match.id)}::uuid[], ${column((m) => m.match.offer.id)}::uuid[], ${column((m) => m.match.offer.brandId)}::uuid[],
                  ${column((m) => m.sentGiftId)}::uuid[], ${column((m) => m.liveSessionId)}::uuid[], ${column((m) => m.viewerId)}::uuid[],
                  ${column((m) => m.creatorId)}::uuid[], ${column((m) => m.match.coins.toString())}::bigint[],
                  ${column((m) => m.match.diamonds.toString())}::bigint[], ${column((m) => m.match.entryId)}::uuid[])
        AS m(id, campaign, brand, gift, session, viewer, creator, coins, diamonds, entry)`,
    campaign_viewers: Prisma.sql`
      INSERT INTO "CampaignViewer" ("campaignId", "viewerId", "matchedCoins")
      SELECT campaign, viewer, sum(coins) FROM unnest(${column((m) => m.match.offer.id)}::uuid[], ${column((m) => m.viewerId)}::uuid[],
                                                      ${column((m) => m.match.coins.toString())}::bigint[]) AS m(campaign, viewer, coins)
      GROUP BY campaign, viewer
      ON CONFLICT ("campaignId", "viewerId") DO UPDATE SET "matchedCoins" = "CampaignViewer"."matchedCoins" + EXCLUDED."matchedCoins"`,
    campaign_totals: Prisma.sql`
      UPDATE "MatchingCampaign" AS c SET "matchedCoins" = c."matchedCoins" + t.coins, "giftsMatched" = c."giftsMatched" + t.n
      FROM (SELECT campaign, sum(coins) AS coins, count(*)::int AS n
            FROM unnest(${column((m) => m.match.offer.id)}::uuid[], ${column((m) => m.match.coins.toString())}::bigint[]) AS m(campaign, coins)
            GROUP BY campaign) t
      WHERE c.id = t.campaign`,
  };
}

/**
 * What the brands are told of matches (brand webhooks): each match, and each campaign whose budget the
 * matches used up. `remainingAfter` is what a campaign holds once these matches are paid.
 */
export function matchEvents(matched: MatchedGift[], remainingAfter: (offer: CampaignOffer) => bigint, manual = false): BrandEventInput[] {
  const events: BrandEventInput[] = matched.map(({ match, sentGiftId, liveSessionId, viewerId, creatorId }) => ({
    brandId: match.offer.brandId,
    campaignId: match.offer.id,
    type: BrandEventType.MATCH_MADE,
    data: { matchId: match.id, sentGiftId, liveSessionId, viewerId, creatorId, coins: match.coins.toString(), diamonds: match.diamonds.toString(), manual },
  }));
  const exhausted = new Map(matched.filter(({ match }) => remainingAfter(match.offer) === 0n).map(({ match }) => [match.offer.id, match]));
  for (const match of exhausted.values()) {
    events.push({ brandId: match.offer.brandId, campaignId: match.offer.id, type: BrandEventType.CAMPAIGN_EXHAUSTED, data: { lastMatchId: match.id } });
  }
  return events;
}
