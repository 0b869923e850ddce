import { describe, expect, test } from 'vitest';
import { SANDBOX_PAYEES } from '../../src/domain/payouts/sandbox.js';
import { signWebhook } from '../../src/domain/webhook-signature.js';
import { scrape } from '../support/metrics.js';
import { expectCleanAudit, uniqueKey } from '../support/money.js';
import { startTestServer } from '../support/server.js';
import { releaseWhenDone } from '../support/wait.js';
import {
  approve,
  asked,
  creatorWith,
  dbId,
  diamondsOf,
  payoutEvent,
  payoutRecord,
  postPayoutWebhook,
  readyMethod,
  signedInAdmin,
  startPayoutServer,
  TEST_PAYOUT_WEBHOOK_SECRET,
  type PayoutWebhookBody,
} from './support.js';

const ROTATED_SECRET = 'test-payout-webhook-secret-0002';
// The provider is rotating its secret: both the old and the new one verify.
const server = await startPayoutServer({ PAYOUT_WEBHOOK_SECRETS: `${TEST_PAYOUT_WEBHOOK_SECRET}, ${ROTATED_SECRET}` });
const { db } = server;
const admin = await signedInAdmin(db);
const MINUTE = 60_000;

/** A payout with the provider, waiting for its webhook, and its creator. */
async function processing() {
  const { creator } = await creatorWith(db, 30_000n);
  const methodId = await readyMethod(server, creator, admin, SANDBOX_PAYEES.webhookOnly.email);
  const payout = await asked(server, creator, methodId, 20_000n);
  expect(await approve(server, admin, payout.id)).toMatchObject({ status: 'PROCESSING' });
  return { creator, payoutId: dbId(payout.id) };
}

const seenEvents = (eventId: string) => db.webhookEvent.count({ where: { eventId } });

describe('payout webhooks are signed: untrusted ones are refused with 400 and change nothing', () => {
  async function expectRefusedThenGenuineApplies(send: (event: PayoutWebhookBody) => ReturnType<typeof postPayoutWebhook>, reason: RegExp) {
    const { creator, payoutId } = await processing();
    const event = payoutEvent('payout.failed', payoutId);

    const refused = await send(event);
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatch(reason);
    expect(await payoutRecord(db, payoutId)).toMatchObject({ status: 'PROCESSING', reversals: 0 });
    expect(await seenEvents(event.id)).toBe(0);
    // A refused delivery is not remembered: the genuine one still applies.
    expect((await postPayoutWebhook(server, event)).body.result).toBe('applied');
    expect(await diamondsOf(server, creator)).toBe(30_000n);
    await expectCleanAudit(db);
  }

  test('signed with a secret the server does not hold', async () => {
    await expectRefusedThenGenuineApplies((event) => postPayoutWebhook(server, event, { secrets: ['someone-elses-secret-0000'] }), /^Bad signature$/);
  });

  test('a body changed after it was signed', async () => {
    await expectRefusedThenGenuineApplies((event) => {
      const signed = JSON.stringify({ ...event, type: 'payout.paid' });
      return postPayoutWebhook(server, event, { signature: signWebhook([TEST_PAYOUT_WEBHOOK_SECRET], signed, new Date()) });
    }, /^Bad signature$/);
  });

  test('signed more than 5 minutes ago, or ahead', async () => {
    await expectRefusedThenGenuineApplies((event) => postPayoutWebhook(server, event, { at: new Date(Date.now() - 6 * MINUTE) }), /5-minute tolerance/);
    await expectRefusedThenGenuineApplies((event) => postPayoutWebhook(server, event, { at: new Date(Date.now() + 6 * MINUTE) }), /5-minute tolerance/);
  });

  test('without a signature, or with a malformed one', async () => {
    await expectRefusedThenGenuineApplies((event) => postPayoutWebhook(server, event, { signature: null }), /Missing or malformed signature/);
    await expectRefusedThenGenuineApplies((event) => postPayoutWebhook(server, event, { signature: 't=1,t=2,v1=abc' }), /Missing or malformed signature/);
  });

  test('a genuinely signed body that is not an event', async () => {
    expect(await postPayoutWebhook(server, '{"id":"evt_1","type":"payout.teleported","data":{}}')).toEqual({ status: 400, body: { error: 'Unreadable event' } });
  });
});

describe('secrets rotate: any configured secret verifies, and a header may carry several signatures', () => {
  test.each([
    ['the old secret alone', [TEST_PAYOUT_WEBHOOK_SECRET]],
    ['the new secret alone', [ROTATED_SECRET]],
    ['both, as a provider signs while rotating', [ROTATED_SECRET, TEST_PAYOUT_WEBHOOK_SECRET]],
    ['a retired secret next to a current one', ['a-secret-retired-last-year-000', ROTATED_SECRET]],
  ])('signed with %s', async (_case, secrets) => {
    const { payoutId } = await processing();
    expect(await postPayoutWebhook(server, payoutEvent('payout.paid', payoutId), { secrets })).toEqual({ status: 200, body: { received: true, result: 'applied' } });
    expect(await payoutRecord(db, payoutId)).toMatchObject({ status: 'PAID', paid: 1 });
    await expectCleanAudit(db);
  });
});

describe('what a webhook names must be ours', () => {
  test('an event for a payout Ovation does not know is acknowledged and changes nothing', async () => {
    const entries = await db.journalEntry.count();
    expect(await postPayoutWebhook(server, payoutEvent('payout.paid', '00000000-0000-4000-8000-00000000dead'))).toEqual({
      status: 200,
      body: { received: true, result: 'ignored' },
    });
    expect(await db.journalEntry.count()).toBe(entries);
  });

  test("an event naming another transfer of the provider's does not settle a payout", async () => {
    const { payoutId } = await processing();
    const event = { id: uniqueKey('evt'), type: 'payout.paid' as const, data: { payoutId, providerPayoutId: 'sbxpo_someone_else' } };
    expect((await postPayoutWebhook(server, event as PayoutWebhookBody)).body.result).toBe('ignored');
    expect(await payoutRecord(db, payoutId)).toMatchObject({ status: 'PROCESSING' });
  });
});

describe('without a payout provider', () => {
  test('the webhook path is 404: nobody can settle a payout through it', async () => {
    const without = await startTestServer({ database: server.database, sandbox: false });
    const response = await fetch(new URL('/webhooks/payouts', without.url), { method: 'POST', body: '{}' });
    expect(response.status).toBe(404);
  });
});

describe('operators count payout webhooks by outcome', () => {
  test('applied, duplicate, ignored and rejected, apart from payment webhooks', async () => {
    const instance = await startPayoutServer({}, { database: server.database, env: 'development' });
    releaseWhenDone(instance.stop);
    const { payoutId } = await processing();
    const paid = payoutEvent('payout.paid', payoutId);
    expect((await postPayoutWebhook(instance, paid)).body.result).toBe('applied');
    expect((await postPayoutWebhook(instance, paid)).body.result).toBe('duplicate');
    expect((await postPayoutWebhook(instance, payoutEvent('payout.paid', '00000000-0000-4000-8000-00000000dead'))).body.result).toBe('ignored');
    expect((await postPayoutWebhook(instance, payoutEvent('payout.paid', payoutId), { secrets: ['someone-elses-secret-0000'] })).status).toBe(400);

    const metrics = await scrape(instance.metricsUrl!);
    for (const outcome of ['applied', 'duplicate', 'ignored', 'rejected']) expect(metrics.value('ovation_payout_webhooks_total', { outcome })).toBe(1);
    expect(metrics.value('ovation_payment_webhooks_total')).toBe(0);
    await expectCleanAudit(db);
  });
});
