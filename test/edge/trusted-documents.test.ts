import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { print } from 'graphql';
import { describe, expect, test } from 'vitest';
import { OverlayDocument } from '../../src/generated/overlay/graphql.js';
import type { UserUpdatedSubscription } from '../generated/graphql.js';
import { GiftingWallet, PublishedExchangeRates, SendGift } from '../gifting/documents.js';
import { CreateOverlayToken } from '../overlays/documents.js';
import { UpdateProfile, UserUpdated } from '../realtime/profile-documents.js';
import { gid } from '../support/gifting.js';
import { documentIdOf, ok, request, TEST_DOCUMENTS } from '../support/graphql.js';
import { balances, createCatalogGift, createFundedViewer, createLiveCreator, expectCleanAudit, uniqueKey } from '../support/money.js';
import { startServerProcess } from '../support/process.js';
import { startTestServer, TEST_JWT_SECRET, TEST_WEBHOOK_SECRET } from '../support/server.js';
import { subscribeOverSse, type SseFrame } from '../support/sse.js';
import { tokenFor } from '../support/users.js';
import { publishUntilReceived, releaseWhenDone, within } from '../support/wait.js';
import { bearer, openSocket, subscribe, subscribeById } from '../support/ws.js';

// Trusted documents: a client sends a document's id ("sha256:<hex>", from codegen's manifest) instead of
// its text, over POST, GET, SSE and graphql-ws alike; with TRUSTED_DOCUMENTS_ONLY nothing else runs.

const open = await startTestServer({ variables: { TRUSTED_DOCUMENTS: TEST_DOCUMENTS } });
const only = await startTestServer({ database: open.database, variables: { TRUSTED_DOCUMENTS: TEST_DOCUMENTS, TRUSTED_DOCUMENTS_ONLY: 'true' } });
const { db } = open;

const SECRETS = { JWT_SECRET: TEST_JWT_SECRET, PAYMENT_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET };
const UNKNOWN_ID = `sha256:${'0'.repeat(64)}`;
const RATES = { exchangeRates: { diamondsPerCoin: { numerator: expect.any(String), denominator: expect.any(String) }, usdCentsPerDiamond: expect.any(Object) } };

/** A raw POST of this body: for the refusals, their codes and statuses. */
async function postBody(url: string, body: object, accept = 'application/json') {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept }, body: JSON.stringify(body) });
  return { status: response.status, ...((await response.json()) as { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] }) };
}

const codesOf = (reply: { errors?: { extensions?: Record<string, unknown> }[] }) => reply.errors?.map((error) => error.extensions?.code);

describe('over HTTP', () => {
  test('a query sent by its id answers as its text does, on both servers', async () => {
    const byText = await ok(open.url, PublishedExchangeRates);
    expect(byText).toEqual(RATES);
    expect(await ok(open.url, PublishedExchangeRates, {}, { byId: true })).toEqual(byText);
    expect(await ok(only.url, PublishedExchangeRates, {}, { byId: true })).toEqual(byText);
  });

  test('a GET carries the id and the variables in its query string; a mutation by GET is refused with 405', async () => {
    const viewer = await createFundedViewer(db, 10n);
    const url = new URL(only.url);
    url.searchParams.set('documentId', documentIdOf(GiftingWallet));
    url.searchParams.set('variables', JSON.stringify({ first: 1 }));
    const response = await fetch(url, { headers: { authorization: `Bearer ${await tokenFor(viewer)}` } });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { data: { wallet: { coins: string } } }).data.wallet.coins).toBe('10');

    const mutation = new URL(only.url);
    mutation.searchParams.set('documentId', documentIdOf(SendGift));
    mutation.searchParams.set('variables', JSON.stringify({ input: {} }));
    expect((await fetch(mutation)).status).toBe(405);
  });

  test('a gift sent by its id moves the money exactly as one sent as text', async () => {
    const { creator, session } = await createLiveCreator(db);
    const heart = await createCatalogGift(db, 5n, { name: 'Heart' });
    const [byText, byId] = await Promise.all([createFundedViewer(db, 100n), createFundedViewer(db, 100n)]);
    const input = () => ({ liveSessionId: gid('LiveSession', session.id), giftId: gid('Gift', heart.id), quantity: 2, idempotencyKey: uniqueKey('trusted') });

    const sentAsText = (await ok(open.url, SendGift, { input: input() }, { token: await tokenFor(byText) })).sendGift;
    const sentById = (await ok(only.url, SendGift, { input: input() }, { token: await tokenFor(byId), byId: true })).sendGift;

    expect(sentById).toMatchObject({ __typename: 'SentGift', quantity: 2, coins: '10', diamonds: '10' });
    expect({ ...sentById, id: undefined, sender: undefined }).toEqual({ ...sentAsText, id: undefined, sender: undefined });
    expect(await balances(db, byId)).toEqual(await balances(db, byText));
    expect((await balances(db, creator)).diamonds).toBe(20n);
    await expectCleanAudit(db);
  });

  test('an unknown id is PERSISTED_DOCUMENT_NOT_FOUND, with or without the flag: a request error, never a 500', async () => {
    for (const server of [open, only]) {
      const reply = await postBody(server.url, { documentId: UNKNOWN_ID });
      expect(reply).toEqual({ status: 200, errors: [{ message: `No trusted document has the id ${UNKNOWN_ID}`, extensions: { code: 'PERSISTED_DOCUMENT_NOT_FOUND' } }] });
      expect((await postBody(server.url, { documentId: UNKNOWN_ID }, 'application/graphql-response+json')).status).toBe(400);
      // Not an id at all (Apollo's bare hex, say): not echoed, and the message says what an id is.
      const malformed = await postBody(server.url, { documentId: '0'.repeat(64) });
      expect(malformed.errors).toEqual([{ message: expect.stringContaining('ids are "sha256:" and 64 lower-case hex digits'), extensions: { code: 'PERSISTED_DOCUMENT_NOT_FOUND' } }]);
    }
  });

  test('document text runs without the flag; with it, text is refused with PERSISTED_DOCUMENT_REQUIRED', async () => {
    const text = print(PublishedExchangeRates);
    expect((await postBody(open.url, { query: text })).data).toEqual(RATES);

    const refused = await postBody(only.url, { query: text });
    expect(refused.status).toBe(200);
    expect(refused.errors).toEqual([{ message: expect.stringContaining('send the document\'s id as documentId'), extensions: { code: 'PERSISTED_DOCUMENT_REQUIRED' } }]);
    expect((await postBody(only.url, { query: text }, 'application/graphql-response+json')).status).toBe(400);
    // Introspection is text too: GraphiQL and schema tools do not run against such a server.
    expect(codesOf(await postBody(only.url, { query: '{ __schema { queryType { name } } }' }))).toEqual(['PERSISTED_DOCUMENT_REQUIRED']);
  });

  test('a request with neither text nor id is refused; one with both, by POST or GET, is refused where text runs', async () => {
    expect(codesOf(await postBody(open.url, {}))).toEqual(['BAD_REQUEST']);
    expect(codesOf(await postBody(only.url, {}))).toEqual(['PERSISTED_DOCUMENT_REQUIRED']);
    const both = { query: print(PublishedExchangeRates), documentId: documentIdOf(PublishedExchangeRates) };
    expect(await postBody(open.url, both)).toMatchObject({ status: 400, errors: [{ message: 'Unexpected parameter "documentId" in the request body.' }] });
    expect(codesOf(await postBody(only.url, both))).toEqual(['PERSISTED_DOCUMENT_REQUIRED']);

    const getBoth = async (server: string) => {
      const url = new URL(server);
      for (const [name, value] of Object.entries(both)) url.searchParams.set(name, value);
      const response = await fetch(url, { headers: { accept: 'application/graphql-response+json' } });
      return { status: response.status, ...((await response.json()) as { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] }) };
    };
    expect(await getBoth(open.url)).toEqual({
      status: 400,
      errors: [{ message: 'Unexpected parameter "documentId" beside a query: send one or the other.', extensions: { code: 'BAD_REQUEST' } }],
    });
    expect(codesOf(await getBoth(only.url))).toEqual(['PERSISTED_DOCUMENT_REQUIRED']);
  });

  test('a subscription over SSE by its id streams as by text', async () => {
    const viewer = await createFundedViewer(db, 1n, { displayName: 'Before' });
    const token = await tokenFor(viewer);
    const stream = await subscribeOverSse(only.url, UserUpdated, {}, { token, byId: true });
    expect(stream.status).toBe(200);
    const updated = (frame: SseFrame) => frame.event === 'next' && (JSON.parse(frame.data) as { data?: UserUpdatedSubscription }).data?.userUpdated.displayName === 'After';
    await publishUntilReceived(() => ok(only.url, UpdateProfile, { input: { displayName: 'After' } }, { token, byId: true }), stream.frames, updated);
    stream.close();

    const text = await subscribeOverSse(only.url, UserUpdated, {}, { token });
    const refused = await text.frames.next();
    expect(codesOf(JSON.parse(refused.data) as { errors?: { extensions?: Record<string, unknown> }[] })).toEqual(['PERSISTED_DOCUMENT_REQUIRED']);
  });
});

describe('over graphql-ws', () => {
  test('a subscription by its id works; with the flag, text and unknown ids are refused per operation and the socket stays open', async () => {
    const viewer = await createFundedViewer(db, 1n);
    const token = await tokenFor(viewer);
    const socket = openSocket(only.url, bearer(token));
    await socket.connected;

    const text = await within(subscribe(socket, UserUpdated).ended, 'the text subscription to be refused');
    expect(text.error).toEqual([expect.objectContaining({ extensions: { code: 'PERSISTED_DOCUMENT_REQUIRED' } })]);
    const unknown = await within(subscribeById(socket, { ...UserUpdated, __meta__: { hash: UNKNOWN_ID } } as typeof UserUpdated).ended, 'the unknown id to be refused');
    expect(unknown.error).toEqual([expect.objectContaining({ message: `No trusted document has the id ${UNKNOWN_ID}`, extensions: { code: 'PERSISTED_DOCUMENT_NOT_FOUND' } })]);

    const live = subscribeById(socket, UserUpdated);
    const received = await publishUntilReceived(
      () => ok(only.url, UpdateProfile, { input: { displayName: 'Over the socket' } }, { token, byId: true }),
      live.results,
      (result) => result.data?.userUpdated.displayName === 'Over the socket',
    );
    expect(received.errors).toBeUndefined();
    live.unsubscribe();
  });

  test('without the flag, text and ids both run on one socket', async () => {
    const viewer = await createFundedViewer(db, 1n);
    const token = await tokenFor(viewer);
    const socket = openSocket(open.url, bearer(token));
    await socket.connected;
    const [byText, byId] = [subscribe(socket, UserUpdated), subscribeById(socket, UserUpdated)];
    await publishUntilReceived(() => ok(open.url, UpdateProfile, { input: { displayName: 'Both' } }, { token }), byText.results, (result) => result.data?.userUpdated.displayName === 'Both');
    expect((await byId.next()).data?.userUpdated.displayName).toBe('Both');
  });

  test("the stream overlays' own document is always trusted: an overlay hears its gifts where only trusted documents run", async () => {
    const { creator, session } = await createLiveCreator(db);
    const rose = await createCatalogGift(db, 1n, { name: 'Rose' });
    const fan = await createFundedViewer(db, 10n);
    const created = (await ok(only.url, CreateOverlayToken, { input: { label: 'OBS' } }, { token: await tokenFor(creator), byId: true })).createOverlayToken;
    if (created.__typename !== 'CreatedOverlayToken') throw new Error(JSON.stringify(created));
    // What the page sends (src/overlay/page.ts): the overlay manifest's id, never in the test manifest.
    expect(JSON.parse(fs.readFileSync(TEST_DOCUMENTS, 'utf8'))).not.toHaveProperty([documentIdOf(OverlayDocument)]);
    const overlay = subscribeById(openSocket(only.url), OverlayDocument, { overlayToken: created.secret });
    expect((await overlay.next()).data?.overlayEvents.__typename).toBe('OverlayStateEvent');

    const input = { liveSessionId: gid('LiveSession', session.id), giftId: gid('Gift', rose.id), idempotencyKey: uniqueKey('overlay') };
    await ok(only.url, SendGift, { input }, { token: await tokenFor(fan), byId: true });
    for (;;) {
      const { data, errors } = await overlay.next();
      expect(errors).toBeUndefined();
      if (data?.overlayEvents.__typename === 'StreakStartedEvent') break;
    }
    await expectCleanAudit(db);
  });
});

describe('manifests are checked at start', () => {
  const manifest = (name: string, entries: unknown) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ovation-manifest-'));
    releaseWhenDone(() => fs.rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, name);
    fs.writeFileSync(file, typeof entries === 'string' ? entries : JSON.stringify(entries));
    return file;
  };
  const idOf = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;
  const start = (...files: string[]) => startTestServer({ database: open.database, variables: { TRUSTED_DOCUMENTS: files.join(',') } });

  test('an id that is not the SHA-256 of its text stops the server, naming the file and the id', async () => {
    const file = manifest('edited.json', { [UNKNOWN_ID]: '{ gifts { id } }' });
    const reason = `${file}: ${UNKNOWN_ID}: is not the SHA-256 of its document's text, which is ${idOf('{ gifts { id } }')}: the manifest was edited or damaged`;
    await expect(start(TEST_DOCUMENTS, file)).rejects.toThrow(reason);

    // As `node dist/src/main.js` runs: exit 1, the reason on stderr as for a bad variable.
    const refused = await startServerProcess({ ...SECRETS, DATABASE_URL: open.databaseUrl, PORT: '0', TRUSTED_DOCUMENTS: `${TEST_DOCUMENTS},${file}` });
    expect(refused.url).toBeUndefined();
    expect(await refused.exited).toBe(1);
    expect(refused.stderr()).toBe(`Trusted documents refused (TRUSTED_DOCUMENTS):\n  ${reason}\n`);
  });

  test("a document that does not parse, or is not valid against the schema, stops the server with graphql's reason", async () => {
    const broken = '{ gifts { id }';
    const stale = 'query Stale { gifts { id retiredField } }';
    const file = manifest('stale.json', { [idOf(broken)]: broken, [idOf(stale)]: stale });
    const refusal = start(file);
    await expect(refusal).rejects.toThrow(`${file}: ${idOf(broken)}: does not parse: Syntax Error: Expected Name, found <EOF>.`);
    await expect(refusal).rejects.toThrow(`${file}: ${idOf(stale)}: Stale is not valid against this server's schema: Cannot query field "retiredField" on type "Gift".`);
  });

  test('a file that is missing, not JSON, or keyed otherwise stops the server', async () => {
    const missing = path.join(os.tmpdir(), 'no-such-manifest.json');
    await expect(start(missing)).rejects.toThrow(`${missing}: cannot be read (ENOENT)`);
    const notJson = manifest('not.json', '{"sha256:');
    await expect(start(notJson)).rejects.toThrow(`${notJson}: is not JSON`);
    const apollo = manifest('apollo.json', { ['0'.repeat(64)]: '{ gifts { id } }' });
    await expect(start(apollo)).rejects.toThrow(`${apollo}: "${'0'.repeat(64)}": is not a document id`);
  });
});
