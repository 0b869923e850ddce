import { describe, expect, test } from 'vitest';
import { SANDBOX_METHODS } from '../../src/domain/payments/sandbox.js';
import { ok } from '../support/graphql.js';
import { expectCleanAudit } from '../support/money.js';
import { startTestServer } from '../support/server.js';
import { CoinBundles, CreateCoinBundle, RepriceCoinBundle, RetireCoinBundle } from './documents.js';
import {
  bought,
  buy,
  createTestBundle,
  databaseId,
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

/** The price sheet for a country (or the viewer's own), narrowed to the given bundles: name -> "amount currency (region)". */
async function sheet(bundleIds: string[], { country, token }: { country?: string; token?: string } = {}) {
  const { coinBundles } = await ok(server.url, CoinBundles, { country }, { token });
  const ours = new Set(bundleIds.map((id) => globalId('CoinBundle', id)));
  return coinBundles
    .filter((priced) => ours.has(priced.bundle.id))
    .map((priced) => `${priced.bundle.name}: ${priced.totalCoins} coins, ${priced.price.amountMinor} ${priced.price.currency} (${priced.price.region})`);
}

describe('the price sheet', () => {
  test("each country sees its own price, else its region group's (EU), else the default; bundles not sold there are left out", async () => {
    const bundles = [
      await createTestBundle(db, {
        name: 'Handful',
        coins: 65n,
        bonusCoins: 5n,
        sortOrder: 1,
        prices: [
          { region: 'DEFAULT', amountMinor: 99n, currency: 'USD' },
          { region: 'EU', amountMinor: 109n, currency: 'EUR' },
          { region: 'FR', amountMinor: 99n, currency: 'EUR' },
          { region: 'GB', amountMinor: 89n, currency: 'GBP' },
        ],
      }),
      await createTestBundle(db, { name: 'Bucket', coins: 1400n, sortOrder: 2, prices: [{ region: 'DEFAULT', amountMinor: 1999n, currency: 'USD' }] }),
      await createTestBundle(db, { name: 'Crown', coins: 7000n, sortOrder: 3, prices: [{ region: 'GB', amountMinor: 8499n, currency: 'GBP' }] }),
    ];
    const ids = bundles.map((bundle) => bundle.id);

    expect(await sheet(ids, { country: 'FR' })).toEqual(['Handful: 70 coins, 99 EUR (FR)', 'Bucket: 1400 coins, 1999 USD (DEFAULT)']);
    expect(await sheet(ids, { country: 'DE' })).toEqual(['Handful: 70 coins, 109 EUR (EU)', 'Bucket: 1400 coins, 1999 USD (DEFAULT)']);
    expect(await sheet(ids, { country: 'de' })).toEqual(await sheet(ids, { country: 'DE' }));
    expect(await sheet(ids, { country: 'GB' })).toEqual([
      'Handful: 70 coins, 89 GBP (GB)',
      'Bucket: 1400 coins, 1999 USD (DEFAULT)',
      'Crown: 7000 coins, 8499 GBP (GB)',
    ]);
    // Switzerland is not in the EU group.
    expect(await sheet(ids, { country: 'CH' })).toEqual(['Handful: 70 coins, 99 USD (DEFAULT)', 'Bucket: 1400 coins, 1999 USD (DEFAULT)']);
    // Without a country: the signed-in viewer's own, else the default prices.
    const german = await signedIn(db, { country: 'DE' });
    expect(await sheet(ids, { token: german.token })).toEqual(await sheet(ids, { country: 'DE' }));
    expect(await sheet(ids)).toEqual(await sheet(ids, { country: 'US' }));

    // What the sheet says is what the buyer pays.
    const purchase = await bought(server, german, bundles[0]!.id, SANDBOX_METHODS.succeeds);
    expect(purchase).toMatchObject({ amountMinor: '109', currency: 'EUR', coins: '70' });
    await expectCleanAudit(db);
  });
});

describe('operators manage bundles', () => {
  const input = {
    name: 'Mountain',
    coins: '3500',
    bonusCoins: '150',
    sortOrder: 5,
    prices: [
      { region: 'DEFAULT', amountMinor: '4999', currency: 'USD' },
      { region: 'EU', amountMinor: '4799', currency: 'EUR' },
    ],
  };

  test('an admin creates a bundle, and it goes on sale at once', async () => {
    const admin = await signedInAdmin(db);
    const { createCoinBundle } = await ok(server.url, CreateCoinBundle, { input }, { token: admin.token });
    expect(createCoinBundle).toMatchObject({ __typename: 'CoinBundle', name: 'Mountain', coins: '3500', bonusCoins: '150', sortOrder: 5, retired: false });
    if (createCoinBundle.__typename !== 'CoinBundle') return;
    const bundleId = databaseId(createCoinBundle.id);
    expect(await sheet([bundleId], { country: 'IT' })).toEqual(['Mountain: 3650 coins, 4799 EUR (EU)']);

    const buyer = await signedIn(db, { country: 'IT' });
    expect(await bought(server, buyer, bundleId, SANDBOX_METHODS.succeeds)).toMatchObject({ coins: '3650', amountMinor: '4799', currency: 'EUR' });
    expect(await walletOf(server, buyer)).toEqual({ coins: '3650', debtCoins: '0' });
    await expectCleanAudit(db);
  });

  test('bad bundle input is a ValidationError naming the fields, and creates nothing', async () => {
    const admin = await signedInAdmin(db);
    const before = await db.coinBundle.count();
    const { createCoinBundle } = await ok(
      server.url,
      CreateCoinBundle,
      { input: { ...input, coins: '0', prices: [{ region: 'DEFAULT', amountMinor: '-1', currency: 'dollars' }] } },
      { token: admin.token },
    );
    expect(createCoinBundle.__typename).toBe('ValidationError');
    if (createCoinBundle.__typename !== 'ValidationError') return;
    expect(createCoinBundle.problems.map((problem) => problem.field).sort()).toEqual(['coins', 'prices.0.amountMinor', 'prices.0.currency']);
    expect(await db.coinBundle.count()).toBe(before);
    await expectCleanAudit(db);
  });

  test('only admins may create, reprice or retire bundles; anyone else gets a typed refusal and nothing changes', async () => {
    const bundle = await createTestBundle(db, { name: 'Guarded' });
    const viewer = await signedIn(db);
    const creator = await signedIn(db, { roles: ['VIEWER', 'CREATOR'] });
    const bundlesBefore = await db.coinBundle.count();
    const prices = [{ region: 'DEFAULT', amountMinor: '1', currency: 'USD' }];
    const bundleId = globalId('CoinBundle', bundle.id);

    for (const [token, __typename, code] of [
      [viewer.token, 'ForbiddenError', 'FORBIDDEN'],
      [creator.token, 'ForbiddenError', 'FORBIDDEN'],
      [undefined, 'NotAuthenticatedError', 'UNAUTHENTICATED'],
    ] as const) {
      const refusal = { __typename, code };
      expect((await ok(server.url, CreateCoinBundle, { input }, { token })).createCoinBundle).toMatchObject(refusal);
      expect((await ok(server.url, RepriceCoinBundle, { input: { bundleId, prices } }, { token })).repriceCoinBundle).toMatchObject(refusal);
      expect((await ok(server.url, RetireCoinBundle, { input: { bundleId } }, { token })).retireCoinBundle).toMatchObject(refusal);
    }

    expect(await db.coinBundle.count()).toBe(bundlesBefore);
    expect(await db.bundlePrice.findMany({ where: { bundleId: bundle.id }, select: { region: true, amountMinor: true } })).toEqual([{ region: 'DEFAULT', amountMinor: 99n }]);
    expect(await sheet([bundle.id])).toEqual(['Guarded: 70 coins, 99 USD (DEFAULT)']);
    await expectCleanAudit(db);
  });

  test('a reprice applies to new purchases only: past purchases keep the price they paid', async () => {
    const admin = await signedInAdmin(db);
    const bundle = await createTestBundle(db, { name: 'Repriced' });
    const buyer = await signedIn(db, { country: 'JP' });
    const before = await bought(server, buyer, bundle.id, SANDBOX_METHODS.succeeds);
    expect(before).toMatchObject({ amountMinor: '99', currency: 'USD' });

    const { repriceCoinBundle } = await ok(
      server.url,
      RepriceCoinBundle,
      { input: { bundleId: globalId('CoinBundle', bundle.id), prices: [{ region: 'DEFAULT', amountMinor: '129', currency: 'USD' }, { region: 'JP', amountMinor: '160', currency: 'JPY' }] } },
      { token: admin.token },
    );
    expect(repriceCoinBundle).toMatchObject({ __typename: 'CoinBundle' });
    if (repriceCoinBundle.__typename !== 'CoinBundle') return;
    expect(repriceCoinBundle.prices.map((price) => `${price.region} ${price.amountMinor} ${price.currency}`).sort()).toEqual(['DEFAULT 129 USD', 'JP 160 JPY']);
    expect(await sheet([bundle.id], { country: 'JP' })).toEqual(['Repriced: 70 coins, 160 JPY (JP)']);
    expect(await sheet([bundle.id], { country: 'US' })).toEqual(['Repriced: 70 coins, 129 USD (DEFAULT)']);

    const after = await bought(server, buyer, bundle.id, SANDBOX_METHODS.succeeds);
    expect(after).toMatchObject({ amountMinor: '160', currency: 'JPY' });
    expect(await purchaseRecord(db, before.dbId)).toMatchObject({ amountMinor: 99n, currency: 'USD' });
    expect(await walletOf(server, buyer)).toEqual({ coins: '140', debtCoins: '0' });
    await expectCleanAudit(db);
  });

  test('a retired bundle leaves the price sheet and cannot be bought; purchases already made are untouched', async () => {
    const admin = await signedInAdmin(db);
    const bundle = await createTestBundle(db, { name: 'Seasonal' });
    const buyer = await signedIn(db);
    const paid = await bought(server, buyer, bundle.id, SANDBOX_METHODS.succeeds);
    const pending = await bought(server, buyer, bundle.id, SANDBOX_METHODS.succeedsByWebhook);

    const { retireCoinBundle } = await ok(server.url, RetireCoinBundle, { input: { bundleId: globalId('CoinBundle', bundle.id) } }, { token: admin.token });
    expect(retireCoinBundle).toMatchObject({ __typename: 'CoinBundle', retired: true });
    expect(await sheet([bundle.id])).toEqual([]);

    const refused = await buy(server, buyer, bundle.id, SANDBOX_METHODS.succeeds);
    expect(refused).toMatchObject({ __typename: 'BundleUnavailableError', code: 'BUNDLE_UNAVAILABLE' });
    expect(await db.purchase.count({ where: { buyerId: buyer.id } })).toBe(2);

    // A purchase paid for before the bundle was retired is still credited when the payment clears.
    expect((await postWebhook(server, paymentEvent('payment.succeeded', pending.dbId))).body.result).toBe('applied');
    expect(await purchaseRecord(db, paid.dbId)).toMatchObject({ status: 'SUCCEEDED', credits: 1 });
    expect(await walletOf(server, buyer)).toEqual({ coins: '140', debtCoins: '0' });

    // Retiring again changes nothing.
    const retiredAt = (await db.coinBundle.findUniqueOrThrow({ where: { id: bundle.id } })).retiredAt;
    expect((await ok(server.url, RetireCoinBundle, { input: { bundleId: globalId('CoinBundle', bundle.id) } }, { token: admin.token })).retireCoinBundle).toMatchObject({ retired: true });
    expect((await db.coinBundle.findUniqueOrThrow({ where: { id: bundle.id } })).retiredAt).toEqual(retiredAt);
    await expectCleanAudit(db);
  });

  test('an unknown bundle is a NotFoundError, and an id of another type a ValidationError', async () => {
    const admin = await signedInAdmin(db);
    const buyer = await signedIn(db);
    const nowhere = '00000000-0000-4000-8000-00000000dead';
    expect(await buy(server, buyer, nowhere, SANDBOX_METHODS.succeeds)).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
    expect((await ok(server.url, RetireCoinBundle, { input: { bundleId: globalId('CoinBundle', nowhere) } }, { token: admin.token })).retireCoinBundle).toMatchObject({ __typename: 'NotFoundError' });
    expect(
      (await ok(server.url, RepriceCoinBundle, { input: { bundleId: globalId('User', buyer.id), prices: [{ region: 'DEFAULT', amountMinor: '1', currency: 'USD' }] } }, { token: admin.token }))
        .repriceCoinBundle,
    ).toMatchObject({ __typename: 'ValidationError' });
    expect(await db.purchase.count({ where: { buyerId: buyer.id } })).toBe(0);
    await expectCleanAudit(db);
  });
});

describe('the ledger after all of the above', () => {
  test("the operator's ledgerAudit is clean, and only operators may run it", async () => {
    await expectLedgerAuditCleanOverGraphQL(server);
    await expectCleanAudit(db);
  });
});
