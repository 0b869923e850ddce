import { describe, expect, test } from 'vitest';
import { silentAnnouncer } from '../../src/events/announcer.js';
import { createPrismaClient } from '../../src/db/client.js';
import { applyPayoutEvent, approvePayout, PAYOUT_RECONCILE_AFTER_MS, reconcilePayouts, type PayoutDeps } from '../../src/domain/payouts/lifecycle.js';
import { addPayoutMethod, verifyPayoutMethod } from '../../src/domain/payouts/methods.js';
import type { PayoutProvider, PayoutRequest } from '../../src/domain/payouts/provider.js';
import { requestPayout } from '../../src/domain/payouts/requests.js';
import { createSandboxPayoutProvider, SANDBOX_PAYEES, sandboxPayoutId } from '../../src/domain/payouts/sandbox.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { createLogger } from '../../src/logger.js';
import { createTestDatabase } from '../support/database.js';
import { balances, expectCleanAudit, uniqueKey } from '../support/money.js';
import { createUser } from '../support/users.js';
import { creatorWith, payoutRecord, TEST_PAYOUT_WEBHOOK_SECRET } from './support.js';

// A payout whose outcome never arrives (the send's answer was lost, the webhook never came) must not
// stay PROCESSING for ever: the creator's diamonds are in the hold. Reconciliation asks the provider about
// payouts due a check and settles each exactly once, on any number of instances at once.

const database = await createTestDatabase();
const { db } = database;
const RETURN_AFTER_MS = 10 * 60_000;
const sandbox = createSandboxPayoutProvider({ webhookSecrets: [TEST_PAYOUT_WEBHOOK_SECRET], returnAfterMs: RETURN_AFTER_MS });
const log = createLogger('silent');
const deps = (provider: PayoutProvider, onDb = db): PayoutDeps => ({ db: onDb, policy: DEFAULT_POLICY, provider, announce: silentAnnouncer, log });
const admin = await createUser(db, { roles: ['VIEWER', 'ADMIN'] });
const later = (ms = PAYOUT_RECONCILE_AFTER_MS) => new Date(Date.now() + ms + 60_000);

/** A second instance: its own connection pool, the same database. */
const otherInstance = createPrismaClient(database.url, 5);

/** The sandbox, except that the answer to a payout is lost: after it reached the provider, or before. */
function answerLost(when: 'after the send' | 'before the send'): PayoutProvider {
  return {
    ...sandbox,
    async send(request: PayoutRequest) {
      if (when === 'after the send') await sandbox.send(request);
      throw new Error('connection reset');
    },
  };
}

/** A creator's approved payout of 20,000 diamonds to `destination`, sent through `provider`. */
async function submitted(provider: PayoutProvider, destination: string = SANDBOX_PAYEES.pays.email) {
  const { creator } = await creatorWith(db, 30_000n);
  const method = await addPayoutMethod(deps(provider), creator.id, { emailWallet: { email: destination } });
  await verifyPayoutMethod(deps(provider), admin.id, { methodId: method.id });
  const payout = await requestPayout(deps(provider), creator.id, { diamonds: 20_000n, methodId: method.id, idempotencyKey: uniqueKey('payout') });
  return { creator, payout: await approvePayout(deps(provider), admin.id, { payoutId: payout.id, idempotencyKey: uniqueKey('approve') }) };
}

const bothInstances = (provider: PayoutProvider, now: Date) =>
  Promise.all([reconcilePayouts(deps(provider), provider, now), reconcilePayouts(deps(provider, otherInstance), provider, now)]);

describe('reconciling payouts whose outcome never arrived', () => {
  test('a payout whose webhook never came is settled once, after PAYOUT_RECONCILE_AFTER_MS, on two instances at once; a late webhook changes nothing', async () => {
    const provider = answerLost('after the send');
    const { creator, payout } = await submitted(provider);
    expect(payout.status).toBe('PROCESSING');

    // Not yet: a webhook normally settles it within minutes.
    await reconcilePayouts(deps(provider), provider);
    expect(await payoutRecord(db, payout.id)).toMatchObject({ status: 'PROCESSING' });

    const runs = await bothInstances(provider, later());
    expect(runs.reduce((sum, run) => sum + run.paid, 0)).toBe(1);
    expect(await payoutRecord(db, payout.id)).toMatchObject({ status: 'PAID', holds: 1, paid: 1, reversals: 0 });
    expect(await db.payout.findUniqueOrThrow({ where: { id: payout.id } })).toMatchObject({ providerPayoutId: sandboxPayoutId(payout.id) });
    expect((await balances(db, creator)).diamonds).toBe(10_000n);

    await bothInstances(provider, later());
    const webhook = await applyPayoutEvent(deps(provider), provider, { eventId: uniqueKey('evt'), type: 'payout.paid', payoutId: payout.id, providerPayoutId: sandboxPayoutId(payout.id) });
    expect(webhook).toBe('ignored');
    expect(await payoutRecord(db, payout.id)).toMatchObject({ status: 'PAID', paid: 1 });
    await expectCleanAudit(db);
  });

  test('a payout the provider never received fails, and its diamonds come back once', async () => {
    const provider = answerLost('before the send');
    const lookupSays = { ...provider, lookup: async () => ({ status: 'not_found' as const }) };
    const { creator, payout } = await submitted(provider);

    const runs = await bothInstances(lookupSays, later());
    expect(runs.reduce((sum, run) => sum + run.failed, 0)).toBe(1);
    expect(await payoutRecord(db, payout.id)).toMatchObject({ status: 'FAILED', reversals: 1 });
    expect((await balances(db, creator)).diamonds).toBe(30_000n);
    await expectCleanAudit(db);
  });

  test('one still pending at the provider stays PROCESSING, and is asked about again later', async () => {
    const { payout } = await submitted(sandbox, SANDBOX_PAYEES.webhookOnly.email);
    expect(await reconcilePayouts(deps(sandbox), sandbox, later())).toMatchObject({ stillPending: 1 });
    const next = (await db.payout.findUniqueOrThrow({ where: { id: payout.id } })).nextCheckAt!;
    expect(next.getTime()).toBeGreaterThan(later().getTime());
    expect(await payoutRecord(db, payout.id)).toMatchObject({ status: 'PROCESSING' });
  });

  test('a provider that does not answer the lookup leaves the payout for the next run', async () => {
    const provider = answerLost('after the send');
    const { payout } = await submitted(provider);
    const silent: PayoutProvider = { ...provider, lookup: () => Promise.reject(new Error('timeout')) };
    expect(await reconcilePayouts(deps(silent), silent, later())).toMatchObject({ unanswered: 1 });
    expect(await payoutRecord(db, payout.id)).toMatchObject({ status: 'PROCESSING' });
    await reconcilePayouts(deps(provider), provider, later());
    expect(await payoutRecord(db, payout.id)).toMatchObject({ status: 'PAID' });
  });

  test("a paid payout the bank returns later is found by the return check and given back once, on two instances at once", async () => {
    const { creator, payout } = await submitted(sandbox, SANDBOX_PAYEES.returns.email);
    expect(payout.status).toBe('PAID');
    // Before the return is due, the paid payout is not even looked at.
    expect(await bothInstances(sandbox, new Date(Date.now() + RETURN_AFTER_MS / 2))).toEqual([
      expect.objectContaining({ returned: 0 }),
      expect.objectContaining({ returned: 0 }),
    ]);

    const runs = await bothInstances(sandbox, later(RETURN_AFTER_MS));
    expect(runs.reduce((sum, run) => sum + run.returned, 0)).toBe(1);
    expect(await payoutRecord(db, payout.id)).toMatchObject({ status: 'RETURNED', paid: 1, reversals: 1 });
    expect((await balances(db, creator)).diamonds).toBe(30_000n);
    await expectCleanAudit(db);
  });

  test('a paid payout not returned by then is not asked about again', async () => {
    const { payout } = await submitted(sandbox);
    expect(await reconcilePayouts(deps(sandbox), sandbox, later(RETURN_AFTER_MS))).toMatchObject({ returned: 0 });
    expect(await db.payout.findUniqueOrThrow({ where: { id: payout.id } })).toMatchObject({ status: 'PAID', nextCheckAt: null });
  });

  test('an approved payout never submitted (the server stopped in between) is submitted, once', async () => {
    const sent: string[] = [];
    const counting: PayoutProvider = { ...sandbox, send: async (request) => (sent.push(request.payoutId), sandbox.send(request)) };
    const { creator } = await creatorWith(db, 30_000n);
    const method = await addPayoutMethod(deps(sandbox), creator.id, { emailWallet: { email: SANDBOX_PAYEES.pays.email } });
    await verifyPayoutMethod(deps(sandbox), admin.id, { methodId: method.id });
    const payout = await requestPayout(deps(sandbox), creator.id, { diamonds: 20_000n, methodId: method.id, idempotencyKey: uniqueKey('payout') });
    // Approved by a server with no provider at that moment: it waits, APPROVED.
    await approvePayout({ ...deps(sandbox), provider: null }, admin.id, { payoutId: payout.id, idempotencyKey: uniqueKey('approve') });
    expect(await payoutRecord(db, payout.id)).toMatchObject({ status: 'APPROVED' });

    const runs = await Promise.all([reconcilePayouts(deps(counting), counting, later()), reconcilePayouts(deps(counting, otherInstance), counting, later())]);
    expect(runs.reduce((sum, run) => sum + run.submitted, 0)).toBe(1);
    expect(sent.filter((id) => id === payout.id)).toHaveLength(1);
    expect(await payoutRecord(db, payout.id)).toMatchObject({ status: 'PAID', paid: 1 });
    await expectCleanAudit(db);
  });
});

describe('after all of the above', () => {
  test('the ledger is clean', async () => {
    await otherInstance.$disconnect();
    await expectCleanAudit(db);
  });
});
