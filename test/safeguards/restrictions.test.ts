import { describe, expect, test } from 'vitest';
import { createGiftSender } from '../../src/domain/gifting.js';
import { DEFAULT_POLICY } from '../../src/domain/policy.js';
import { changeRestriction } from '../../src/domain/safeguards.js';
import { Role, type User } from '../../src/generated/prisma/client.js';
import { LiftRestriction, RestrictAccount, SendGift } from '../gifting/documents.js';
import { gid, moneySnapshot } from '../support/gifting.js';
import { ok } from '../support/graphql.js';
import { balances, createCatalogGift, createFundedViewer, createLiveCreator, expectCleanAudit, fundWallet, uniqueKey } from '../support/money.js';
import { startTestServer } from '../support/server.js';
import { createUser, tokenFor } from '../support/users.js';

const server = await startTestServer();
const { db } = server;

const heart = await createCatalogGift(db, 5n, { name: 'Finger Heart' });
const admin = await createUser(db, { roles: [Role.VIEWER, Role.ADMIN] });
const adminToken = await tokenFor(admin);

const sendHeart = async (sender: User, liveSessionId: string) =>
  (
    await ok(
      server.url,
      SendGift,
      { input: { liveSessionId: gid('LiveSession', liveSessionId), giftId: gid('Gift', heart.id), idempotencyKey: uniqueKey('r') } },
      { token: await tokenFor(sender) },
    )
  ).sendGift;

const restrict = (user: User, kind: 'GIFTING' | 'RECEIVING' | 'BUYING' | 'PAYOUTS', reason: string, token: string | null = adminToken) =>
  ok(server.url, RestrictAccount, { input: { userId: gid('User', user.id), kind, reason } }, { token: token ?? undefined }).then((data) => data.restrictAccount);

const lift = (user: User, kind: 'GIFTING' | 'RECEIVING', reason: string, token: string | null = adminToken) =>
  ok(server.url, LiftRestriction, { input: { userId: gid('User', user.id), kind, reason } }, { token: token ?? undefined }).then((data) => data.liftRestriction);

describe('an operator can stop an account from gifting', () => {
  test('a restricted sender is refused and nothing moves; once lifted, they can gift again', async () => {
    const viewer = await createFundedViewer(db, 50n);
    const { creator, session } = await createLiveCreator(db);

    expect(await restrict(viewer, 'GIFTING', 'chargeback fraud under review')).toMatchObject({ __typename: 'User', id: gid('User', viewer.id) });
    const before = await moneySnapshot(db);
    expect(await sendHeart(viewer, session.id)).toMatchObject({
      __typename: 'AccountRestrictedError',
      code: 'ACCOUNT_RESTRICTED',
      restriction: 'GIFTING',
      message: 'This account may not send gifts',
    });
    expect(await moneySnapshot(db)).toEqual(before);

    expect(await lift(viewer, 'GIFTING', 'review cleared the account')).toMatchObject({ __typename: 'User' });
    expect(await sendHeart(viewer, session.id)).toMatchObject({ __typename: 'SentGift', coins: '5' });
    expect(await balances(db, viewer)).toEqual({ coins: 45n, diamonds: 0n });
    expect(await balances(db, creator)).toEqual({ coins: 0n, diamonds: 5n });

    const history = await db.restrictionChange.findMany({ where: { userId: viewer.id }, orderBy: { createdAt: 'asc' } });
    expect(history).toMatchObject([
      { kind: 'GIFTING', placed: true, adminId: admin.id, reason: 'chargeback fraud under review' },
      { kind: 'GIFTING', placed: false, adminId: admin.id, reason: 'review cleared the account' },
    ]);
    await expectCleanAudit(db);
  });

  test('a gifting restriction stops only gifting: the same account can still receive', async () => {
    const { creator, session } = await createLiveCreator(db);
    const viewer = await createFundedViewer(db, 50n);
    await restrict(creator, 'GIFTING', 'spam gifting');
    expect(await sendHeart(viewer, session.id)).toMatchObject({ __typename: 'SentGift' });
    expect(await balances(db, creator)).toEqual({ coins: 0n, diamonds: 5n });
    await expectCleanAudit(db);
  });
});

describe('an operator can stop a creator from receiving', () => {
  test('gifts to a restricted creator are refused and nothing moves; once lifted, gifts arrive again', async () => {
    const { creator, session } = await createLiveCreator(db);
    const viewer = await createFundedViewer(db, 50n);

    await restrict(creator, 'RECEIVING', 'payout identity check pending');
    const before = await moneySnapshot(db);
    expect(await sendHeart(viewer, session.id)).toMatchObject({
      __typename: 'AccountRestrictedError',
      restriction: 'RECEIVING',
      message: 'This creator may not receive gifts',
    });
    expect(await moneySnapshot(db)).toEqual(before);
    expect(await balances(db, viewer)).toEqual({ coins: 50n, diamonds: 0n });

    await lift(creator, 'RECEIVING', 'identity verified');
    expect(await sendHeart(viewer, session.id)).toMatchObject({ __typename: 'SentGift' });
    expect(await balances(db, creator)).toEqual({ coins: 0n, diamonds: 5n });
    await expectCleanAudit(db);
  });

  test('a creator barred from receiving may still send gifts to others', async () => {
    const barred = await createLiveCreator(db);
    const other = await createLiveCreator(db);
    await fundWallet(db, barred.creator, 10n);
    await restrict(barred.creator, 'RECEIVING', 'payout identity check pending');
    expect(await sendHeart(barred.creator, other.session.id)).toMatchObject({ __typename: 'SentGift' });
    expect(await balances(db, other.creator)).toEqual({ coins: 0n, diamonds: 5n });
    await expectCleanAudit(db);
  });
});

describe('only operators place and lift restrictions', () => {
  test('a non-admin gets a ForbiddenError and a signed-out caller a NotAuthenticatedError; nothing is recorded', async () => {
    const viewer = await createFundedViewer(db, 50n);
    const someone = await createUser(db);
    const creatorAsCaller = await createUser(db, { roles: [Role.VIEWER, Role.CREATOR] });

    expect(await restrict(viewer, 'GIFTING', 'I do not like them', await tokenFor(someone))).toMatchObject({ __typename: 'ForbiddenError', code: 'FORBIDDEN' });
    expect(await restrict(viewer, 'GIFTING', 'I do not like them', await tokenFor(creatorAsCaller))).toMatchObject({ __typename: 'ForbiddenError' });
    expect(await restrict(viewer, 'GIFTING', 'I do not like them', null)).toMatchObject({ __typename: 'NotAuthenticatedError', code: 'UNAUTHENTICATED' });

    await restrict(viewer, 'GIFTING', 'operator decision');
    expect(await lift(viewer, 'GIFTING', 'let me out', await tokenFor(viewer))).toMatchObject({ __typename: 'ForbiddenError' });
    expect(await lift(viewer, 'GIFTING', 'let me out', null)).toMatchObject({ __typename: 'NotAuthenticatedError' });

    expect((await db.user.findUniqueOrThrow({ where: { id: viewer.id } })).restrictions).toEqual(['GIFTING']);
    expect(await db.restrictionChange.findMany({ where: { userId: viewer.id } })).toMatchObject([{ placed: true, adminId: admin.id }]);
  });

  test('a restriction needs a reason and a real user', async () => {
    const viewer = await createUser(db);
    const noReason = await restrict(viewer, 'GIFTING', '  ');
    expect(noReason).toMatchObject({ __typename: 'ValidationError', problems: [{ field: 'reason' }] });
    const { restrictAccount } = await ok(
      server.url,
      RestrictAccount,
      { input: { userId: gid('Gift', heart.id), kind: 'GIFTING', reason: 'wrong kind of id' } },
      { token: adminToken },
    );
    expect(restrictAccount).toMatchObject({ __typename: 'ValidationError', problems: [{ field: 'userId' }] });
    const { restrictAccount: unknown } = await ok(
      server.url,
      RestrictAccount,
      { input: { userId: gid('User', '00000000-0000-4000-8000-00000000dead'), kind: 'GIFTING', reason: 'nobody' } },
      { token: adminToken },
    );
    expect(unknown).toMatchObject({ __typename: 'NotFoundError' });
    expect((await db.user.findUniqueOrThrow({ where: { id: viewer.id } })).restrictions).toEqual([]);
    expect(await db.restrictionChange.count({ where: { userId: viewer.id } })).toBe(0);
  });

  test('placing a restriction twice keeps one in force, and each change is in the history', async () => {
    const viewer = await createUser(db);
    await restrict(viewer, 'GIFTING', 'first report');
    await restrict(viewer, 'GIFTING', 'second report');
    await restrict(viewer, 'BUYING', 'card testing');
    expect((await db.user.findUniqueOrThrow({ where: { id: viewer.id } })).restrictions.sort()).toEqual(['BUYING', 'GIFTING']);
    await lift(viewer, 'GIFTING', 'resolved');
    expect((await db.user.findUniqueOrThrow({ where: { id: viewer.id } })).restrictions).toEqual(['BUYING']);
    expect(await db.restrictionChange.count({ where: { userId: viewer.id } })).toBe(4);
  });
});

describe('restrictions in the domain', () => {
  test('a restriction applies from the next gift on; lifting it restores gifting', async () => {
    const sender = createGiftSender(db, DEFAULT_POLICY);
    const viewer = await createFundedViewer(db, 20n);
    const { creator, session } = await createLiveCreator(db);
    const gift = () => sender.send(viewer.id, { liveSessionId: session.id, giftId: heart.id, quantity: 1, idempotencyKey: uniqueKey('domain') });

    await gift();
    const restricted = await changeRestriction(db, { adminId: admin.id, userId: viewer.id, kind: 'GIFTING', placed: true, reason: 'domain check' });
    expect(restricted.restrictions).toEqual(['GIFTING']);
    const before = await moneySnapshot(db);
    await expect(gift()).rejects.toMatchObject({ code: 'ACCOUNT_RESTRICTED', restriction: 'GIFTING' });
    expect(await moneySnapshot(db)).toEqual(before);

    const lifted = await changeRestriction(db, { adminId: admin.id, userId: viewer.id, kind: 'GIFTING', placed: false, reason: 'cleared' });
    expect(lifted.restrictions).toEqual([]);
    await gift();
    expect(await balances(db, viewer)).toEqual({ coins: 10n, diamonds: 0n });
    expect(await balances(db, creator)).toEqual({ coins: 0n, diamonds: 10n });
    await expectCleanAudit(db);
  });
});
