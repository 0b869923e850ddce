import { resolveNodes } from '@pothos/plugin-relay';
import { isObjectType, type GraphQLResolveInfo } from 'graphql';
import { ValidationError } from '../domain/errors.js';
import { builder } from './builder.js';
import type { Context } from './context.js';
import { itemsCost } from './cost.js';
import { parseGlobalId } from './ids.js';

// Relay's object lookup. An id that names nothing (malformed, of a type that is not a Node, unknown, or
// a private object its type hides from the caller) is null, as Relay has it: not an error.

/** Ids one `nodes` request may look up. */
export const MAX_NODE_IDS = 100;

const NodeInterface = builder.nodeInterfaceRef();

/** The type and record id a global id names, if that type is a Node; else null. */
function nodeId(globalId: string, info: GraphQLResolveInfo): { typename: string; id: string } | null {
  let decoded;
  try {
    decoded = parseGlobalId(globalId);
  } catch {
    return null;
  }
  const type = info.schema.getType(decoded.typename);
  return isObjectType(type) && type.getInterfaces().some(({ name }) => name === NodeInterface.name) ? decoded : null;
}

/**
 * Each type's objects in one query, each as its type allows (`nullable` nodes: null when not found). A
 * private type says who may see an object in its `visibleTo` extension: anyone else gets null, as for an
 * unknown id, not an error that would tell them the object exists.
 */
async function loadNodes(globalIds: readonly string[], context: Context, info: GraphQLResolveInfo) {
  const ids = globalIds.map((globalId) => nodeId(globalId, info));
  const objects = await resolveNodes(builder, context, info, ids);
  return objects.map((object, index) => {
    const type = ids[index] && info.schema.getType(ids[index].typename);
    const visibleTo = type?.extensions.visibleTo as ((object: unknown, context: Context) => boolean) | undefined;
    return object && visibleTo && !visibleTo(object, context) ? null : object;
  });
}

builder.queryFields((t) => ({
  node: t.field({
    type: NodeInterface,
    nullable: true,
    description: 'The object with this id, or null when there is none you may see.',
    args: { id: t.arg.id() },
    resolve: async (_root, { id }, context, info) => (await loadNodes([id], context, info))[0],
  }),
  nodes: t.field({
    type: [NodeInterface],
    nullable: { list: false, items: true },
    description: `Each id's object, or null in its place (as \`node\`); at most ${MAX_NODE_IDS} ids.`,
    args: { ids: t.arg.idList() },
    complexity: ({ ids }) => itemsCost(ids.length),
    resolve: (_root, { ids }, context, info) => {
      if (ids.length > MAX_NODE_IDS) throw new ValidationError([{ field: 'ids', message: `at most ${MAX_NODE_IDS} at once` }]);
      return loadNodes(ids, context, info);
    },
  }),
}));
