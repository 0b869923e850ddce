import type { VariablesOf } from '@graphql-typed-document-node/core';
import { describe, expect, test } from 'vitest';
import { SANDBOX_PAYEES } from '../../src/domain/payouts/sandbox.js';
import { ok } from '../support/graphql.js';
import { expectCleanAudit, uniqueKey } from '../support/money.js';
import { AddPayoutMethod, PayoutMethods, RemovePayoutMethod, RequestPayout, VerifyPayoutMethod } from './documents.js';
import {
  addWallet,
  ask,
  creatorWith,
  dbId,
  postPayoutWebhook,
  quote,
  readyMethod,
  signedIn,
  signedInAdmin,
  startPayoutServer,
  verify,
} from './support.js';

const server = await startPayoutServer();
const { db } = server;
const admin = await signedInAdmin(db);
const DAY = 86_400_000;

const add = async (creator: { token: string }, input: VariablesOf<typeof AddPayoutMethod>['input']) =>
  (await ok(server.url, AddPayoutMethod, { input }, { token: creator.token })).addPayoutMethod;

/** Time passes for a method: it was added (and its cooling-off started) `ms` earlier than it was. */
const addedEarlier = (methodId: string, ms: number) =>
  db.$executeRaw`UPDATE "PayoutMethod" SET "createdAt" = "createdAt" - ${ms} * interval '1 millisecond', "usableFrom" = "usableFrom" - ${ms} * interval '1 millisecond' WHERE id = ${dbId(methodId)}::uuid`;

describe('registering a payout method', () => {
  test('a bank account keeps what the provider needs and is shown masked; the account number never comes back whole', async () => {
    const { creator } = await creatorWith(db, 0n);
    const method = await add(creator, { bankAccount: { holderName: 'Max Live', routingNumber: '021000021', accountNumber: '000123456789' } });
    expect(method).toMatchObject({ __typename: 'PayoutMethod', kind: 'BANK_ACCOUNT', display: '•••• 6789', holderName: 'Max Live', verified: false, usable: false });
    const listed = await ok(server.url, PayoutMethods, {}, { token: creator.token });
    expect(JSON.stringify(listed)).not.toContain('000123456789');
    expect(JSON.stringify(listed)).not.toContain('021000021');
    expect(listed.payoutMethods).toEqual([expect.objectContaining({ kind: 'BANK_ACCOUNT', display: '•••• 6789' })]);
  });

  test('bad details are a ValidationError naming the fields, and nothing is stored', async () => {
    const { creator } = await creatorWith(db, 0n);
    const refused = await add(creator, { bankAccount: { holderName: ' ', routingNumber: '12345678', accountNumber: 'ab12' } });
    expect(refused.__typename).toBe('ValidationError');
    if (refused.__typename !== 'ValidationError') return;
    expect(refused.problems.map((problem) => problem.field).sort()).toEqual(['bankAccount.accountNumber', 'bankAccount.holderName', 'bankAccount.routingNumber']);
    expect(await add(creator, {})).toMatchObject({ __typename: 'ValidationError', problems: [{ message: 'give one of a bank account, an e-mail wallet or a Stripe connected account' }] });
    expect(await add(creator, { emailWallet: { email: 'not an address' } })).toMatchObject({ __typename: 'ValidationError' });
    expect(await db.payoutMethod.count({ where: { creatorId: creator.id } })).toBe(0);
  });

  test('a viewer who is not a creator may not register one', async () => {
    const viewer = await signedIn(db);
    expect(await add(viewer, { emailWallet: { email: 'viewer@example.com' } })).toMatchObject({ __typename: 'ForbiddenError' });
  });
});

describe('verification', () => {
  test("a creator's first method has no cooling-off, but cannot be paid to until an operator verifies it", async () => {
    const { creator } = await creatorWith(db, 20_000n);
    const method = await addWallet(server, creator, SANDBOX_PAYEES.pays.email);
    expect(new Date(method.usableFrom).getTime()).toBeLessThanOrEqual(Date.now());
    expect(await ask(server, creator, method.id, 10_000n)).toMatchObject({ __typename: 'PayoutMethodUnverifiedError' });

    // Only operators verify, and never their own.
    expect((await ok(server.url, VerifyPayoutMethod, { input: { methodId: method.id } }, { token: creator.token })).verifyPayoutMethod).toMatchObject({
      __typename: 'ForbiddenError',
    });
    await verify(server, admin, method.id);
    expect(await ask(server, creator, method.id, 10_000n)).toMatchObject({ __typename: 'Payout', status: 'REQUESTED' });
    await expectCleanAudit(db);
  });

  test("the payout provider's callback verifies a method, once", async () => {
    const { creator } = await creatorWith(db, 0n);
    const method = await addWallet(server, creator, SANDBOX_PAYEES.pays.email);
    const event = { id: uniqueKey('evt'), type: 'payout_method.verified' as const, data: { methodId: dbId(method.id) } };
    expect((await postPayoutWebhook(server, event)).body.result).toBe('applied');
    expect((await postPayoutWebhook(server, event)).body.result).toBe('duplicate');
    expect((await postPayoutWebhook(server, { ...event, id: uniqueKey('evt') })).body.result).toBe('ignored');
    expect(await db.payoutMethod.findUniqueOrThrow({ where: { id: dbId(method.id) } })).toMatchObject({ verifiedByEvent: event.id, verifiedById: null });
    expect((await ok(server.url, PayoutMethods, {}, { token: creator.token })).payoutMethods).toEqual([expect.objectContaining({ verified: true, usable: true })]);
  });

  test('an operator may not verify their own method', async () => {
    const { creator: operator } = await creatorWith(db, 0n, { roles: ['VIEWER', 'CREATOR', 'ADMIN'] });
    const method = await addWallet(server, operator, 'ops@example.com');
    expect((await ok(server.url, VerifyPayoutMethod, { input: { methodId: method.id } }, { token: operator.token })).verifyPayoutMethod).toMatchObject({
      __typename: 'OwnPayoutError',
    });
  });
});

describe('the cooling-off period: a stolen session cannot redirect money at once', () => {
  test('a method changed a minute ago cannot be paid to; after the lock, it can', async () => {
    const { creator } = await creatorWith(db, 30_000n);
    const first = await readyMethod(server, creator, admin);
    // The change: a new destination in, the old one out.
    const changed = await addWallet(server, creator, 'elsewhere@example.com');
    await ok(server.url, RemovePayoutMethod, { input: { methodId: first } }, { token: creator.token });
    await verify(server, admin, changed.id);
    await addedEarlier(changed.id, 60_000);

    const refused = await ask(server, creator, changed.id, 10_000n);
    expect(refused).toMatchObject({ __typename: 'PayoutMethodLockedError', code: 'PAYOUT_METHOD_LOCKED' });
    if (refused.__typename !== 'PayoutMethodLockedError') return;
    expect(Math.abs(new Date(refused.usableFrom).getTime() - (Date.now() + 5 * DAY - 60_000))).toBeLessThan(30_000);
    expect((await quote(server, creator, changed.id, 10_000n)).refusals).toMatchObject([{ __typename: 'PayoutMethodLockedError' }]);
    expect(await db.payout.count({ where: { creatorId: creator.id } })).toBe(0);

    // Five days later.
    await addedEarlier(changed.id, 5 * DAY);
    expect((await quote(server, creator, changed.id, 10_000n)).refusals).toEqual([]);
    expect(await ask(server, creator, changed.id, 10_000n)).toMatchObject({ __typename: 'Payout', status: 'REQUESTED', method: { id: changed.id } });
    await expectCleanAudit(db);
  });

  test('removing the verified method first does not skip the cooling-off of the next', async () => {
    const { creator } = await creatorWith(db, 30_000n);
    const first = await readyMethod(server, creator, admin);
    await ok(server.url, RemovePayoutMethod, { input: { methodId: first } }, { token: creator.token });
    const next = await addWallet(server, creator, 'thief@example.com');
    await verify(server, admin, next.id);
    expect(await ask(server, creator, next.id, 10_000n)).toMatchObject({ __typename: 'PayoutMethodLockedError' });
  });

  test('the method already verified stays usable while a new one cools off', async () => {
    const { creator } = await creatorWith(db, 30_000n);
    const first = await readyMethod(server, creator, admin);
    const second = await addWallet(server, creator, 'second@example.com');
    expect(second).toMatchObject({ usable: false });
    expect((await ok(server.url, PayoutMethods, {}, { token: creator.token })).payoutMethods.map((method) => method.usable)).toEqual([true, false]);
    expect(await ask(server, creator, first, 10_000n)).toMatchObject({ __typename: 'Payout' });
    await expectCleanAudit(db);
  });

  test('a payout asked for still pays to its method after the method is removed', async () => {
    const { creator } = await creatorWith(db, 30_000n);
    const methodId = await readyMethod(server, creator, admin);
    const payout = await ask(server, creator, methodId, 10_000n);
    expect((await ok(server.url, RemovePayoutMethod, { input: { methodId } }, { token: creator.token })).removePayoutMethod).toMatchObject({ usable: false });
    expect(await db.payout.findUniqueOrThrow({ where: { id: dbId((payout as { id: string }).id) } })).toMatchObject({ methodId: dbId(methodId) });
    const again = await ok(server.url, RequestPayout, { input: { diamonds: '10000', methodId, idempotencyKey: uniqueKey('payout') } }, { token: creator.token });
    expect(again.requestPayout).toMatchObject({ __typename: 'NotFoundError' });
  });

  test('a creator has at most five methods at once', async () => {
    const { creator } = await creatorWith(db, 0n);
    for (let i = 0; i < 5; i++) await addWallet(server, creator, `wallet${i}@example.com`);
    expect(await add(creator, { emailWallet: { email: 'sixth@example.com' } })).toMatchObject({ __typename: 'ValidationError' });
  });
});
