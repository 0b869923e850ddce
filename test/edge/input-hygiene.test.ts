import { randomUUID } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { Role } from '../../src/generated/prisma/client.js';
import { graphql } from '../generated/index.js';
import { SendGift, StartLiveSession } from '../gifting/documents.js';
import { UpdateProfile } from '../realtime/profile-documents.js';
import { countTypes, gid, moneySnapshot } from '../support/gifting.js';
import { ok, post } from '../support/graphql.js';
import { balances, createCatalogGift, createFundedViewer, createLiveCreator, expectCleanAudit, uniqueKey } from '../support/money.js';
import { startTestServer } from '../support/server.js';
import { createUser, tokenFor } from '../support/users.js';
import { bearer, openSocket, subscribe } from '../support/ws.js';

// Text a client sends is stored in PostgreSQL, which refuses a NUL byte with an error of its own. One
// rule refuses control characters (NUL, the rest of C0, DEL and C1) in every String and ID a client
// sends, at any depth, as invalid input, before anything runs: no input reaches the database as an error.

const server = await startTestServer();
const { db } = server;
const rose = await createCatalogGift(db, 1n, { name: 'Rose' });

const CONTROL = 'must not contain control characters';

const RegisterWith = graphql(`
  mutation RegisterWith($input: RegisterInput!) {
    register(input: $input) {
      __typename
      ... on AuthToken { user { handle displayName } }
      ... on ValidationError { code message problems { field message } }
    }
  }
`);

const CreateGift = graphql(`
  mutation CreateGiftWith($input: CreateGiftInput!) {
    createGift(input: $input) {
      __typename
      ... on Gift { id }
      ... on Error { code message }
      ... on ValidationError { problems { field message } }
    }
  }
`);

const refusal = (...fields: string[]) => ({
  __typename: 'ValidationError',
  code: 'VALIDATION_FAILED',
  message: fields.map((field) => `${field}: ${CONTROL}`).join('; '),
  problems: fields.map((field) => ({ field, message: CONTROL })),
});

describe('sendGift', () => {
  test('a NUL in the idempotency key or the combo id is a typed ValidationError; the gifts sent alongside are group-committed as if it never came', async () => {
    const { creator, session } = await createLiveCreator(db);
    const [senders, spoilers] = await Promise.all([
      Promise.all(Array.from({ length: 24 }, () => createFundedViewer(db, 10n))),
      Promise.all(Array.from({ length: 8 }, () => createFundedViewer(db, 10n))),
    ]);
    const before = await moneySnapshot(db);
    const input = (change: { idempotencyKey?: string; comboId?: string } = {}) => ({
      liveSessionId: gid('LiveSession', session.id),
      giftId: gid('Gift', rose.id),
      idempotencyKey: uniqueKey('hygiene'),
      comboId: 'streak-1',
      ...change,
    });

    // The spoilers' gifts arrive among the others, as a busy room's would.
    const sent = senders.map(async (sender) => (await ok(server.url, SendGift, { input: input() }, { token: await tokenFor(sender) })).sendGift);
    const spoiled = spoilers.map(async (spoiler, i) => {
      const change = i % 2 === 0 ? { idempotencyKey: `${uniqueKey('nul')}\u0000` } : { comboId: 'streak\u0000-1' };
      return (await ok(server.url, SendGift, { input: input(change) }, { token: await tokenFor(spoiler) })).sendGift;
    });
    const [results, refusals] = await Promise.all([Promise.all(sent), Promise.all(spoiled)]);

    expect(countTypes(results)).toEqual({ SentGift: 24 });
    refusals.forEach((result, i) => expect(result).toEqual(refusal(i % 2 === 0 ? 'input.idempotencyKey' : 'input.comboId')));
    for (const spoiler of spoilers) expect(await balances(db, spoiler)).toEqual({ coins: 10n, diamonds: 0n });
    expect(await db.idempotencyKey.count({ where: { callerId: { in: spoilers.map((spoiler) => spoiler.id) }, operation: 'sendGift' } })).toBe(0);
    expect(await balances(db, creator)).toEqual({ coins: 0n, diamonds: 24n });
    const after = await moneySnapshot(db);
    expect(after.sentGifts).toBe(before.sentGifts + 24);
    expect(after.journalEntries).toBe(before.journalEntries + 24);
    // Numbered 1..24 in the room, without a gap.
    expect((await db.liveSession.findUniqueOrThrow({ where: { id: session.id } })).lastSequence).toBe(24);
    // Group commit went on: the gifts share transactions (a batch that failed would have been re-run one gift at a time).
    const transactions = await db.$queryRaw<{ count: number }[]>`
      SELECT count(DISTINCT xmin::text)::int AS count FROM "SentGift" WHERE "liveSessionId" = ${session.id}::uuid`;
    expect(transactions[0]!.count).toBeLessThan(24);
    await expectCleanAudit(db);
  });
});

describe('accounts and live sessions', () => {
  test('register refuses a NUL in the display name, the handle and the country, each named, and creates nothing', async () => {
    const users = await db.user.count();
    const { register } = await ok(server.url, RegisterWith, {
      input: { handle: 'nul\u0000handle', displayName: 'Nul\u0000Name', birthDate: '1990-01-01', country: 'U\u0000S' },
    });
    expect(register).toEqual(refusal('input.handle', 'input.displayName', 'input.country'));
    expect(await db.user.count()).toBe(users);
  });

  test('updateProfile refuses a NUL in the display name or the country and changes nothing', async () => {
    const user = await createUser(db, { displayName: 'Unchanged', country: 'US' });
    const token = await tokenFor(user);
    for (const [input, field] of [[{ displayName: 'Nul\u0000' }, 'input.displayName'], [{ country: '\u0000' }, 'input.country']] as const) {
      const { updateProfile } = await ok(server.url, UpdateProfile, { input }, { token });
      expect(updateProfile).toEqual({ __typename: 'ValidationError', code: 'VALIDATION_FAILED', message: `${field}: ${CONTROL}` });
    }
    expect(await db.user.findUniqueOrThrow({ where: { id: user.id } })).toMatchObject({ displayName: 'Unchanged', country: 'US' });
  });

  test('startLiveSession refuses a NUL in the title and starts nothing', async () => {
    const creator = await createUser(db, { roles: [Role.VIEWER, Role.CREATOR] });
    const { startLiveSession } = await ok(server.url, StartLiveSession, { input: { title: 'Friday\u0000night' } }, { token: await tokenFor(creator) });
    expect(startLiveSession).toEqual({ __typename: 'ValidationError', code: 'VALIDATION_FAILED', message: `input.title: ${CONTROL}` });
    expect(await db.liveSession.count({ where: { creatorId: creator.id, status: 'LIVE' } })).toBe(0);
  });

  test('other control characters are refused alike (the rest of C0, DEL, C1); any other text is taken as written', async () => {
    const user = await createUser(db);
    const token = await tokenFor(user);
    for (const control of ['\u0001', '\u0007', '\t', '\n', '\r', '\u001b', '\u007f', '\u0085', '\u009b']) {
      const { updateProfile } = await ok(server.url, UpdateProfile, { input: { displayName: `Bell${control}Ringer` } }, { token });
      expect(updateProfile, JSON.stringify(control)).toMatchObject({ __typename: 'ValidationError', message: `input.displayName: ${CONTROL}` });
    }
    const { updateProfile } = await ok(server.url, UpdateProfile, { input: { displayName: 'Zoë «Ovation» 🎤 ﬁ' } }, { token });
    expect(updateProfile).toMatchObject({ __typename: 'User', displayName: 'Zoë «Ovation» 🎤 ﬁ' });
  });

  test('invisible formatting characters are refused (a name that displays as another); joiners that scripts and emoji need are kept', async () => {
    const user = await createUser(db);
    const token = await tokenFor(user);
    // RIGHT-TO-LEFT OVERRIDE, isolates, ZERO WIDTH SPACE, WORD JOINER, BOM, LINE SEPARATOR.
    for (const invisible of ['\u202e', '\u2066', '\u2069', '\u200b', '\u2060', '\ufeff', '\u2028']) {
      const { updateProfile } = await ok(server.url, UpdateProfile, { input: { displayName: `Ada${invisible}Lovelace` } }, { token });
      expect(updateProfile, JSON.stringify(invisible)).toMatchObject({ __typename: 'ValidationError', message: expect.stringMatching(/^input.displayName: must not contain invisible formatting characters/) });
    }
    // A family emoji (ZERO WIDTH JOINER) and Persian with ZERO WIDTH NON-JOINER.
    for (const name of ['👩\u200d👩\u200d👧', 'می\u200cخواهم']) {
      const { updateProfile } = await ok(server.url, UpdateProfile, { input: { displayName: name } }, { token });
      expect(updateProfile).toMatchObject({ __typename: 'User', displayName: name });
    }
  });
});

describe('anywhere in the input', () => {
  test('a list inside an input object is checked item by item, each named by its path', async () => {
    const admin = await createUser(db, { roles: [Role.VIEWER, Role.ADMIN] });
    const gifts = await db.gift.count();
    const { createGift } = await ok(
      server.url,
      CreateGift,
      { input: { name: 'Crown', coins: '10', imageUrl: 'https://cdn.example/crown.png', countries: ['US', 'K\u0000R', 'DE', '\u0000'] } },
      { token: await tokenFor(admin) },
    );
    expect(createGift).toEqual(refusal('input.countries.1', 'input.countries.3'));
    expect(await db.gift.count()).toBe(gifts);
  });

  test("a subscription's arguments, when it is subscribed to", async () => {
    const client = openSocket(server.url, bearer(await tokenFor(await createUser(db))));
    await client.connected;
    const room = subscribe(client, 'subscription { liveSessionEvents(liveSessionId: "Room\\u0000") { sequence } }');
    expect((await room.next()).errors).toEqual([expect.objectContaining({ message: `liveSessionId: ${CONTROL}`, extensions: { code: 'VALIDATION_FAILED' } })]);
  });

  test('a list argument too: an id in nodes(ids:)', async () => {
    const reply = await post(server.url, 'query Nodes($ids: [ID!]!) { nodes(ids: $ids) { id } }', {}, { ids: [gid('User', randomUUID()), 'a\u0000b'] });
    expect(reply.errors).toEqual([expect.objectContaining({ message: `ids.1: ${CONTROL}`, extensions: { code: 'VALIDATION_FAILED' } })]);
  });
});

describe('fields without a typed refusal', () => {
  test('a NUL in a query argument (a handle, a country) is refused as invalid input, not an internal error', async () => {
    for (const [query, field] of [
      ['{ user(handle: "ada\\u0000") { id } }', 'handle'],
      ['{ gifts(country: "U\\u0000S") { id } }', 'country'],
      ['{ coinBundles(country: "\\u0000") { totalCoins } }', 'country'],
      ['mutation { devToken(input: { handle: "ada\\u0000" }) { __typename } }', 'input.handle'],
    ]) {
      const reply = await post(server.url, query!);
      expect(reply.errors, query).toEqual([expect.objectContaining({ message: `${field}: ${CONTROL}`, extensions: { code: 'VALIDATION_FAILED' } })]);
    }
  });

});
