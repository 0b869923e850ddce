import { describe, expect, test } from 'vitest';
import { graphql } from '../generated/index.js';
import { ok, request } from '../support/graphql.js';
import { startTestServer } from '../support/server.js';
import { createUser, tokenFor } from '../support/users.js';

const Register = graphql(`
  mutation Register($input: RegisterInput!) {
    register(input: $input) {
      __typename
      ... on AuthToken { token user { id handle displayName roles } }
      ... on ValidationError { code problems { field message } }
      ... on HandleTakenError { code message }
      ... on ForbiddenError { code message }
    }
  }
`);

const Me = graphql(`
  query Me { me { id handle birthDate country } }
`);

const UserByHandle = graphql(`
  query UserByHandle($handle: String!) { user(handle: $handle) { id handle displayName birthDate country } }
`);

const PublicProfile = graphql(`
  query PublicProfile($handle: String!) { user(handle: $handle) { id handle displayName } }
`);

const NodeById = graphql(`
  query NodeById($id: ID!) { node(id: $id) { __typename id ... on User { handle } } }
`);

const server = await startTestServer();
// register is a development convenience: elsewhere accounts come from the identity provider (completeProfile).
const development = await startTestServer({ database: server.database, env: 'development' });

describe('registering', () => {
  test('is refused outside development, and creates nothing', async () => {
    const before = await server.db.user.count();
    const { register } = await ok(server.url, Register, {
      input: { handle: 'not_here', displayName: 'Not Here', birthDate: '1995-05-05', country: 'DE' },
    });
    expect(register).toMatchObject({ __typename: 'ForbiddenError', code: 'FORBIDDEN' });
    expect(await server.db.user.count()).toBe(before);
  });

  test('a new viewer gets an account and a token that signs them in', async () => {
    const { register } = await ok(development.url, Register, {
      input: { handle: 'New_Viewer', displayName: 'New Viewer', birthDate: '1995-05-05', country: 'de' },
    });
    expect(register.__typename).toBe('AuthToken');
    if (register.__typename !== 'AuthToken') return;
    expect(register.user).toMatchObject({ handle: 'new_viewer', displayName: 'New Viewer', roles: ['VIEWER'] });

    const { me } = await ok(development.url, Me, {}, { token: register.token });
    expect(me).toEqual({ id: register.user.id, handle: 'new_viewer', birthDate: '1995-05-05', country: 'DE' });
  });

  test('a taken handle is a typed error, whatever its case, and creates nothing', async () => {
    await createUser(server.db, { handle: 'taken' });
    const before = await server.db.user.count();
    const { register } = await ok(development.url, Register, {
      input: { handle: 'TAKEN', displayName: 'Copycat', birthDate: '1990-01-01', country: 'US' },
    });
    expect(register).toEqual({ __typename: 'HandleTakenError', code: 'HANDLE_TAKEN', message: 'The handle "taken" is taken' });
    expect(await server.db.user.count()).toBe(before);
  });

  test('bad input names every bad field and creates nothing', async () => {
    const before = await server.db.user.count();
    const { register } = await ok(development.url, Register, {
      input: { handle: 'x', displayName: ' ', birthDate: '2999-01-01', country: 'USA', roles: ['ADMIN'] },
    });
    expect(register.__typename).toBe('ValidationError');
    if (register.__typename !== 'ValidationError') return;
    expect(register.problems.map((problem) => problem.field).sort()).toEqual(['birthDate', 'country', 'displayName', 'handle', 'roles.0']);
    expect(await server.db.user.count()).toBe(before);
  });

  test('a malformed date is a typed 400, not a 500, and creates nothing', async () => {
    const response = await request(development.url, Register, {
      input: { handle: 'dated', displayName: 'D', birthDate: 'yesterday', country: 'US' },
    });
    expect(response.status).toBe(400);
    expect(response.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(await server.db.user.findUnique({ where: { handle: 'dated' } })).toBeNull();
  });
});

describe('privacy', () => {
  test("a user's birth date and country are theirs and admins' alone", async () => {
    const owner = await createUser(server.db, { country: 'FR' });
    const stranger = await createUser(server.db);
    const admin = await createUser(server.db, { roles: ['VIEWER', 'ADMIN'] });

    const asStranger = await request(server.url, UserByHandle, { handle: owner.handle }, { token: await tokenFor(stranger) });
    expect(asStranger.data?.user).toMatchObject({ handle: owner.handle, birthDate: null, country: null });
    expect(asStranger.errors?.map((error) => error.extensions?.code)).toEqual(['FORBIDDEN', 'FORBIDDEN']);

    const anonymous = await request(server.url, UserByHandle, { handle: owner.handle });
    expect(anonymous.errors?.map((error) => error.extensions?.code)).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED']);

    const asAdmin = await ok(server.url, UserByHandle, { handle: owner.handle }, { token: await tokenFor(admin) });
    expect(asAdmin.user).toMatchObject({ birthDate: '1990-01-01', country: 'FR' });
  });

  test('users are Relay nodes with opaque global ids', async () => {
    const user = await createUser(server.db);
    const { user: found } = await ok(server.url, PublicProfile, { handle: user.handle });
    expect(found?.id).not.toContain(user.id);
    const { node } = await ok(server.url, NodeById, { id: found!.id });
    expect(node).toEqual({ __typename: 'User', id: found!.id, handle: user.handle });
  });

  test('an unknown handle is null, not an error', async () => {
    expect(await ok(server.url, PublicProfile, { handle: 'nobody_here' })).toEqual({ user: null });
  });
});
