import { describe, expect, test } from 'vitest';
import { createBundle } from '../../src/domain/bundles.js';
import { createStripePaymentProvider, paymentIntentKey } from '../../src/domain/payments/stripe.js';
import { RECONCILE_AFTER_MS, reconcilePurchases } from '../../src/domain/purchases.js';
import { createStripeClient } from '../../src/domain/stripe/client.js';
import { silentAnnouncer } from '../../src/events/announcer.js';
import { EntryKind } from '../../src/generated/prisma/client.js';
import { brandBudget } from '../../src/domain/brands/budgets.js';
import { globalId as anyGlobalId } from '../../src/schema/ids.js';
import { ok, post } from '../support/graphql.js';
import { tokenFor } from '../support/users.js';
import { createFundedBrand } from '../brands/support.js';
import { changeCampaign, createMatchingCampaign } from '../../src/domain/brands/campaigns.js';
import { RemainderRule } from '../../src/generated/prisma/client.js';
import { createCatalogGift, createLiveCreator, expectCleanAudit, uniqueKey } from '../support/money.js';
import { startTestServer } from '../support/server.js';
import { deliver, startStripeStandIn, STAND_IN_WEBHOOK_SECRETS, TEST_CARDS } from '../support/stripe.js';
import { PurchasesSendGift } from '../purchases/documents.js';
import { databaseId, globalId, signedIn, walletOf } from '../purchases/support.js';
import { StripePurchaseCoins } from './documents.js';

// Coin purchases through Stripe PaymentIntents, with the real `stripe` library talking to a local
// stand-in of Stripe's API (test/support/stripe.ts) and webhooks signed by the library's own test signer.

const stripe = await startStripeStandIn();
const server = await startTestServer({ sandbox: false, variables: stripe.environment() });
const { db } = server;
const CANCEL_AFTER_MS = 60 * 60_000;
const settings = stripe.settings(CANCEL_AFTER_MS);
/** The same provider the server runs, for reconciliation runs a test drives itself. */
const provider = createStripePaymentProvider(createStripeClient(settings), settings);

/** 70 coins for 0.99 USD by default; 1.09 EUR in Germany. */
const bundle = await createBundle(db, {
  name: 'Handful',
  coins: 70n,
  prices: [
    { region: 'DEFAULT', amountMinor: 99n, currency: 'USD' },
    { region: 'DE', amountMinor: 109n, currency: 'EUR' },
  ],
});

async function buy(buyer: { token: string }, paymentMethod?: string, idempotencyKey = uniqueKey('buy')) {
  const { purchaseCoins } = await ok(
    server.url,
    StripePurchaseCoins,
    { input: { bundleId: globalId('CoinBundle', bundle.id), ...(paymentMethod ? { paymentMethod } : {}), idempotencyKey } },
    { token: buyer.token },
  );
  return purchaseCoins;
}

async function bought(buyer: { token: string }, paymentMethod?: string) {
  const purchase = await buy(buyer, paymentMethod);
  if (purchase.__typename !== 'Purchase') throw new Error(`Refused: ${JSON.stringify(purchase)}`);
  return { ...purchase, dbId: databaseId(purchase.id) };
}

const credits = (purchaseId: string) => db.journalEntry.count({ where: { kind: EntryKind.PURCHASE, memo: `Purchase ${purchaseId}` } });
const purchaseRow = (purchaseId: string) => db.purchase.findUniqueOrThrow({ where: { id: purchaseId } });
const coinsOf = async (buyer: { token: string }) => BigInt((await walletOf(server, buyer)).coins);
const intentOf = (purchaseId: string) => stripe.intentFor(purchaseId) as { id: string; status: string; client_secret: string };
const intentEvent = (type: string, purchaseId: string) => stripe.signedEvent(type, stripe.intentFor(purchaseId));

describe('buying coins through Stripe', () => {
  test('a PaymentIntent for the regional price, with our purchase id and our idempotency key; coins credited once', async () => {
    const buyer = await signedIn(db, { country: 'DE' });
    const purchase = await bought(buyer, TEST_CARDS.visa);

    expect(purchase).toMatchObject({ status: 'SUCCEEDED', coins: '70', amountMinor: '109', currency: 'EUR', nextAction: null });
    const created = stripe.requestsTo('POST', '/v1/payment_intents').filter((request) => request.metadata.ovation_purchase_id === purchase.dbId);
    expect(created).toEqual([
      expect.objectContaining({
        amount: 109,
        currency: 'eur',
        idempotencyKey: paymentIntentKey(purchase.dbId),
        metadata: { ovation_kind: 'coin_purchase', ovation_purchase_id: purchase.dbId },
        params: expect.objectContaining({ payment_method: TEST_CARDS.visa, confirm: 'true' }),
      }),
    ]);
    expect(await purchaseRow(purchase.dbId)).toMatchObject({ providerPaymentId: intentOf(purchase.dbId).id, provider: 'stripe' });

    // Stripe's payment_intent.succeeded comes too: already credited, it changes nothing.
    expect(await deliver(server.url, intentEvent('payment_intent.succeeded', purchase.dbId))).toEqual({ status: 200, body: { received: true, result: 'ignored' } });
    expect(await credits(purchase.dbId)).toBe(1);
    expect(await coinsOf(buyer)).toBe(70n);
    await expectCleanAudit(db);
  });

  test('without a payment method the buyer gets the client secret to confirm with; the coins come with payment_intent.succeeded', async () => {
    const buyer = await signedIn(db);
    const purchase = await bought(buyer);
    const intent = intentOf(purchase.dbId);
    expect(purchase).toMatchObject({ status: 'PENDING', clientSecret: intent.client_secret, nextAction: 'confirm', amountMinor: '99', currency: 'USD' });
    expect(await coinsOf(buyer)).toBe(0n);

    stripe.confirm(intent.id, 'succeeded'); // the buyer's app, with Stripe.js
    expect((await deliver(server.url, intentEvent('payment_intent.succeeded', purchase.dbId))).body.result).toBe('applied');
    expect(await purchaseRow(purchase.dbId)).toMatchObject({ status: 'SUCCEEDED', nextAction: null });
    expect(await coinsOf(buyer)).toBe(70n);
    await expectCleanAudit(db);
  });

  test('a card that needs 3-D Secure leaves the purchase pending, for the app to authenticate with the client secret', async () => {
    const buyer = await signedIn(db);
    const purchase = await bought(buyer, TEST_CARDS.authenticationRequired);
    expect(purchase).toMatchObject({ status: 'PENDING', nextAction: 'authenticate', clientSecret: intentOf(purchase.dbId).client_secret });
    await expectCleanAudit(db);
  });

  test("a declined card declines the purchase with Stripe's words; payment_failed changes nothing more; the same PaymentIntent paid with another card is credited", async () => {
    const buyer = await signedIn(db);
    const declined = await buy(buyer, TEST_CARDS.declined);
    expect(declined).toEqual({ __typename: 'PaymentDeclinedError', code: 'PAYMENT_DECLINED', message: 'Your card was declined.' });
    const purchase = await db.purchase.findFirstOrThrow({ where: { buyerId: buyer.id } });
    expect(purchase).toMatchObject({ status: 'DECLINED', providerPaymentId: intentOf(purchase.id).id });
    expect((await deliver(server.url, intentEvent('payment_intent.payment_failed', purchase.id))).body.result).toBe('ignored');

    stripe.confirm(intentOf(purchase.id).id, 'succeeded');
    expect((await deliver(server.url, intentEvent('payment_intent.succeeded', purchase.id))).body.result).toBe('applied');
    expect(await coinsOf(buyer)).toBe(70n);
    await expectCleanAudit(db);
  });

  test('payment_intent.payment_failed and payment_intent.canceled decline a pending purchase', async () => {
    for (const type of ['payment_intent.payment_failed', 'payment_intent.canceled']) {
      const buyer = await signedIn(db);
      const purchase = await bought(buyer);
      stripe.confirm(intentOf(purchase.dbId).id, 'failed');
      expect((await deliver(server.url, intentEvent(type, purchase.dbId))).body.result).toBe('applied');
      expect(await purchaseRow(purchase.dbId)).toMatchObject({ status: 'DECLINED' });
    }
    await expectCleanAudit(db);
  });

  test('an answer lost in transit is asked again by the library with the same idempotency key, and a retried purchase makes no second PaymentIntent', async () => {
    const buyer = await signedIn(db);
    stripe.dropAnswers('POST /v1/payment_intents', 1);
    const key = uniqueKey('buy');
    const purchase = await buy(buyer, TEST_CARDS.visa, key);
    if (purchase.__typename !== 'Purchase') throw new Error(JSON.stringify(purchase));
    const again = await buy(buyer, TEST_CARDS.visa, key); // the buyer's app retries
    expect(again).toMatchObject({ __typename: 'Purchase', id: purchase.id, status: 'SUCCEEDED' });

    const purchaseId = databaseId(purchase.id);
    const sent = stripe.requestsTo('POST', '/v1/payment_intents').filter((request) => request.metadata.ovation_purchase_id === purchaseId);
    expect(sent.map((request) => request.idempotencyKey)).toEqual([paymentIntentKey(purchaseId), paymentIntentKey(purchaseId)]);
    expect([...stripe.intents.values()].filter((intent) => (intent.metadata as Record<string, string>).ovation_purchase_id === purchaseId)).toHaveLength(1);
    expect(await credits(purchaseId)).toBe(1);
    await expectCleanAudit(db);
  });
});

describe('Stripe webhooks', () => {
  test('the same event delivered three times at once credits once', async () => {
    const buyer = await signedIn(db);
    const purchase = await bought(buyer);
    stripe.confirm(intentOf(purchase.dbId).id, 'succeeded');
    const event = intentEvent('payment_intent.succeeded', purchase.dbId);

    const results = await Promise.all([1, 2, 3].map(() => deliver(server.url, event)));
    expect(results.map((result) => result.status)).toEqual([200, 200, 200]);
    expect(results.map((result) => result.body.result).sort()).toEqual(['applied', 'duplicate', 'duplicate']);
    expect(await db.webhookEvent.count({ where: { eventId: event.id } })).toBe(1);
    expect(await credits(purchase.dbId)).toBe(1);
    expect(await coinsOf(buyer)).toBe(70n);
    await expectCleanAudit(db);
  });

  test('payment_intent.succeeded before the create call returns: found by the purchase id in its metadata, credited once', async () => {
    const buyer = await signedIn(db);
    const release = stripe.holdAnswers('POST /v1/payment_intents');
    const buying = bought(buyer, TEST_CARDS.visa);
    // The PaymentIntent is made (and paid) at Stripe; its answer has not reached Ovation yet.
    await expect
      .poll(async () => {
        const pending = await db.purchase.findFirst({ where: { buyerId: buyer.id } });
        return !!pending && [...stripe.intents.values()].some((intent) => (intent.metadata as Record<string, string>).ovation_purchase_id === pending.id);
      })
      .toBe(true);
    const purchase = await db.purchase.findFirstOrThrow({ where: { buyerId: buyer.id } });
    expect(purchase.providerPaymentId).toBeNull();

    expect((await deliver(server.url, intentEvent('payment_intent.succeeded', purchase.id))).body.result).toBe('applied');
    release();
    expect(await buying).toMatchObject({ status: 'SUCCEEDED' });
    expect(await credits(purchase.id)).toBe(1);
    expect(await coinsOf(buyer)).toBe(70n);
    await expectCleanAudit(db);
  });

  test('a forged and a stale signature are refused; either signing secret is accepted (a rotation, or the Connect endpoint)', async () => {
    const buyer = await signedIn(db);
    const purchase = await bought(buyer);
    stripe.confirm(intentOf(purchase.dbId).id, 'succeeded');
    const object = stripe.intentFor(purchase.dbId);

    const forged = stripe.signedEvent('payment_intent.succeeded', object, { secret: 'whsec_notoursatall' });
    expect(await deliver(server.url, forged)).toEqual({ status: 400, body: { error: 'Bad signature' } });
    const stale = stripe.signedEvent('payment_intent.succeeded', object, { at: new Date(Date.now() - 301_000) });
    expect(await deliver(server.url, stale)).toEqual({ status: 400, body: { error: 'Signature timestamp outside the 5-minute tolerance' } });
    expect(await deliver(server.url, { payload: forged.payload, signature: null })).toEqual({ status: 400, body: { error: 'Missing Stripe-Signature header' } });
    // A body changed after signing: the signature is over the raw bytes.
    const tampered = stripe.signedEvent('payment_intent.succeeded', object);
    expect((await deliver(server.url, { ...tampered, payload: tampered.payload.replace('"livemode":false', '"livemode": false') })).status).toBe(400);
    expect(await coinsOf(buyer)).toBe(0n);

    const second = stripe.signedEvent('payment_intent.succeeded', object, { secret: STAND_IN_WEBHOOK_SECRETS[1] });
    expect((await deliver(server.url, second)).body.result).toBe('applied');
    expect(await coinsOf(buyer)).toBe(70n);
    await expectCleanAudit(db);
  });

  test('an event for a PaymentIntent Ovation never made is recorded and changes nothing', async () => {
    const event = stripe.signedEvent('payment_intent.succeeded', { id: 'pi_unknown', object: 'payment_intent', metadata: {}, status: 'succeeded' });
    expect((await deliver(server.url, event)).body.result).toBe('ignored');
    expect((await deliver(server.url, event)).body.result).toBe('duplicate');
    // Events Ovation does not act on are acknowledged and not kept.
    const other = stripe.signedEvent('customer.created', { id: 'cus_1', object: 'customer' });
    expect(await deliver(server.url, other)).toEqual({ status: 200, body: { received: true, result: 'ignored' } });
    expect(await db.webhookEvent.count({ where: { eventId: other.id } })).toBe(0);
    await expectCleanAudit(db);
  });
});

describe('refunds and disputes', () => {
  test('a partial refund takes back its share of the coins, rounded in the buyer\'s favour; the rest of the refund takes back the rest; totals told late change nothing', async () => {
    const buyer = await signedIn(db);
    const purchase = await bought(buyer, TEST_CARDS.visa);
    const intentId = intentOf(purchase.dbId).id;

    // 50 of 99 cents: floor(70 x 50 / 99) = 35 coins (35.35...), the buyer keeps the fraction.
    stripe.refund(intentId, 50);
    expect((await deliver(server.url, stripe.signedEvent('charge.refunded', stripe.charge(intentId)))).body.result).toBe('applied');
    expect(await coinsOf(buyer)).toBe(35n);
    expect(await purchaseRow(purchase.dbId)).toMatchObject({ status: 'SUCCEEDED', refundedMinor: 50n, coinsTakenBack: 35n });

    stripe.refund(intentId, 49);
    const rest = stripe.signedEvent('charge.refunded', stripe.charge(intentId));
    const late = stripe.signedEvent('charge.refunded', stripe.charge(intentId, 60)); // sent before `rest`, arrives after
    expect((await deliver(server.url, rest)).body.result).toBe('applied');
    expect((await deliver(server.url, late)).body.result).toBe('ignored');
    expect(await coinsOf(buyer)).toBe(0n);
    expect(await purchaseRow(purchase.dbId)).toMatchObject({ status: 'REFUNDED', refundedMinor: 99n, coinsTakenBack: 70n });
    expect(await db.journalEntry.count({ where: { kind: EntryKind.REFUND, memo: `Refund of purchase ${purchase.dbId}` } })).toBe(2);
    await expectCleanAudit(db);
  });

  test('a full refund takes every coin back', async () => {
    const buyer = await signedIn(db);
    const purchase = await bought(buyer, TEST_CARDS.visa);
    stripe.refund(intentOf(purchase.dbId).id, 99);
    expect((await deliver(server.url, stripe.signedEvent('charge.refunded', stripe.charge(intentOf(purchase.dbId).id)))).body.result).toBe('applied');
    expect(await coinsOf(buyer)).toBe(0n);
    expect(await purchaseRow(purchase.dbId)).toMatchObject({ status: 'REFUNDED', coinsTakenBack: 70n });
    await expectCleanAudit(db);
  });

  test('a refund heard before the payment succeeded is applied when it does', async () => {
    const buyer = await signedIn(db);
    const purchase = await bought(buyer);
    const intentId = intentOf(purchase.dbId).id;
    stripe.confirm(intentId, 'succeeded');
    stripe.refund(intentId, 99);
    expect((await deliver(server.url, stripe.signedEvent('charge.refunded', stripe.charge(intentId)))).body.result).toBe('ignored');
    expect((await deliver(server.url, intentEvent('payment_intent.succeeded', purchase.dbId))).body.result).toBe('applied');
    expect(await coinsOf(buyer)).toBe(0n);
    expect(await purchaseRow(purchase.dbId)).toMatchObject({ status: 'REFUNDED', coinsTakenBack: 70n });
    await expectCleanAudit(db);
  });

  test('a refund that fails gives the coins back (the buyer has the money or the coins, never neither); its events told after the failure change nothing', async () => {
    const buyer = await signedIn(db);
    const purchase = await bought(buyer, TEST_CARDS.visa);
    const intentId = intentOf(purchase.dbId).id;
    const refund = stripe.refund(intentId, 99);
    const refunded = stripe.signedEvent('charge.refunded', stripe.charge(intentId));
    expect((await deliver(server.url, refunded)).body.result).toBe('applied');
    expect(await coinsOf(buyer)).toBe(0n);

    const failed = stripe.failRefund(refund.id as string);
    expect((await deliver(server.url, stripe.signedEvent('refund.failed', failed))).body.result).toBe('applied');
    expect(await coinsOf(buyer)).toBe(70n);
    expect(await purchaseRow(purchase.dbId)).toMatchObject({ status: 'SUCCEEDED', refundedMinor: 0n, coinsTakenBack: 0n });
    expect(await db.journalEntry.count({ where: { kind: EntryKind.REFUND_REVERSAL, memo: `Refund failed of purchase ${purchase.dbId}` } })).toBe(1);

    // The same news again, and the refund's own event redelivered late (Stripe retries for days): Stripe is asked what stands.
    expect((await deliver(server.url, stripe.signedEvent('charge.refund.updated', failed))).body.result).toBe('ignored');
    expect((await deliver(server.url, stripe.signedEvent('charge.refunded', stripe.charge(intentId, 99)))).body.result).toBe('ignored');
    expect(await coinsOf(buyer)).toBe(70n);
    await expectCleanAudit(db);
  });

  test('refund events delivered all at once, after one of two refunds failed, end where Stripe stands', async () => {
    const buyer = await signedIn(db);
    const purchase = await bought(buyer, TEST_CARDS.visa);
    const intentId = intentOf(purchase.dbId).id;
    const first = stripe.refund(intentId, 50);
    const firstTold = stripe.charge(intentId);
    stripe.refund(intentId, 49);
    const bothTold = stripe.charge(intentId);
    const failed = stripe.failRefund(first.id as string);
    const events = [
      stripe.signedEvent('charge.refunded', firstTold),
      stripe.signedEvent('charge.refunded', bothTold),
      stripe.signedEvent('charge.refund.updated', failed),
      stripe.signedEvent('refund.failed', failed),
    ];
    const results = await Promise.all(events.flatMap((event) => [event, event]).map((event) => deliver(server.url, event)));
    expect(results.every((result) => result.status === 200)).toBe(true);
    // 49 of 99 cents stands refunded: floor(70 x 49 / 99) = 34 coins taken back.
    expect(await purchaseRow(purchase.dbId)).toMatchObject({ status: 'SUCCEEDED', refundedMinor: 49n, coinsTakenBack: 34n });
    expect(await coinsOf(buyer)).toBe(36n);
    await expectCleanAudit(db);
  });

  test('while Stripe cannot say what stands refunded, a refund event is refused (500, so Stripe retries) and changes nothing', async () => {
    const buyer = await signedIn(db);
    const purchase = await bought(buyer, TEST_CARDS.visa);
    const intentId = intentOf(purchase.dbId).id;
    stripe.refund(intentId, 99);
    const refunded = stripe.signedEvent('charge.refunded', stripe.charge(intentId));
    stripe.dropAnswers('GET /v1/refunds', 3); // the library's first try and its two retries
    expect((await deliver(server.url, refunded)).status).toBe(500);
    expect(await coinsOf(buyer)).toBe(70n);
    expect(await purchaseRow(purchase.dbId)).toMatchObject({ status: 'SUCCEEDED', refundedMinor: 0n, coinsTakenBack: 0n });
    expect((await deliver(server.url, refunded)).body.result).toBe('applied');
    expect(await coinsOf(buyer)).toBe(0n);
    await expectCleanAudit(db);
  });

  test('a dispute after the coins were spent leaves a debt; won, the coins come back', async () => {
    const buyer = await signedIn(db);
    const purchase = await bought(buyer, TEST_CARDS.visa);
    const { session } = await createLiveCreator(db);
    const gift = await createCatalogGift(db, 50n);
    const { sendGift } = await ok(
      server.url,
      PurchasesSendGift,
      { input: { liveSessionId: globalId('LiveSession', session.id), giftId: globalId('Gift', gift.id), quantity: 1, idempotencyKey: uniqueKey('gift') } },
      { token: buyer.token },
    );
    expect(sendGift.__typename).toBe('SentGift');

    const intentId = intentOf(purchase.dbId).id;
    const opened = stripe.signedEvent('charge.dispute.created', stripe.dispute(intentId, 'needs_response', 'dp_1'));
    expect((await deliver(server.url, opened)).body.result).toBe('applied');
    expect(await walletOf(server, buyer)).toMatchObject({ coins: '0', debtCoins: '50' });
    expect(await purchaseRow(purchase.dbId)).toMatchObject({ status: 'CHARGED_BACK', dispute: 'OPEN', coinsTakenBack: 70n });
    expect(await db.chargebackDebt.findUniqueOrThrow({ where: { purchaseId: purchase.dbId } })).toMatchObject({ coins: 50n });
    await expectCleanAudit(db);

    const won = stripe.signedEvent('charge.dispute.closed', stripe.dispute(intentId, 'won', 'dp_1'));
    expect((await deliver(server.url, won)).body.result).toBe('applied');
    expect((await deliver(server.url, won)).body.result).toBe('duplicate');
    expect(await coinsOf(buyer)).toBe(20n);
    expect(await purchaseRow(purchase.dbId)).toMatchObject({ status: 'SUCCEEDED', dispute: 'WON', coinsTakenBack: 0n });
    expect(await db.journalEntry.count({ where: { kind: EntryKind.CHARGEBACK_REVERSAL } })).toBe(1);
    await expectCleanAudit(db);
  });

  test('a dispute lost keeps the coins taken; a closure heard before the opening stands', async () => {
    const buyer = await signedIn(db);
    const purchase = await bought(buyer, TEST_CARDS.visa);
    const intentId = intentOf(purchase.dbId).id;
    expect((await deliver(server.url, stripe.signedEvent('charge.dispute.closed', stripe.dispute(intentId, 'lost', 'dp_2')))).body.result).toBe('applied');
    expect((await deliver(server.url, stripe.signedEvent('charge.dispute.created', stripe.dispute(intentId, 'needs_response', 'dp_2')))).body.result).toBe('ignored');
    expect(await coinsOf(buyer)).toBe(0n);
    expect(await purchaseRow(purchase.dbId)).toMatchObject({ status: 'CHARGED_BACK', dispute: 'LOST', coinsTakenBack: 70n });
    await expectCleanAudit(db);
  });

  test('an inquiry that closed and then became a chargeback (a new dispute) takes the coins back again; news of the inquiry told late changes nothing', async () => {
    const buyer = await signedIn(db);
    const purchase = await bought(buyer, TEST_CARDS.visa);
    const intentId = intentOf(purchase.dbId).id;
    const inquiryOpened = new Date(Date.now() - 3600_000);
    const inquiry = (status: 'warning_needs_response' | 'warning_closed') => stripe.dispute(intentId, status, 'dp_inquiry', inquiryOpened);
    const chargeback = (status: 'needs_response' | 'lost') => stripe.dispute(intentId, status, 'dp_chargeback');

    expect((await deliver(server.url, stripe.signedEvent('charge.dispute.created', inquiry('warning_needs_response')))).body.result).toBe('applied');
    expect(await coinsOf(buyer)).toBe(0n);
    expect((await deliver(server.url, stripe.signedEvent('charge.dispute.closed', inquiry('warning_closed')))).body.result).toBe('applied');
    expect(await coinsOf(buyer)).toBe(70n);

    expect((await deliver(server.url, stripe.signedEvent('charge.dispute.created', chargeback('needs_response')))).body.result).toBe('applied');
    expect(await coinsOf(buyer)).toBe(0n);
    expect(await purchaseRow(purchase.dbId)).toMatchObject({ status: 'CHARGED_BACK', dispute: 'OPEN', disputeId: 'dp_chargeback', coinsTakenBack: 70n });
    // The inquiry's events again (new deliveries, as a retry of a failed one would be): the chargeback stands.
    expect((await deliver(server.url, stripe.signedEvent('charge.dispute.closed', inquiry('warning_closed')))).body.result).toBe('ignored');
    expect((await deliver(server.url, stripe.signedEvent('charge.dispute.created', inquiry('warning_needs_response')))).body.result).toBe('ignored');
    expect(await coinsOf(buyer)).toBe(0n);

    await deliver(server.url, stripe.signedEvent('charge.dispute.closed', chargeback('lost')));
    expect(await purchaseRow(purchase.dbId)).toMatchObject({ status: 'CHARGED_BACK', dispute: 'LOST', disputeId: 'dp_chargeback', coinsTakenBack: 70n });
    expect(await db.journalEntry.count({ where: { memo: { endsWith: `of purchase ${purchase.dbId}` } } })).toBe(3);
    await expectCleanAudit(db);
  });

  test("a chargeback heard before the inquiry it followed: the inquiry's closing gives nothing back", async () => {
    const buyer = await signedIn(db);
    const purchase = await bought(buyer, TEST_CARDS.visa);
    const intentId = intentOf(purchase.dbId).id;
    const inquiryOpened = new Date(Date.now() - 3600_000);
    expect((await deliver(server.url, stripe.signedEvent('charge.dispute.created', stripe.dispute(intentId, 'needs_response', 'dp_later')))).body.result).toBe('applied');
    expect((await deliver(server.url, stripe.signedEvent('charge.dispute.created', stripe.dispute(intentId, 'warning_needs_response', 'dp_earlier', inquiryOpened)))).body.result).toBe('ignored');
    expect((await deliver(server.url, stripe.signedEvent('charge.dispute.closed', stripe.dispute(intentId, 'warning_closed', 'dp_earlier', inquiryOpened)))).body.result).toBe('ignored');
    expect(await coinsOf(buyer)).toBe(0n);
    expect(await purchaseRow(purchase.dbId)).toMatchObject({ status: 'CHARGED_BACK', dispute: 'OPEN', disputeId: 'dp_later', coinsTakenBack: 70n });
    await expectCleanAudit(db);
  });
});

describe('reconciliation through Stripe', () => {
  const later = (purchase: { createdAt: Date }, ms = RECONCILE_AFTER_MS + 60_000) => new Date(purchase.createdAt.getTime() + ms);

  test('a purchase whose webhook never came is looked up by its PaymentIntent id and credited once', async () => {
    const buyer = await signedIn(db);
    const purchase = await bought(buyer);
    stripe.confirm(intentOf(purchase.dbId).id, 'succeeded'); // ...and the webhook is lost
    const row = await purchaseRow(purchase.dbId);

    const before = stripe.requests.length;
    expect(await reconcilePurchases(db, silentAnnouncer, provider, later(row))).toMatchObject({ credited: 1 });
    expect(stripe.requests.slice(before).filter((request) => request.path.includes(row.providerPaymentId!))).toEqual([
      expect.objectContaining({ method: 'GET', path: `/v1/payment_intents/${row.providerPaymentId}` }),
    ]);
    expect(await reconcilePurchases(db, silentAnnouncer, provider, later(row))).toMatchObject({ credited: 0 });
    expect((await deliver(server.url, intentEvent('payment_intent.succeeded', purchase.dbId))).body.result).toBe('ignored');
    expect(await credits(purchase.dbId)).toBe(1);
    await expectCleanAudit(db);
  });

  test('a purchase whose create call never answered is created again with the same idempotency key: Stripe answers with the first PaymentIntent', async () => {
    const buyer = await signedIn(db);
    stripe.dropAnswers('POST /v1/payment_intents', 3); // the first call and both of the library's retries
    const lost = await buy(buyer, TEST_CARDS.visa);
    expect(lost).toMatchObject({ __typename: 'PaymentProviderUnavailableError' });
    const row = await db.purchase.findFirstOrThrow({ where: { buyerId: buyer.id } });
    expect(row).toMatchObject({ status: 'PENDING', providerPaymentId: null });

    expect(await reconcilePurchases(db, silentAnnouncer, provider, later(row))).toMatchObject({ credited: 1 });
    const sent = stripe.requestsTo('POST', '/v1/payment_intents').filter((request) => request.metadata.ovation_purchase_id === row.id);
    expect(sent).toHaveLength(4);
    expect(new Set(sent.map((request) => request.idempotencyKey))).toEqual(new Set([paymentIntentKey(row.id)]));
    expect([...stripe.intents.values()].filter((intent) => (intent.metadata as Record<string, string>).ovation_purchase_id === row.id)).toHaveLength(1);
    expect(await purchaseRow(row.id)).toMatchObject({ status: 'SUCCEEDED', providerPaymentId: intentOf(row.id).id });
    expect(await coinsOf(buyer)).toBe(70n);
    await expectCleanAudit(db);
  });

  test('a PaymentIntent left unconfirmed past the configured time is canceled at Stripe and the purchase declined', async () => {
    const buyer = await signedIn(db);
    const purchase = await bought(buyer);
    const row = await purchaseRow(purchase.dbId);

    // Pending, but not yet abandoned: looked up, left alone.
    await reconcilePurchases(db, silentAnnouncer, provider, later(row));
    expect(intentOf(row.id).status).toBe('requires_payment_method');
    expect(await purchaseRow(row.id)).toMatchObject({ status: 'PENDING' });

    expect((await reconcilePurchases(db, silentAnnouncer, provider, later(row, CANCEL_AFTER_MS))).declined).toBeGreaterThanOrEqual(1);
    expect(stripe.requestsTo('POST', `/v1/payment_intents/${row.providerPaymentId}/cancel`)).toEqual([
      expect.objectContaining({ idempotencyKey: `${paymentIntentKey(row.id)}-cancel`, params: { cancellation_reason: 'abandoned' } }),
    ]);
    expect(intentOf(row.id).status).toBe('canceled');
    expect(await purchaseRow(row.id)).toMatchObject({ status: 'DECLINED' });
    expect((await deliver(server.url, intentEvent('payment_intent.canceled', row.id))).body.result).toBe('ignored');
    await expectCleanAudit(db);
  });

  test('a declined PaymentIntent, which the buyer could still pay with another card, is canceled after the configured time too', async () => {
    const buyer = await signedIn(db);
    expect(await buy(buyer, TEST_CARDS.declined)).toMatchObject({ __typename: 'PaymentDeclinedError' });
    const row = await db.purchase.findFirstOrThrow({ where: { buyerId: buyer.id } });
    expect(row).toMatchObject({ status: 'DECLINED', clientSecret: intentOf(row.id).client_secret });

    await reconcilePurchases(db, silentAnnouncer, provider, later(row));
    expect(intentOf(row.id).status).toBe('requires_payment_method');
    await reconcilePurchases(db, silentAnnouncer, provider, later(row, CANCEL_AFTER_MS));
    await reconcilePurchases(db, silentAnnouncer, provider, later(row, CANCEL_AFTER_MS + 60_000));
    expect(stripe.requestsTo('POST', `/v1/payment_intents/${row.providerPaymentId}/cancel`)).toHaveLength(1);
    expect(intentOf(row.id).status).toBe('canceled');
    expect(await purchaseRow(row.id)).toMatchObject({ status: 'DECLINED', clientSecret: null });
    await expectCleanAudit(db);
  });
});

describe("a brand's budget through Stripe", () => {
  const FUND = `mutation ($input: FundBrandBudgetInput!) { fundBrandBudget(input: $input) { __typename ... on BrandFunding { id status coins } ... on Error { code } } }`;
  const fund = async (token: string, brandId: string, paymentMethod: string) =>
    (await post(server.url, FUND, { authorization: `Bearer ${token}` }, {
      input: { brandId: anyGlobalId('Brand', brandId), bundleId: globalId('CoinBundle', bundle.id), paymentMethod, idempotencyKey: uniqueKey('fund') },
    })).data?.fundBrandBudget as { __typename: string; id: string; status: string; coins: string };

  test('a PaymentIntent of its own kind; paid at once, or on payment_intent.succeeded, credited once', async () => {
    const { brand, owner } = await createFundedBrand(db, 0n);
    const token = await tokenFor(owner);
    expect(await fund(token, brand.id, TEST_CARDS.visa)).toMatchObject({ __typename: 'BrandFunding', status: 'SUCCEEDED', coins: '70' });
    const pending = await fund(token, brand.id, TEST_CARDS.authenticationRequired);
    expect(pending).toMatchObject({ __typename: 'BrandFunding', status: 'PENDING' });
    const fundingId = databaseId(pending.id);
    expect(stripe.requestsTo('POST', '/v1/payment_intents').filter((request) => request.metadata.ovation_purchase_id === fundingId)).toEqual([
      expect.objectContaining({ amount: 99, currency: 'usd', idempotencyKey: paymentIntentKey(fundingId), metadata: { ovation_kind: 'brand_funding', ovation_purchase_id: fundingId } }),
    ]);
    expect((await brandBudget(db, brand.id)).availableCoins).toBe(70n);

    const succeeded = stripe.signedEvent('payment_intent.succeeded', { ...(stripe.intentFor(fundingId) as object), status: 'succeeded' });
    const results = await Promise.all([1, 2, 3].map(() => deliver(server.url, succeeded)));
    expect(results.map((result) => result.body.result).sort()).toEqual(['applied', 'duplicate', 'duplicate']);
    expect((await brandBudget(db, brand.id)).availableCoins).toBe(140n);
    await expectCleanAudit(db);
  });

  test("refunds take coins back from what the brand still has available, the rest is owed; a dispute won gives them back", async () => {
    const { brand, owner, caller } = await createFundedBrand(db, 0n);
    const token = await tokenFor(owner);
    const funded = await fund(token, brand.id, TEST_CARDS.visa);
    const fundingId = databaseId(funded.id);
    const intentId = (stripe.intentFor(fundingId) as { id: string }).id;
    const funding = () => db.brandFunding.findUniqueOrThrow({ where: { id: fundingId } });

    // Half refunded (49 of 99 cents): 34 of its 70 coins (rounded down, in the brand's favour).
    stripe.refund(intentId, 49);
    expect((await deliver(server.url, stripe.signedEvent('charge.refunded', stripe.charge(intentId)))).body.result).toBe('applied');
    expect(await funding()).toMatchObject({ refundedMinor: 49n, takenBackCoins: 34n });
    expect((await brandBudget(db, brand.id)).availableCoins).toBe(36n);

    // The brand commits what is left to a campaign; then the rest is refunded: nothing available to take.
    const live = await createLiveCreator(db);
    const draft = await createMatchingCampaign(db, caller, {
      brandId: brand.id, name: 'All in', creatorId: live.creator.id, ratioPercent: 100, budgetCoins: 36n,
      startsAt: new Date(Date.now() - 1000), endsAt: new Date(Date.now() + 3600_000), remainderRule: RemainderRule.RETURN_TO_BRAND,
    });
    await changeCampaign(db, silentAnnouncer, caller, 'activate', { campaignId: draft.id });
    const second = stripe.refund(intentId, 50);
    const full = stripe.signedEvent('charge.refunded', stripe.charge(intentId));
    const results = await Promise.all([1, 2, 3].map(() => deliver(server.url, full)));
    expect(results.map((result) => result.body.result).sort()).toEqual(['applied', 'duplicate', 'duplicate']);
    expect(await funding()).toMatchObject({ refundedMinor: 99n, takenBackCoins: 34n });
    // A smaller running total arriving late (out of order) changes nothing.
    expect((await deliver(server.url, stripe.signedEvent('charge.refunded', stripe.charge(intentId, 60)))).body.result).toBe('ignored');

    const OWED = `query ($id: ID!) { brand(id: $id) { fundings { id refundedMinor takenBackCoins owedCoins } } }`;
    const listed = await post(server.url, OWED, { authorization: `Bearer ${token}` }, { id: anyGlobalId('Brand', brand.id) });
    expect(JSON.stringify(listed.data)).toContain('"owedCoins":"36"');
    await expectCleanAudit(db);

    // The second refund fails: the brand no longer owes what it could not give back.
    expect((await deliver(server.url, stripe.signedEvent('refund.failed', stripe.failRefund(second.id as string)))).body.result).toBe('applied');
    expect(await funding()).toMatchObject({ refundedMinor: 49n, takenBackCoins: 34n });
    const after = await post(server.url, OWED, { authorization: `Bearer ${token}` }, { id: anyGlobalId('Brand', brand.id) });
    expect(JSON.stringify(after.data)).toContain(`"refundedMinor":"49","takenBackCoins":"34","owedCoins":"0"`);
    await expectCleanAudit(db);

    // Another funding, disputed: every coin taken back while the dispute is open; won, all given back.
    const disputed = databaseId((await fund(token, brand.id, TEST_CARDS.visa)).id);
    const disputedIntent = (stripe.intentFor(disputed) as { id: string }).id;
    const before = (await brandBudget(db, brand.id)).availableCoins;
    await deliver(server.url, stripe.signedEvent('charge.dispute.created', stripe.dispute(disputedIntent, 'needs_response', 'dp_brand')));
    expect((await brandBudget(db, brand.id)).availableCoins).toBe(before - 70n);
    await deliver(server.url, stripe.signedEvent('charge.dispute.closed', stripe.dispute(disputedIntent, 'won', 'dp_brand')));
    expect((await brandBudget(db, brand.id)).availableCoins).toBe(before);
    expect(await db.brandFunding.findUniqueOrThrow({ where: { id: disputed } })).toMatchObject({ dispute: 'WON', takenBackCoins: 0n });
    // The payment disputed again, as a new dispute (an inquiry become a chargeback): every coin taken back again.
    await deliver(server.url, stripe.signedEvent('charge.dispute.created', stripe.dispute(disputedIntent, 'needs_response', 'dp_brand_again', new Date(Date.now() + 1000))));
    expect((await brandBudget(db, brand.id)).availableCoins).toBe(before - 70n);
    expect(await db.brandFunding.findUniqueOrThrow({ where: { id: disputed } })).toMatchObject({ dispute: 'OPEN', disputeId: 'dp_brand_again', takenBackCoins: 70n });
    await expectCleanAudit(db);
  });
});
