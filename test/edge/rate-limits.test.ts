import { describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { clientAddress, trustedProxies } from '../../src/edge/rate-limits.js';
import { UserUpdated } from '../realtime/profile-documents.js';
import { isViewerCount, readUntil, watchRoom } from '../rooms-live/support.js';
import { createLiveCreator } from '../support/money.js';
import { post } from '../support/graphql.js';
import { subscribeOverSse } from '../support/sse.js';
import { startTestServer } from '../support/server.js';
import { createUser, tokenFor } from '../support/users.js';
import { bearer, openSocket, subscribe } from '../support/ws.js';

// Each limit refuses at its limit, says when to come back, and lets the caller in again after its window
// (two seconds here; RATE_LIMIT_* in production).

const WINDOW_MS = 2_000;
const afterWindow = () => new Promise((resolve) => setTimeout(resolve, WINDOW_MS + 200));
const REGISTER = `mutation ($input: RegisterInput!) { register(input: $input) { __typename } }`;
const UPDATE = `mutation ($input: UpdateProfileInput!) { updateProfile(input: $input) { __typename } }`;
let handles = 0;
const registration = () => ({ input: { handle: `limited_${Date.now() % 100000}_${++handles}`, displayName: 'L', birthDate: '1990-01-01', country: 'US' } });

const server = await startTestServer({
  env: 'development',
  variables: { RATE_LIMIT_PROFILES: '2/2', RATE_LIMIT_MUTATIONS: '3/2', RATE_LIMIT_CONNECTIONS: '2/2', RATE_LIMIT_SUBSCRIPTIONS: '3/2', TRUST_PROXY: '127.0.0.1' },
});

const refusedAs = (reply: Awaited<ReturnType<typeof post>>) => ({
  status: reply.status,
  retryAfter: reply.headers.get('retry-after'),
  error: reply.errors?.[0]?.extensions,
});
const RATE_LIMITED = { status: 429, retryAfter: expect.stringMatching(/^[12]$/), error: expect.objectContaining({ code: 'RATE_LIMITED', retryAfterSeconds: expect.any(Number) }) };

describe('rate limits', () => {
  test('profiles created per client address (behind a trusted proxy, per X-Forwarded-For)', async () => {
    const from = (address: string) => ({ 'x-forwarded-for': address });
    for (let i = 0; i < 2; i++) expect((await post(server.url, REGISTER, from('203.0.113.7'), registration())).data).toEqual({ register: { __typename: 'AuthToken' } });
    expect(refusedAs(await post(server.url, REGISTER, from('203.0.113.7'), registration()))).toEqual(RATE_LIMITED);
    // Another client behind the same proxy is another address.
    expect((await post(server.url, REGISTER, from('203.0.113.8'), registration())).data).toEqual({ register: { __typename: 'AuthToken' } });
    await afterWindow();
    expect((await post(server.url, REGISTER, from('203.0.113.7'), registration())).data).toEqual({ register: { __typename: 'AuthToken' } });
  });

  test('mutations per account', async () => {
    const [user, other] = await Promise.all([createUser(server.db), createUser(server.db)]);
    const auth = { authorization: `Bearer ${await tokenFor(user)}` };
    const rename = { input: { displayName: 'Renamed' } };
    for (let i = 0; i < 3; i++) expect((await post(server.url, UPDATE, auth, rename)).data).toEqual({ updateProfile: { __typename: 'User' } });
    expect(refusedAs(await post(server.url, UPDATE, auth, rename))).toEqual(RATE_LIMITED);
    expect((await post(server.url, UPDATE, { authorization: `Bearer ${await tokenFor(other)}` }, rename)).data).toEqual({ updateProfile: { __typename: 'User' } });
    // Queries are not mutations.
    expect((await post(server.url, '{ me { displayName } }', auth)).data).toEqual({ me: { displayName: 'Renamed' } });
    await afterWindow();
    expect((await post(server.url, UPDATE, auth, rename)).data).toEqual({ updateProfile: { __typename: 'User' } });
  });

  test('WebSocket connections per client address: the upgrade past the limit is a 429 with Retry-After', async () => {
    const upgrade = () =>
      new Promise<{ status: number; retryAfter?: string }>((resolve) => {
        const socket = new WebSocket(server.url.replace(/^http/, 'ws'), 'graphql-transport-ws', { headers: { 'x-forwarded-for': '198.51.100.4' } });
        socket.once('open', () => {
          resolve({ status: 101 });
          socket.close();
        });
        socket.once('unexpected-response', (_request, response) => resolve({ status: response.statusCode!, retryAfter: response.headers['retry-after'] as string }));
        socket.once('error', () => {});
      });
    expect(await upgrade()).toEqual({ status: 101 });
    expect(await upgrade()).toEqual({ status: 101 });
    expect(await upgrade()).toEqual({ status: 429, retryAfter: expect.stringMatching(/^[12]$/) });
    await afterWindow();
    expect(await upgrade()).toEqual({ status: 101 });
  });

  test('subscriptions per client address', async () => {
    await afterWindow(); // the connection test's count from 127.0.0.1 is another limit; this one starts fresh
    const user = await createUser(server.db);
    const socket = openSocket(server.url, bearer(await tokenFor(user)));
    await socket.connected;
    const held = Array.from({ length: 3 }, () => subscribe(socket, UserUpdated));
    const refused = subscribe(socket, UserUpdated);
    const { error } = await refused.ended;
    expect(error).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'RATE_LIMITED', retryAfterSeconds: expect.any(Number) }) })]);
    for (const subscription of held) subscription.unsubscribe();
    await afterWindow();
    const again = subscribe(socket, UserUpdated);
    await post(server.url, UPDATE, { authorization: `Bearer ${await tokenFor(user)}` }, { input: { displayName: 'Back' } });
    expect((await again.next()).data?.userUpdated.displayName).toBe('Back');
  });

  test('subscriptions per client address count SSE streams too', async () => {
    const user = await createUser(server.db);
    const token = await tokenFor(user);
    const from = { headers: { 'x-forwarded-for': '198.51.100.30' }, token };
    const held = await Promise.all(Array.from({ length: 3 }, () => subscribeOverSse(server.url, UserUpdated, {}, from)));
    expect(held.map((stream) => stream.status)).toEqual([200, 200, 200]);
    const refused = await subscribeOverSse(server.url, UserUpdated, {}, from);
    const frame = await refused.frames.next();
    expect(JSON.parse(frame.data).errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'RATE_LIMITED', retryAfterSeconds: expect.any(Number) }) })]);
    // Another address is another count; the same one gets in again after the window.
    expect((await subscribeOverSse(server.url, UserUpdated, {}, { ...from, headers: { 'x-forwarded-for': '198.51.100.31' } })).status).toBe(200);
    for (const stream of held) stream.close();
    await afterWindow();
    const again = await subscribeOverSse(server.url, UserUpdated, {}, from);
    await post(server.url, UPDATE, { authorization: `Bearer ${token}` }, { input: { displayName: 'Streamed' } });
    expect(JSON.parse((await again.frames.next()).data).data.userUpdated.displayName).toBe('Streamed');
  });
});

describe.skipIf(!process.env.REDIS_URL)('rate limits across instances (Redis)', () => {
  test('one count for every instance: profiles created through A and B together stop at the limit', async () => {
    const variables = { RATE_LIMIT_PROFILES: '2/2', TRUST_PROXY: '127.0.0.1' };
    const a = await startTestServer({ env: 'development', redisUrl: process.env.REDIS_URL, variables });
    const b = await startTestServer({ env: 'development', database: a.database, redisUrl: process.env.REDIS_URL, variables });
    // An address of this run's own, so no other test's count (Redis is shared) is mixed in.
    const from = { 'x-forwarded-for': `192.0.2.${1 + Math.floor(Math.random() * 250)}` };
    expect((await post(a.url, REGISTER, from, registration())).data).toEqual({ register: { __typename: 'AuthToken' } });
    expect((await post(b.url, REGISTER, from, registration())).data).toEqual({ register: { __typename: 'AuthToken' } });
    expect(refusedAs(await post(a.url, REGISTER, from, registration()))).toEqual(RATE_LIMITED);
    expect(refusedAs(await post(b.url, REGISTER, from, registration()))).toEqual(RATE_LIMITED);
    await afterWindow();
    expect((await post(b.url, REGISTER, from, registration())).data).toEqual({ register: { __typename: 'AuthToken' } });
  });
});

describe('the client address', () => {
  test('X-Forwarded-For counts only past proxies TRUST_PROXY names', () => {
    const proxies = trustedProxies(['10.0.0.0/8', '::1']);
    expect(clientAddress('203.0.113.9', '198.51.100.1', proxies)).toBe('203.0.113.9');
    expect(clientAddress('10.1.2.3', '198.51.100.1', proxies)).toBe('198.51.100.1');
    // A client's own made-up entries sit left of what the trusted proxies added: they are never reached.
    expect(clientAddress('10.1.2.3', '1.2.3.4, 198.51.100.1, 10.9.9.9', proxies)).toBe('198.51.100.1');
    expect(clientAddress('::ffff:10.1.2.3', '198.51.100.1', proxies)).toBe('198.51.100.1');
    expect(clientAddress('10.1.2.3', '198.51.100.1', undefined)).toBe('10.1.2.3');
  });
});

describe('viewer counts', () => {
  test('(the three sockets of a hundred subscriptions of the issue) count each account once and anonymous subscribers at most ANONYMOUS_VIEWERS_PER_ADDRESS per address', async () => {
    const counted = await startTestServer({ variables: { ANONYMOUS_VIEWERS_PER_ADDRESS: '2', TRUST_PROXY: '127.0.0.1' } });
    const { session } = await createLiveCreator(counted.db);
    const observer = watchRoom(openSocket(counted.url), session);
    // Three anonymous sockets from one address, five room subscriptions each: two viewers in all.
    for (let i = 0; i < 3; i++) {
      const socket = openSocket(counted.url);
      for (let j = 0; j < 5; j++) watchRoom(socket, session);
    }
    // One account on two sockets, three subscriptions each: one viewer.
    const token = await tokenFor(await createUser(counted.db));
    for (let i = 0; i < 2; i++) {
      const socket = openSocket(counted.url, bearer(token));
      for (let j = 0; j < 3; j++) watchRoom(socket, session);
    }
    const events = await readUntil(observer, (read) => read.some((event) => isViewerCount(event) && event.viewers === 3), { ms: 4_000 });
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(Math.max(...events.filter(isViewerCount).map((event) => event.viewers))).toBe(3);
  });

  test.skipIf(!process.env.REDIS_URL)('across instances: an account watching through two instances counts once, and one address at most ANONYMOUS_VIEWERS_PER_ADDRESS in all', async () => {
    const variables = { ANONYMOUS_VIEWERS_PER_ADDRESS: '2' };
    const a = await startTestServer({ redisUrl: process.env.REDIS_URL, variables });
    const b = await startTestServer({ database: a.database, redisUrl: process.env.REDIS_URL, variables });
    const { session } = await createLiveCreator(a.db);
    const token = await tokenFor(await createUser(a.db));
    const observer = watchRoom(openSocket(a.url, bearer(token)), session);
    // The same account on B; two anonymous subscribers from this address on each instance.
    watchRoom(openSocket(b.url, bearer(token)), session);
    for (const instance of [a, b]) for (let i = 0; i < 2; i++) watchRoom(openSocket(instance.url), session);
    // One account and one address (capped at 2): three, whichever instance counts last.
    const events = await readUntil(observer, (read) => read.some((event) => isViewerCount(event) && event.viewers === 3), { ms: 4_000 });
    // Whatever either instance announces over the next two seconds stays at three.
    await readUntil(observer, () => false, { into: events, ms: 2_000 }).catch(() => {});
    expect(Math.max(...events.filter(isViewerCount).map((event) => event.viewers))).toBe(3);
  });
});
