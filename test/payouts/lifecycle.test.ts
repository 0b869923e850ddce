import { describe, expect, test } from 'vitest';
import { SANDBOX_PAYEES } from '../../src/domain/payouts/sandbox.js';
import { ok } from '../support/graphql.js';
import { moneySnapshot } from '../support/gifting.js';
import { expectCleanAudit, uniqueKey } from '../support/money.js';
import { publishUntilReceived } from '../support/wait.js';
import { bearer, openSocket, subscribe } from '../support/ws.js';
import {
  ApprovePayout,
  CancelPayout,
  MarkPayoutFailed,
  PayoutNode,
  PayoutsLiftRestriction,
  PayoutsRestrictAccount,
  PayoutsWalletUpdated,
  PayoutUpdated,
  PlacePayoutHold,
  RejectPayout,
  ReleasePayoutHold,
} from './documents.js';
import {
  approve,
  asked,
  creatorWith,
  dbId,
  diamondsOf,
  earn,
  expectAuditCleanOverGraphQL,
  gid,
  payoutAccounts,
  payoutEvent,
  payoutRecord,
  postPayoutWebhook,
  readyMethod,
  signedInAdmin,
  startPayoutServer,
  type SignedIn,
} from './support.js';

// Every payout is reviewed (the default); payouts above 200 USD need two operators.
const server = await startPayoutServer({ PAYOUT_SECOND_APPROVAL_ABOVE_CENTS: '20000' });
// A second instance on the same database that approves payouts up to 100 USD by itself.
const auto = await startPayoutServer({ PAYOUT_AUTO_APPROVE_MAX_CENTS: '10000' }, { database: server.database });
const { db } = server;
const admin = await signedInAdmin(db);
const secondAdmin = await signedInAdmin(db);

/** A creator with `diamonds`, a verified method at `destination`, and a REQUESTED payout of `payout` diamonds. */
async function requested(diamonds: bigint, payout: bigint, destination: string = SANDBOX_PAYEES.pays.email) {
  const { creator } = await creatorWith(db, diamonds);
  const methodId = await readyMethod(server, creator, admin, destination);
  const asking = await asked(server, creator, methodId, payout);
  return { creator, methodId, payout: asking, payoutId: dbId(asking.id) };
}

/** A payout the operator approved and the sandbox is holding until its webhook (PROCESSING). */
async function processing(diamonds = 30_000n, payout = 20_000n) {
  const arranged = await requested(diamonds, payout, SANDBOX_PAYEES.webhookOnly.email);
  expect(await approve(server, admin, arranged.payout.id)).toMatchObject({ __typename: 'Payout', status: 'PROCESSING' });
  return arranged;
}

const reject = async (who: { token: string }, payoutId: string, reason = 'Documents do not match the account', idempotencyKey = uniqueKey('reject')) =>
  (await ok(server.url, RejectPayout, { input: { payoutId, reason, idempotencyKey } }, { token: who.token })).rejectPayout;
const cancel = async (who: { token: string }, payoutId: string, idempotencyKey = uniqueKey('cancel')) =>
  (await ok(server.url, CancelPayout, { input: { payoutId, idempotencyKey } }, { token: who.token })).cancelPayout;
const hold = async (payoutId: string, reason: 'COMPLIANCE_REVIEW' | 'FRAUD_REVIEW' | 'DOCUMENTS_REQUIRED', note?: string) =>
  (await ok(server.url, PlacePayoutHold, { input: { payoutId, reason, note } }, { token: admin.token })).placePayoutHold;
const release = async (payoutId: string, reason: 'COMPLIANCE_REVIEW' | 'FRAUD_REVIEW' | 'DOCUMENTS_REQUIRED' | 'ACCOUNT_RESTRICTED') =>
  (await ok(server.url, ReleasePayoutHold, { input: { payoutId, reason } }, { token: admin.token })).releasePayoutHold;
const seen = async (who: SignedIn, payoutId: string) => {
  const { node } = await ok(server.url, PayoutNode, { id: payoutId }, { token: who.token });
  if (node?.__typename !== 'Payout') throw new Error(`Not a payout: ${JSON.stringify(node)}`);
  return node;
};

describe('a payout goes through its lifecycle, every diamond accounted for', () => {
  test('REQUESTED -> APPROVED -> PROCESSING -> PAID: the diamonds move to the hold, then are paid out, and every change says who made it', async () => {
    const { creator, payout, payoutId } = await requested(25_000n, 12_345n);
    // 12,345 diamonds make 6,172 whole cents (12,344 diamonds); the odd diamond stays with the creator.
    expect(payout).toMatchObject({ status: 'REQUESTED', diamonds: '12344', amountMinor: '6172', feeMinor: '0', netMinor: '6172', currency: 'USD' });
    expect(payout.nextStatuses).toEqual(['APPROVED', 'REJECTED', 'CANCELED']);
    expect(await diamondsOf(server, creator)).toBe(25_000n - 12_344n);
    expect(await payoutRecord(db, payoutId)).toMatchObject({ status: 'REQUESTED', holds: 1, paid: 0, reversals: 0 });
    await expectCleanAudit(db);

    const paid = await approve(server, admin, payout.id);
    expect(paid).toMatchObject({ __typename: 'Payout', status: 'PAID', nextStatuses: ['RETURNED'] });
    // The creator sees what made each change; operators also see who, by id.
    expect((await seen(creator, payout.id)).history.map((change) => [change.kind, change.fromStatus, change.status, change.actor, change.actorId])).toEqual([
      ['STATUS', null, 'REQUESTED', 'CREATOR', null],
      ['STATUS', 'REQUESTED', 'APPROVED', 'ADMIN', null],
      ['STATUS', 'APPROVED', 'PROCESSING', 'SYSTEM', null],
      ['STATUS', 'PROCESSING', 'PAID', 'PROVIDER', null],
    ]);
    expect((await seen(admin, payout.id)).history.map((change) => change.actorId)).toEqual([gid('User', creator.id), gid('User', admin.id), null, null]);
    expect(await diamondsOf(server, creator)).toBe(25_000n - 12_344n);
    expect(await payoutRecord(db, payoutId)).toMatchObject({ status: 'PAID', holds: 1, paid: 1, reversals: 0 });
    await expectCleanAudit(db);
  });

  test("the sandbox's failing destination: PROCESSING -> FAILED, and the diamonds come back", async () => {
    const { creator, payout, payoutId } = await requested(20_000n, 10_000n, SANDBOX_PAYEES.fails.email);
    expect(await approve(server, admin, payout.id)).toMatchObject({ status: 'FAILED', reason: 'The sandbox refused this destination', nextStatuses: [] });
    expect(await diamondsOf(server, creator)).toBe(20_000n);
    expect(await payoutRecord(db, payoutId)).toMatchObject({ status: 'FAILED', holds: 1, paid: 0, reversals: 1 });
    await expectCleanAudit(db);
  });

  test('FAILED after PROCESSING, delivered three times at once: the diamonds come back once', async () => {
    const { creator, payoutId } = await processing(30_000n, 20_000n);
    expect(await diamondsOf(server, creator)).toBe(10_000n);
    const failed = payoutEvent('payout.failed', payoutId);

    const deliveries = await Promise.all([1, 2, 3].map(() => postPayoutWebhook(server, failed)));

    expect(deliveries.map(({ status }) => status)).toEqual([200, 200, 200]);
    expect(deliveries.map(({ body }) => body.result).sort()).toEqual(['applied', 'duplicate', 'duplicate']);
    expect(await diamondsOf(server, creator)).toBe(30_000n);
    expect(await payoutRecord(db, payoutId)).toMatchObject({ status: 'FAILED', reversals: 1 });

    // The same failure told again under new event ids, at once: still once.
    const retold = await Promise.all([1, 2, 3].map(() => postPayoutWebhook(server, payoutEvent('payout.failed', payoutId))));
    expect(retold.map(({ body }) => body.result)).toEqual(['ignored', 'ignored', 'ignored']);
    expect(await diamondsOf(server, creator)).toBe(30_000n);
    expect(await payoutRecord(db, payoutId)).toMatchObject({ status: 'FAILED', reversals: 1 });
    await expectCleanAudit(db);
  });

  test('distinct failure events for one payout arriving at once give the diamonds back once', async () => {
    const { creator, payoutId } = await processing(30_000n, 20_000n);
    const results = await Promise.all([1, 2, 3].map(() => postPayoutWebhook(server, payoutEvent('payout.failed', payoutId))));
    expect(results.map(({ body }) => body.result).sort()).toEqual(['applied', 'ignored', 'ignored']);
    expect(await diamondsOf(server, creator)).toBe(30_000n);
    expect(await payoutRecord(db, payoutId)).toMatchObject({ status: 'FAILED', reversals: 1 });
    await expectCleanAudit(db);
  });

  test('PAID then RETURNED: the diamonds come back once, and RETURNED told again changes nothing', async () => {
    const { creator, payout, payoutId } = await processing(30_000n, 20_000n);
    expect((await postPayoutWebhook(server, payoutEvent('payout.paid', payoutId))).body.result).toBe('applied');
    expect(await seen(creator, payout.id)).toMatchObject({ status: 'PAID' });
    expect(await diamondsOf(server, creator)).toBe(10_000n);
    await expectCleanAudit(db);

    expect((await postPayoutWebhook(server, payoutEvent('payout.returned', payoutId))).body.result).toBe('applied');
    expect(await seen(creator, payout.id)).toMatchObject({ status: 'RETURNED', reason: 'the provider says it returned', nextStatuses: [] });
    expect(await diamondsOf(server, creator)).toBe(30_000n);
    expect(await payoutRecord(db, payoutId)).toMatchObject({ status: 'RETURNED', holds: 1, paid: 1, reversals: 1 });
    await expectCleanAudit(db);

    const before = await moneySnapshot(db);
    const changesBefore = (await payoutRecord(db, payoutId)).changes;
    for (const type of ['payout.returned', 'payout.failed', 'payout.paid'] as const) {
      expect((await postPayoutWebhook(server, payoutEvent(type, payoutId))).body.result).toBe('ignored');
    }
    expect(await moneySnapshot(db)).toEqual(before);
    expect(await payoutRecord(db, payoutId)).toMatchObject({ status: 'RETURNED', reversals: 1, changes: changesBefore });
    await expectCleanAudit(db);
  });

  test('a failure told after the payout was paid is a late failure: RETURNED, diamonds back once', async () => {
    const { creator, payoutId } = await processing(30_000n, 20_000n);
    expect((await postPayoutWebhook(server, payoutEvent('payout.paid', payoutId))).body.result).toBe('applied');
    expect((await postPayoutWebhook(server, payoutEvent('payout.failed', payoutId))).body.result).toBe('applied');
    expect(await payoutRecord(db, payoutId)).toMatchObject({ status: 'RETURNED', paid: 1, reversals: 1 });
    expect(await diamondsOf(server, creator)).toBe(30_000n);
    await expectCleanAudit(db);
  });

  test('an operator marks a PROCESSING payout failed, saying why; the provider saying later it paid changes nothing', async () => {
    const { creator, payout, payoutId } = await processing(30_000n, 20_000n);
    const { markPayoutFailed } = await ok(
      server.url,
      MarkPayoutFailed,
      { input: { payoutId: payout.id, reason: 'The provider says the account is closed', idempotencyKey: uniqueKey('fail') } },
      { token: admin.token },
    );
    expect(markPayoutFailed).toMatchObject({ __typename: 'Payout', status: 'FAILED', reason: 'The provider says the account is closed' });
    expect(await diamondsOf(server, creator)).toBe(30_000n);
    expect((await postPayoutWebhook(server, payoutEvent('payout.paid', payoutId))).body.result).toBe('ignored');
    expect(await payoutRecord(db, payoutId)).toMatchObject({ status: 'FAILED', paid: 0, reversals: 1 });
    await expectCleanAudit(db);
  });
});

describe('the creator and operators decide, within the lifecycle', () => {
  test('the creator cancels a REQUESTED payout and gets the diamonds back; nobody else can, and not once it is approved', async () => {
    const { creator, payout, payoutId } = await requested(20_000n, 10_000n);
    const { creator: stranger } = await creatorWith(db, 0n);
    expect(await cancel(stranger, payout.id)).toMatchObject({ __typename: 'NotFoundError' });
    expect(await cancel(creator, payout.id)).toMatchObject({ __typename: 'Payout', status: 'CANCELED', nextStatuses: [] });
    expect(await diamondsOf(server, creator)).toBe(20_000n);
    expect(await payoutRecord(db, payoutId)).toMatchObject({ status: 'CANCELED', reversals: 1 });

    const { creator: other, payout: approved } = await processing();
    expect(await cancel(other, approved.id)).toMatchObject({ __typename: 'PayoutTransitionError', status: 'PROCESSING', attempted: 'CANCELED' });
    await expectCleanAudit(db);
  });

  test('an operator rejects a REQUESTED payout with a reason the creator sees; the diamonds come back', async () => {
    const { creator, payout, payoutId } = await requested(20_000n, 10_000n);
    expect(await reject(admin, payout.id, 'x')).toMatchObject({ __typename: 'ValidationError' });
    expect(await reject(admin, payout.id, 'The account name does not match yours')).toMatchObject({ status: 'REJECTED' });
    expect(await seen(creator, payout.id)).toMatchObject({ status: 'REJECTED', reason: 'The account name does not match yours' });
    expect(await diamondsOf(server, creator)).toBe(20_000n);
    expect(await payoutRecord(db, payoutId)).toMatchObject({ status: 'REJECTED', reversals: 1 });
    await expectCleanAudit(db);
  });

  test('illegal moves are typed refusals that change nothing: PAID -> REJECTED, CANCELED -> APPROVED, PAID -> CANCELED', async () => {
    const { creator, payout: paid } = await requested(40_000n, 10_000n);
    expect(await approve(server, admin, paid.id)).toMatchObject({ status: 'PAID' });
    const { creator: owner, payout: canceled } = await requested(20_000n, 10_000n);
    expect(await cancel(owner, canceled.id)).toMatchObject({ status: 'CANCELED' });
    const before = await moneySnapshot(db);
    const histories = await db.payoutChange.count();

    expect(await reject(admin, paid.id)).toEqual({
      __typename: 'PayoutTransitionError',
      code: 'PAYOUT_TRANSITION_NOT_ALLOWED',
      message: 'A PAID payout cannot become REJECTED',
      status: 'PAID',
      attempted: 'REJECTED',
    });
    expect(await approve(server, admin, canceled.id)).toMatchObject({ __typename: 'PayoutTransitionError', status: 'CANCELED', attempted: 'APPROVED' });
    expect(await cancel(creator, paid.id)).toMatchObject({ __typename: 'PayoutTransitionError', status: 'PAID', attempted: 'CANCELED' });

    expect(await moneySnapshot(db)).toEqual(before);
    expect(await db.payoutChange.count()).toBe(histories);
    expect(await seen(creator, paid.id)).toMatchObject({ status: 'PAID' });
    await expectCleanAudit(db);
  });

  test('an operator cannot approve (or reject) their own payout', async () => {
    const { creator: adminCreator } = await creatorWith(db, 20_000n, { roles: ['VIEWER', 'CREATOR', 'ADMIN'] });
    const methodId = await readyMethod(server, adminCreator, admin);
    const own = await asked(server, adminCreator, methodId, 10_000n);
    const before = await moneySnapshot(db);

    expect(await approve(server, adminCreator, own.id)).toMatchObject({ __typename: 'OwnPayoutError', code: 'OWN_PAYOUT' });
    expect(await reject(adminCreator, own.id)).toMatchObject({ __typename: 'OwnPayoutError' });
    expect(await seen(adminCreator, own.id)).toMatchObject({ status: 'REQUESTED', history: [{ status: 'REQUESTED' }] });
    expect(await moneySnapshot(db)).toEqual(before);

    // Another operator may.
    expect(await approve(server, admin, own.id)).toMatchObject({ status: 'PAID' });
    await expectCleanAudit(db);
  });

  test('above the second-approval amount, two different operators approve; the same one twice is refused and changes nothing', async () => {
    const { creator, payout, payoutId } = await requested(60_000n, 50_000n);
    expect(payout).toMatchObject({ amountMinor: '25000', approvalsNeeded: 2, awaitingSecondApproval: false });

    const first = await approve(server, admin, payout.id);
    expect(first).toMatchObject({ __typename: 'Payout', status: 'REQUESTED', awaitingSecondApproval: true });
    if (first.__typename !== 'Payout') return;
    expect(first.history.at(-1)).toMatchObject({ kind: 'APPROVAL', status: 'REQUESTED', actor: 'ADMIN' });

    const before = await moneySnapshot(db);
    expect(await approve(server, admin, payout.id)).toMatchObject({ __typename: 'SecondApproverRequiredError', code: 'SECOND_APPROVER_REQUIRED' });
    expect(await seen(creator, payout.id)).toMatchObject({ status: 'REQUESTED', awaitingSecondApproval: true });
    expect(await moneySnapshot(db)).toEqual(before);

    expect(await approve(server, secondAdmin, payout.id)).toMatchObject({ status: 'PAID' });
    expect(await payoutRecord(db, payoutId)).toMatchObject({ status: 'PAID', paid: 1 });
    expect(await diamondsOf(server, creator)).toBe(10_000n);
    await expectCleanAudit(db);
  });

  test('a retried decision returns the first result; the same key for another payout is a conflict', async () => {
    const { payout } = await requested(20_000n, 10_000n);
    const { payout: other } = await requested(20_000n, 10_000n);
    const key = uniqueKey('approve');
    const first = await approve(server, admin, payout.id, key);
    expect(first).toMatchObject({ __typename: 'Payout', status: 'PAID' });
    expect(await approve(server, admin, payout.id, key)).toEqual(first);
    expect(await approve(server, admin, other.id, key)).toMatchObject({ __typename: 'IdempotencyConflictError', code: 'IDEMPOTENCY_CONFLICT' });
    expect(await seen(admin, other.id)).toMatchObject({ status: 'REQUESTED' });

    // A refusal is the key's outcome too: the same retry gets it again.
    const refusedKey = uniqueKey('reject');
    expect(await reject(admin, payout.id, 'Too late to reject', refusedKey)).toMatchObject({ __typename: 'PayoutTransitionError' });
    expect(await reject(admin, payout.id, 'Too late to reject', refusedKey)).toMatchObject({ __typename: 'PayoutTransitionError' });
    await expectCleanAudit(db);
  });
});

describe('holds', () => {
  test('a hold blocks approval until released; the creator sees its reason, operators its note', async () => {
    const { creator, payout } = await requested(20_000n, 10_000n);
    const held = await hold(payout.id, 'COMPLIANCE_REVIEW', 'Source of funds check');
    expect(held).toMatchObject({ __typename: 'Payout', holds: [{ reason: 'COMPLIANCE_REVIEW', placedBySystem: false, note: 'Source of funds check' }] });
    expect(await hold(payout.id, 'COMPLIANCE_REVIEW')).toMatchObject({ __typename: 'PayoutHoldError' });
    expect((await seen(creator, payout.id)).holds).toEqual([{ reason: 'COMPLIANCE_REVIEW', placedBySystem: false, note: null }]);

    const before = await moneySnapshot(db);
    expect(await approve(server, admin, payout.id)).toMatchObject({ __typename: 'PayoutOnHoldError', code: 'PAYOUT_ON_HOLD', holdReasons: ['COMPLIANCE_REVIEW'] });
    expect(await moneySnapshot(db)).toEqual(before);

    expect(await release(payout.id, 'FRAUD_REVIEW')).toMatchObject({ __typename: 'NotFoundError' });
    expect(await release(payout.id, 'COMPLIANCE_REVIEW')).toMatchObject({ status: 'REQUESTED', holds: [] });
    const approved = await approve(server, admin, payout.id);
    expect(approved).toMatchObject({ status: 'PAID' });
    if (approved.__typename !== 'Payout') return;
    expect(approved.history.map((change) => [change.kind, change.holdReason, change.actor])).toEqual([
      ['STATUS', null, 'CREATOR'],
      ['HOLD_PLACED', 'COMPLIANCE_REVIEW', 'ADMIN'],
      ['HOLD_RELEASED', 'COMPLIANCE_REVIEW', 'ADMIN'],
      ['STATUS', null, 'ADMIN'],
      ['STATUS', null, 'SYSTEM'],
      ['STATUS', null, 'PROVIDER'],
    ]);
    // Paid: nothing can hold it any more.
    expect(await hold(payout.id, 'FRAUD_REVIEW')).toMatchObject({ __typename: 'PayoutHoldError', message: 'Only a REQUESTED or APPROVED payout can be held; this one is PAID' });
    await expectCleanAudit(db);
  });

  test('a rejected payout carries no hold: rejecting releases them', async () => {
    const { creator, payout } = await requested(20_000n, 10_000n);
    await hold(payout.id, 'FRAUD_REVIEW');
    await hold(payout.id, 'DOCUMENTS_REQUIRED');
    expect(await reject(admin, payout.id, 'Fraud confirmed by the review')).toMatchObject({ status: 'REJECTED', holds: [] });
    expect(await diamondsOf(server, creator)).toBe(20_000n);
    await expectCleanAudit(db);
  });

  test('a creator restricted from payouts: approval is refused with the restriction; lifting it lets the payout go', async () => {
    const { creator, payout } = await requested(20_000n, 10_000n);
    const restrict = { userId: gid('User', creator.id), kind: 'PAYOUTS' as const, reason: 'Under investigation' };
    await ok(server.url, PayoutsRestrictAccount, { input: restrict }, { token: admin.token });
    expect(await approve(server, admin, payout.id)).toMatchObject({ __typename: 'AccountRestrictedError', code: 'ACCOUNT_RESTRICTED' });
    await ok(server.url, PayoutsLiftRestriction, { input: restrict }, { token: admin.token });
    expect(await approve(server, admin, payout.id)).toMatchObject({ status: 'PAID' });
    await expectCleanAudit(db);
  });
});

describe('automatic approval', () => {
  test('a payout up to the amount is approved and paid at once; one above it waits for an operator', async () => {
    const instance = auto;
    const { creator } = await creatorWith(db, 60_000n);
    const methodId = await readyMethod(instance, creator, admin);
    expect(await asked(instance, creator, methodId, 20_000n)).toMatchObject({ status: 'PAID', approvalsNeeded: 1 });
    const waiting = await asked(instance, creator, methodId, 20_002n);
    expect(waiting).toMatchObject({ status: 'REQUESTED', amountMinor: '10001' });
    expect(waiting.history.map((change) => change.actor)).toEqual(['CREATOR']);
    await expectCleanAudit(db);
  });

  test('a held payout is not approved automatically until its hold is released', async () => {
    const instance = auto;
    const { creator } = await creatorWith(db, 20_000n);
    const methodId = await readyMethod(instance, creator, admin);
    const payout = await asked(server, creator, methodId, 10_000n);
    expect(payout.status).toBe('REQUESTED');
    await hold(payout.id, 'DOCUMENTS_REQUIRED');
    const { releasePayoutHold } = await ok(instance.url, ReleasePayoutHold, { input: { payoutId: payout.id, reason: 'DOCUMENTS_REQUIRED' } }, { token: admin.token });
    expect(releasePayoutHold).toMatchObject({ status: 'PAID' });
    await expectCleanAudit(db);
  });
});

describe('payoutUpdated and walletUpdated follow every change, after it committed', () => {
  test("a creator's payout subscription hears each transition, and their wallet the diamonds leaving and coming back", async () => {
    const { creator, session } = await creatorWith(db, 60_000n);
    const methodId = await readyMethod(server, creator, admin, SANDBOX_PAYEES.webhookOnly.email);
    const socket = openSocket(server.url, bearer(creator.token));
    const payouts = subscribe(socket, PayoutUpdated);
    const wallet = subscribe(socket, PayoutsWalletUpdated);

    // Subscriptions have no "now listening" signal: a probe payout is held and released until one is heard.
    const probe = await asked(server, creator, methodId, 10_000n);
    let held = false;
    await publishUntilReceived(
      async () => ((held = !held) ? hold(probe.id, 'FRAUD_REVIEW') : release(probe.id, 'FRAUD_REVIEW')),
      payouts.results,
      (result) => result.data?.payoutUpdated.id === probe.id,
    );
    await publishUntilReceived(() => earn(db, creator, session.id, 1n), wallet.results, () => true);
    const start = await diamondsOf(server, creator);

    const payout = await asked(server, creator, methodId, 20_000n);
    await approve(server, admin, payout.id);
    await postPayoutWebhook(server, payoutEvent('payout.paid', dbId(payout.id)));
    await postPayoutWebhook(server, payoutEvent('payout.returned', dbId(payout.id)));

    const statuses: string[] = [];
    while (statuses.at(-1) !== 'RETURNED') {
      const { data } = await payouts.next();
      if (data?.payoutUpdated.id === payout.id) statuses.push(data.payoutUpdated.status);
    }
    // Each transition is announced; the subscriber reads the payout as it is when the message reaches it.
    expect(statuses.length).toBeGreaterThanOrEqual(3);
    expect(statuses.at(-1)).toBe('RETURNED');
    let diamonds = '';
    while (diamonds !== String(start)) diamonds = (await wallet.next()).data!.walletUpdated.diamonds;
    expect(await diamondsOf(server, creator)).toBe(start);
    payouts.unsubscribe();
    wallet.unsubscribe();
    await expectCleanAudit(db);
  });
});

describe('the ledger after all of the above', () => {
  test('the audit is clean, over GraphQL too, and the payout accounts hold what the payouts say', async () => {
    const { held, paidOut } = await payoutAccounts(db);
    const sum = async (statuses: ('REQUESTED' | 'APPROVED' | 'PROCESSING' | 'PAID')[]) =>
      (await db.payout.aggregate({ where: { status: { in: statuses } }, _sum: { diamonds: true } }))._sum.diamonds ?? 0n;
    expect(held).toBe(await sum(['REQUESTED', 'APPROVED', 'PROCESSING']));
    expect(paidOut).toBe(await sum(['PAID']));
    await expectAuditCleanOverGraphQL(server);
    await expectCleanAudit(db);
  });
});
