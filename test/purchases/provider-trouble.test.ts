import { describe, expect, test } from 'vitest';
import { createBundle } from '../../src/domain/bundles.js';
import { PaymentProviderUnavailableError } from '../../src/domain/errors.js';
import type { ChargeRequest, PaymentProvider } from '../../src/domain/payments/provider.js';
import { SANDBOX_METHODS, sandboxPaymentId } from '../../src/domain/payments/sandbox.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { applyPaymentEvent, purchaseCoins, type WebhookResult } from '../../src/domain/purchases.js';
import { silentAnnouncer } from '../../src/events/announcer.js';
import { EntryKind } from '../../src/generated/prisma/client.js';
import { createTestDatabase } from '../support/database.js';
import { balances, expectCleanAudit, sandbox, uniqueKey } from '../support/money.js';
import { createUser } from '../support/users.js';

const { db } = await createTestDatabase();
const bundle = await createBundle(db, { name: 'Handful', coins: 70n, prices: [{ region: 'DEFAULT', amountMinor: 99n, currency: 'USD' }] });

/** The provider's success event for a purchase, carrying Ovation's reference as real providers do. */
const succeeded = (purchaseId: string) => ({
  eventId: uniqueKey('evt'),
  type: 'payment.succeeded' as const,
  providerPaymentId: sandboxPaymentId(purchaseId),
  purchaseId,
});

/** The sandbox, except that its webhook is delivered while the charge call is still running. */
function webhookDuringCharge(): PaymentProvider & { webhook?: WebhookResult } {
  const provider: PaymentProvider & { webhook?: WebhookResult } = {
    ...sandbox,
    async charge(request: ChargeRequest) {
      provider.webhook = await applyPaymentEvent(db, silentAnnouncer, sandbox, succeeded(request.purchaseId));
      return sandbox.charge(request);
    },
  };
  return provider;
}

const credits = (purchaseId: string) => db.journalEntry.count({ where: { kind: EntryKind.PURCHASE, memo: `Purchase ${purchaseId}` } });

describe('a payment webhook can arrive before the charge call returns', () => {
  test.each([
    ['a success webhook for a payment confirmed later by webhook credits the coins', SANDBOX_METHODS.succeedsByWebhook],
    ['a success webhook and a charge that also succeeds credit the coins once', SANDBOX_METHODS.succeeds],
  ])('%s', async (_rule, paymentMethod) => {
    const buyer = await createUser(db);
    const provider = webhookDuringCharge();

    const purchase = await purchaseCoins(db, silentAnnouncer, DEFAULT_POLICY, provider, buyer.id, { bundleId: bundle.id, paymentMethod, idempotencyKey: uniqueKey() });

    expect(provider.webhook?.result).toBe('applied');
    expect(purchase.status).toBe('SUCCEEDED');
    expect((await balances(db, buyer)).coins).toBe(70n);
    expect(await credits(purchase.id)).toBe(1);
    await expectCleanAudit(db);
  });
});

describe('a payment provider that does not answer', () => {
  const silent: PaymentProvider = {
    ...sandbox,
    charge: async () => {
      throw new Error('connect ETIMEDOUT');
    },
  };

  test('gets a typed answer, keeps the purchase pending, and its webhook still credits the coins once', async () => {
    const buyer = await createUser(db);
    const input = { bundleId: bundle.id, paymentMethod: SANDBOX_METHODS.succeeds, idempotencyKey: uniqueKey() };

    await expect(purchaseCoins(db, silentAnnouncer, DEFAULT_POLICY, silent, buyer.id, input)).rejects.toBeInstanceOf(PaymentProviderUnavailableError);
    // A retry with the same key gets the same answer at once: it neither charges again nor waits.
    await expect(purchaseCoins(db, silentAnnouncer, DEFAULT_POLICY, sandbox, buyer.id, input)).rejects.toBeInstanceOf(PaymentProviderUnavailableError);
    const [pending] = await db.purchase.findMany({ where: { buyerId: buyer.id } });
    expect(pending).toMatchObject({ status: 'PENDING', providerPaymentId: null });
    expect((await balances(db, buyer)).coins).toBe(0n);

    // The charge had gone through after all: the provider's webhook names our purchase.
    expect((await applyPaymentEvent(db, silentAnnouncer, sandbox, succeeded(pending!.id))).result).toBe('applied');
    expect((await applyPaymentEvent(db, silentAnnouncer, sandbox, succeeded(pending!.id))).result).toBe('ignored');
    expect(await db.purchase.findUniqueOrThrow({ where: { id: pending!.id } })).toMatchObject({ status: 'SUCCEEDED', providerPaymentId: sandboxPaymentId(pending!.id) });
    expect((await balances(db, buyer)).coins).toBe(70n);
    expect(await credits(pending!.id)).toBe(1);
    await expectCleanAudit(db);
  });

  test("a webhook naming another provider's payment id does not settle a purchase that has one", async () => {
    const buyer = await createUser(db);
    const purchase = await purchaseCoins(db, silentAnnouncer, DEFAULT_POLICY, sandbox, buyer.id, { bundleId: bundle.id, paymentMethod: SANDBOX_METHODS.succeedsByWebhook, idempotencyKey: uniqueKey() });

    const result = await applyPaymentEvent(db, silentAnnouncer, sandbox, { ...succeeded(purchase.id), providerPaymentId: 'sbx_some_other_payment' });

    expect(result.result).toBe('ignored');
    expect(await db.purchase.findUniqueOrThrow({ where: { id: purchase.id } })).toMatchObject({ status: 'PENDING', providerPaymentId: sandboxPaymentId(purchase.id) });
    expect((await balances(db, buyer)).coins).toBe(0n);
    await expectCleanAudit(db);
  });
});
