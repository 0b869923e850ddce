import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Database } from '../db/client.js';
import { combine } from '../db/combine.js';
import type { DriverTx, SqlTx } from '../db/driver.js';
import { transaction } from '../db/transaction.js';
import type { Announcer } from '../events/announcer.js';
import { Asset, EntryKind, LiveSessionStatus, Prisma, RestrictionKind, type Gift, type SentGift, type User } from '../generated/prisma/client.js';
import {
  GiftUnavailableError,
  InsufficientCoinsError,
  LiveSessionEndedError,
  NotFoundError,
  OutstandingDebtError,
  OvationError,
  ValidationError,
} from './errors.js';
import { failure, idempotencyKey, isKeyRace, keysWrite, readKeys, replay, type Claim, type Outcome } from './idempotency.js';
import { balanceWrites, entryWrites, ledgerFailure, lockUserAccounts, PLATFORM, userAccountIds, type EntryDraft } from './ledger.js';
import { campaignCandidatesClause, matchEntry, matchEvents, matchWrites, offersFor, offersOf, planMatches, roomMatchOf, type CampaignCandidate, type MatchedGift, type PlannedMatch } from './brands/matching.js';
import { brandEventWrites } from './brands/webhooks/events.js';
import { convertDown, DIAMONDS_PER_COIN, type Policy } from './policy.js';
import { checkAge, checkNotRestricted, checkSpendingLimits, countryInForce, spendDay } from './safeguards.js';
import { roomEventsWritten, roomEventWrites, roomFailure, SessionEndedMeanwhileError, supportWrites, type RoomGift, type RoomGiftEvent } from './rooms.js';
import { validate } from './validation.js';

export const MAX_COMBO_QUANTITY = 99;

const sendGiftInput = z.object({
  liveSessionId: z.uuid('is not a live session id'),
  giftId: z.uuid('is not a gift id'),
  quantity: z.number().int('must be a whole number').min(1, 'must be at least 1').max(MAX_COMBO_QUANTITY, `must be at most ${MAX_COMBO_QUANTITY}`),
  comboId: z.string().trim().min(1).max(64, 'must be at most 64 characters').nullish(),
  idempotencyKey,
});

export type SendGiftInput = z.input<typeof sendGiftInput>;

type Request = {
  senderId: string;
  input: z.output<typeof sendGiftInput>;
  resolve: (gift: SentGift) => void;
  reject: (error: unknown) => void;
};

export type GiftSender = {
  /** Sends a gift as one all-or-nothing money movement; resolves with it once committed. */
  send(senderId: string, input: SendGiftInput): Promise<SentGift>;
};

type Options = {
  /** Gifts applied together in one transaction at most. */
  maxBatch?: number;
  /** Transactions in flight at once. */
  maxInFlight?: number;
  /** Told how gifting goes, for operators' metrics. */
  observer?: GiftObserver;
  now?: () => Date;
};

/** What an operator may watch of gifting; nothing here changes what happens. */
export type GiftObserver = {
  /** A batch's transaction committed: the gifts it held, and its seconds from asking for a connection to COMMIT. */
  batchCommitted(size: number, seconds: number): void;
  /** A gift was committed (a retry given the first result is not counted again). */
  giftCommitted(): void;
  /** A gift was refused, with the refusal's code (a retry given the first refusal is not counted again). */
  giftRefused(code: string): void;
};

const UNOBSERVED: GiftObserver = { batchCommitted() {}, giftCommitted() {}, giftRefused() {} };

/**
 * Gifting with group commit. Each gift is checked on its own, but gifts arriving together are written
 * in one transaction, so a hot creator's and the platform's balance rows are updated once per batch
 * rather than once per gift (docs/money.md, "Hot accounts"). A batch holds at most one gift per sender,
 * so every gift's checks (balance, limits) see the effects of that sender's earlier gifts.
 * When idle, a gift is written at once, alone: batching only happens under load.
 */
export function createGiftSender(db: Database, announcer: Announcer, policy: Policy, options: Options = {}): GiftSender {
  const { maxBatch = 100, maxInFlight = 1, observer = UNOBSERVED, now = () => new Date() } = options;
  const queue: Request[] = [];
  let inFlight = 0;

  function takeBatch(): Request[] {
    const senders = new Set<string>();
    const batch: Request[] = [];
    for (let i = 0; i < queue.length && batch.length < maxBatch; ) {
      const request = queue[i]!;
      if (senders.has(request.senderId)) {
        i++;
        continue;
      }
      senders.add(request.senderId);
      batch.push(request);
      queue.splice(i, 1);
    }
    return batch;
  }

  function pump() {
    while (inFlight < maxInFlight && queue.length > 0) {
      const batch = takeBatch();
      inFlight++;
      void run(batch).finally(() => {
        inFlight--;
        pump();
      });
    }
  }

  async function run(batch: Request[], again = false) {
    let applied: { results: Settled[]; events: RoomGiftEvent[] };
    const started = performance.now();
    try {
      applied = await transaction(db, (tx) => applyBatch(tx, policy, batch, now()), { driver: true });
    } catch (error) {
      // An unexpected failure must not sink the other gifts with it: each is retried on its own. A
      // session that ended meanwhile is seen as ended by the retry, which refuses its gifts; a key that
      // another call stored meanwhile is replayed by it.
      if (batch.length > 1 || error instanceof SessionEndedMeanwhileError || (!again && isKeyRace(error))) {
        await Promise.all(batch.map((request) => run([request], true)));
      } else {
        batch[0]!.reject(error);
      }
      return;
    }
    observer.batchCommitted(batch.length, (performance.now() - started) / 1000);
    const { results, events } = applied;
    // Answered in the next turn of the event loop: the next batch's first round trip goes out before
    // this thread spends milliseconds writing these answers, and PostgreSQL runs it meanwhile
    // (docs/benchmarks.md, "Batches in flight").
    setImmediate(() => {
      batch.forEach((request, index) => {
        const result = results[index]!;
        if ('gift' in result) {
          if (result.fresh) observer.giftCommitted();
          request.resolve(result.gift);
        } else {
          if (result.fresh && result.error instanceof OvationError) observer.giftRefused(result.error.code);
          request.reject(result.error);
        }
      });
      // After each commit, with the room events it stored; a rolled-back batch announces nothing.
      if (events.length > 0) announcer.giftsCommitted(events);
    });
  }

  return {
    async send(senderId, input) {
      let parsed;
      try {
        parsed = validate(sendGiftInput, input);
      } catch (error) {
        if (error instanceof OvationError) observer.giftRefused(error.code);
        throw error;
      }
      return new Promise<SentGift>((resolve, reject) => {
        queue.push({ senderId, input: parsed, resolve, reject });
        pump();
      });
    },
  };
}

/** `fresh`: decided by this batch, not replayed from an earlier attempt with the same key. */
type Settled = { gift: SentGift; fresh: boolean } | { error: unknown; fresh: boolean };

type Accepted = { gift: SentGift; entry: EntryDraft; roomGift: RoomGift; matches: { match: PlannedMatch; entry: EntryDraft; matched: MatchedGift }[] };

/**
 * One batch in two round trips: BEGIN, the wallet locks, the key read and the context read go out
 * together; then, after each gift's checks, the writes, the hot statement and COMMIT. A batch whose gifts
 * brands' campaigns may match takes one more, between them, for their budgets (brands/matching.ts).
 */
async function applyBatch(tx: DriverTx, policy: Policy, batch: Request[], now: Date): Promise<{ results: Settled[]; events: RoomGiftEvent[] }> {
  const day = spendDay(now);
  const claims: Claim[] = batch.map(({ senderId, input }) => ({ callerId: senderId, key: input.idempotencyKey, operation: 'sendGift', input: { ...input, idempotencyKey: undefined } }));
  // Sender wallets are locked first, in a statement of their own: a sender's retry in another batch waits
  // here for the first attempt to commit, and the key read and the context read that follow see it, and
  // everything else committed before the lock (an earlier gift's spending). Nobody else spends those coins
  // until this batch commits. Replayed keys' gifts are read and then ignored.
  const locking = lockUserAccounts(tx, batch.map((request) => request.senderId), Asset.COIN);
  const [, stored, contexts] = await Promise.all([locking, readKeys<{ sentGiftId: string }>(tx, claims), loadContexts(tx, batch, day, now)]);

  const results: Settled[] = new Array(batch.length);
  const replays: { index: number; outcome: Outcome<{ sentGiftId: string }> }[] = [];
  const fresh: number[] = [];
  stored.forEach((key, index) => {
    if (key.kind === 'first') fresh.push(index);
    else if (key.kind === 'refused') results[index] = { error: key.error, fresh: true };
    else replays.push({ index, outcome: key.outcome });
  });
  await replayGifts(tx, replays, results);
  if (fresh.length === 0) return { results, events: [] };

  const accepted: Accepted[] = [];
  // Brands' campaigns that may match: their budgets locked and read afresh, one more round trip, only
  // when the context read found any (brands/matching.ts).
  const candidates = fresh.flatMap((index) => contexts[index]!.campaigns ?? []);
  const offers = candidates.length > 0 ? await offersOf(tx, candidates, fresh.map((index) => batch[index]!.senderId), now) : [];
  const outcomes: { claim: Claim; requestHash: string; outcome: Outcome<{ sentGiftId: string }> }[] = [];
  for (const index of fresh) {
    const request = batch[index]!;
    try {
      const { sender, wallet, session, creatorDiamonds, gift: catalogGift, spent } = contexts[index]!;
      if (!sender) throw new NotFoundError('Sender');
      const gift = checkGift({ policy, now, sender, wallet, spent, session, gift: catalogGift, input: request.input });
      const entryId = randomUUID();
      const sentGift: SentGift = { id: randomUUID(), entryId, createdAt: now, comboId: request.input.comboId ?? null, ...gift };
      const matches = offers.length > 0 ? planMatches(offersFor(offers, gift.creatorId, gift.liveSessionId), sender.id, gift.coins) : [];
      const diamondsAccount = gift.diamonds > 0n || matches.length > 0 ? (creatorDiamonds ?? (await openDiamondAccount(tx, gift.creatorId))) : null;
      accepted.push({
        gift: sentGift,
        roomGift: {
          sentGift,
          sender: { id: sender.id, handle: sender.handle, displayName: sender.displayName },
          gift: { id: catalogGift!.id, name: catalogGift!.name, imageUrl: catalogGift!.imageUrl, animationUrl: catalogGift!.animationUrl },
          ...(matches.length > 0 ? { matches: matches.map(roomMatchOf) } : {}),
        },
        matches: matches.map((match) => ({
          match, entry: matchEntry(match, sentGift.id, diamondsAccount!),
          matched: { match, sentGiftId: sentGift.id, liveSessionId: gift.liveSessionId, viewerId: sender.id, creatorId: gift.creatorId },
        })),
        entry: {
          id: entryId,
          kind: EntryKind.GIFT,
          memo: `Gift ${sentGift.id}`,
          postings: [
            { accountId: wallet!.accountId, asset: Asset.COIN, amount: -gift.coins },
            { accountId: PLATFORM.coinRevenue, asset: Asset.COIN, amount: gift.coins },
            ...(gift.diamonds > 0n
              ? [
                  { accountId: PLATFORM.diamondIssuance, asset: Asset.DIAMOND, amount: -gift.diamonds },
                  { accountId: diamondsAccount!, asset: Asset.DIAMOND, amount: gift.diamonds },
                ]
              : []),
          ],
        },
      });
      results[index] = { gift: sentGift, fresh: true };
      outcomes.push({ claim: claims[index]!, requestHash: stored[index]!.requestHash, outcome: { ok: { sentGiftId: sentGift.id } } });
    } catch (error) {
      if (!(error instanceof OvationError)) throw error;
      results[index] = { error, fresh: true };
      outcomes.push({ claim: claims[index]!, requestHash: stored[index]!.requestHash, outcome: failure(error) });
    }
  }

  if (accepted.length === 0) {
    await tx.$executeRaw(keysWrite(outcomes));
    return { results, events: [] };
  }
  // Every write of the batch in one statement, then the hot rows in one more, then COMMIT, all sent at
  // once: the creator's diamonds, the platform's accounts and the room's sequence stay locked only
  // while PostgreSQL runs the last statement and commits, never across a round trip. Its checks fail
  // inside SQL, as COMMIT is already behind it.
  const ledger = entryWrites(accepted.flatMap((item) => [item.entry, ...item.matches.map((m) => m.entry)]));
  const roomGifts = accepted.map((item) => item.roomGift);
  const matched = accepted.flatMap((item) => item.matches.map((m) => m.matched));
  const writing = tx.$executeRaw(
    combine({
      ...ledger.writes, ...sentGiftWrites(accepted.map((item) => item.gift), day), keys: keysWrite(outcomes), ...supportWrites(roomGifts, now),
      ...matchWrites(matched, now), ...brandEventWrites(matchEvents(matched, (offer) => offer.remaining)),
    }),
  );
  const balances = balanceWrites(ledger.changes);
  const room = roomEventWrites(roomGifts, now);
  const hot = tx.$queryRaw<{ events: RoomGiftEvent[] }[]>(
    combine({ ...balances.writes, ...room.writes }, Prisma.sql`SELECT ${balances.allApplied}, ${room.allLive}, ${roomEventsWritten}`),
  );
  try {
    const [, [written]] = await Promise.all([writing, hot, tx.commit()]);
    return { results, events: written!.events };
  } catch (error) {
    throw roomFailure(ledgerFailure(error));
  }
}

type Person = Pick<User, 'id' | 'birthDate' | 'country' | 'pendingCountry' | 'countryChangesAt' | 'restrictions'>;
type Sender = Person & Pick<User, 'handle' | 'displayName' | 'dailyLimitCoins' | 'pendingDailyLimit' | 'pendingLimitActiveAt'>;
type Session = { id: string; status: LiveSessionStatus; creatorId: string; creator: Person };
type CatalogGift = Pick<Gift, 'id' | 'name' | 'imageUrl' | 'animationUrl' | 'coins' | 'active' | 'countries'>;

/** What one gift's checks need to know, read for the whole batch in one statement. */
type GiftContext = {
  sender?: Sender;
  wallet?: { accountId: string; balance: bigint };
  spent: { today: bigint; lastSevenDays: bigint };
  session?: Session;
  creatorDiamonds: string | null;
  gift?: CatalogGift;
  /** Campaigns that may match gifts to the session's creator (brands/matching.ts); null when none. */
  campaigns: CampaignCandidate[] | null;
};

type GiftCheck = {
  policy: Policy;
  now: Date;
  sender: Sender;
  wallet: { accountId: string; balance: bigint } | undefined;
  spent: { today: bigint; lastSevenDays: bigint };
  session: Session | undefined;
  gift: CatalogGift | undefined;
  input: z.output<typeof sendGiftInput>;
};

/** Every rule a gift must pass, in the order a sender would want to hear about them. */
function checkGift({ policy, now, sender, wallet, spent, session, gift, input }: GiftCheck) {
  if (!session) throw new NotFoundError('Live session');
  if (session.status !== LiveSessionStatus.LIVE) throw new LiveSessionEndedError();
  if (session.creatorId === sender.id) {
    throw new ValidationError([{ field: 'liveSessionId', message: 'you cannot send gifts to yourself' }]);
  }
  if (!gift || !gift.active) throw new GiftUnavailableError();
  if (gift.countries.length > 0 && !gift.countries.includes(countryInForce(sender, now))) {
    throw new GiftUnavailableError('This gift is not offered in your country');
  }
  checkNotRestricted(sender, RestrictionKind.GIFTING);
  checkAge(policy, sender, 'send gifts', now);
  checkNotRestricted(session.creator, RestrictionKind.RECEIVING);
  checkAge(policy, session.creator, 'receive gifts', now);
  const coins = gift.coins * BigInt(input.quantity);
  const balance = wallet?.balance ?? 0n;
  if (balance < 0n) throw new OutstandingDebtError(-balance);
  if (balance < coins) throw new InsufficientCoinsError(coins, balance);
  checkSpendingLimits(policy, sender, spent, coins, now);
  return {
    liveSessionId: session.id,
    senderId: sender.id,
    creatorId: session.creatorId,
    giftId: gift.id,
    quantity: input.quantity,
    coins,
    diamonds: convertDown(coins, DIAMONDS_PER_COIN),
  };
}

/**
 * Everything the batch's checks need, in one statement: the senders' (locked) wallets, each sender's
 * spending this day and week, the sessions with their creators and the creators' diamond accounts
 * (opened on first use), the gifts, and the brands' campaigns that may match them (candidates only).
 */
async function loadContexts(tx: SqlTx, requests: Request[], day: Date, now: Date): Promise<GiftContext[]> {
  const weekStart = new Date(day.getTime() - 6 * 86_400_000);
  const senders = requests.map((r) => r.senderId);
  const sessions = requests.map((r) => r.input.liveSessionId);
  const rows = await tx.$queryRaw<
    {
      senderId: string | null; handle: string; displayName: string; senderBirthDate: Date; senderCountry: string; senderPendingCountry: string | null; senderCountryChangesAt: Date | null; senderRestrictions: RestrictionKind[];
      dailyLimitCoins: bigint | null; pendingDailyLimit: bigint | null; pendingLimitActiveAt: Date | null;
      walletId: string | null; balance: bigint | null; spentToday: bigint; spentWeek: bigint;
      sessionId: string | null; status: LiveSessionStatus; creatorId: string; creatorBirthDate: Date; creatorCountry: string; creatorPendingCountry: string | null; creatorCountryChangesAt: Date | null; creatorRestrictions: RestrictionKind[];
      creatorDiamonds: string | null;
      giftId: string | null; name: string; imageUrl: string; animationUrl: string | null; coins: bigint; active: boolean; countries: string[];
      campaigns: CampaignCandidate[] | null;
    }[]
  >`
    WITH wallets AS (SELECT id, "userId", balance FROM "Account" WHERE "userId" = ANY(${senders}::uuid[]) AND asset = 'COIN'),
    creators AS (SELECT DISTINCT "creatorId" AS id FROM "LiveSession" WHERE id = ANY(${sessions}::uuid[])),
    opened AS (
      INSERT INTO "Account" (id, owner, "userId", asset)
      SELECT gen_random_uuid(), 'USER', c.id, 'DIAMOND' FROM creators c
      WHERE NOT EXISTS (SELECT 1 FROM "Account" WHERE "userId" = c.id AND asset = 'DIAMOND')
      ON CONFLICT ("userId", asset) DO NOTHING
      RETURNING id, "userId"),
    diamonds AS (
      SELECT id, "userId" FROM opened
      UNION ALL SELECT a.id, a."userId" FROM "Account" a JOIN creators c ON c.id = a."userId" WHERE a.asset = 'DIAMOND'),
    campaigns AS (${campaignCandidatesClause(now)})
    SELECT r.n,
      u.id AS "senderId", u.handle, u."displayName", u."birthDate" AS "senderBirthDate", u.country::text AS "senderCountry",
      u."pendingCountry"::text AS "senderPendingCountry", u."countryChangesAt" AS "senderCountryChangesAt",
      u.restrictions::text[] AS "senderRestrictions", u."dailyLimitCoins", u."pendingDailyLimit", u."pendingLimitActiveAt",
      w.id AS "walletId", w.balance,
      coalesce(spend.today, 0)::bigint AS "spentToday", coalesce(spend.week, 0)::bigint AS "spentWeek",
      s.id AS "sessionId", s.status::text AS status, s."creatorId",
      c."birthDate" AS "creatorBirthDate", c.country::text AS "creatorCountry", c.restrictions::text[] AS "creatorRestrictions",
      c."pendingCountry"::text AS "creatorPendingCountry", c."countryChangesAt" AS "creatorCountryChangesAt",
      d.id AS "creatorDiamonds",
      g.id AS "giftId", g.name, g."imageUrl", g."animationUrl", g.coins, g.active, g.countries, m.candidates AS campaigns
    FROM unnest(${senders}::uuid[], ${sessions}::uuid[], ${requests.map((r) => r.input.giftId)}::uuid[]) WITH ORDINALITY AS r(sender, session, gift, n)
    LEFT JOIN "User" u ON u.id = r.sender
    LEFT JOIN wallets w ON w."userId" = r.sender
    LEFT JOIN LATERAL (
      SELECT sum(coins) FILTER (WHERE day = ${day}::date) AS today, sum(coins) AS week
      FROM "DailySpend" WHERE "userId" = r.sender AND day >= ${weekStart}::date) spend ON true
    LEFT JOIN "LiveSession" s ON s.id = r.session
    LEFT JOIN "User" c ON c.id = s."creatorId"
    LEFT JOIN diamonds d ON d."userId" = s."creatorId"
    LEFT JOIN "Gift" g ON g.id = r.gift
    LEFT JOIN campaigns m ON m.creator = s."creatorId"
    ORDER BY r.n`;
  return rows.map((row) => ({
    sender: row.senderId
      ? {
          id: row.senderId, handle: row.handle, displayName: row.displayName, birthDate: row.senderBirthDate, country: row.senderCountry,
          pendingCountry: row.senderPendingCountry, countryChangesAt: row.senderCountryChangesAt,
          restrictions: row.senderRestrictions, dailyLimitCoins: row.dailyLimitCoins, pendingDailyLimit: row.pendingDailyLimit,
          pendingLimitActiveAt: row.pendingLimitActiveAt,
        }
      : undefined,
    wallet: row.walletId ? { accountId: row.walletId, balance: row.balance! } : undefined,
    spent: { today: row.spentToday, lastSevenDays: row.spentWeek },
    session: row.sessionId
      ? {
          id: row.sessionId, status: row.status, creatorId: row.creatorId,
          creator: {
            id: row.creatorId, birthDate: row.creatorBirthDate, country: row.creatorCountry, pendingCountry: row.creatorPendingCountry,
            countryChangesAt: row.creatorCountryChangesAt, restrictions: row.creatorRestrictions,
          },
        }
      : undefined,
    creatorDiamonds: row.creatorDiamonds,
    campaigns: row.campaigns,
    gift: row.giftId
      ? { id: row.giftId, name: row.name, imageUrl: row.imageUrl, animationUrl: row.animationUrl, coins: row.coins, active: row.active, countries: row.countries }
      : undefined,
  }));
}

/** A creator's diamond account that another transaction opened while this batch read (rare). */
async function openDiamondAccount(tx: SqlTx, creatorId: string): Promise<string> {
  return (await userAccountIds(tx, [creatorId], Asset.DIAMOND)).get(creatorId)!;
}

/** The statements that record sent gifts and add them to their senders' spending for the day. */
function sentGiftWrites(gifts: SentGift[], day: Date): Record<string, Prisma.Sql> {
  const column = <K extends keyof SentGift>(key: K) => gifts.map((gift) => gift[key]);
  return {
    sent: Prisma.sql`
      INSERT INTO "SentGift" (id, "liveSessionId", "senderId", "creatorId", "giftId", quantity, coins, diamonds, "comboId", "entryId", "createdAt")
      SELECT * FROM unnest(${column('id')}::uuid[], ${column('liveSessionId')}::uuid[], ${column('senderId')}::uuid[],
        ${column('creatorId')}::uuid[], ${column('giftId')}::uuid[], ${column('quantity')}::int[],
        ${column('coins').map(String)}::bigint[], ${column('diamonds').map(String)}::bigint[], ${column('comboId')}::text[],
        ${column('entryId')}::uuid[], ${column('createdAt')}::timestamptz[])`,
    spend: Prisma.sql`
      INSERT INTO "DailySpend" ("userId", day, coins)
      SELECT u, ${day}::date, c FROM unnest(${column('senderId')}::uuid[], ${column('coins').map(String)}::bigint[]) AS d(u, c)
      ON CONFLICT ("userId", day) DO UPDATE SET coins = "DailySpend".coins + EXCLUDED.coins`,
  };
}

async function replayGifts(tx: SqlTx, replays: { index: number; outcome: Outcome<{ sentGiftId: string }> }[], results: Settled[]) {
  if (replays.length === 0) return;
  const ids = replays.flatMap(({ outcome }) => ('ok' in outcome ? [outcome.ok.sentGiftId] : []));
  // Columns named: the statement is prepared (driver.ts), and `*` would break it when a column is added.
  const rows = await tx.$queryRaw<SentGift[]>`
    SELECT id, "liveSessionId", "senderId", "creatorId", "giftId", quantity, coins, diamonds, "comboId", "entryId", "createdAt"
    FROM "SentGift" WHERE id = ANY(${ids}::uuid[])`;
  const gifts = new Map(rows.map((gift) => [gift.id, gift]));
  for (const { index, outcome } of replays) {
    try {
      const { sentGiftId } = replay(outcome);
      results[index] = { gift: gifts.get(sentGiftId)!, fresh: false };
    } catch (error) {
      results[index] = { error, fresh: false };
    }
  }
}
