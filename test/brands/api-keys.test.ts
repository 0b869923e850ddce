import { describe, expect, test } from 'vitest';
import { authenticateApiKey } from '../../src/domain/brands/access.js';
import { API_KEY_PREFIX, generateApiKey, isWellFormedApiKey } from '../../src/domain/brands/api-keys.js';
import { Role } from '../../src/generated/prisma/client.js';
import { globalId } from '../../src/schema/ids.js';
import { post } from '../support/graphql.js';
import { recordingLogger } from '../support/logs.js';
import { startTestServer } from '../support/server.js';
import { createUser, tokenFor } from '../support/users.js';

const bearer = (credential: string) => ({ authorization: `Bearer ${credential}` });
const CREATE_BRAND = `mutation ($input: CreateBrandInput!) { createBrand(input: $input) { __typename ... on Brand { id name } ... on Error { code } } }`;
const CREATE_KEY = `mutation ($input: CreateApiKeyInput!) { createApiKey(input: $input) { __typename ... on IssuedApiKey { secret apiKey { id displayPrefix scopes } } ... on Error { code message } } }`;
const ROTATE_KEY = `mutation ($input: RotateApiKeyInput!) { rotateApiKey(input: $input) { __typename ... on IssuedApiKey { secret apiKey { id } } ... on Error { code message } } }`;
const REVOKE_KEY = `mutation ($input: RevokeApiKeyInput!) { revokeApiKey(input: $input) { __typename ... on ApiKey { revokedAt } ... on Error { code } } }`;
const SET_MEMBER = `mutation ($input: SetBrandMemberInput!) { setBrandMember(input: $input) { __typename ... on BrandMember { role } ... on Error { code } } }`;
const CURRENT_BRAND = '{ currentBrand { name } }';
const KEYS = `query ($id: ID!) { brand(id: $id) { apiKeys { id name displayPrefix scopes lastUsedAt revokedAt expiresAt } } }`;

/** A server with a brand whose owner is signed in, every log line kept (at debug, the most the server says). */
async function brandWithOwner() {
  const { log, lines } = recordingLogger('debug');
  const server = await startTestServer({ log });
  const [admin, owner] = await Promise.all([createUser(server.db, { roles: [Role.VIEWER, Role.ADMIN] }), createUser(server.db)]);
  const created = await post(server.url, CREATE_BRAND, bearer(await tokenFor(admin)), { input: { name: `Acme ${owner.handle}`, ownerId: globalId('User', owner.id) } });
  const brand = (created.data as { createBrand: { id: string; name: string } }).createBrand;
  const ownerToken = await tokenFor(owner);
  const issue = async (scopes: string[], token = ownerToken) => {
    const reply = await post(server.url, CREATE_KEY, bearer(token), { input: { brandId: brand.id, name: 'back-end', scopes } });
    return (reply.data as { createApiKey: { __typename: string; secret: string; apiKey: { id: string; displayPrefix: string }; code?: string } }).createApiKey;
  };
  return { server, lines, brand, owner, ownerToken, issue };
}

describe('API key format', () => {
  test('a key has the ovbk_ prefix, 38 base62 characters and a checksum that catches a changed character', () => {
    const { secret, displayPrefix, secretHash } = generateApiKey();
    expect(secret).toMatch(/^ovbk_[0-9A-Za-z]{38}$/);
    expect(displayPrefix).toBe(secret.slice(0, API_KEY_PREFIX.length + 8));
    expect(secretHash).toMatch(/^[0-9a-f]{64}$/);
    expect(isWellFormedApiKey(secret)).toBe(true);
    const flipped = secret.slice(0, 10) + (secret[10] === 'a' ? 'b' : 'a') + secret.slice(11);
    expect(isWellFormedApiKey(flipped)).toBe(false);
    expect(generateApiKey().secret).not.toBe(secret);
  });
});

describe('brand API keys', () => {
  test('a key speaks for its brand, records its use, and a revoked key is refused on its next request', async () => {
    const { server, lines, brand, ownerToken, issue } = await brandWithOwner();
    const issued = await issue(['READ', 'MATCH']);
    expect(issued.__typename).toBe('IssuedApiKey');
    expect(issued.apiKey.displayPrefix).toBe(issued.secret.slice(0, 13));

    const asBrand = await post(server.url, CURRENT_BRAND, bearer(issued.secret));
    expect(asBrand.data).toEqual({ currentBrand: { name: brand.name } });
    const stored = await server.db.apiKey.findFirstOrThrow({ where: { displayPrefix: issued.apiKey.displayPrefix } });
    expect(stored.lastUsedAt).not.toBeNull();
    expect(stored.secretHash).not.toContain(issued.secret);

    const revoked = await post(server.url, REVOKE_KEY, bearer(ownerToken), { input: { apiKeyId: issued.apiKey.id } });
    expect(revoked.data).toEqual({ revokeApiKey: { __typename: 'ApiKey', revokedAt: expect.any(String) } });
    const refused = await post(server.url, CURRENT_BRAND, bearer(issued.secret));
    expect(refused.status).toBe(401);
    expect(refused.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');

    // After creation the secret is in no response (the key list shows its prefix only) and in no log line.
    const listed = await post(server.url, KEYS, bearer(ownerToken), { id: brand.id });
    expect(listed.text).toContain(issued.apiKey.displayPrefix);
    expect(listed.text).not.toContain(issued.secret);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(JSON.stringify(line)).not.toContain(issued.secret.slice(API_KEY_PREFIX.length));
  });

  test('a forged or mistyped key is refused before any database read, without repeating it', async () => {
    const { server, lines } = await brandWithOwner();
    const fake = `ovbk_${'A'.repeat(38)}`;
    const refused = await post(server.url, CURRENT_BRAND, bearer(fake));
    expect(refused.status).toBe(401);
    expect(refused.text).not.toContain(fake);
    for (const line of lines) expect(JSON.stringify(line)).not.toContain(fake);
  });

  test('a rotated key keeps working until the time the brand set, then only the new one does', async () => {
    const { server, brand, ownerToken, issue } = await brandWithOwner();
    const old = await issue(['READ']);
    const until = new Date(Date.now() + 3600_000);
    const rotated = await post(server.url, ROTATE_KEY, bearer(ownerToken), { input: { apiKeyId: old.apiKey.id, oldKeyExpiresAt: until.toISOString() } });
    expect(rotated.errors).toBeUndefined();
    const fresh = (rotated.data as { rotateApiKey: { secret: string } }).rotateApiKey.secret;
    expect((await post(server.url, CURRENT_BRAND, bearer(old.secret))).data).toEqual({ currentBrand: { name: brand.name } });
    expect((await post(server.url, CURRENT_BRAND, bearer(fresh))).data).toEqual({ currentBrand: { name: brand.name } });
    const later = new Date(until.getTime() + 1);
    await expect(authenticateApiKey(server.db, old.secret, later)).rejects.toThrow('unknown, revoked or expired');
    expect((await authenticateApiKey(server.db, fresh, later)).scopes).toEqual(['READ']);
  });

  test('only owners manage keys and members; a key cannot make keys', async () => {
    const { server, brand, ownerToken, issue } = await brandWithOwner();
    const member = await createUser(server.db);
    const added = await post(server.url, SET_MEMBER, bearer(ownerToken), { input: { brandId: brand.id, userId: globalId('User', member.id), role: 'MEMBER' } });
    expect(added.data).toEqual({ setBrandMember: { __typename: 'BrandMember', role: 'MEMBER' } });
    expect((await issue(['READ'], await tokenFor(member))).code).toBe('FORBIDDEN');
    const stranger = await createUser(server.db);
    expect((await issue(['READ'], await tokenFor(stranger))).code).toBe('FORBIDDEN');
    const key = await issue(['READ', 'CAMPAIGNS', 'MATCH', 'FUNDS']);
    expect((await issue(['READ'], key.secret)).code).toBe('FORBIDDEN');
    // The last owner cannot step down.
    const owner = await server.db.brandMember.findFirstOrThrow({ where: { role: 'OWNER' } });
    const demoted = await post(server.url, SET_MEMBER, bearer(ownerToken), { input: { brandId: brand.id, userId: globalId('User', owner.userId), role: 'MEMBER' } });
    expect(demoted.data).toEqual({ setBrandMember: { __typename: 'ValidationError', code: 'VALIDATION_FAILED' } });
  });
});
