import { describe, expect, test } from 'vitest';
import { brandBudget, fundBrandBudget, reconcileBrandFundings } from '../../src/domain/brands/budgets.js';
import { sandboxPaymentId } from '../../src/domain/payments/sandbox.js';
import { applyPaymentEvent, RECONCILE_AFTER_MS } from '../../src/domain/purchases.js';
import { silentAnnouncer } from '../../src/events/announcer.js';
import { createApiKey } from '../../src/domain/brands/brands.js';
import { SANDBOX_METHODS } from '../../src/domain/payments/sandbox.js';
import { globalId } from '../../src/schema/ids.js';
import { createTestDatabase } from '../support/database.js';
import { post } from '../support/graphql.js';
import { expectCleanAudit, sandbox, uniqueKey } from '../support/money.js';
import { startTestServer } from '../support/server.js';
import { createTestBundle } from '../purchases/support.js';
import { createFundedBrand } from './support.js';

const BUDGET = `query ($id: ID!, $first: Int, $after: String) { brand(id: $id) { budget { availableCoins reservedCoins totalCoins
  history(first: $first, after: $after) { edges { cursor node { amount kind } } pageInfo { hasNextPage endCursor } } } } }`;

describe('brand budgets', () => {
  test('a brand funds its budget by card (once per key) and by invoice, and reads its balance and history a page at a time', async () => {
    const server = await startTestServer();
    const { db } = server;
    const { brand, caller } = await createFundedBrand(db, 1000n);
    const bundle = await createTestBundle(db, { coins: 700n });
    const input = { brandId: brand.id, bundleId: bundle.id, quantity: 3, paymentMethod: SANDBOX_METHODS.succeeds, idempotencyKey: uniqueKey('fund') };
    const funded = await fundBrandBudget(db, sandbox, caller, input);
    expect(funded).toMatchObject({ status: 'SUCCEEDED', coins: 2100n });
    expect((await fundBrandBudget(db, sandbox, caller, input)).id).toBe(funded.id);
    await expect(fundBrandBudget(db, sandbox, caller, { ...input, idempotencyKey: uniqueKey('fund'), paymentMethod: SANDBOX_METHODS.declined })).rejects.toThrow('declined');
    expect(await brandBudget(db, brand.id)).toMatchObject({ availableCoins: 3100n, reservedCoins: 0n });

    // Through a key with READ, over HTTP: two lines, one page at a time.
    const { secret } = await createApiKey(db, caller, { brandId: brand.id, name: 'reader', scopes: ['READ'] });
    const first = await post(server.url, BUDGET, { authorization: `Bearer ${secret}` }, { id: globalId('Brand', brand.id), first: 1 });
    const budget = (first.data as { brand: { budget: { availableCoins: string; reservedCoins: string; totalCoins: string; history: { edges: { cursor: string; node: unknown }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } } } }).brand.budget;
    expect(budget).toMatchObject({ availableCoins: '3100', reservedCoins: '0', totalCoins: '3100' });
    expect(budget.history.edges.map((edge) => edge.node)).toEqual([{ amount: '2100', kind: 'BRAND_FUNDING' }]);
    expect(budget.history.pageInfo.hasNextPage).toBe(true);
    const second = await post(server.url, BUDGET, { authorization: `Bearer ${secret}` }, { id: globalId('Brand', brand.id), first: 1, after: budget.history.pageInfo.endCursor });
    expect(JSON.stringify(second.data)).toContain('"amount":"1000"');

    // Nobody outside the brand reads it.
    const outsider = await post(server.url, BUDGET, {}, { id: globalId('Brand', brand.id) });
    expect(outsider.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    await expectCleanAudit(db);
  });

  test("a funding the provider confirms later is credited once by its webhook; one it never received is declined by reconciliation", async () => {
    const { db } = await createTestDatabase();
    const { brand, caller } = await createFundedBrand(db, 0n);
    const bundle = await createTestBundle(db, { coins: 500n });
    const pending = await fundBrandBudget(db, sandbox, caller, { brandId: brand.id, bundleId: bundle.id, quantity: 2, paymentMethod: SANDBOX_METHODS.succeedsByWebhook, idempotencyKey: uniqueKey() });
    expect(pending.status).toBe('PENDING');
    const event = { eventId: uniqueKey('evt'), type: 'payment.succeeded' as const, providerPaymentId: sandboxPaymentId(pending.id), purchaseId: pending.id };
    expect(await applyPaymentEvent(db, silentAnnouncer, sandbox, event)).toEqual({ result: 'applied' });
    expect(await applyPaymentEvent(db, silentAnnouncer, sandbox, event)).toEqual({ result: 'duplicate' });
    expect(await applyPaymentEvent(db, silentAnnouncer, sandbox, { ...event, eventId: uniqueKey('evt') })).toEqual({ result: 'ignored' });
    expect(await brandBudget(db, brand.id)).toMatchObject({ availableCoins: 1000n });

    const lost = await db.brandFunding.create({ data: { brandId: brand.id, source: 'PAYMENT', coins: 10n, amountMinor: 1n, currency: 'USD', provider: sandbox.name } });
    expect(await reconcileBrandFundings(db, sandbox, new Date(Date.now() + RECONCILE_AFTER_MS + 60_000))).toBe(1);
    expect(await db.brandFunding.findUniqueOrThrow({ where: { id: lost.id } })).toMatchObject({ status: 'DECLINED', creditEntryId: null });
    expect(await brandBudget(db, brand.id)).toMatchObject({ availableCoins: 1000n });
    await expectCleanAudit(db);
  });

  test('a key without FUNDS cannot fund, and nothing changes', async () => {
    const { db } = await createTestDatabase();
    const { brand, caller } = await createFundedBrand(db, 0n);
    const bundle = await createTestBundle(db);
    const key = await createApiKey(db, caller, { brandId: brand.id, name: 'reader', scopes: ['READ', 'MATCH'] });
    const asKey = { viewer: null, brandKey: { keyId: key.apiKey.id, brandId: brand.id, scopes: key.apiKey.scopes } };
    await expect(fundBrandBudget(db, sandbox, asKey, { brandId: brand.id, bundleId: bundle.id, quantity: 1, paymentMethod: SANDBOX_METHODS.succeeds, idempotencyKey: uniqueKey() })).rejects.toThrow('FUNDS');
    expect(await brandBudget(db, brand.id)).toMatchObject({ availableCoins: 0n });
    await expectCleanAudit(db);
  });
});
