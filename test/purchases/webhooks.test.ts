import { describe, expect, test } from 'vitest';
import { SANDBOX_METHODS, signWebhook } from '../../src/domain/payments/sandbox.js';
import { ok } from '../support/graphql.js';
import { createCatalogGift, createLiveCreator, expectCleanAudit, uniqueKey } from '../support/money.js';
import { startTestServer, TEST_WEBHOOK_SECRET, type TestServer } from '../support/server.js';
import { publishUntilReceived } from '../support/wait.js';
import { bearer, openSocket, subscribe } from '../support/ws.js';
import { WalletUpdates } from '../rooms-live/documents.js';
import { PurchasesSendGift } from './documents.js';
import {
  bought,
  createTestBundle,
  expectLedgerAuditCleanOverGraphQL,
  globalId,
  paymentEvent,
  postWebhook,
  purchaseRecord,
  signedIn,
  walletOf,
} from './support.js';

const server = await startTestServer();
const { db } = server;
const MINUTE = 60_000;

/** A buyer whose 70-coin purchase waits for the provider's webhook. */
async function pendingPurchase() {
  const bundle = await createTestBundle(db);
  const buyer = await signedIn(db);
  const purchase = await bought(server, buyer, bundle.id, SANDBOX_METHODS.succeedsByWebhook);
  expect(purchase.status).toBe('PENDING');
  return { buyer, purchaseId: purchase.dbId };
}

/** A buyer holding `coins` from one card purchase, and that purchase's id. */
async function paidPurchase(coins: bigint, buyer?: Awaited<ReturnType<typeof signedIn>>) {
  const bundle = await createTestBundle(db, { name: `${coins} coins`, coins });
  buyer ??= await signedIn(db);
  const purchase = await bought(server, buyer, bundle.id, SANDBOX_METHODS.succeeds);
  expect(purchase.status).toBe('SUCCEEDED');
  return { buyer, purchaseId: purchase.dbId };
}

const seenEvents = (eventId: string) => db.webhookEvent.count({ where: { eventId } });

async function sendGift(target: TestServer, sender: { token: string }, liveSessionId: string, giftId: string, quantity = 1) {
  const { sendGift: result } = await ok(
    target.url,
    PurchasesSendGift,
    { input: { liveSessionId: globalId('LiveSession', liveSessionId), giftId: globalId('Gift', giftId), quantity, idempotencyKey: uniqueKey('gift') } },
    { token: sender.token },
  );
  return result;
}

describe('payment webhooks are applied exactly once', () => {
  test('the same event delivered five times credits once', async () => {
    const { buyer, purchaseId } = await pendingPurchase();
    const event = paymentEvent('payment.succeeded', purchaseId);

    const results = [];
    for (let delivery = 0; delivery < 5; delivery++) results.push(await postWebhook(server, event));

    expect(results.map(({ status }) => status)).toEqual([200, 200, 200, 200, 200]);
    expect(results.map(({ body }) => body.result)).toEqual(['applied', 'duplicate', 'duplicate', 'duplicate', 'duplicate']);
    expect(await walletOf(server, buyer)).toEqual({ coins: '70', debtCoins: '0' });
    expect(await purchaseRecord(db, purchaseId)).toMatchObject({ status: 'SUCCEEDED', credits: 1 });
    expect(await seenEvents(event.id)).toBe(1);
    await expectCleanAudit(db);
  });

  test('the same event delivered ten times at once credits once', async () => {
    const { buyer, purchaseId } = await pendingPurchase();
    const event = paymentEvent('payment.succeeded', purchaseId);

    const results = await Promise.all(Array.from({ length: 10 }, () => postWebhook(server, event)));

    expect(results.every(({ status }) => status === 200)).toBe(true);
    expect(results.map(({ body }) => body.result).sort()).toEqual(['applied', ...Array<string>(9).fill('duplicate')]);
    expect(await walletOf(server, buyer)).toEqual({ coins: '70', debtCoins: '0' });
    expect(await purchaseRecord(db, purchaseId)).toMatchObject({ status: 'SUCCEEDED', credits: 1 });
    await expectCleanAudit(db);
  });

  test('distinct success events for one payment, arriving at once, credit once', async () => {
    const { buyer, purchaseId } = await pendingPurchase();

    const results = await Promise.all(Array.from({ length: 5 }, () => postWebhook(server, paymentEvent('payment.succeeded', purchaseId))));

    expect(results.map(({ body }) => body.result).sort()).toEqual(['applied', 'ignored', 'ignored', 'ignored', 'ignored']);
    expect(await walletOf(server, buyer)).toEqual({ coins: '70', debtCoins: '0' });
    expect(await purchaseRecord(db, purchaseId)).toMatchObject({ status: 'SUCCEEDED', credits: 1 });
    await expectCleanAudit(db);
  });

  test("the coins a webhook credits reach the buyer's walletUpdated subscription", async () => {
    const { buyer, purchaseId } = await pendingPurchase();
    const wallet = subscribe(openSocket(server.url, bearer(buyer.token)), WalletUpdates);
    // A subscription does not say when it listens: one-coin card purchases go through until it hears one.
    const coin = await createTestBundle(db, { name: 'One coin', coins: 1n });
    await publishUntilReceived(() => bought(server, buyer, coin.id, SANDBOX_METHODS.succeeds), wallet.results, () => true);
    const before = BigInt((await walletOf(server, buyer)).coins);

    expect((await postWebhook(server, paymentEvent('payment.succeeded', purchaseId))).body.result).toBe('applied');

    // Updates of the card purchases may still be on their way; then the webhook's.
    let heard = before;
    while (heard !== before + 70n) heard = BigInt((await wallet.next()).data!.walletUpdated.coins);
    await expectCleanAudit(db);
  });

  test('an event for a payment Ovation does not know is acknowledged and changes nothing', async () => {
    const entriesBefore = await db.journalEntry.count();
    const result = await postWebhook(server, { id: uniqueKey('evt'), type: 'payment.succeeded', data: { paymentId: 'sbx_no_such_payment' } });
    expect(result).toEqual({ status: 200, body: { received: true, result: 'ignored' } });
    expect(await db.journalEntry.count()).toBe(entriesBefore);
    await expectCleanAudit(db);
  });
});

describe('untrusted webhooks are refused with 400 and change nothing', () => {
  async function expectRefusedThenGenuineApplies(send: (event: ReturnType<typeof paymentEvent>) => Promise<{ status: number; body: { error?: string } }>, reason: RegExp) {
    const { buyer, purchaseId } = await pendingPurchase();
    const event = paymentEvent('payment.succeeded', purchaseId);

    const refused = await send(event);
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatch(reason);
    expect(await purchaseRecord(db, purchaseId)).toMatchObject({ status: 'PENDING', credits: 0 });
    expect(await walletOf(server, buyer)).toEqual({ coins: '0', debtCoins: '0' });
    // A refused delivery is not remembered: the provider's genuine delivery of the same event still applies.
    expect(await seenEvents(event.id)).toBe(0);
    expect((await postWebhook(server, event)).body.result).toBe('applied');
    expect(await walletOf(server, buyer)).toEqual({ coins: '70', debtCoins: '0' });
    await expectCleanAudit(db);
  }

  test('signed with the wrong secret', async () => {
    await expectRefusedThenGenuineApplies((event) => postWebhook(server, event, { secret: 'someone-elses-secret-0000' }), /^Bad signature$/);
  });

  test('a body changed after it was signed', async () => {
    await expectRefusedThenGenuineApplies((event) => {
      const signed = JSON.stringify({ ...event, data: { paymentId: 'sbx_something_cheaper' } });
      return postWebhook(server, event, { signature: signWebhook(TEST_WEBHOOK_SECRET, signed, new Date()) });
    }, /^Bad signature$/);
  });

  test('signed more than 5 minutes ago (a replayed capture)', async () => {
    await expectRefusedThenGenuineApplies((event) => postWebhook(server, event, { at: new Date(Date.now() - 6 * MINUTE) }), /5-minute tolerance/);
  });

  test('signed more than 5 minutes in the future', async () => {
    await expectRefusedThenGenuineApplies((event) => postWebhook(server, event, { at: new Date(Date.now() + 6 * MINUTE) }), /5-minute tolerance/);
  });

  test('without a signature header', async () => {
    await expectRefusedThenGenuineApplies((event) => postWebhook(server, event, { signature: null }), /Missing or malformed signature/);
  });

  test('with a malformed signature header', async () => {
    await expectRefusedThenGenuineApplies((event) => postWebhook(server, event, { signature: 'sha256=deadbeef' }), /Missing or malformed signature/);
  });

  test('a genuinely signed body that is not an event', async () => {
    const result = await postWebhook(server, '{"id":"evt_1","type":"payment.teleported"}');
    expect(result).toEqual({ status: 400, body: { error: 'Unreadable event' } });
    await expectCleanAudit(db);
  });

  test('a signature made four minutes ago is still within tolerance', async () => {
    const { buyer, purchaseId } = await pendingPurchase();
    expect((await postWebhook(server, paymentEvent('payment.succeeded', purchaseId), { at: new Date(Date.now() - 4 * MINUTE) })).status).toBe(200);
    expect(await walletOf(server, buyer)).toEqual({ coins: '70', debtCoins: '0' });
    await expectCleanAudit(db);
  });
});

describe('refunds and chargebacks take the coins back', () => {
  test('a refund takes back the purchase\'s coins, once', async () => {
    const { buyer, purchaseId } = await paidPurchase(70n);
    expect(await walletOf(server, buyer)).toEqual({ coins: '70', debtCoins: '0' });

    const refund = paymentEvent('payment.refunded', purchaseId);
    expect((await postWebhook(server, refund)).body.result).toBe('applied');
    expect((await postWebhook(server, refund)).body.result).toBe('duplicate');
    // A chargeback on a refunded purchase has nothing left to take.
    expect((await postWebhook(server, paymentEvent('payment.charged_back', purchaseId))).body.result).toBe('ignored');

    expect(await walletOf(server, buyer)).toEqual({ coins: '0', debtCoins: '0' });
    expect(await purchaseRecord(db, purchaseId)).toMatchObject({ status: 'REFUNDED', credits: 1, refunds: 1, chargebacks: 0 });
    expect(await db.chargebackDebt.count({ where: { userId: buyer.id } })).toBe(0);
    await expectCleanAudit(db);
  });

  test('a refund and a chargeback for one purchase arriving at once take the coins back once', async () => {
    const { buyer, purchaseId } = await paidPurchase(70n);

    const results = await Promise.all([
      postWebhook(server, paymentEvent('payment.refunded', purchaseId)),
      postWebhook(server, paymentEvent('payment.charged_back', purchaseId)),
    ]);

    expect(results.map(({ body }) => body.result).sort()).toEqual(['applied', 'ignored']);
    expect(await walletOf(server, buyer)).toEqual({ coins: '0', debtCoins: '0' });
    const record = await purchaseRecord(db, purchaseId);
    expect(record.refunds + record.chargebacks).toBe(1);
    await expectCleanAudit(db);
  });

  test('a webhook cannot take back a purchase that was never paid', async () => {
    const { buyer, purchaseId } = await pendingPurchase();
    expect((await postWebhook(server, paymentEvent('payment.charged_back', purchaseId))).body.result).toBe('ignored');
    expect((await postWebhook(server, paymentEvent('payment.refunded', purchaseId))).body.result).toBe('ignored');
    expect(await purchaseRecord(db, purchaseId)).toMatchObject({ status: 'PENDING', credits: 0, refunds: 0, chargebacks: 0 });
    expect(await walletOf(server, buyer)).toEqual({ coins: '0', debtCoins: '0' });
    await expectCleanAudit(db);
  });

  test('a chargeback on coins already gifted leaves a recorded debt that blocks gifting until a purchase covers it', async () => {
    const { creator, session } = await createLiveCreator(db);
    const rose = await createCatalogGift(db, 30n, { name: 'Big Rose' });
    const { buyer, purchaseId } = await paidPurchase(100n);

    expect(await sendGift(server, buyer, session.id, rose.id, 3)).toMatchObject({ __typename: 'SentGift', coins: '90', diamonds: '90' });
    expect(await walletOf(server, buyer)).toEqual({ coins: '10', debtCoins: '0' });

    expect((await postWebhook(server, paymentEvent('payment.charged_back', purchaseId))).body.result).toBe('applied');

    // 100 coins taken back from a wallet holding 10: the 90 already gifted are owed.
    expect(await walletOf(server, buyer)).toEqual({ coins: '0', debtCoins: '90' });
    expect(await db.chargebackDebt.findMany({ where: { userId: buyer.id }, select: { purchaseId: true, coins: true } })).toEqual([{ purchaseId, coins: 90n }]);
    expect(await purchaseRecord(db, purchaseId)).toMatchObject({ status: 'CHARGED_BACK', credits: 1, chargebacks: 1 });
    // The creator keeps what they earned: the platform carries the loss as the buyer's debt.
    expect((await db.account.findFirstOrThrow({ where: { userId: creator.id, asset: 'DIAMOND' } })).balance).toBe(90n);
    await expectCleanAudit(db);

    expect(await sendGift(server, buyer, session.id, rose.id)).toEqual({
      __typename: 'OutstandingDebtError',
      code: 'OUTSTANDING_DEBT',
      debtCoins: '90',
      message: 'A chargeback left a debt of 90 coins; buy coins to cover it before spending',
    });
    expect(await walletOf(server, buyer)).toEqual({ coins: '0', debtCoins: '90' });
    await expectCleanAudit(db);

    // A purchase that only shrinks the debt still blocks spending.
    await paidPurchase(50n, buyer);
    expect(await walletOf(server, buyer)).toEqual({ coins: '0', debtCoins: '40' });
    expect(await sendGift(server, buyer, session.id, rose.id)).toMatchObject({ __typename: 'OutstandingDebtError', debtCoins: '40' });
    await expectCleanAudit(db);

    // One that covers it leaves the rest to spend.
    await paidPurchase(100n, buyer);
    expect(await walletOf(server, buyer)).toEqual({ coins: '60', debtCoins: '0' });
    expect(await sendGift(server, buyer, session.id, rose.id)).toMatchObject({ __typename: 'SentGift', coins: '30' });
    expect(await walletOf(server, buyer)).toEqual({ coins: '30', debtCoins: '0' });
    await expectCleanAudit(db);
  });

  test('a chargeback on unspent coins takes them back without a debt', async () => {
    const { buyer, purchaseId } = await paidPurchase(100n);
    expect((await postWebhook(server, paymentEvent('payment.charged_back', purchaseId))).body.result).toBe('applied');
    expect(await walletOf(server, buyer)).toEqual({ coins: '0', debtCoins: '0' });
    expect(await db.chargebackDebt.count({ where: { userId: buyer.id } })).toBe(0);
    expect(await purchaseRecord(db, purchaseId)).toMatchObject({ status: 'CHARGED_BACK', chargebacks: 1 });
    await expectCleanAudit(db);
  });
});

describe('the ledger after all of the above', () => {
  test('the operator\'s ledgerAudit is clean, and only operators may run it', async () => {
    await expectLedgerAuditCleanOverGraphQL(server);
    await expectCleanAudit(db);
  });
});
