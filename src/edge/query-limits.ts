import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import { complexityFromQuery } from '@pothos/plugin-complexity';
import { GraphQLError, Kind, TypeInfo, visit, visitWithTypeInfo, type DocumentNode, type GraphQLSchema, type ValidationContext, type ValueNode } from 'graphql';
import type { GraphQLParams, Plugin } from 'graphql-yoga';

/**
 * How large a GraphQL document may be. Ovation is a public API: without limits, one request can nest
 * relations as deep, or repeat an expensive field under as many aliases, as its author cares to write.
 * Each limit sits well above what Ovation's own clients send (the room page query: depth 6, 125 tokens;
 * GraphiQL's introspection query, which the depth limit ignores: 182 tokens).
 */
export const QUERY_LIMITS = { depth: 12, aliases: 30, tokens: 3000 } as const;

/**
 * The default cost limit (GRAPHQL_MAX_COST). A query's cost counts the objects it may return, lists
 * multiplied by how many items they ask for (src/schema/cost.ts): the room page query costs 1,115 as it
 * opens (10 gifters, 50 gifts) and 3,325 at its largest (100 and 100).
 */
export const DEFAULT_MAX_COST = 10_000;

/**
 * The limits, checked when a document is parsed (tokens) and validated (depth, aliases, cost): before
 * anything runs, over HTTP, SSE and graphql-ws alike. A document over a limit gets an error naming the
 * limit, as for any invalid document (code GRAPHQL_VALIDATION_FAILED, or GRAPHQL_PARSE_FAILED for length).
 * Yoga's own validation cache must be off: this one keeps a document's validation, not its cost.
 */
export function useQueryLimits({ maxCost }: { maxCost: number }): Plugin[] {
  // The validation rules throw their refusal by default, which skips the other rules and, over
  // graphql-ws, closes the whole connection; reported, it is a validation error like any other.
  const asValidationError = { propagateOnRejection: false, onReject: [(context: ValidationContext | null, error: GraphQLError) => context?.reportError(error)] };
  return [
    maxTokensPlugin({ n: QUERY_LIMITS.tokens }),
    // Fragments are not nesting: only fields count as depth.
    maxDepthPlugin({ n: QUERY_LIMITS.depth, flattenFragments: true, ...asValidationError }),
    maxAliasesPlugin({ n: QUERY_LIMITS.aliases, ...asValidationError }),
    useValidationCache(),
    useCostLimit(maxCost),
  ];
}

/** Each document's validation, kept: the same text parses to the same document (Yoga's parse cache). */
function useValidationCache(): Plugin {
  const validated = new WeakMap<DocumentNode, readonly GraphQLError[]>();
  return {
    onValidate({ params: { documentAST }, setResult }) {
      const cached = validated.get(documentAST);
      if (cached) {
        setResult(cached);
        return;
      }
      return ({ result }) => void validated.set(documentAST, result as readonly GraphQLError[]);
    },
  };
}

/**
 * The cost of a valid document with this request's variables (`first: $n` costs what $n asks for),
 * measured after the document's validation is kept, so a refusal is never kept with it. A document
 * whose cost no variable sizes (a mutation's `input`, say) costs the same every time: its cost is kept
 * per operation, as measuring it coerces every variable again (docs/benchmarks.md, "Issue 26").
 */
function useCostLimit(maxCost: number): Plugin {
  // Per document: its operations' kept costs, or null when variables size it.
  const fixedCosts = new WeakMap<DocumentNode, Map<string, number> | null>();
  return {
    onValidate({ context, params: { schema, documentAST } }) {
      return ({ valid, setResult }) => {
        if (!valid) return;
        const params = (context as { params?: GraphQLParams }).params ?? {};
        let kept = fixedCosts.get(documentAST);
        if (kept === undefined) fixedCosts.set(documentAST, (kept = variablesSizeCost(schema, documentAST) ? null : new Map()));
        let cost = kept?.get(params.operationName ?? '');
        if (cost === undefined) {
          cost = operationCost(schema, documentAST, params);
          if (cost !== undefined) kept?.set(params.operationName ?? '', cost);
        }
        if (cost !== undefined && cost > maxCost) setResult([costRefusal(cost, maxCost)]);
      };
    },
  };
}

/** Whether a variable is an argument (at any depth) of a field whose cost its arguments decide (src/schema/cost.ts). */
function variablesSizeCost(schema: GraphQLSchema, document: DocumentNode): boolean {
  const typeInfo = new TypeInfo(schema);
  let sized = false;
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field(node) {
        const complexity = typeInfo.getFieldDef()?.extensions?.complexity;
        if (typeof complexity === 'function' && node.arguments?.some((argument) => holdsVariable(argument.value))) sized = true;
      },
    }),
  );
  return sized;
}

const holdsVariable = (value: ValueNode): boolean =>
  value.kind === Kind.VARIABLE ||
  (value.kind === Kind.LIST && value.values.some(holdsVariable)) ||
  (value.kind === Kind.OBJECT && value.fields.some((field) => holdsVariable(field.value)));

/** The cost of the operation a request runs; undefined when it will not run (execution says why). */
function operationCost(schema: GraphQLSchema, document: DocumentNode, { operationName, variables }: Partial<GraphQLParams>): number | undefined {
  const operations = document.definitions.filter((definition) => definition.kind === Kind.OPERATION_DEFINITION);
  const operation = operationName ? operations.find((candidate) => candidate.name?.value === operationName) : operations[0];
  if (!operation || (!operationName && operations.length > 1)) return undefined;
  const fragments = document.definitions.filter((definition) => definition.kind === Kind.FRAGMENT_DEFINITION);
  try {
    return complexityFromQuery({ kind: Kind.DOCUMENT, definitions: [operation, ...fragments] }, { schema, variables: variables ?? {} }).complexity;
  } catch (error) {
    // Variables the operation cannot take: refused when it executes.
    if (error instanceof GraphQLError) return undefined;
    throw error;
  }
}

const costRefusal = (cost: number, maxCost: number) =>
  new GraphQLError(`Query cost of ${cost} exceeds the limit of ${maxCost}: ask for fewer items (first, last, ids) or nest fewer lists.`, {
    // As Yoga marks the other validation errors (its marking saw this document valid).
    extensions: { code: 'GRAPHQL_VALIDATION_FAILED', http: { spec: true, status: 400 } },
  });
