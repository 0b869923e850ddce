import { beforeAll, describe, expect, test } from 'vitest';
import { silentAnnouncer } from '../../src/events/announcer.js';
import { approvePayout, type PayoutDeps } from '../../src/domain/payouts/lifecycle.js';
import { addPayoutMethod, verifyPayoutMethod } from '../../src/domain/payouts/methods.js';
import { requestPayout } from '../../src/domain/payouts/requests.js';
import { createSandboxPayoutProvider, SANDBOX_PAYEES } from '../../src/domain/payouts/sandbox.js';
import { record, PLATFORM, userAccountIds } from '../../src/domain/ledger.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { auditLedger } from '../../src/domain/audit.js';
import { createLogger } from '../../src/logger.js';
import { createTestDatabase } from '../support/database.js';
import { moneySnapshot } from '../support/gifting.js';
import { expectCleanAudit, uniqueKey } from '../support/money.js';
import { createUser } from '../support/users.js';
import { creatorWith, TEST_PAYOUT_WEBHOOK_SECRET } from './support.js';

// Beneath the domain's own checks, the database refuses by itself what would break a payout rule
// (migration payouts): should a code path ever skip a rule, its statement fails and changes nothing.
// And what a path could still get wrong, the audit finds.

const { db } = await createTestDatabase();
const provider = createSandboxPayoutProvider({ webhookSecrets: [TEST_PAYOUT_WEBHOOK_SECRET], returnAfterMs: 60_000 });
const deps: PayoutDeps = { db, policy: DEFAULT_POLICY, provider, announce: silentAnnouncer, log: createLogger('silent') };
let creatorId: string;
let requested: string;
let paid: string;

beforeAll(async () => {
  const admin = await createUser(db, { roles: ['VIEWER', 'ADMIN'] });
  const { creator } = await creatorWith(db, 50_000n);
  creatorId = creator.id;
  const method = await addPayoutMethod(deps, creator.id, { emailWallet: { email: SANDBOX_PAYEES.pays.email } });
  await verifyPayoutMethod(deps, admin.id, { methodId: method.id });
  const ask = () => requestPayout(deps, creator.id, { diamonds: 10_000n, methodId: method.id, idempotencyKey: uniqueKey() });
  requested = (await ask()).id;
  paid = (await approvePayout(deps, admin.id, { payoutId: (await ask()).id, idempotencyKey: uniqueKey() })).id;
  expect(await db.payout.findUniqueOrThrow({ where: { id: paid } })).toMatchObject({ status: 'PAID' });
});

describe('a payout moves only along its lifecycle', () => {
  test.each([
    ['PAID -> REJECTED', () => `UPDATE "Payout" SET status = 'REJECTED' WHERE id = '${paid}'`, /A PAID payout cannot become REJECTED/],
    ['REQUESTED -> PAID', () => `UPDATE "Payout" SET status = 'PAID' WHERE id = '${requested}'`, /A REQUESTED payout cannot become PAID/],
    [
      'a payout that starts approved',
      () => `INSERT INTO "Payout" (id, "creatorId", "methodId", status, diamonds, "amountMinor", "feeMinor", currency, provider, "approvalsNeeded", "holdEntryId", "updatedAt")
             SELECT gen_random_uuid(), "creatorId", "methodId", 'APPROVED', diamonds, "amountMinor", "feeMinor", currency, provider, 1, "holdEntryId", now() FROM "Payout" LIMIT 1`,
      /A payout starts REQUESTED, not APPROVED/,
    ],
    ['a change of amount', () => `UPDATE "Payout" SET "amountMinor" = "amountMinor" + 1 WHERE id = '${requested}'`, /amounts, creator, method and entries never change/],
    ['a second paid entry', () => `UPDATE "Payout" SET "paidEntryId" = "holdEntryId" WHERE id = '${paid}'`, /never change/],
    ['an edit of the history', () => `UPDATE "PayoutChange" SET note = 'edited'`, /history is append-only/],
    ['a hold on a paid payout', () => `INSERT INTO "PayoutHold" (id, "payoutId", reason) VALUES (gen_random_uuid(), '${paid}', 'FRAUD_REVIEW')`, /Only a REQUESTED or APPROVED payout can be held/],
    ['a new destination for a method', () => `UPDATE "PayoutMethod" SET destination = 'thief@example.com'`, /Where a payout method pays never changes/],
  ])('%s is refused, and nothing changes', async (_, statement, message) => {
    const before = await moneySnapshot(db);
    const payouts = await db.payout.findMany({ orderBy: { id: 'asc' } });
    await expect(db.$executeRawUnsafe(statement())).rejects.toThrow(message);
    expect(await moneySnapshot(db)).toEqual(before);
    expect(await db.payout.findMany({ orderBy: { id: 'asc' } })).toEqual(payouts);
    await expectCleanAudit(db);
  });

  test('a hold in force blocks approval, and two of one reason cannot be in force', async () => {
    await db.$executeRaw`INSERT INTO "PayoutHold" (id, "payoutId", reason) VALUES (gen_random_uuid(), ${requested}::uuid, 'FRAUD_REVIEW')`;
    await expect(db.$executeRaw`INSERT INTO "PayoutHold" (id, "payoutId", reason) VALUES (gen_random_uuid(), ${requested}::uuid, 'FRAUD_REVIEW')`).rejects.toThrow(/PayoutHold_in_force_key/);
    await expect(db.$executeRaw`UPDATE "Payout" SET status = 'APPROVED' WHERE id = ${requested}::uuid`).rejects.toThrow(/has a hold in force/);
    await db.$executeRaw`UPDATE "PayoutHold" SET "releasedAt" = now() WHERE "payoutId" = ${requested}::uuid`;
  });

  test('the payout accounts never go below zero', async () => {
    await expect(db.$executeRaw`UPDATE "Account" SET balance = -1 WHERE id = ${PLATFORM.diamondPaidOut}::uuid`).rejects.toThrow(/Account_payout_balances_check/);
  });
});

describe('what the database cannot see, the audit finds', () => {
  test('diamonds moved to the payout hold by no payout', async () => {
    const account = (await userAccountIds(db, [creatorId], 'DIAMOND')).get(creatorId)!;
    await db.$transaction((tx) =>
      record(tx, [
        {
          kind: 'PAYOUT_HOLD',
          memo: 'A payout nobody asked for',
          postings: [
            { accountId: account, asset: 'DIAMOND', amount: -5n },
            { accountId: PLATFORM.payoutHold, asset: 'DIAMOND', amount: 5n },
          ],
        },
      ]),
    );
    expect((await auditLedger(db)).map((violation) => violation.invariant)).toEqual([
      'Diamonds in the payout hold = payouts REQUESTED, APPROVED or PROCESSING',
      'Each payout entry belongs to a payout',
    ]);
  });
});
