import { AgeRestrictedError, ForbiddenError, HandleTakenError, NotAuthenticatedError, NotFoundError, ValidationError } from '../domain/errors.js';
import { becomeCreator } from '../domain/roles.js';
import { countryInForce } from '../domain/safeguards.js';
import { completeProfile, registerUser, updateProfile, userByHandle } from '../domain/users.js';
import { hasRole } from '../domain/viewer.js';
import { Role, type User as UserRow } from '../generated/prisma/client.js';
import { builder } from './builder.js';
import type { Context } from './context.js';

const RoleEnum = builder.enumType(Role, { name: 'Role' });

const ownerOrAdmin = (user: UserRow, _args: unknown, context: Context) =>
  context.viewer?.userId === user.id || hasRole(context.viewer, Role.ADMIN);

export const User = builder.prismaNode('User', {
  id: { field: 'id' },
  nullable: true, // node(id:) of an unknown id: null
  fields: (t) => ({
    handle: t.exposeString('handle'),
    displayName: t.exposeString('displayName'),
    roles: t.field({ type: [RoleEnum], resolve: (user) => user.roles }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    birthDate: t.expose('birthDate', {
      type: 'Date',
      nullable: true,
      description: 'Private: only the user and admins can read it.',
      authScopes: ownerOrAdmin,
    }),
    country: t.string({
      nullable: true,
      description: 'ISO 3166-1 alpha-2, the country in force. Private: only the user and admins can read it.',
      authScopes: ownerOrAdmin,
      resolve: (user) => countryInForce(user, new Date()),
    }),
    pendingCountry: t.string({
      nullable: true,
      description: 'A changed country waiting out its cooling-off period (until `countryChangesAt`); the stricter age gate of the two holds meanwhile. Private.',
      authScopes: ownerOrAdmin,
      resolve: (user) => (user.pendingCountry && user.countryChangesAt && user.countryChangesAt > new Date() ? user.pendingCountry : null),
    }),
    countryChangesAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When `pendingCountry` applies. Private.',
      authScopes: ownerOrAdmin,
      resolve: (user) => (user.pendingCountry && user.countryChangesAt && user.countryChangesAt > new Date() ? user.countryChangesAt : null),
    }),
  }),
});

const AuthToken = builder.objectRef<{ token: string; user: UserRow }>('AuthToken').implement({
  description: 'A signed-in user and the bearer token to send as `Authorization: Bearer <token>`.',
  fields: (t) => ({
    token: t.exposeString('token'),
    user: t.field({ type: User, resolve: (signedIn) => signedIn.user }),
  }),
});

const authTokenFor = async (user: UserRow, context: Context) => ({ token: await context.issueToken({ userId: user.id }), user });

const RegisterInput = builder.inputType('RegisterInput', {
  fields: (t) => ({
    handle: t.string({ description: '3-24 characters: letters, digits, "_" or "."; stored lower-case.' }),
    displayName: t.string(),
    birthDate: t.field({ type: 'Date' }),
    country: t.string({ description: 'ISO 3166-1 alpha-2, e.g. "US".' }),
    roles: t.field({ type: [RoleEnum], required: false, description: 'VIEWER (default) and/or CREATOR.' }),
  }),
});

const CompleteProfileInput = builder.inputType('CompleteProfileInput', {
  fields: (t) => ({
    handle: t.string({ description: '3-24 characters: letters, digits, "_" or "."; stored lower-case.' }),
    displayName: t.string(),
    birthDate: t.field({ type: 'Date' }),
    country: t.string({ description: 'ISO 3166-1 alpha-2, e.g. "US".' }),
  }),
});

const UpdateProfileInput = builder.inputType('UpdateProfileInput', {
  fields: (t) => ({
    displayName: t.string({ required: false }),
    country: t.string({ required: false }),
  }),
});

const BecomeCreatorInput = builder.inputType('BecomeCreatorInput', {
  fields: (t) => ({
    acceptCreatorTerms: t.boolean({ description: "Must be true: the creator accepts the platform's terms for creators." }),
  }),
});

const DevTokenInput = builder.inputType('DevTokenInput', {
  fields: (t) => ({ handle: t.string() }),
});

builder.queryFields((t) => ({
  me: t.prismaField({
    type: 'User',
    nullable: true,
    description: 'The signed-in user, or null when signed out.',
    resolve: (query, _root, _args, context) =>
      context.viewer ? context.db.user.findUnique({ ...query, where: { id: context.viewer.userId } }) : null,
  }),
  user: t.field({
    type: User,
    nullable: true,
    args: { handle: t.arg.string() },
    resolve: (_root, { handle }, context) => userByHandle(context.db, handle),
  }),
}));

builder.mutationFields((t) => ({
  register: t.field({
    type: AuthToken,
    description:
      "Development only (NODE_ENV=development): creates an account and signs it in with Ovation's own token. Elsewhere accounts come from the identity provider, through completeProfile.",
    args: { input: t.arg({ type: RegisterInput }) },
    errors: { types: [ForbiddenError, ValidationError, HandleTakenError] },
    resolve: async (_root, { input }, context) => {
      if (!context.development) throw new ForbiddenError('register is only available in development (NODE_ENV=development): sign in with the identity provider and completeProfile');
      await context.rateLimits?.consume('profiles', context.clientAddress ?? 'unknown');
      return authTokenFor(await registerUser(context.db, { ...input, roles: input.roles ?? undefined }), context);
    },
  }),
  completeProfile: t.field({
    type: User,
    description:
      "The first sign-in with the identity provider's token: makes the identity's account, with the birth date and country the safeguards need. Until then the identity can buy, gift and go live not at all.",
    args: { input: t.arg({ type: CompleteProfileInput }) },
    errors: { types: [NotAuthenticatedError, ForbiddenError, ValidationError, HandleTakenError] },
    resolve: async (_root, { input }, context) => {
      if (!context.identity) throw new NotAuthenticatedError("Sign in with the identity provider's token to complete a profile");
      if (context.viewer) throw new ForbiddenError('This identity already has an account');
      await context.rateLimits?.consume('profiles', context.clientAddress ?? 'unknown');
      return completeProfile(context.db, context.identity, input);
    },
  }),
  updateProfile: t.field({
    type: User,
    args: { input: t.arg({ type: UpdateProfileInput }) },
    authScopes: { signedIn: true },
    errors: { types: [NotAuthenticatedError, ValidationError] },
    resolve: (_root, { input }, context) =>
      updateProfile(context.db, context.announcer, context.policy, context.viewer!.userId, {
        displayName: input.displayName ?? undefined,
        country: input.country ?? undefined,
      }),
  }),
  becomeCreator: t.field({
    type: User,
    description: "The signed-in user becomes a creator, if old enough to go live in their country. Roles are the database's: it applies to the next request.",
    args: { input: t.arg({ type: BecomeCreatorInput }) },
    authScopes: { signedIn: true },
    errors: { types: [NotAuthenticatedError, NotFoundError, ValidationError, AgeRestrictedError] },
    resolve: (_root, { input }, context) => {
      if (!input.acceptCreatorTerms) throw new ValidationError([{ field: 'acceptCreatorTerms', message: 'must be true to become a creator' }]);
      return becomeCreator(context.db, context.announcer, context.policy, context.viewer!.userId);
    },
  }),
  devToken: t.field({
    type: AuthToken,
    description: 'Development only (NODE_ENV=development): a token for any existing user (demo accounts). Refused anywhere else.',
    args: { input: t.arg({ type: DevTokenInput }) },
    errors: { types: [ForbiddenError, NotFoundError] },
    resolve: async (_root, { input }, context) => {
      if (!context.development) throw new ForbiddenError('devToken is only available in development (NODE_ENV=development)');
      const user = await userByHandle(context.db, input.handle);
      if (!user) throw new NotFoundError(`User @${input.handle}`);
      return authTokenFor(user, context);
    },
  }),
}));

builder.subscriptionFields((t) => ({
  userUpdated: t.field({
    type: User,
    description: "The signed-in user's profile, each time it changes.",
    authScopes: { signedIn: true },
    subscribe: (_root, _args, context) => context.pubsub.latest('userUpdated', context.viewer!.userId),
    resolve: (event, _args, context) => context.db.user.findUniqueOrThrow({ where: { id: event.userId } }),
  }),
}));
