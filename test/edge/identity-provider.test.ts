import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterAll, describe, expect, test } from 'vitest';
import { SANDBOX_METHODS } from '../../src/domain/payments/sandbox.js';
import { globalId } from '../../src/schema/ids.js';
import { post } from '../support/graphql.js';
import { bearer, openSocket } from '../support/ws.js';
import { uniqueKey } from '../support/money.js';
import { startTestServer } from '../support/server.js';
import { createUser, tokenFor } from '../support/users.js';
import { createTestBundle } from '../purchases/support.js';

// The platform's identity provider, played by this test: an OIDC discovery document and a JSON Web Key Set
// on a real HTTP listener, with keys generated here. Its tokens sign identities in; completeProfile ties
// an identity to its account once; Ovation's own HS256 tokens keep working beside it.

type Key = { kid: string; alg: string; privateKey: CryptoKey; jwk: JWK };
const newKey = async (kid: string, alg: 'RS256' | 'ES256' | 'EdDSA'): Promise<Key> => {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
};

let published: Key[] = [];
let keySetFetches = 0;
const provider = http.createServer((req, res) => {
  const base = `http://127.0.0.1:${(provider.address() as AddressInfo).port}`;
  if (req.url === '/.well-known/openid-configuration') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ issuer: base, jwks_uri: `${base}/keys` }));
  } else if (req.url === '/keys') {
    keySetFetches++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: published.map((key) => key.jwk) }));
  } else res.writeHead(404).end();
});
await new Promise<void>((resolve) => provider.listen(0, '127.0.0.1', resolve));
afterAll(() => new Promise<void>((resolve) => provider.close(() => resolve())));
const ISSUER = `http://127.0.0.1:${(provider.address() as AddressInfo).port}`;
const AUDIENCE = 'ovation-api';

const [rsa, ec, ed, rotated, unpublished] = await Promise.all([
  newKey('rsa-1', 'RS256'),
  newKey('ec-1', 'ES256'),
  newKey('ed-1', 'EdDSA'),
  newKey('rsa-2', 'RS256'),
  newKey('never-published', 'RS256'),
]);
published = [rsa, ec, ed];

const server = await startTestServer({ variables: { AUTH_OIDC_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE, AUTH_JWKS_REFETCH_SECONDS: '0' } });

let subjects = 0;
function idToken(key: Key, { subject = `idp|${++subjects}-${Date.now()}`, issuer = ISSUER, audience = AUDIENCE, expires = '10m' as string | number } = {}) {
  return new SignJWT({ email: 'someone@example.test' })
    .setProtectedHeader({ alg: key.alg, kid: key.kid })
    .setIssuer(issuer)
    .setAudience(audience)
    .setSubject(subject)
    .setIssuedAt()
    .setExpirationTime(expires)
    .sign(key.privateKey);
}

const auth = (token: string) => ({ authorization: `Bearer ${token}` });
const ME = '{ me { handle country } }';
const COMPLETE = `mutation ($input: CompleteProfileInput!) { completeProfile(input: $input) { __typename ... on User { handle } ... on Error { code message } } }`;
const BUY = `mutation ($input: PurchaseCoinsInput!) { purchaseCoins(input: $input) { __typename ... on Error { code message } } }`;
const profile = (handle: string) => ({ input: { handle, displayName: 'From the IdP', birthDate: '1990-02-03', country: 'US' } });
const refusalOf = async (token: string) => {
  const reply = await post(server.url, ME, auth(token));
  return { status: reply.status, code: reply.errors?.[0]?.extensions?.code, message: reply.errors?.[0]?.message };
};

describe("tokens from the platform's identity provider (OIDC discovery)", () => {
  test('a new identity completes its profile once, before which it cannot buy; then it is that account', async () => {
    const subject = `idp|alice-${Date.now()}`;
    const token = await idToken(rsa, { subject });
    expect((await post(server.url, ME, auth(token))).data).toEqual({ me: null });

    const bundle = await createTestBundle(server.db);
    const buy = { input: { bundleId: globalId('CoinBundle', bundle.id), paymentMethod: SANDBOX_METHODS.succeeds, idempotencyKey: uniqueKey('idp') } };
    expect((await post(server.url, BUY, auth(token), buy)).data).toEqual({
      purchaseCoins: { __typename: 'NotAuthenticatedError', code: 'UNAUTHENTICATED', message: 'Complete your profile first (completeProfile): this identity has no account yet' },
    });

    const handle = `alice_${subjects}`;
    expect((await post(server.url, COMPLETE, auth(token), profile(handle))).data).toEqual({ completeProfile: { __typename: 'User', handle } });
    expect((await post(server.url, ME, auth(token))).data).toEqual({ me: { handle, country: 'US' } });
    // Another token for the same identity is the same account; completing again is refused.
    const later = await idToken(rsa, { subject });
    expect((await post(server.url, ME, auth(later))).data).toEqual({ me: { handle, country: 'US' } });
    expect((await post(server.url, COMPLETE, auth(later), profile(`${handle}_2`))).data).toMatchObject({ completeProfile: { __typename: 'ForbiddenError' } });
    expect((await post(server.url, BUY, auth(later), buy)).data).toEqual({ purchaseCoins: { __typename: 'Purchase' } });
    expect(await server.db.identityLink.findMany({ where: { subject } })).toEqual([expect.objectContaining({ issuer: ISSUER, subject })]);
  });

  test.each([
    ['ES256', ec],
    ['EdDSA', ed],
  ])('%s keys sign identities in as RS256 ones do', async (_alg, key) => {
    const token = await idToken(key);
    const handle = `${key.kid.replace('-', '_')}_${subjects}`;
    expect((await post(server.url, COMPLETE, auth(token), profile(handle))).data).toEqual({ completeProfile: { __typename: 'User', handle } });
    expect((await post(server.url, ME, auth(token))).data).toEqual({ me: { handle, country: 'US' } });
  });

  test("a key rotation: the new key's tokens are accepted at once, the retired key's refused", async () => {
    const before = keySetFetches;
    published = [rotated, ec, ed];
    const fresh = await idToken(rotated);
    expect((await post(server.url, ME, auth(fresh))).data).toEqual({ me: null });
    expect(keySetFetches).toBeGreaterThan(before);
    expect(await refusalOf(await idToken(rsa))).toEqual({
      status: 401,
      code: 'UNAUTHENTICATED',
      message: 'The token was signed with a key the identity provider does not publish',
    });
    published = [rsa, rotated, ec, ed];
  });

  test.each([
    ['a wrong issuer', () => idToken(rsa, { issuer: 'https://someone-else.example' }), 'The token was not issued by Ovation or its identity provider'],
    ['a wrong audience', () => idToken(rsa, { audience: 'another-api' }), 'The token is not meant for this API (its audience)'],
    ['an expired token', () => idToken(rsa, { expires: Math.floor(Date.now() / 1000) - 120 }), 'The token has expired'],
    ['an unknown key id', () => idToken(unpublished), 'The token was signed with a key the identity provider does not publish'],
  ])('%s is refused with 401 and says why', async (_case, mint, message) => {
    expect(await refusalOf(await mint())).toEqual({ status: 401, code: 'UNAUTHENTICATED', message });
  });

  test("Ovation's own HS256 tokens still sign accounts in beside the provider's", async () => {
    const user = await createUser(server.db);
    expect((await post(server.url, ME, auth(await tokenFor(user)))).data).toEqual({ me: { handle: user.handle, country: 'US' } });
  });
});

describe('AUTH_JWKS_URL with AUTH_ISSUER, without discovery', () => {
  test("the key set's URL is used as given", async () => {
    const direct = await startTestServer({
      database: server.database,
      variables: { AUTH_JWKS_URL: `${ISSUER}/keys`, AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE },
    });
    const token = await idToken(ec);
    expect((await post(direct.url, ME, auth(token))).data).toEqual({ me: null });
    expect((await post(direct.url, ME, auth(await idToken(ec, { issuer: 'https://elsewhere.example' })))).status).toBe(401);
  });
});

describe('an identity provider that does not answer', () => {
  // A port nothing listens on: the provider is down, and the client's token may well be good.
  const down = 'http://127.0.0.1:9';

  test.each([
    ['its key set', { AUTH_JWKS_URL: `${down}/keys`, AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE }],
    ['its discovery document', { AUTH_OIDC_ISSUER: down, AUTH_AUDIENCE: AUDIENCE }],
  ])('%s: 503 with Retry-After, IDENTITY_PROVIDER_UNAVAILABLE, and a socket closed with 1013 (try again later)', async (_what, variables) => {
    const stranded = await startTestServer({ database: server.database, variables });
    const reply = await post(stranded.url, ME, auth(await idToken(rsa)));
    expect(reply.status).toBe(503);
    expect(reply.headers.get('retry-after')).toBe('5');
    expect(reply.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'IDENTITY_PROVIDER_UNAVAILABLE', retryAfterSeconds: 5 }) })]);
    const socket = openSocket(stranded.url, bearer(await idToken(rsa)));
    expect(await socket.closed).toEqual(expect.objectContaining({ code: 1013 }));
    // Ovation's own tokens do not need the provider.
    const user = await createUser(server.db);
    expect((await post(stranded.url, ME, auth(await tokenFor(user)))).data).toEqual({ me: { handle: user.handle, country: 'US' } });
  });
});
