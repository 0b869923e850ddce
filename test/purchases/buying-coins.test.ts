import { describe, expect, test } from 'vitest';
import type { PaymentProvider } from '../../src/domain/payments/provider.js';
import { SANDBOX_METHODS } from '../../src/domain/payments/sandbox.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { purchaseCoins } from '../../src/domain/purchases.js';
import { silentAnnouncer } from '../../src/events/announcer.js';
import { EntryKind, RestrictionKind } from '../../src/generated/prisma/client.js';
import { ok } from '../support/graphql.js';
import { expectCleanAudit, sandbox, uniqueKey } from '../support/money.js';
import { startTestServer } from '../support/server.js';
import { within } from '../support/wait.js';
import { PurchasesRestrictAccount } from './documents.js';
import {
  bought,
  buy,
  createTestBundle,
  expectLedgerAuditCleanOverGraphQL,
  globalId,
  paymentEvent,
  postWebhook,
  purchaseRecord,
  signedIn,
  signedInAdmin,
  walletOf,
} from './support.js';

const server = await startTestServer();
const { db } = server;

/** 65 coins + 5 bonus: 0.99 USD by default, 1.09 EUR in the EU, 0.89 GBP in the UK. */
const regionalBundle = () =>
  createTestBundle(db, {
    name: 'Handful',
    coins: 65n,
    bonusCoins: 5n,
    prices: [
      { region: 'DEFAULT', amountMinor: 99n, currency: 'USD' },
      { region: 'EU', amountMinor: 109n, currency: 'EUR' },
      { region: 'GB', amountMinor: 89n, currency: 'GBP' },
    ],
  });

/** Born `years` ago, give or take a day: `under` is a day short of that birthday, otherwise a day past it. */
function bornYearsAgo(years: number, { under = false } = {}): Date {
  const now = new Date();
  const birthday = Date.UTC(now.getUTCFullYear() - years, now.getUTCMonth(), now.getUTCDate());
  return new Date(birthday + (under ? 1 : -1) * 86_400_000);
}

const purchasesOf = (buyerId: string) => db.purchase.count({ where: { buyerId } });
const creditsOf = (buyerId: string) => db.journalEntry.count({ where: { kind: EntryKind.PURCHASE, postings: { some: { account: { userId: buyerId } } } } });

describe('buying a coin bundle', () => {
  test('a card that pays credits the coins plus bonus exactly once, at the price of the buyer\'s region', async () => {
    const bundle = await regionalBundle();
    const cases = [
      { country: 'GB', amountMinor: '89', currency: 'GBP' },
      { country: 'DE', amountMinor: '109', currency: 'EUR' },
      { country: 'US', amountMinor: '99', currency: 'USD' },
    ];
    for (const { country, amountMinor, currency } of cases) {
      const buyer = await signedIn(db, { country });
      const purchase = await bought(server, buyer, bundle.id, SANDBOX_METHODS.succeeds);
      expect(purchase).toMatchObject({ status: 'SUCCEEDED', coins: '70', amountMinor, currency, bundle: { name: 'Handful' } });
      expect(await walletOf(server, buyer)).toEqual({ coins: '70', debtCoins: '0' });
      expect(await purchaseRecord(db, purchase.dbId)).toMatchObject({ status: 'SUCCEEDED', credits: 1, amountMinor: BigInt(amountMinor), currency });
    }
    await expectCleanAudit(db);
  });

  test('a declined card is a PaymentDeclinedError; nothing is credited, and a retry gets the same answer', async () => {
    const bundle = await regionalBundle();
    const buyer = await signedIn(db);
    const key = uniqueKey('declined');

    const declined = await buy(server, buyer, bundle.id, SANDBOX_METHODS.declined, key);
    expect(declined).toEqual({ __typename: 'PaymentDeclinedError', code: 'PAYMENT_DECLINED', message: 'The card was declined' });
    expect(await buy(server, buyer, bundle.id, SANDBOX_METHODS.declined, key)).toEqual(declined);

    expect(await walletOf(server, buyer)).toEqual({ coins: '0', debtCoins: '0' });
    const purchases = await db.purchase.findMany({ where: { buyerId: buyer.id } });
    expect(purchases.map((purchase) => purchase.status)).toEqual(['DECLINED']);
    expect(await creditsOf(buyer.id)).toBe(0);
    await expectCleanAudit(db);
  });

  test('a payment confirmed by webhook is PENDING with no coins until payment.succeeded arrives, then credited once', async () => {
    const bundle = await regionalBundle();
    const buyer = await signedIn(db);

    const purchase = await bought(server, buyer, bundle.id, SANDBOX_METHODS.succeedsByWebhook);
    expect(purchase).toMatchObject({ status: 'PENDING', coins: '70', amountMinor: '99', currency: 'USD' });
    expect(await walletOf(server, buyer)).toEqual({ coins: '0', debtCoins: '0' });
    expect(await purchaseRecord(db, purchase.dbId)).toMatchObject({ status: 'PENDING', credits: 0 });

    expect(await postWebhook(server, paymentEvent('payment.succeeded', purchase.dbId))).toEqual({ status: 200, body: { received: true, result: 'applied' } });
    expect(await walletOf(server, buyer)).toEqual({ coins: '70', debtCoins: '0' });
    expect(await purchaseRecord(db, purchase.dbId)).toMatchObject({ status: 'SUCCEEDED', credits: 1 });

    // The provider's second, distinct notice of the same success credits nothing more.
    expect((await postWebhook(server, paymentEvent('payment.succeeded', purchase.dbId))).body.result).toBe('ignored');
    expect(await walletOf(server, buyer)).toEqual({ coins: '70', debtCoins: '0' });
    expect(await purchaseRecord(db, purchase.dbId)).toMatchObject({ status: 'SUCCEEDED', credits: 1 });
    await expectCleanAudit(db);
  });

  test('a pending payment that fails by webhook is declined and never credits, even if a success notice follows', async () => {
    const bundle = await regionalBundle();
    const buyer = await signedIn(db);
    const purchase = await bought(server, buyer, bundle.id, SANDBOX_METHODS.succeedsByWebhook);

    expect((await postWebhook(server, paymentEvent('payment.failed', purchase.dbId))).body.result).toBe('applied');
    expect((await postWebhook(server, paymentEvent('payment.succeeded', purchase.dbId))).body.result).toBe('ignored');

    expect(await purchaseRecord(db, purchase.dbId)).toMatchObject({ status: 'DECLINED', credits: 0 });
    expect(await walletOf(server, buyer)).toEqual({ coins: '0', debtCoins: '0' });
    await expectCleanAudit(db);
  });

  test('a bundle not priced in the buyer\'s country is a BundleUnavailableError, and nothing is bought', async () => {
    const ukOnly = await createTestBundle(db, { prices: [{ region: 'GB', amountMinor: 89n, currency: 'GBP' }] });
    const buyer = await signedIn(db, { country: 'US' });
    expect(await buy(server, buyer, ukOnly.id, SANDBOX_METHODS.succeeds)).toMatchObject({ __typename: 'BundleUnavailableError', code: 'BUNDLE_UNAVAILABLE' });
    expect(await purchasesOf(buyer.id)).toBe(0);
    expect(await walletOf(server, buyer)).toEqual({ coins: '0', debtCoins: '0' });
    await expectCleanAudit(db);
  });
});

describe('idempotent buying', () => {
  test('ten concurrent retries of one key make one purchase and one credit, and all get the same answer', async () => {
    const bundle = await regionalBundle();
    const buyer = await signedIn(db);
    const key = uniqueKey('double-tap');

    const responses = await Promise.all(Array.from({ length: 10 }, () => buy(server, buyer, bundle.id, SANDBOX_METHODS.succeeds, key)));

    expect(responses[0]).toMatchObject({ __typename: 'Purchase', status: 'SUCCEEDED', coins: '70' });
    for (const response of responses) expect(response).toEqual(responses[0]);
    expect(await purchasesOf(buyer.id)).toBe(1);
    expect(await creditsOf(buyer.id)).toBe(1);
    expect(await walletOf(server, buyer)).toEqual({ coins: '70', debtCoins: '0' });
    // A retry long after still gets the first purchase.
    expect(await buy(server, buyer, bundle.id, SANDBOX_METHODS.succeeds, key)).toEqual(responses[0]);
    await expectCleanAudit(db);
  });

  test("a retry while the first call is still with the payment provider waits for it, and gets the first call's purchase", async () => {
    const bundle = await regionalBundle();
    const buyer = await signedIn(db);
    const key = uniqueKey('slow-provider');
    let charging!: () => void;
    let answer!: () => void;
    const chargeStarted = new Promise<void>((resolve) => (charging = resolve));
    const providerAnswers = new Promise<void>((resolve) => (answer = resolve));
    const slowProvider: PaymentProvider = {
      ...sandbox,
      async charge(request) {
        charging();
        await providerAnswers;
        return sandbox.charge(request);
      },
    };
    const input = { bundleId: bundle.id, paymentMethod: SANDBOX_METHODS.succeeds, idempotencyKey: key };

    const first = purchaseCoins(db, silentAnnouncer, DEFAULT_POLICY, slowProvider, buyer.id, input);
    await within(chargeStarted, 'the first call to reach the provider');
    let retrySettled = false;
    const retry = purchaseCoins(db, silentAnnouncer, DEFAULT_POLICY, slowProvider, buyer.id, input).finally(() => (retrySettled = true));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(retrySettled).toBe(false);

    answer();
    const [firstPurchase, retried] = await within(Promise.all([first, retry]), 'both calls to finish');
    expect(retried).toEqual(firstPurchase);
    expect(firstPurchase.status).toBe('SUCCEEDED');
    expect(await purchasesOf(buyer.id)).toBe(1);
    expect(await creditsOf(buyer.id)).toBe(1);
    await expectCleanAudit(db);
  });

  test('the same key with a different bundle is an IdempotencyConflictError and moves nothing', async () => {
    const [first, other] = [await regionalBundle(), await createTestBundle(db, { name: 'Bucket', coins: 1400n })];
    const buyer = await signedIn(db);
    const key = uniqueKey('reused');

    expect(await buy(server, buyer, first.id, SANDBOX_METHODS.succeeds, key)).toMatchObject({ __typename: 'Purchase', status: 'SUCCEEDED' });
    expect(await buy(server, buyer, other.id, SANDBOX_METHODS.succeeds, key)).toMatchObject({ __typename: 'IdempotencyConflictError', code: 'IDEMPOTENCY_CONFLICT' });
    expect(await buy(server, buyer, first.id, SANDBOX_METHODS.declined, key)).toMatchObject({ __typename: 'IdempotencyConflictError' });

    expect(await purchasesOf(buyer.id)).toBe(1);
    expect(await creditsOf(buyer.id)).toBe(1);
    expect(await walletOf(server, buyer)).toEqual({ coins: '70', debtCoins: '0' });
    await expectCleanAudit(db);
  });

  test('keys are per buyer: two buyers using the same key each buy', async () => {
    const bundle = await regionalBundle();
    const [ann, bob] = [await signedIn(db), await signedIn(db)];
    const key = uniqueKey('shared');
    const [forAnn, forBob] = await Promise.all([ann, bob].map((buyer) => buy(server, buyer, bundle.id, SANDBOX_METHODS.succeeds, key)));
    expect(forAnn).toMatchObject({ __typename: 'Purchase', status: 'SUCCEEDED' });
    expect(forBob).toMatchObject({ __typename: 'Purchase', status: 'SUCCEEDED' });
    expect(forAnn).not.toEqual(forBob);
    for (const buyer of [ann, bob]) expect(await walletOf(server, buyer)).toEqual({ coins: '70', debtCoins: '0' });
    await expectCleanAudit(db);
  });
});

describe('safeguards on buying', () => {
  test('under 18 (19 in South Korea) is an AgeRestrictedError, and nothing is bought', async () => {
    const bundle = await regionalBundle();
    const cases = [
      { country: 'US', birthDate: bornYearsAgo(18, { under: true }), minimumAge: 18 },
      { country: 'KR', birthDate: bornYearsAgo(19, { under: true }), minimumAge: 19 },
    ];
    for (const { country, birthDate, minimumAge } of cases) {
      const minor = await signedIn(db, { country, birthDate });
      expect(await buy(server, minor, bundle.id, SANDBOX_METHODS.succeeds)).toEqual({
        __typename: 'AgeRestrictedError',
        code: 'AGE_RESTRICTED',
        minimumAge,
        message: `You must be ${minimumAge} or older to buy coins`,
      });
      expect(await purchasesOf(minor.id)).toBe(0);
      expect(await walletOf(server, minor)).toEqual({ coins: '0', debtCoins: '0' });
    }

    // Just of age: 18 in the US, 19 in Korea.
    for (const { country, years } of [{ country: 'US', years: 18 }, { country: 'KR', years: 19 }]) {
      const adult = await signedIn(db, { country, birthDate: bornYearsAgo(years) });
      expect(await buy(server, adult, bundle.id, SANDBOX_METHODS.succeeds)).toMatchObject({ __typename: 'Purchase', status: 'SUCCEEDED' });
    }
    await expectCleanAudit(db);
  });

  test('an account an operator banned from buying gets an AccountRestrictedError, and nothing is bought', async () => {
    const bundle = await regionalBundle();
    const [admin, buyer] = [await signedInAdmin(db), await signedIn(db)];
    const { restrictAccount } = await ok(
      server.url,
      PurchasesRestrictAccount,
      { input: { userId: globalId('User', buyer.id), kind: RestrictionKind.BUYING, reason: 'Stolen cards reported' } },
      { token: admin.token },
    );
    expect(restrictAccount.__typename).toBe('User');

    expect(await buy(server, buyer, bundle.id, SANDBOX_METHODS.succeeds)).toEqual({
      __typename: 'AccountRestrictedError',
      code: 'ACCOUNT_RESTRICTED',
      restriction: 'BUYING',
      message: 'This account may not buy coins',
    });
    expect(await purchasesOf(buyer.id)).toBe(0);
    expect(await walletOf(server, buyer)).toEqual({ coins: '0', debtCoins: '0' });
    await expectCleanAudit(db);
  });
});

describe('the ledger after all of the above', () => {
  test('the operator\'s ledgerAudit is clean, and only operators may run it', async () => {
    await expectLedgerAuditCleanOverGraphQL(server);
    await expectCleanAudit(db);
  });
});
