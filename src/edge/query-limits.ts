import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import type { GraphQLError, ValidationContext } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/**
 * How large a GraphQL document may be. Ovation is a public API: without limits, one request can nest
 * relations as deep, or repeat an expensive field under as many aliases, as its author cares to write.
 * Each limit sits well above what Ovation's own clients send (the room page query: depth 6, 125 tokens;
 * GraphiQL's introspection query, which the depth limit ignores: 182 tokens).
 */
export const QUERY_LIMITS = { depth: 12, aliases: 30, tokens: 3000 } as const;

/**
 * The limits, checked when a document is parsed (tokens) and validated (depth, aliases): before anything
 * runs, over HTTP, SSE and graphql-ws alike, and cached with the document's validation. A document over
 * a limit gets an error naming the limit, as for any invalid document (code GRAPHQL_VALIDATION_FAILED, or
 * GRAPHQL_PARSE_FAILED for length).
 */
export function useQueryLimits(): Plugin[] {
  // The validation rules throw their refusal by default, which skips the other rules and, over
  // graphql-ws, closes the whole connection; reported, it is a validation error like any other.
  const asValidationError = { propagateOnRejection: false, onReject: [(context: ValidationContext | null, error: GraphQLError) => context?.reportError(error)] };
  return [
    maxTokensPlugin({ n: QUERY_LIMITS.tokens }),
    // Fragments are not nesting: only fields count as depth.
    maxDepthPlugin({ n: QUERY_LIMITS.depth, flattenFragments: true, ...asValidationError }),
    maxAliasesPlugin({ n: QUERY_LIMITS.aliases, ...asValidationError }),
  ];
}
