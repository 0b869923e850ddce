import { parse, subscribe, type ExecutionResult } from 'graphql';
import { describe, expect, test } from 'vitest';
import { createBundle } from '../../src/domain/bundles.js';
import { PaymentProviderUnavailableError } from '../../src/domain/errors.js';
import type { ChargeRequest, PaymentProvider } from '../../src/domain/payments/provider.js';
import { createSandboxProvider, SANDBOX_METHODS, sandboxPaymentId } from '../../src/domain/payments/sandbox.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { applyPaymentEvent, purchaseCoins, RECONCILE_AFTER_MS, reconcilePurchases } from '../../src/domain/purchases.js';
import { createAnnouncer, silentAnnouncer } from '../../src/events/announcer.js';
import { createEventBus } from '../../src/events/pubsub.js';
import { EntryKind, Role, type Purchase } from '../../src/generated/prisma/client.js';
import { createLogger } from '../../src/logger.js';
import type { Context } from '../../src/schema/context.js';
import { schema } from '../../src/schema/index.js';
import { createTestDatabase } from '../support/database.js';
import { balances, expectCleanAudit, uniqueKey } from '../support/money.js';
import { TEST_WEBHOOK_SECRET } from '../support/server.js';
import { createUser } from '../support/users.js';
import { within } from '../support/wait.js';

// A purchase whose outcome never arrives (the charge call failed in transit, the webhook was lost) must
// not stay pending for ever: the buyer may have paid. Reconciliation asks the provider about purchases
// pending longer than RECONCILE_AFTER_MS and settles each exactly once.

const { db } = await createTestDatabase();
const bundle = await createBundle(db, { name: 'Handful', coins: 70n, prices: [{ region: 'DEFAULT', amountMinor: 99n, currency: 'USD' }] });
const credits = (purchaseId: string) => db.journalEntry.count({ where: { kind: EntryKind.PURCHASE, memo: `Purchase ${purchaseId}` } });
const later = () => new Date(Date.now() + RECONCILE_AFTER_MS + 60_000);

/** The sandbox, except that the answer to a charge is lost: after it reached the provider, or before. */
function answerLost(when: 'after the charge' | 'before the charge'): PaymentProvider {
  const sandbox = createSandboxProvider(TEST_WEBHOOK_SECRET);
  return {
    ...sandbox,
    async charge(request: ChargeRequest) {
      if (when === 'after the charge') await sandbox.charge(request);
      throw new Error('connection reset');
    },
  };
}

/** A purchase left pending by a lost answer, for a fresh buyer. */
async function pendingPurchase(provider: PaymentProvider, paymentMethod: string = SANDBOX_METHODS.succeeds): Promise<Purchase> {
  const buyer = await createUser(db);
  await expect(purchaseCoins(db, silentAnnouncer, DEFAULT_POLICY, provider, buyer.id, { bundleId: bundle.id, paymentMethod, idempotencyKey: uniqueKey() })).rejects.toBeInstanceOf(
    PaymentProviderUnavailableError,
  );
  return db.purchase.findFirstOrThrow({ where: { buyerId: buyer.id } });
}

describe('reconciling purchases whose outcome never arrived', () => {
  test('a payment that went through is credited once, after RECONCILE_AFTER_MS, and a late webhook changes nothing', async () => {
    const provider = answerLost('after the charge');
    const purchase = await pendingPurchase(provider);

    // Not yet: a webhook normally settles it within seconds.
    await reconcilePurchases(db, silentAnnouncer, provider);
    expect(await db.purchase.findUniqueOrThrow({ where: { id: purchase.id } })).toMatchObject({ status: 'PENDING' });

    expect(await reconcilePurchases(db, silentAnnouncer, provider, later())).toMatchObject({ credited: 1 });
    expect(await db.purchase.findUniqueOrThrow({ where: { id: purchase.id } })).toMatchObject({ status: 'SUCCEEDED', providerPaymentId: sandboxPaymentId(purchase.id) });
    expect((await balances(db, { id: purchase.buyerId })).coins).toBe(70n);

    await reconcilePurchases(db, silentAnnouncer, provider, later());
    const webhook = await applyPaymentEvent(db, silentAnnouncer, provider, { eventId: uniqueKey('evt'), type: 'payment.succeeded', providerPaymentId: sandboxPaymentId(purchase.id), purchaseId: purchase.id });
    expect(webhook.result).toBe('ignored');
    expect(await credits(purchase.id)).toBe(1);
    expect((await balances(db, { id: purchase.buyerId })).coins).toBe(70n);
    await expectCleanAudit(db);
  });

  test("a payment it credits reaches the buyer's walletUpdated subscription, with the coins", async () => {
    const pubsub = createEventBus(undefined, createLogger('silent'));
    const announcer = createAnnouncer(pubsub);
    const provider = answerLost('after the charge');
    const purchase = await pendingPurchase(provider);
    // The buyer's app, subscribed: what the subscription's resolvers read from the context.
    const context = { db, pubsub, viewer: { userId: purchase.buyerId, roles: [Role.VIEWER] } } as Partial<Context> as Context;
    const updates = (await subscribe({ schema, document: parse('subscription { walletUpdated { coins } }'), contextValue: context })) as AsyncGenerator<ExecutionResult>;
    const heard = updates.next();

    expect(await reconcilePurchases(db, announcer, provider, later())).toMatchObject({ credited: 1 });

    const { value } = await within(heard, 'the wallet update');
    expect(value?.errors).toBeUndefined();
    expect(String((value?.data?.walletUpdated as { coins: unknown }).coins)).toBe('70');
    await updates.return(undefined);
    await pubsub.close();
    await expectCleanAudit(db);
  });

  test('a payment the provider never received is declined, and no coins are issued', async () => {
    const provider = answerLost('before the charge');
    const purchase = await pendingPurchase(provider);

    expect(await reconcilePurchases(db, silentAnnouncer, provider, later())).toMatchObject({ declined: 1 });
    expect(await db.purchase.findUniqueOrThrow({ where: { id: purchase.id } })).toMatchObject({ status: 'DECLINED' });
    expect(await credits(purchase.id)).toBe(0);
    expect((await balances(db, { id: purchase.buyerId })).coins).toBe(0n);
    await expectCleanAudit(db);
  });

  test('a payment still pending at the provider stays pending', async () => {
    const provider = answerLost('after the charge');
    const purchase = await pendingPurchase(provider, SANDBOX_METHODS.succeedsByWebhook);

    expect(await reconcilePurchases(db, silentAnnouncer, provider, later())).toMatchObject({ credited: 0, declined: 0 });
    expect(await db.purchase.findUniqueOrThrow({ where: { id: purchase.id } })).toMatchObject({ status: 'PENDING' });
  });

  test('a provider that does not answer the lookup leaves the purchase for the next run', async () => {
    const provider = answerLost('after the charge');
    const purchase = await pendingPurchase(provider);
    const silent: PaymentProvider = { ...provider, lookup: () => Promise.reject(new Error('timeout')) };

    expect(await reconcilePurchases(db, silentAnnouncer, silent, later())).toMatchObject({ credited: 0, unanswered: expect.any(Number) });
    expect(await db.purchase.findUniqueOrThrow({ where: { id: purchase.id } })).toMatchObject({ status: 'PENDING' });
    await reconcilePurchases(db, silentAnnouncer, provider, later());
    expect(await db.purchase.findUniqueOrThrow({ where: { id: purchase.id } })).toMatchObject({ status: 'SUCCEEDED' });
  });

  test('every instance reconciling at once still credits each purchase once', async () => {
    const provider = answerLost('after the charge');
    const purchases = await Promise.all(Array.from({ length: 5 }, () => pendingPurchase(provider)));

    const runs = await Promise.all(Array.from({ length: 8 }, () => reconcilePurchases(db, silentAnnouncer, provider, later())));

    expect(runs.reduce((sum, run) => sum + run.credited, 0)).toBe(5);
    for (const purchase of purchases) {
      expect(await credits(purchase.id)).toBe(1);
      expect((await balances(db, { id: purchase.buyerId })).coins).toBe(70n);
    }
    await expectCleanAudit(db);
  });
});
