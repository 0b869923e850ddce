import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { describe, expect, inject, test, vi } from 'vitest';
import { MAX_REQUEST_BODY_BYTES } from '../../src/edge/body-limit.js';
import { adminQuery } from '../support/database.js';
import { post } from '../support/graphql.js';
import { startTestServer, TEST_JWT_SECRET } from '../support/server.js';
import { createUser, tokenFor } from '../support/users.js';
import { openSocket } from '../support/ws.js';

const endpoint = (graphqlUrl: string, path: string) => new URL(path, graphqlUrl).toString();

const development = await startTestServer({ env: 'development' });
const production = await startTestServer({ env: 'production', database: development.database });

const Register = `
  mutation Register($handle: String!) {
    register(input: { handle: $handle, displayName: "Mallory", birthDate: "1990-01-01", country: "US" }) {
      __typename
      ... on AuthToken { user { handle } }
    }
  }`;

const DevToken = `
  mutation DevToken($handle: String!) {
    devToken(input: { handle: $handle }) {
      __typename
      ... on AuthToken { token user { handle } }
      ... on Error { code message }
    }
  }`;

/** A token like the server's, with one thing changed. */
async function token(userId: string, change: { secret?: string; issuer?: string; expiredAt?: number } = {}): Promise<string> {
  const jwt = new SignJWT({ roles: ['VIEWER'] })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(userId)
    .setIssuer(change.issuer ?? 'ovation');
  if (change.expiredAt) jwt.setIssuedAt(change.expiredAt - 3600).setExpirationTime(change.expiredAt);
  else jwt.setIssuedAt().setExpirationTime('1h');
  return jwt.sign(new TextEncoder().encode(change.secret ?? TEST_JWT_SECRET));
}

describe('a request with bad credentials is refused with 401 and does nothing', async () => {
  const user = await createUser(development.db);
  const cases: [string, string, string][] = [
    ['a malformed Authorization header', `Token ${await tokenFor(user)}`, 'The Authorization header must be "Bearer <token>"'],
    ['a token with a bad signature', `Bearer ${await token(user.id, { secret: 'another-secret-another-secret-12345' })}`, 'The token signature is invalid'],
    ['an expired token', `Bearer ${await token(user.id, { expiredAt: Math.floor(Date.now() / 1000) - 60 })}`, 'The token has expired'],
    ['a token from another issuer', `Bearer ${await token(user.id, { issuer: 'someone-else' })}`, 'The token was not issued by Ovation or its identity provider'],
    ['something that is not a token', 'Bearer not.a.jwt', 'The token is invalid'],
  ];

  test.each(cases)('%s', async (_case, authorization, message) => {
    const handle = `refused_${randomBytes(4).toString('hex')}`;
    const refused = await post(development.url, Register, { authorization }, { handle });
    expect(refused.status).toBe(401);
    expect(refused.errors).toEqual([{ message, extensions: { code: 'UNAUTHENTICATED' } }]);
    expect(refused.data).toBeUndefined();
    expect(await development.db.user.findUnique({ where: { handle } })).toBeNull();

    // The same request with a good token goes through, so the refusal was the token's doing.
    const accepted = await post(development.url, Register, { authorization: `Bearer ${await tokenFor(user)}` }, { handle });
    expect(accepted.data).toEqual({ register: { __typename: 'AuthToken', user: { handle } } });
  });
});

describe('devToken', () => {
  test('in development it signs in as an existing user', async () => {
    const user = await createUser(development.db);
    const { status, data } = await post(development.url, DevToken, {}, { handle: user.handle });
    expect(status).toBe(200);
    expect(data?.devToken).toMatchObject({ __typename: 'AuthToken', user: { handle: user.handle } });

    const token = (data?.devToken as { token: string }).token;
    const me = await post(development.url, '{ me { handle } }', { authorization: `Bearer ${token}` });
    expect(me.data).toEqual({ me: { handle: user.handle } });
  });

  test('an unknown handle is a typed NotFoundError', async () => {
    const { data } = await post(development.url, DevToken, {}, { handle: 'nobody_here' });
    expect(data?.devToken).toEqual({ __typename: 'NotFoundError', code: 'NOT_FOUND', message: 'User @nobody_here not found' });
  });

  test('in production it is a typed ForbiddenError, even for an existing user', async () => {
    const user = await createUser(production.db);
    const { status, data, errors } = await post(production.url, DevToken, {}, { handle: user.handle });
    expect(status).toBe(200);
    expect(errors).toBeUndefined();
    expect(data?.devToken).toEqual({ __typename: 'ForbiddenError', code: 'FORBIDDEN', message: 'devToken is only available in development (NODE_ENV=development)' });
  });
});

describe('endpoints', () => {
  test('/healthz and /readyz answer 200 while the database is reachable', async () => {
    expect((await fetch(endpoint(development.url, '/healthz'))).status).toBe(200);
    expect((await fetch(endpoint(development.url, '/readyz'))).status).toBe(200);
  });

  test("every response carries an x-request-id, the client's own when it sent one", async () => {
    const chosen = await post(development.url, '{ __typename }', { 'x-request-id': 'client-trace-42' });
    expect(chosen.headers.get('x-request-id')).toBe('client-trace-42');

    const first = await post(development.url, '{ __typename }');
    const refused = await post(development.url, '{ __typename }', { authorization: 'Basic abc' });
    expect(refused.status).toBe(401);
    const ids = [first.headers.get('x-request-id'), refused.headers.get('x-request-id')];
    for (const id of ids) expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(ids[0]).not.toBe(ids[1]);
  });
});

describe('a request body is bounded by its declared length', () => {
  const handle = () => `bounded_${randomBytes(4).toString('hex')}`;

  test('a body over 1 MB is refused with 413 before it is read, and nothing is done', async () => {
    const refusedHandle = handle();
    const refused = await post(development.url, Register, {}, { handle: refusedHandle, padding: 'x'.repeat(MAX_REQUEST_BODY_BYTES) });
    expect(refused.status).toBe(413);
    expect(refused.errors).toEqual([{ message: `A request body may hold at most ${MAX_REQUEST_BODY_BYTES} bytes`, extensions: { code: 'REQUEST_ENTITY_TOO_LARGE' } }]);
    expect(await development.db.user.findUnique({ where: { handle: refusedHandle } })).toBeNull();

    // Just under the limit goes through (the padding is an unused variable).
    const acceptedHandle = handle();
    const accepted = await post(development.url, Register, {}, { handle: acceptedHandle, padding: 'x'.repeat(MAX_REQUEST_BODY_BYTES - 1000) });
    expect(accepted.data).toEqual({ register: { __typename: 'AuthToken', user: { handle: acceptedHandle } } });
  });

  test('a body sent without a length (chunked) is refused with 411, and nothing is done', async () => {
    const refusedHandle = handle();
    const body = new Blob([JSON.stringify({ query: Register, variables: { handle: refusedHandle } })]).stream();
    const response = await fetch(development.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, duplex: 'half' } as RequestInit);
    expect(response.status).toBe(411);
    expect(await response.json()).toEqual({ errors: [{ message: 'A request body must come with a Content-Length header', extensions: { code: 'LENGTH_REQUIRED' } }] });
    expect(await development.db.user.findUnique({ where: { handle: refusedHandle } })).toBeNull();
  });
});

describe('a WebSocket message is bounded as a request body is', () => {
  test('a message over 1 MB closes its socket with 1009 before it is read; one just under is taken', async () => {
    const tooBig = openSocket(development.url, { padding: 'x'.repeat(MAX_REQUEST_BODY_BYTES) });
    expect((await tooBig.nextClose()).code).toBe(1009);

    const justUnder = openSocket(development.url, { padding: 'x'.repeat(MAX_REQUEST_BODY_BYTES - 1000) });
    await justUnder.connected;
  });

  test("a client's broken frame is the client's mistake: nothing is printed outside the JSON log", async () => {
    // graphql-ws would print it with console.error and a stack trace, as an internal error, for any
    // client to cause at will.
    const printed = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const tooBig = openSocket(development.url, { padding: 'x'.repeat(MAX_REQUEST_BODY_BYTES) });
      expect((await tooBig.nextClose()).code).toBe(1009);
      expect(printed).not.toHaveBeenCalled();
    } finally {
      printed.mockRestore();
    }
  });
});

describe('when the database goes away', async () => {
  const stranded = await startTestServer();
  const user = await createUser(stranded.db);
  await adminQuery(inject('postgresUrl'), `DROP DATABASE ${new URL(stranded.database.url).pathname.slice(1)} WITH (FORCE)`);

  test('/readyz answers 503, so a load balancer stops sending traffic, while /healthz still answers 200', async () => {
    expect((await fetch(endpoint(stranded.url, '/readyz'))).status).toBe(503);
    expect((await fetch(endpoint(stranded.url, '/healthz'))).status).toBe(200);
  });

  test('the internal error is masked: no message, stack or database detail reaches the client', async () => {
    const reply = await post(stranded.url, 'query User($handle: String!) { user(handle: $handle) { id } }', {}, { handle: user.handle });
    expect(reply.errors).toEqual([
      { message: 'Unexpected error.', locations: expect.any(Array), path: ['user'], extensions: { code: 'INTERNAL_SERVER_ERROR' } },
    ]);
    expect(reply.data).toEqual({ user: null });
    expect(reply.text).not.toMatch(/stack|prisma|ovation_test_|\.ts:\d+/i);
  });
});
