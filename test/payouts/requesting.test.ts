import { describe, expect, test } from 'vitest';
import { ok } from '../support/graphql.js';
import { aged, countTypes, moneySnapshot } from '../support/gifting.js';
import { expectCleanAudit, uniqueKey } from '../support/money.js';
import { startTestServer } from '../support/server.js';
import { CancelPayout, PayoutRulesQuery, PayoutsRestrictAccount, RemovePayoutMethod, RequestPayout } from './documents.js';
import {
  addWallet,
  ask,
  asked,
  creatorWith,
  diamondsOf,
  earn,
  expectAuditCleanOverGraphQL,
  gid,
  payoutAccounts,
  quote,
  readyMethod,
  signedIn,
  signedInAdmin,
  startPayoutServer,
} from './support.js';

// A fee of 1.50 USD, and (to keep the daily cap within reach) payouts approved by an operator only.
const server = await startPayoutServer({ PAYOUT_FEE_CENTS: '150' });
const { db } = server;
const admin = await signedInAdmin(db);

/** A creator holding `diamonds`, with a verified first method. */
async function ready(diamonds: bigint) {
  const { creator, session } = await creatorWith(db, diamonds);
  return { creator, session, methodId: await readyMethod(server, creator, admin) };
}

const payoutsOf = (creatorId: string) => db.payout.count({ where: { creatorId } });

describe('the quote shows the cash, the fee, what arrives and any reason for refusal, and changes nothing', () => {
  test('diamonds that do not make a whole cent stay with the creator; the fee comes off what arrives', async () => {
    const { creator, methodId } = await ready(30_000n);
    const before = await moneySnapshot(db);
    expect(await quote(server, creator, methodId, 20_001n)).toEqual({
      __typename: 'PayoutQuote',
      askedDiamonds: '20001',
      diamonds: '20000',
      keptDiamonds: '1',
      amountMinor: '10000',
      feeMinor: '150',
      netMinor: '9850',
      currency: 'USD',
      approvalsNeeded: 1,
      method: { id: methodId, display: 'p•••@sandbox.ovation.dev' },
      refusals: [],
    });
    expect(await moneySnapshot(db)).toEqual(before);
    expect(await payoutsOf(creator.id)).toBe(0);

    // The payout is what was quoted.
    expect(await asked(server, creator, methodId, 20_001n)).toMatchObject({ diamonds: '20000', amountMinor: '10000', feeMinor: '150', netMinor: '9850' });
    expect(await diamondsOf(server, creator)).toBe(10_000n);
    await expectCleanAudit(db);
  });

  test('every reason a request would be refused is listed, in the order the request checks them', async () => {
    const { creator, methodId } = await ready(5_000n);
    const { refusals } = await quote(server, creator, methodId, 400_000n);
    expect(refusals.map((refusal) => refusal.__typename)).toEqual(['PayoutDailyCapError', 'InsufficientDiamondsError']);
    expect(refusals[0]).toMatchObject({ code: 'PAYOUT_DAILY_CAP_REACHED', capMinor: '100000', remainingMinor: '100000' });
    expect(refusals[1]).toMatchObject({ code: 'INSUFFICIENT_DIAMONDS', neededDiamonds: '400000', availableDiamonds: '5000' });
    expect((await quote(server, creator, methodId, 4_000n)).refusals).toMatchObject([{ __typename: 'PayoutBelowMinimumError', minimumDiamonds: '10000' }]);
  });

  test('the published rules say the same', async () => {
    expect((await ok(server.url, PayoutRulesQuery)).payoutRules).toEqual({
      currency: 'USD',
      usdCentsPerDiamond: { numerator: '1', denominator: '2' },
      minimumDiamonds: '10000',
      dailyCapMinor: '100000',
      feeMinor: '150',
      autoApproveMaxMinor: null,
      secondApprovalAboveMinor: '50000',
      methodCoolingOffHours: 120,
    });
  });
});

describe('a request is refused, with a typed error and nothing changed, when', () => {
  async function expectRefused(creator: { token: string; id: string }, methodId: string, diamonds: bigint, expected: object) {
    const before = await moneySnapshot(db);
    const payouts = await payoutsOf(creator.id);
    expect(await ask(server, creator, methodId, diamonds)).toMatchObject(expected);
    expect(await moneySnapshot(db)).toEqual(before);
    expect(await payoutsOf(creator.id)).toBe(payouts);
    await expectCleanAudit(db);
  }

  test('it is below the minimum', async () => {
    const { creator, methodId } = await ready(30_000n);
    await expectRefused(creator, methodId, 9_999n, { __typename: 'PayoutBelowMinimumError', code: 'PAYOUT_BELOW_MINIMUM', minimumDiamonds: '10000' });
  });

  test('the creator holds fewer diamonds', async () => {
    const { creator, methodId } = await ready(15_000n);
    await expectRefused(creator, methodId, 15_002n, { __typename: 'InsufficientDiamondsError', neededDiamonds: '15002', availableDiamonds: '15000' });
  });

  test('the creator is under the age gate of their country', async () => {
    const { creator, methodId } = await ready(30_000n);
    // 18 is old enough in the US; having moved to Korea, they must be 19 to cash out.
    await db.user.update({ where: { id: creator.id }, data: { birthDate: aged(18), country: 'KR' } });
    await expectRefused(creator, methodId, 10_000n, { __typename: 'AgeRestrictedError', code: 'AGE_RESTRICTED', minimumAge: 19 });
  });

  test('the creator is restricted from payouts', async () => {
    const { creator, methodId } = await ready(30_000n);
    await ok(server.url, PayoutsRestrictAccount, { input: { userId: gid('User', creator.id), kind: 'PAYOUTS', reason: 'Chargebacks under review' } }, { token: admin.token });
    await expectRefused(creator, methodId, 10_000n, { __typename: 'AccountRestrictedError', code: 'ACCOUNT_RESTRICTED', restriction: 'PAYOUTS' });
  });

  test('the method is not verified', async () => {
    const { creator } = await creatorWith(db, 30_000n);
    const method = await addWallet(server, creator, 'max@example.com');
    await expectRefused(creator, method.id, 10_000n, { __typename: 'PayoutMethodUnverifiedError', code: 'PAYOUT_METHOD_UNVERIFIED' });
  });

  test('the method was removed, or is someone else\'s', async () => {
    const { creator, methodId } = await ready(30_000n);
    const { methodId: theirs } = await ready(30_000n);
    await expectRefused(creator, theirs, 10_000n, { __typename: 'NotFoundError', code: 'NOT_FOUND' });
    await ok(server.url, RemovePayoutMethod, { input: { methodId } }, { token: creator.token });
    await expectRefused(creator, methodId, 10_000n, { __typename: 'NotFoundError' });
  });

  test('it would pass the daily cap; payouts canceled today no longer count', async () => {
    const { creator, methodId } = await ready(400_000n);
    const first = await asked(server, creator, methodId, 150_000n);
    await asked(server, creator, methodId, 40_000n);
    // 750 + 200 USD asked today: 50 left.
    await expectRefused(creator, methodId, 10_002n, { __typename: 'PayoutDailyCapError', capMinor: '100000', remainingMinor: '5000' });
    expect(await asked(server, creator, methodId, 10_000n)).toMatchObject({ amountMinor: '5000' });
    await ok(server.url, CancelPayout, { input: { payoutId: first.id, idempotencyKey: uniqueKey('cancel') } }, { token: creator.token });
    expect(await asked(server, creator, methodId, 150_000n)).toMatchObject({ amountMinor: '75000' });
  });

  test('the user is not a creator', async () => {
    const viewer = await signedIn(db);
    const { methodId } = await ready(30_000n);
    expect(await ask(server, viewer, methodId, 10_000n)).toMatchObject({ __typename: 'ForbiddenError', code: 'FORBIDDEN' });
  });

  test('the server has no payout provider: PAYOUT_PROVIDER_UNAVAILABLE, and not even the key is kept', async () => {
    const { creator, methodId } = await ready(30_000n);
    const without = await startTestServer({ database: server.database, sandbox: false });
    const key = uniqueKey('payout');
    const before = await moneySnapshot(db);
    expect((await ok(without.url, RequestPayout, { input: { diamonds: '10000', methodId, idempotencyKey: key } }, { token: creator.token })).requestPayout).toMatchObject({
      __typename: 'PayoutProviderUnavailableError',
      code: 'PAYOUT_PROVIDER_UNAVAILABLE',
    });
    expect(await moneySnapshot(db)).toEqual(before);
    expect(await db.idempotencyKey.count({ where: { callerId: creator.id, key } })).toBe(0);
    // With a provider, the same key is a first request.
    expect(await ask(server, creator, methodId, 10_000n, key)).toMatchObject({ __typename: 'Payout' });
    await expectCleanAudit(db);
  });
});

describe('requests are idempotent on the creator\'s key', () => {
  test('the same key and input returns the first payout; other input is a conflict; a refusal is replayed', async () => {
    const { creator, methodId, session } = await ready(30_000n);
    const key = uniqueKey('payout');
    const first = await ask(server, creator, methodId, 10_000n, key);
    expect(first).toMatchObject({ __typename: 'Payout', status: 'REQUESTED' });
    expect(await ask(server, creator, methodId, 10_000n, key)).toEqual(first);
    expect(await ask(server, creator, methodId, 12_000n, key)).toMatchObject({ __typename: 'IdempotencyConflictError', code: 'IDEMPOTENCY_CONFLICT' });
    expect(await payoutsOf(creator.id)).toBe(1);
    expect(await diamondsOf(server, creator)).toBe(20_000n);

    const refusedKey = uniqueKey('payout');
    expect(await ask(server, creator, methodId, 25_000n, refusedKey)).toMatchObject({ __typename: 'InsufficientDiamondsError' });
    // More diamonds arrive, but the retry gets the first answer.
    await earn(db, creator, session.id, 10_000n);
    expect(await ask(server, creator, methodId, 25_000n, refusedKey)).toMatchObject({ __typename: 'InsufficientDiamondsError', availableDiamonds: '20000' });
    expect(await payoutsOf(creator.id)).toBe(1);
    await expectCleanAudit(db);
  });

  test('ten retries of one key at once make one payout, and all get it', async () => {
    const { creator, methodId } = await ready(30_000n);
    const key = uniqueKey('payout');
    const results = await Promise.all(Array.from({ length: 10 }, () => ask(server, creator, methodId, 10_000n, key)));
    expect(countTypes(results)).toEqual({ Payout: 10 });
    expect(new Set(results.map((result) => (result.__typename === 'Payout' ? result.id : '')))).toHaveProperty('size', 1);
    expect(await payoutsOf(creator.id)).toBe(1);
    expect(await diamondsOf(server, creator)).toBe(20_000n);
    await expectCleanAudit(db);
  });
});

describe('concurrent requests', () => {
  test('two at once that together exceed the balance: one is held, the other refused', async () => {
    const { creator, methodId } = await ready(30_000n);
    const results = await Promise.all([ask(server, creator, methodId, 20_000n), ask(server, creator, methodId, 20_000n)]);
    expect(countTypes(results)).toEqual({ Payout: 1, InsufficientDiamondsError: 1 });
    expect(results.find((result) => result.__typename === 'InsufficientDiamondsError')).toMatchObject({ availableDiamonds: '10000' });
    expect(await diamondsOf(server, creator)).toBe(10_000n);
    expect(await payoutsOf(creator.id)).toBe(1);
    await expectCleanAudit(db);
  });

  test('twenty at once near the daily cap: the cap is never passed', async () => {
    const { creator, methodId } = await ready(400_000n);
    // 60 USD each: sixteen make 960 USD; a seventeenth would pass 1,000.
    const results = await Promise.all(Array.from({ length: 20 }, () => ask(server, creator, methodId, 12_000n)));
    expect(countTypes(results)).toEqual({ Payout: 16, PayoutDailyCapError: 4 });
    const today = await db.payout.aggregate({ where: { creatorId: creator.id }, _sum: { amountMinor: true, diamonds: true } });
    expect(today._sum.amountMinor).toBe(96_000n);
    expect(await diamondsOf(server, creator)).toBe(400_000n - 16n * 12_000n);
    expect((await payoutAccounts(db)).held).toBeGreaterThanOrEqual(16n * 12_000n);
    await expectCleanAudit(db);
  });
});

describe('the ledger after all of the above', () => {
  test('is clean', async () => {
    await expectAuditCleanOverGraphQL(server);
    await expectCleanAudit(db);
  });
});
