import { SignJWT } from 'jose';
import { describe, expect, test } from 'vitest';
import { runAdminGrant } from '../../scripts/admin-grant.js';
import { Role } from '../../src/generated/prisma/client.js';
import { globalId } from '../../src/schema/ids.js';
import { post } from '../support/graphql.js';
import { aged } from '../support/gifting.js';
import { startTestServer, TEST_JWT_SECRET } from '../support/server.js';
import { createUser, tokenFor } from '../support/users.js';
import { eventually } from '../support/wait.js';
import { bearer as wsBearer, openSocket } from '../support/ws.js';

// Roles are the database's, never a token's: a change applies to the very next request, on every instance.

const LEDGER_AUDIT = '{ ledgerAudit { clean } }';
const SET_ADMIN = `mutation ($input: SetAdminInput!) { setAdmin(input: $input) { __typename ... on User { roles } ... on Error { code } } }`;
const BECOME_CREATOR = `mutation ($input: BecomeCreatorInput!) { becomeCreator(input: $input) { __typename ... on User { roles } ... on Error { code } } }`;
const SUSPEND = `mutation ($input: SuspendAccountInput!) { suspendAccount(input: $input) { __typename } }`;
const START_LIVE = `mutation ($input: StartLiveSessionInput!) { startLiveSession(input: $input) { __typename ... on Error { code } } }`;

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const auditCode = async (url: string, token: string) => {
  const reply = await post(url, LEDGER_AUDIT, bearer(token));
  return reply.errors?.[0]?.extensions?.code ?? (reply.data ? 'OK' : 'NO_DATA');
};

describe('roles come from the database', () => {
  test('a revoked admin loses ledgerAudit at once over HTTP, and the change is recorded with who and when', async () => {
    const server = await startTestServer();
    const [boss, revoked] = await Promise.all([createUser(server.db, { roles: [Role.VIEWER, Role.ADMIN] }), createUser(server.db, { roles: [Role.VIEWER, Role.ADMIN] })]);
    const token = await tokenFor(revoked);
    expect(await auditCode(server.url, token)).toBe('OK');

    const reply = await post(server.url, SET_ADMIN, bearer(await tokenFor(boss)), {
      input: { userId: globalId('User', revoked.id), admin: false, reason: 'left the team' },
    });
    expect(reply.data).toEqual({ setAdmin: { __typename: 'User', roles: [Role.VIEWER] } });
    expect(await auditCode(server.url, token)).toBe('FORBIDDEN');

    const history = await server.db.roleChange.findMany({ where: { userId: revoked.id } });
    expect(history).toEqual([expect.objectContaining({ role: Role.ADMIN, granted: false, adminId: boss.id, reason: 'left the team', createdAt: expect.any(Date) })]);
  });

  test('a token claiming roles grants none of them', async () => {
    const server = await startTestServer();
    const viewer = await createUser(server.db);
    const forged = await new SignJWT({ roles: [Role.VIEWER, Role.ADMIN] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(viewer.id)
      .setIssuer('ovation')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(TEST_JWT_SECRET));
    expect(await auditCode(server.url, forged)).toBe('FORBIDDEN');
  });

  test('becomeCreator makes an adult a creator, who goes live with the same token; a minor is refused', async () => {
    const server = await startTestServer();
    const [adult, minor] = await Promise.all([createUser(server.db), createUser(server.db, { birthDate: aged(16) })]);
    const token = await tokenFor(adult);
    const title = { input: { title: 'First stream' } };
    expect((await post(server.url, START_LIVE, bearer(token), title)).data).toEqual({ startLiveSession: { __typename: 'ForbiddenError', code: 'FORBIDDEN' } });
    const became = await post(server.url, BECOME_CREATOR, bearer(token), { input: { acceptCreatorTerms: true } });
    expect(became.data).toEqual({ becomeCreator: { __typename: 'User', roles: [Role.VIEWER, Role.CREATOR] } });
    expect((await post(server.url, START_LIVE, bearer(token), title)).data).toEqual({ startLiveSession: { __typename: 'LiveSession' } });
    const refused = await post(server.url, BECOME_CREATOR, bearer(await tokenFor(minor)), { input: { acceptCreatorTerms: true } });
    expect(refused.data).toEqual({ becomeCreator: { __typename: 'AgeRestrictedError', code: 'AGE_RESTRICTED' } });
  });

  test('a token for an account that does not exist is refused', async () => {
    const server = await startTestServer();
    const reply = await post(server.url, '{ me { id } }', bearer(await tokenFor({ id: '7f1c8f5e-3d6b-4c1a-9a52-0d7c2f1b6e11' })));
    expect(reply.status).toBe(401);
    expect(reply.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});

describe('the last admin', () => {
  test('admins revoking each other all at once leave exactly one admin; the rest are refused with LAST_ADMIN', async () => {
    const server = await startTestServer();
    const admins = await Promise.all(Array.from({ length: 5 }, () => createUser(server.db, { roles: [Role.VIEWER, Role.ADMIN] })));
    const tokens = await Promise.all(admins.map((admin) => tokenFor(admin)));
    const replies = await Promise.all(
      admins.flatMap((_, by) =>
        admins.map((target) => post(server.url, SET_ADMIN, bearer(tokens[by]!), { input: { userId: globalId('User', target.id), admin: false, reason: 'a coup' } })),
      ),
    );
    const outcomes = replies.map((reply) => {
      const result = reply.data?.setAdmin as { __typename: string; code?: string } | undefined;
      return result?.__typename === 'User' ? 'revoked' : (result?.code ?? reply.errors?.[0]?.extensions?.code);
    });
    expect(outcomes).toContain('LAST_ADMIN');
    // A revoked admin's own later attempts are FORBIDDEN; nothing else happens.
    expect(outcomes.filter((outcome) => !['revoked', 'LAST_ADMIN', 'FORBIDDEN'].includes(outcome as string))).toEqual([]);
    expect(await server.db.user.count({ where: { roles: { has: Role.ADMIN } } })).toBe(1);
  });
});

describe('npm run admin:grant', () => {
  test('makes the first admin against DATABASE_URL, recorded without an admin', async () => {
    const server = await startTestServer();
    const first = await createUser(server.db);
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (line: string) => out.push(line), err: (line: string) => err.push(line) };
    expect(await runAdminGrant([`@${first.handle}`], { DATABASE_URL: server.databaseUrl }, io)).toBe(0);
    expect(out).toEqual([`@${first.handle} is now an admin (a running server without Redis applies it within a minute)`]);
    expect(await auditCode(server.url, await tokenFor(first))).toBe('OK');
    expect(await server.db.roleChange.findMany({ where: { userId: first.id } })).toEqual([
      expect.objectContaining({ role: Role.ADMIN, granted: true, adminId: null }),
    ]);
    expect(await runAdminGrant(['nobody_here'], { DATABASE_URL: server.databaseUrl }, io)).toBe(1);
    expect(err).toEqual(['No account @nobody_here']);
  });
});

const redisUrl = process.env.REDIS_URL;

describe.skipIf(!redisUrl)('two instances sharing Redis', () => {
  test('an admin revoked through A loses ledgerAudit on B within a second', async () => {
    const a = await startTestServer({ redisUrl });
    const b = await startTestServer({ database: a.database, redisUrl });
    const [boss, revoked] = await Promise.all([createUser(a.db, { roles: [Role.VIEWER, Role.ADMIN] }), createUser(a.db, { roles: [Role.VIEWER, Role.ADMIN] })]);
    const token = await tokenFor(revoked);
    // B has read and remembers the account.
    expect(await auditCode(b.url, token)).toBe('OK');
    expect(await auditCode(b.url, token)).toBe('OK');

    const revokedAt = Date.now();
    await post(a.url, SET_ADMIN, bearer(await tokenFor(boss)), { input: { userId: globalId('User', revoked.id), admin: false, reason: 'left the team' } });
    await eventually(async () => ((await auditCode(b.url, token)) === 'FORBIDDEN' ? true : undefined), 'B to refuse the revoked admin', 1_000);
    expect(Date.now() - revokedAt).toBeLessThan(1_000);
  });

  test('npm run admin:grant with REDIS_URL: a running server that remembers the account applies it at once', async () => {
    const server = await startTestServer({ redisUrl });
    const first = await createUser(server.db);
    const token = await tokenFor(first);
    expect(await auditCode(server.url, token)).toBe('FORBIDDEN');
    const out: string[] = [];
    const io = { out: (line: string) => out.push(line), err: (line: string) => out.push(line) };
    expect(await runAdminGrant([first.handle], { DATABASE_URL: server.databaseUrl, REDIS_URL: redisUrl }, io)).toBe(0);
    expect(out).toEqual([`@${first.handle} is now an admin`]);
    await eventually(async () => ((await auditCode(server.url, token)) === 'OK' ? true : undefined), 'the server to apply the grant', 1_000);
  });

  test("an account suspended through A has its socket on B closed with 4403", async () => {
    const a = await startTestServer({ redisUrl });
    const b = await startTestServer({ database: a.database, redisUrl });
    const [boss, user] = await Promise.all([createUser(a.db, { roles: [Role.VIEWER, Role.ADMIN] }), createUser(a.db)]);
    const socket = openSocket(b.url, wsBearer(await tokenFor(user)));
    await socket.connected;
    const reply = await post(a.url, SUSPEND, bearer(await tokenFor(boss)), { input: { userId: globalId('User', user.id), reason: 'fraud review' } });
    expect(reply.data).toEqual({ suspendAccount: { __typename: 'User' } });
    expect(await socket.nextClose(1_000)).toEqual({ code: 4403, reason: 'This account is suspended' });
  });
});
