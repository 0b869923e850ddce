import SchemaBuilder from '@pothos/core';
import { GraphQLError, Kind } from 'graphql';
import ComplexityPlugin from '@pothos/plugin-complexity';
import DataloaderPlugin from '@pothos/plugin-dataloader';
import ErrorsPlugin from '@pothos/plugin-errors';
import PrismaPlugin from '@pothos/plugin-prisma';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { DateResolver, DateTimeResolver } from 'graphql-scalars';
import { ForbiddenError, NotAuthenticatedError } from '../domain/errors.js';
import { hasRole } from '../domain/viewer.js';
import type { Role } from '../generated/prisma/client.js';
import type PrismaTypes from '../generated/pothos-types.js';
import { getDatamodel } from '../generated/pothos-types.js';
import type { Context } from './context.js';
import { CONNECTION_PAGE, EDGES_COST, UNSIZED_LIST } from './cost.js';
import InputHygienePlugin from './input-hygiene.js';
import { globalId, parseGlobalId } from './ids.js';

export const builder = new SchemaBuilder<{
  Context: Context;
  PrismaTypes: PrismaTypes;
  DefaultFieldNullability: false;
  DefaultInputFieldRequiredness: true;
  AuthScopes: { signedIn: boolean; role: Role };
  Scalars: {
    Date: { Input: Date; Output: Date };
    DateTime: { Input: Date; Output: Date };
    ID: { Input: string; Output: string };
    BigInt: { Input: bigint; Output: bigint };
  };
}>({
  // Relay first so auth sees decoded ids; errors before scope-auth so refusals become typed results,
  // and before input hygiene and prisma/dataloader so their refusals and fields can be typed too.
  // Input hygiene checks text after authorization, as the domain's own checks do.
  plugins: [RelayPlugin, ErrorsPlugin, ScopeAuthPlugin, InputHygienePlugin, PrismaPlugin, DataloaderPlugin, ComplexityPlugin],
  defaultFieldNullability: false,
  defaultInputFieldRequiredness: true,
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    encodeGlobalID: (typename, id) => globalId(typename, String(id)),
    decodeGlobalID: (id) => parseGlobalId(id),
    // Ovation's own, in nodes.ts: an id that names nothing the caller may see is null there, not an error.
    nodeQueryOptions: false,
    nodesQueryOptions: false,
    edgesFieldOptions: { complexity: EDGES_COST },
  },
  complexity: {
    defaultComplexity: 1,
    defaultListMultiplier: UNSIZED_LIST,
    // The cost is measured as the document is validated (src/edge/query-limits.ts), with the request's
    // variables: the plugin's own check, as each root field resolves, would come after a subscription's
    // subscribe had run.
    disabled: true,
  },
  errors: {
    defaultTypes: [],
    directResult: true,
    defaultUnionOptions: {
      name: ({ fieldName }) => `${fieldName[0]!.toUpperCase()}${fieldName.slice(1)}Result`,
    },
  },
  scopeAuth: {
    authorizeOnSubscribe: true,
    authScopes: (context) => ({
      signedIn: !!context.viewer,
      role: (role) => hasRole(context.viewer, role),
    }),
    unauthorizedError: (_parent, context) =>
      context.viewer
        ? new ForbiddenError()
        : context.identity
          ? new NotAuthenticatedError('Complete your profile first (completeProfile): this identity has no account yet')
          : new NotAuthenticatedError(),
  },
  prisma: {
    client: (context) => context.db,
    dmmf: getDatamodel(),
    exposeDescriptions: true,
    filterConnectionTotalCount: true,
    defaultConnectionSize: CONNECTION_PAGE.default,
    maxConnectionSize: CONNECTION_PAGE.max,
    // Unset NODE_ENV is production (src/config.ts): warnings for developers only.
    onUnusedQuery: process.env.NODE_ENV === 'development' || process.env.NODE_ENV === 'test' ? 'warn' : null,
  },
});

builder.addScalarType('Date', DateResolver);
builder.addScalarType('DateTime', DateTimeResolver);
builder.scalarType('BigInt', {
  description: 'A whole number of coins, diamonds or minor currency units, sent as a decimal string so it stays exact.',
  serialize: (value) => value.toString(),
  parseValue: (value) => {
    if ((typeof value === 'string' && /^-?\d{1,30}$/.test(value)) || (typeof value === 'number' && Number.isSafeInteger(value))) {
      return BigInt(value);
    }
    throw new GraphQLError('BigInt must be a whole number, as a string of digits');
  },
  parseLiteral: (node) => {
    if ((node.kind === Kind.STRING && /^-?\d{1,30}$/.test(node.value)) || node.kind === Kind.INT) return BigInt(node.value);
    throw new GraphQLError('BigInt must be a whole number, as a string of digits');
  },
});

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});
