import { describe, expect, test } from 'vitest';
import { AgeRestrictedError } from '../../src/domain/errors.js';
import { createGiftSender } from '../../src/domain/gifting.js';
import { DEFAULT_POLICY, type Policy } from '../../src/domain/policy.js';
import { Role } from '../../src/generated/prisma/client.js';
import { SendGift, StartLiveSession } from '../gifting/documents.js';
import { aged, fundWalletUnder, gid, moneySnapshot, NO_AGE_GATE } from '../support/gifting.js';
import { ok } from '../support/graphql.js';
import { balances, createCatalogGift, createFundedViewer, createLiveCreator, expectCleanAudit, uniqueKey } from '../support/money.js';
import { startTestServer } from '../support/server.js';
import { createUser, tokenFor } from '../support/users.js';

const server = await startTestServer();
const { db } = server;

const heart = await createCatalogGift(db, 5n, { name: 'Finger Heart' });

/** A viewer of the given age and country who holds coins (bought where and when they were allowed to). */
async function viewerAged(years: number, country: string) {
  const viewer = await createUser(db, { birthDate: aged(years), country });
  await fundWalletUnder(NO_AGE_GATE, db, viewer, 50n);
  return viewer;
}

const sendHeart = async (sender: { id: string; roles: Role[] }, liveSessionId: string) =>
  (
    await ok(
      server.url,
      SendGift,
      { input: { liveSessionId: gid('LiveSession', liveSessionId), giftId: gid('Gift', heart.id), idempotencyKey: uniqueKey('age') } },
      { token: await tokenFor(sender) },
    )
  ).sendGift;

describe('sending gifts takes 18 years (19 in South Korea)', () => {
  test.each([
    [17, 'US', 18],
    [18, 'KR', 19],
  ])('a %i-year-old in %s holding coins is refused, and nothing moves', async (years, country, minimumAge) => {
    const viewer = await viewerAged(years, country);
    const { creator, session } = await createLiveCreator(db);
    const before = await moneySnapshot(db);

    const result = await sendHeart(viewer, session.id);

    expect(result).toMatchObject({ __typename: 'AgeRestrictedError', code: 'AGE_RESTRICTED', minimumAge, message: `You must be ${minimumAge} or older to send gifts` });
    expect(await moneySnapshot(db)).toEqual(before);
    expect(await balances(db, viewer)).toEqual({ coins: 50n, diamonds: 0n });
    expect(await balances(db, creator)).toEqual({ coins: 0n, diamonds: 0n });
    await expectCleanAudit(db);
  });

  test.each([
    [18, 'US'],
    [19, 'KR'],
  ])('a %i-year-old in %s may send', async (years, country) => {
    const viewer = await viewerAged(years, country);
    const { creator, session } = await createLiveCreator(db);
    expect(await sendHeart(viewer, session.id)).toMatchObject({ __typename: 'SentGift', coins: '5' });
    expect(await balances(db, creator)).toEqual({ coins: 0n, diamonds: 5n });
    await expectCleanAudit(db);
  });

  test('the gate opens on the 18th birthday, to the second (UTC)', async () => {
    const teen = await createUser(db, { birthDate: new Date('2012-03-10'), country: 'US' });
    await fundWalletUnder(NO_AGE_GATE, db, teen, 50n);
    const { creator, session } = await createLiveCreator(db);
    let now = new Date('2030-03-09T23:59:59.999Z');
    const sender = createGiftSender(db, DEFAULT_POLICY, { now: () => now });
    const gift = () => sender.send(teen.id, { liveSessionId: session.id, giftId: heart.id, quantity: 1, idempotencyKey: uniqueKey('birthday') });

    await expect(gift()).rejects.toThrow(new AgeRestrictedError(18, 'send gifts'));
    expect(await balances(db, teen)).toEqual({ coins: 50n, diamonds: 0n });

    now = new Date('2030-03-10T00:00:00.000Z');
    await expect(gift()).resolves.toMatchObject({ senderId: teen.id, coins: 5n });
    expect(await balances(db, teen)).toEqual({ coins: 45n, diamonds: 0n });
    expect(await balances(db, creator)).toEqual({ coins: 0n, diamonds: 5n });
    await expectCleanAudit(db);
  });

  test('the gates are configured per region', async () => {
    const strict: Policy = { ...DEFAULT_POLICY, ageGates: { DEFAULT: 18, KR: 19, JP: 20 } };
    const sender = createGiftSender(db, strict);
    const { session } = await createLiveCreator(db);
    const japanese = await viewerAged(19, 'JP');
    const american = await viewerAged(19, 'US');
    const gift = (userId: string) => sender.send(userId, { liveSessionId: session.id, giftId: heart.id, quantity: 1, idempotencyKey: uniqueKey('region') });

    await expect(gift(japanese.id)).rejects.toMatchObject({ code: 'AGE_RESTRICTED', minimumAge: 20 });
    await expect(gift(american.id)).resolves.toMatchObject({ coins: 5n });
    expect(await balances(db, japanese)).toEqual({ coins: 50n, diamonds: 0n });
    await expectCleanAudit(db);
  });
});

describe('creators must be of age to go live and to receive gifts', () => {
  test.each([
    [17, 'US', 18],
    [18, 'KR', 19],
  ])('a %i-year-old creator in %s cannot go live', async (years, country, minimumAge) => {
    const creator = await createUser(db, { birthDate: aged(years), country, roles: [Role.VIEWER, Role.CREATOR] });
    const { startLiveSession } = await ok(server.url, StartLiveSession, { title: 'My first stream' }, { token: await tokenFor(creator) });
    expect(startLiveSession).toMatchObject({ __typename: 'AgeRestrictedError', minimumAge, message: `You must be ${minimumAge} or older to go live` });
    expect(await db.liveSession.count({ where: { creatorId: creator.id } })).toBe(0);
  });

  test('an adult creator goes live', async () => {
    const creator = await createUser(db, { birthDate: aged(18), country: 'US', roles: [Role.VIEWER, Role.CREATOR] });
    const { startLiveSession } = await ok(server.url, StartLiveSession, { title: 'Hello' }, { token: await tokenFor(creator) });
    expect(startLiveSession).toMatchObject({ __typename: 'LiveSession', status: 'LIVE', title: 'Hello' });
  });

  test('an under-age creator with a live session (one that predates the gate) receives nothing', async () => {
    const creator = await createUser(db, { birthDate: aged(17), country: 'US', roles: [Role.VIEWER, Role.CREATOR] });
    const session = await db.liveSession.create({ data: { creatorId: creator.id, title: 'Old session' } });
    const viewer = await createFundedViewer(db, 50n);
    const before = await moneySnapshot(db);

    const result = await sendHeart(viewer, session.id);

    expect(result).toMatchObject({ __typename: 'AgeRestrictedError', minimumAge: 18, message: 'You must be 18 or older to receive gifts' });
    expect(await moneySnapshot(db)).toEqual(before);
    expect(await balances(db, creator)).toEqual({ coins: 0n, diamonds: 0n });
    await expectCleanAudit(db);
  });

  test('an 18-year-old creator who moves to South Korea mid-stream stops receiving gifts', async () => {
    const { creator, session } = await createLiveCreator(db, { birthDate: aged(18), country: 'US' });
    const viewer = await createFundedViewer(db, 50n);
    expect(await sendHeart(viewer, session.id)).toMatchObject({ __typename: 'SentGift' });

    await db.user.update({ where: { id: creator.id }, data: { country: 'KR' } });
    const before = await moneySnapshot(db);
    expect(await sendHeart(viewer, session.id)).toMatchObject({ __typename: 'AgeRestrictedError', minimumAge: 19, message: 'You must be 19 or older to receive gifts' });
    expect(await moneySnapshot(db)).toEqual(before);
    expect(await balances(db, creator)).toEqual({ coins: 0n, diamonds: 5n });
    await expectCleanAudit(db);
  });
});
