import { beforeAll, describe, expect, test } from 'vitest';
import { auditLedger } from '../../src/domain/audit.js';
import { createGiftSender } from '../../src/domain/gifting.js';
import { endLiveSession } from '../../src/domain/live-sessions.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { silentAnnouncer } from '../../src/events/announcer.js';
import { createTestDatabase } from '../support/database.js';
import { moneySnapshot } from '../support/gifting.js';
import { createCatalogGift, createFundedViewer, createLiveCreator, expectCleanAudit, uniqueKey } from '../support/money.js';

// Beneath the domain's own checks, the database refuses by itself what would break a money rule
// (migration money_guards): should a code path ever skip a rule, its statement fails and moves nothing.
// Each statement below is what such a path would run. A user's coins may still run below zero: the
// chargeback tests (test/purchases) take spent coins back through the real path, leaving a debt.

const { db } = await createTestDatabase();

beforeAll(async () => {
  // One of everything: a purchase, a gift with its entry and postings, supporter totals (all-time ones
  // once the session has ended), the day's spending.
  const viewer = await createFundedViewer(db, 100n);
  const { creator, session } = await createLiveCreator(db);
  const rose = await createCatalogGift(db, 5n);
  await createGiftSender(db, silentAnnouncer, DEFAULT_POLICY).send(viewer.id, { liveSessionId: session.id, giftId: rose.id, quantity: 2, idempotencyKey: uniqueKey() });
  await endLiveSession(db, silentAnnouncer, creator.id, session.id);
  await db.$executeRaw`UPDATE "LiveSession" SET "goalCoins" = 500`;
});

describe('the journal is append-only', () => {
  test.each([
    ['changing a posting', `UPDATE "Posting" SET amount = amount * 2`],
    ['deleting a posting', `DELETE FROM "Posting"`],
    ['truncating the postings', `TRUNCATE "Posting" CASCADE`],
    ['changing an entry', `UPDATE "JournalEntry" SET memo = 'edited'`],
    ['deleting an entry', `DELETE FROM "JournalEntry"`],
  ])('%s is refused, and the ledger is as it was', async (_, statement) => {
    const before = await moneySnapshot(db);
    await expect(db.$executeRawUnsafe(statement)).rejects.toThrow(/The journal is append-only/);
    expect(await moneySnapshot(db)).toEqual(before);
    await expectCleanAudit(db);
  });
});

describe('a row that breaks a money rule is refused', () => {
  test.each([
    ['a posting of zero', 'Posting_amount_check', `INSERT INTO "Posting" ("entryId", "accountId", asset, amount) SELECT "entryId", "accountId", asset, 0 FROM "Posting" LIMIT 1`],
    ["a creator's diamonds below zero", 'Account_balance_check', `UPDATE "Account" SET balance = -1 WHERE owner = 'USER' AND asset = 'DIAMOND'`],
    ['an account of nobody', 'Account_owner_check', `INSERT INTO "Account" (id, owner, asset) VALUES (gen_random_uuid(), 'USER', 'COIN')`],
    ['a platform account of a user', 'Account_owner_check', `UPDATE "Account" SET owner = 'PLATFORM' WHERE owner = 'USER'`],
    ['a combo of 100', 'SentGift_amounts_check', `UPDATE "SentGift" SET quantity = 100`],
    ['a gift sent for nothing', 'SentGift_amounts_check', `UPDATE "SentGift" SET coins = 0`],
    ['a catalog gift for nothing', 'Gift_coins_check', `UPDATE "Gift" SET coins = 0`],
    ['a bundle of no coins', 'CoinBundle_coins_check', `UPDATE "CoinBundle" SET coins = 0`],
    ['a bundle with a negative bonus', 'CoinBundle_coins_check', `UPDATE "CoinBundle" SET "bonusCoins" = -1`],
    ['a free price', 'BundlePrice_amountMinor_check', `UPDATE "BundlePrice" SET "amountMinor" = 0`],
    ['a purchase of no coins', 'Purchase_amounts_check', `UPDATE "Purchase" SET coins = 0`],
    ['a debt of nothing', 'ChargebackDebt_coins_check', `INSERT INTO "ChargebackDebt" (id, "userId", "purchaseId", coins) SELECT gen_random_uuid(), "buyerId", id, 0 FROM "Purchase" LIMIT 1`],
    ['negative spending', 'DailySpend_coins_check', `UPDATE "DailySpend" SET coins = -1`],
    ['a negative daily limit', 'User_limits_check', `UPDATE "User" SET "dailyLimitCoins" = -1`],
    ['a negative raised limit waiting', 'User_limits_check', `UPDATE "User" SET "pendingDailyLimit" = -1`],
    ["a room's total below zero", 'LiveSession_totals_check', `UPDATE "LiveSession" SET "totalCoins" = -1`],
    ['a goal of no coins', 'LiveSession_totals_check', `UPDATE "LiveSession" SET "goalCoins" = 0`],
    ['a room supporter who gave nothing', 'SessionSupporter_coins_check', `UPDATE "SessionSupporter" SET coins = 0`],
    ["a day's supporter who gave nothing", 'CreatorSupportDay_coins_check', `UPDATE "CreatorSupportDay" SET coins = 0`],
    ['an all-time supporter who gave nothing', 'CreatorSupporter_coins_check', `UPDATE "CreatorSupporter" SET coins = 0`],
  ])('%s: refused by %s', async (_, constraint, statement) => {
    const before = await moneySnapshot(db);
    await expect(db.$executeRawUnsafe(statement)).rejects.toThrow(`violates check constraint "${constraint}"`);
    expect(await moneySnapshot(db)).toEqual(before);
  });
});

// The gift path's rows carry no foreign keys (migration gift_path_references): the rows they name can
// neither go nor change their ids, and the audit finds any reference that does not hold.
describe('rows the ledger and the rooms name stay', () => {
  test.each([
    ['deleting a user', `DELETE FROM "User"`],
    ['truncating the users', `TRUNCATE "User" CASCADE`],
    ['deleting an account', `DELETE FROM "Account" WHERE owner = 'USER'`],
    ['deleting a live session', `DELETE FROM "LiveSession"`],
    ['deleting a catalog gift', `DELETE FROM "Gift"`],
    ['deleting a sent gift', `DELETE FROM "SentGift"`],
    ["changing a user's id", `UPDATE "User" SET id = gen_random_uuid()`],
    ["changing an account's id", `UPDATE "Account" SET id = gen_random_uuid() WHERE owner = 'USER'`],
    ["changing a live session's id", `UPDATE "LiveSession" SET id = gen_random_uuid()`],
    ["changing a catalog gift's id", `UPDATE "Gift" SET id = gen_random_uuid()`],
    ["changing a sent gift's id", `UPDATE "SentGift" SET id = gen_random_uuid()`],
  ])('%s is refused, and the ledger is as it was', async (_, statement) => {
    const before = await moneySnapshot(db);
    await expect(db.$executeRawUnsafe(statement)).rejects.toThrow(/are named by the ledger and the rooms/);
    expect(await moneySnapshot(db)).toEqual(before);
    await expectCleanAudit(db);
  });

  test('a posting, sent gift or room event naming a row that does not exist is found by the audit', async () => {
    const { db: broken } = await createTestDatabase();
    const viewer = await createFundedViewer(broken, 100n);
    const { session } = await createLiveCreator(broken);
    const rose = await createCatalogGift(broken, 5n);
    await createGiftSender(broken, silentAnnouncer, DEFAULT_POLICY).send(viewer.id, { liveSessionId: session.id, giftId: rose.id, quantity: 1, idempotencyKey: uniqueKey() });
    await expectCleanAudit(broken);
    // A balanced pair on an entry that exists, one leg on an account that does not.
    await broken.$executeRaw`
      INSERT INTO "Posting" ("entryId", "accountId", asset, amount)
      SELECT "entryId", unnest(ARRAY["accountId", gen_random_uuid()]), asset, unnest(ARRAY[1, -1])
      FROM (SELECT "entryId", "accountId", asset FROM "Posting" WHERE amount > 0 AND asset = 'COIN' LIMIT 1) p`;
    await broken.$executeRaw`UPDATE "SentGift" SET "giftId" = gen_random_uuid()`;
    const violations = await auditLedger(broken);
    expect(violations.filter((v) => v.invariant === 'Every posting, sent gift and room event names rows that exist').map((v) => JSON.parse(v.detail).table).sort()).toEqual([
      'Posting',
      'SentGift',
    ]);
  });

  test("supporter totals that do not add up to the gifts are found by the audit, a live session's in the all-time totals too", async () => {
    const { db: broken } = await createTestDatabase();
    const viewer = await createFundedViewer(broken, 100n);
    const { creator, session } = await createLiveCreator(broken);
    const rose = await createCatalogGift(broken, 5n);
    await createGiftSender(broken, silentAnnouncer, DEFAULT_POLICY).send(viewer.id, { liveSessionId: session.id, giftId: rose.id, quantity: 1, idempotencyKey: uniqueKey() });
    await expectCleanAudit(broken);
    await broken.$executeRaw`UPDATE "SessionSupporter" SET coins = coins + 1`;
    await broken.$executeRaw`UPDATE "CreatorSupportDay" SET coins = coins + 1`;
    await broken.$executeRaw`INSERT INTO "CreatorSupporter" ("creatorId", "senderId", coins) VALUES (${creator.id}::uuid, ${viewer.id}::uuid, 5)`;
    const violations = await auditLedger(broken);
    expect(violations.filter((v) => v.invariant === 'Supporter totals add up to the gifts').map((v) => JSON.parse(v.detail).table).sort()).toEqual([
      'CreatorSupportDay',
      'CreatorSupporter',
      'SessionSupporter',
    ]);
  });
});
