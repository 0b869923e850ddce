import { randomBytes } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { PAYOUT_RECONCILE_AFTER_MS, reconcilePayouts } from '../../src/domain/payouts/lifecycle.js';
import { createStripePayoutProvider, payoutKeys } from '../../src/domain/payouts/stripe.js';
import { createStripeClient } from '../../src/domain/stripe/client.js';
import { silentAnnouncer } from '../../src/events/announcer.js';
import { createLogger } from '../../src/logger.js';
import { ok } from '../support/graphql.js';
import { scrape } from '../support/metrics.js';
import { expectCleanAudit } from '../support/money.js';
import { startTestServer } from '../support/server.js';
import { deliver, startStripeStandIn, STAND_IN_WEBHOOK_SECRETS } from '../support/stripe.js';
import { AddPayoutMethod } from '../payouts/documents.js';
import { approve, asked, creatorWith, dbId, diamondsOf, payoutRecord, signedInAdmin, type SignedIn } from '../payouts/support.js';

// Creator payouts through Stripe Connect, with the real `stripe` library talking to a local stand-in of
// Stripe's API: a Transfer to the creator's connected account, then a Payout from it to their bank.

const stripe = await startStripeStandIn();
const METRICS_TOKEN = 'stripe-payouts-metrics-token-0001';
const server = await startTestServer({ sandbox: false, variables: { ...stripe.environment(), PAYOUT_FEE_CENTS: '100', METRICS_TOKEN } });
const { db } = server;
const admin = await signedInAdmin(db);
const CONNECT_SECRET = STAND_IN_WEBHOOK_SECRETS[1];

/** An event from a connected account, as Stripe sends it to the Connect endpoint. */
const fromAccount = (account: string, type: string, object: Record<string, unknown>) => stripe.signedEvent(type, object, { account, secret: CONNECT_SECRET });

/** A creator holding 10,000 diamonds whose connected account Stripe has said can receive payouts. */
async function connectedCreator() {
  const { creator } = await creatorWith(db, 10_000n);
  const account = `acct_${randomBytes(8).toString('hex')}`;
  const { addPayoutMethod } = await ok(server.url, AddPayoutMethod, { input: { stripeAccount: { accountId: account } } }, { token: creator.token });
  if (addPayoutMethod.__typename !== 'PayoutMethod') throw new Error(JSON.stringify(addPayoutMethod));
  expect(addPayoutMethod).toMatchObject({ kind: 'STRIPE_ACCOUNT', verified: false, display: `acct_••••${account.slice(-4)}` });

  const notYet = fromAccount(account, 'account.updated', { id: account, object: 'account', payouts_enabled: false });
  expect((await deliver(server.url, notYet)).body.result).toBe('ignored');
  const enabled = fromAccount(account, 'account.updated', { id: account, object: 'account', payouts_enabled: true });
  expect((await deliver(server.url, enabled)).body.result).toBe('applied');
  expect(await db.payoutMethod.findFirstOrThrow({ where: { destination: account } })).toMatchObject({ verifiedByEvent: enabled.id });
  return { creator, account, methodId: addPayoutMethod.id };
}

/** A payout of 10,000 diamonds (50.00 USD, 49.00 after the fee) approved and sent to Stripe. */
async function sentPayout(creator: SignedIn, methodId: string) {
  const payout = await asked(server, creator, methodId, 10_000n);
  expect(await approve(server, admin, payout.id)).toMatchObject({ __typename: 'Payout', status: 'PROCESSING' });
  const payoutId = dbId(payout.id);
  const row = await db.payout.findUniqueOrThrow({ where: { id: payoutId } });
  return { payoutId, providerPayoutId: row.providerPayoutId!, transferId: row.providerTransferId! };
}

describe('payouts through Stripe Connect', () => {
  test('a connected account verified by account.updated; PROCESSING makes a Transfer then a Payout, each with our idempotency key; payout.paid pays it', async () => {
    const before = await scrape(server.metricsUrl!, METRICS_TOKEN);
    const { creator, account, methodId } = await connectedCreator();
    const { payoutId, providerPayoutId, transferId } = await sentPayout(creator, methodId);

    const keys = payoutKeys(payoutId);
    expect(stripe.requestsTo('POST', '/v1/transfers').filter((request) => request.metadata.ovation_payout_id === payoutId)).toEqual([
      expect.objectContaining({ amount: 4900, currency: 'usd', idempotencyKey: keys.transfer, account: undefined, params: expect.objectContaining({ destination: account }) }),
    ]);
    expect(stripe.requestsTo('POST', '/v1/payouts').filter((request) => request.metadata.ovation_payout_id === payoutId)).toEqual([
      expect.objectContaining({ amount: 4900, currency: 'usd', idempotencyKey: keys.payout, account }),
    ]);
    expect(transferId).toMatch(/^tr_/);
    expect(providerPayoutId).toMatch(/^po_/);
    expect(await diamondsOf(server, creator)).toBe(0n);

    const paid = fromAccount(account, 'payout.paid', stripe.settlePayout(providerPayoutId, 'paid'));
    expect((await deliver(server.url, paid)).body.result).toBe('applied');
    expect((await deliver(server.url, paid)).body.result).toBe('duplicate');
    expect(await payoutRecord(db, payoutId)).toMatchObject({ status: 'PAID', paid: 1, reversals: 0 });

    // Stripe's one endpoint: its account and payout events count as payout webhooks.
    const after = await scrape(server.metricsUrl!, METRICS_TOKEN);
    const counted = (name: string, outcome: string) => after.value(name, { outcome }) - before.value(name, { outcome });
    expect(['applied', 'duplicate', 'ignored'].map((outcome) => counted('ovation_payout_webhooks_total', outcome))).toEqual([2, 1, 1]);
    expect(after.value('ovation_payment_webhooks_total')).toBe(before.value('ovation_payment_webhooks_total'));
    await expectCleanAudit(db);
  });

  test("payout.failed: the Transfer is reversed once before the diamonds return, once; the creator sees Stripe's failure code", async () => {
    const { creator, account, methodId } = await connectedCreator();
    const { payoutId, providerPayoutId, transferId } = await sentPayout(creator, methodId);

    const failedPayout = stripe.settlePayout(providerPayoutId, 'failed', 'account_closed');
    const failed = fromAccount(account, 'payout.failed', failedPayout);
    const toldAgain = fromAccount(account, 'payout.failed', failedPayout); // the same failure under another event id
    const results = await Promise.all([deliver(server.url, failed), deliver(server.url, failed), deliver(server.url, failed), deliver(server.url, toldAgain)]);
    expect(results.map((result) => result.status)).toEqual([200, 200, 200, 200]);
    expect(results.filter((result) => result.body.result === 'applied')).toHaveLength(1);

    const transfer = stripe.transfers.get(transferId) as { reversed: boolean; reversals: { data: unknown[] } };
    expect(transfer).toMatchObject({ reversed: true });
    expect(transfer.reversals.data).toHaveLength(1);
    const reversals = stripe.requestsTo('POST', `/v1/transfers/${transferId}/reversals`);
    expect(new Set(reversals.map((request) => request.idempotencyKey))).toEqual(new Set([payoutKeys(payoutId).reversal]));

    expect(await payoutRecord(db, payoutId)).toMatchObject({ status: 'FAILED', paid: 0, reversals: 1 });
    expect(await db.payout.findUniqueOrThrow({ where: { id: payoutId } })).toMatchObject({
      reason: 'Stripe: account_closed (The bank account has been closed.)',
      transferReversalId: (transfer.reversals.data[0] as { id: string }).id,
    });
    expect(await diamondsOf(server, creator)).toBe(10_000n);
    await expectCleanAudit(db);
  });

  test('a failure after paid returns the payout: the Transfer reversed once, the diamonds returned once', async () => {
    const { creator, account, methodId } = await connectedCreator();
    const { payoutId, providerPayoutId, transferId } = await sentPayout(creator, methodId);
    expect((await deliver(server.url, fromAccount(account, 'payout.paid', stripe.settlePayout(providerPayoutId, 'paid')))).body.result).toBe('applied');

    const failedLater = fromAccount(account, 'payout.failed', stripe.settlePayout(providerPayoutId, 'failed', 'could_not_process'));
    expect((await deliver(server.url, failedLater)).body.result).toBe('applied');
    expect((await deliver(server.url, failedLater)).body.result).toBe('duplicate');
    const again = fromAccount(account, 'payout.failed', stripe.payouts.get(providerPayoutId)!);
    expect((await deliver(server.url, again)).body.result).toBe('ignored');

    expect((stripe.transfers.get(transferId) as { reversals: { data: unknown[] } }).reversals.data).toHaveLength(1);
    expect(await payoutRecord(db, payoutId)).toMatchObject({ status: 'RETURNED', paid: 1, reversals: 1 });
    expect(await diamondsOf(server, creator)).toBe(10_000n);
    await expectCleanAudit(db);
  });

  test('a send whose answers were lost is looked up by sending again with the same keys: one Transfer, one Payout', async () => {
    const { creator, account, methodId } = await connectedCreator();
    stripe.dropAnswers('POST /v1/payouts', 3); // the first call and both of the library's retries
    const { payoutId } = await sentPayout(creator, methodId);
    expect(await db.payout.findUniqueOrThrow({ where: { id: payoutId } })).toMatchObject({ status: 'PROCESSING', providerPayoutId: null, providerTransferId: null });

    const provider = createStripePayoutProvider(createStripeClient(stripe.settings()));
    const deps = { db, policy: DEFAULT_POLICY, provider, announce: silentAnnouncer, log: createLogger('silent') };
    expect(await reconcilePayouts(deps, provider, new Date(Date.now() + PAYOUT_RECONCILE_AFTER_MS + 60_000))).toMatchObject({ stillPending: 1 });

    const ours = (request: { metadata: Record<string, string> }) => request.metadata.ovation_payout_id === payoutId;
    expect(new Set(stripe.requestsTo('POST', '/v1/transfers').filter(ours).map((request) => request.idempotencyKey))).toEqual(new Set([payoutKeys(payoutId).transfer]));
    expect(new Set(stripe.requestsTo('POST', '/v1/payouts').filter(ours).map((request) => request.idempotencyKey))).toEqual(new Set([payoutKeys(payoutId).payout]));
    expect([...stripe.transfers.values()].filter((transfer) => (transfer.metadata as Record<string, string>).ovation_payout_id === payoutId)).toHaveLength(1);
    const made = [...stripe.payouts.values()].filter((payout) => (payout.metadata as Record<string, string>).ovation_payout_id === payoutId);
    expect(made).toHaveLength(1);
    expect(await db.payout.findUniqueOrThrow({ where: { id: payoutId } })).toMatchObject({ providerPayoutId: made[0]!.id, providerTransferId: expect.stringMatching(/^tr_/) });

    expect((await deliver(server.url, fromAccount(account, 'payout.paid', stripe.settlePayout(made[0]!.id as string, 'paid')))).body.result).toBe('applied');
    expect(await payoutRecord(db, payoutId)).toMatchObject({ status: 'PAID', paid: 1 });
    await expectCleanAudit(db);
  });

  test('a payout Ovation did not ask for (no payout id in its metadata) is acknowledged and changes nothing', async () => {
    const stray = fromAccount('acct_other', 'payout.paid', { id: 'po_stray', object: 'payout', status: 'paid', metadata: {} });
    expect(await deliver(server.url, stray)).toEqual({ status: 200, body: { received: true, result: 'ignored' } });
    await expectCleanAudit(db);
  });
});
