import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Database } from '../../db/client.js';
import { combine } from '../../db/combine.js';
import { transaction, type Tx } from '../../db/transaction.js';
import type { Announcer } from '../../events/announcer.js';
import { Asset, CampaignStatus, LiveSessionStatus, Prisma, type GiftMatch } from '../../generated/prisma/client.js';
import { MatchRefusedError, NotFoundError, OvationError } from '../errors.js';
import { claimKeys, failure, idempotencyKey, replay, storeOutcomes, type Outcome } from '../idempotency.js';
import { record, userAccountIds } from '../ledger.js';
import { convertDown, DIAMONDS_PER_COIN } from '../policy.js';
import type { RoomGiftEvent } from '../rooms.js';
import { validate } from '../validation.js';
import { authorizeBrand, type BrandCaller } from './access.js';
import { campaignState } from './campaigns.js';
import { matchable, matchEntry, matchEvents, matchWrites, roomMatchOf, type CampaignOffer, type MatchedGift, type PlannedMatch } from './matching.js';
import { brandEventWrites } from './webhooks/events.js';

const matchInput = z.object({
  campaignId: z.uuid('is not a campaign id'),
  sentGiftId: z.uuid('is not a sent gift id'),
  coins: z.bigint().positive('must be more than 0').max(10n ** 12n, 'is too large').nullish(),
  idempotencyKey,
});

export type MatchGiftInput = z.input<typeof matchInput>;

/** The gift to match, with its session's status and the room event that told of it (whose copy of the gift the match's event carries). */
const findGift = (tx: Tx, id: string) =>
  tx.sentGift.findUnique({ where: { id }, include: { liveSession: { select: { status: true } }, roomEvent: { select: { payload: true } } } });

/**
 * A brand matches a specific gift (or part of it) from a campaign's budget, after the gift: `coins`, or
 * by default what the campaign's ratio gives for the gift less what the campaign already matched of it.
 * Refused (MatchRefusedError, nothing changed) unless the campaign is ACTIVE, the gift is in its scope
 * and was sent within its window, the session is still live, and the campaign's per-gift and
 * per-viewer caps and budget allow all of `coins`. The match is a stored room event with a sequence of
 * its own (the room's next), announced after commit. Idempotent per brand and key.
 */
export async function matchGift(db: Database, announcer: Announcer, caller: BrandCaller, input: MatchGiftInput, now = new Date()): Promise<GiftMatch> {
  const data = validate(matchInput, input);
  const { outcome, event } = await transaction(db, async (tx) => {
    const found = await tx.matchingCampaign.findUnique({ where: { id: data.campaignId }, select: { brandId: true } });
    if (!found) throw new NotFoundError('Campaign');
    await authorizeBrand(tx, caller, found.brandId, 'match');
    const claimed = (await claimKeys<{ giftMatchId: string }>(tx, [{ callerId: found.brandId, key: data.idempotencyKey, operation: 'matchGift', input: { ...data, idempotencyKey: undefined } }]))[0]!;
    if (claimed.kind === 'refused') throw claimed.error;
    if (claimed.kind === 'replay') return { outcome: claimed.outcome, event: null };
    let planned: { gift: NonNullable<Awaited<ReturnType<typeof findGift>>>; match: PlannedMatch };
    try {
      // The campaign's budget, then its row, as every writer of them locks them (campaigns.ts, matching.ts).
      await tx.$queryRaw`SELECT a.id FROM "Account" a JOIN "MatchingCampaign" c ON c."accountId" = a.id WHERE c.id = ${data.campaignId}::uuid FOR NO KEY UPDATE OF a`;
      await tx.$queryRaw`SELECT id FROM "MatchingCampaign" WHERE id = ${data.campaignId}::uuid FOR NO KEY UPDATE`;
      const campaign = await tx.matchingCampaign.findUniqueOrThrow({ where: { id: data.campaignId }, include: { brand: { select: { name: true } }, account: { select: { balance: true } } } });
      const gift = await findGift(tx, data.sentGiftId);
      if (!gift) throw new NotFoundError('Sent gift');
      const state = campaignState(campaign, now);
      if (state !== CampaignStatus.ACTIVE) throw new MatchRefusedError(`The campaign is ${state}: only an ACTIVE campaign matches`);
      if (gift.creatorId !== campaign.creatorId || (campaign.liveSessionId && gift.liveSessionId !== campaign.liveSessionId)) {
        throw new MatchRefusedError("The gift is outside the campaign's scope (its creator or live session)");
      }
      if (gift.createdAt < campaign.startsAt || gift.createdAt >= campaign.endsAt) throw new MatchRefusedError("The gift was sent outside the campaign's window");
      if (gift.liveSession.status !== LiveSessionStatus.LIVE) throw new MatchRefusedError('The live session has ended: its room hears nothing more');

      const [already] = await tx.$queryRaw<{ coins: string }[]>`
        SELECT coalesce(sum(coins), 0)::text AS coins FROM "GiftMatch" WHERE "campaignId" = ${campaign.id}::uuid AND "sentGiftId" = ${gift.id}::uuid`;
      const viewer = await tx.campaignViewer.findUnique({ where: { campaignId_viewerId: { campaignId: campaign.id, viewerId: gift.senderId } } });
      const offer: CampaignOffer = {
        id: campaign.id, brandId: campaign.brandId, brandName: campaign.brand.name, accountId: campaign.accountId!, creatorId: campaign.creatorId,
        liveSessionId: campaign.liveSessionId, ratioPercent: campaign.ratioPercent,
        perGiftCapCoins: campaign.perGiftCapCoins === null ? null : campaign.perGiftCapCoins - BigInt(already!.coins),
        perViewerCapCoins: campaign.perViewerCapCoins, remaining: campaign.account!.balance,
        viewers: new Map(viewer ? [[gift.senderId, viewer.matchedCoins]] : []),
      };
      const byRatio = (gift.coins * BigInt(campaign.ratioPercent)) / 100n - BigInt(already!.coins);
      const wanted = data.coins ?? byRatio;
      const allowed = matchable(offer, gift.senderId, wanted);
      if (wanted <= 0n || allowed < wanted) {
        throw new MatchRefusedError(`The campaign can match at most ${allowed > 0n ? allowed : 0n} coins of this gift now (its caps and budget)`);
      }
      planned = { gift, match: { id: randomUUID(), entryId: randomUUID(), offer, coins: wanted, diamonds: convertDown(wanted, DIAMONDS_PER_COIN) } };
    } catch (error) {
      if (!(error instanceof OvationError)) throw error;
      await storeOutcomes(tx, [{ callerId: found.brandId, key: data.idempotencyKey, outcome: failure(error) }]);
      return { outcome: failure(error), event: null };
    }
    const { gift, match } = planned;
    const creatorDiamonds = (await userAccountIds(tx, [gift.creatorId], Asset.DIAMOND)).get(gift.creatorId)!;
    await record(tx, [matchEntry(match, gift.id, creatorDiamonds)]);
    const matched: MatchedGift[] = [{ match, sentGiftId: gift.id, liveSessionId: gift.liveSessionId, viewerId: gift.senderId, creatorId: gift.creatorId }];
    await tx.$executeRaw(combine({ ...matchWrites(matched, now, true), ...brandEventWrites(matchEvents(matched, (offer) => offer.remaining - match.coins, true)) }));

    // The room's next sequence, in commit order: the session's row stays locked until commit.
    const [room] = await tx.$queryRaw<{ lastSequence: number }[]>`
      UPDATE "LiveSession" SET "lastSequence" = "lastSequence" + 1 WHERE id = ${gift.liveSessionId}::uuid AND status = 'LIVE' RETURNING "lastSequence"`;
    // Ended since it was read: everything here rolls back (the key too), so a retry is asked afresh.
    if (!room) throw new MatchRefusedError('The live session has ended: its room hears nothing more');
    const told = gift.roomEvent!.payload as RoomGiftEvent;
    const event: RoomGiftEvent = { liveSessionId: gift.liveSessionId, creatorId: gift.creatorId, sequence: room.lastSequence, sentGift: told.sentGift, manualMatch: roomMatchOf(match) };
    await tx.roomEvent.create({ data: { liveSessionId: gift.liveSessionId, sequence: room.lastSequence, giftMatchId: match.id, payload: event as unknown as Prisma.InputJsonValue, createdAt: now } });
    const result: Outcome<{ giftMatchId: string }> = { ok: { giftMatchId: match.id } };
    await storeOutcomes(tx, [{ callerId: found.brandId, key: data.idempotencyKey, outcome: result }]);
    return { outcome: result, event };
  });
  // After commit, with the event as stored: the room hears it in sequence, the creator's wallet changed.
  if (event) announcer.giftsCommitted([event]);
  return db.giftMatch.findUniqueOrThrow({ where: { id: replay(outcome).giftMatchId } });
}
