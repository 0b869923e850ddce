import { NoSchemaIntrospectionCustomRule } from 'graphql';
import type { Plugin } from 'graphql-yoga';

// graphql-js ends a message about an unknown name with its guesses at the known ones:
// ` Did you mean "name"?`, ` Did you mean the enum value "WEEK"?`.
const SUGGESTION = / Did you mean .*\?$/s;

const hideSuggestion = (error: Error) => void (error.message = error.message.replace(SUGGESTION, ''));
const hideSuggestions = (result: unknown) => {
  if (result && typeof result === 'object' && 'errors' in result && Array.isArray(result.errors)) result.errors.forEach(hideSuggestion);
};

/**
 * Schema discovery: introspection, and the suggestions graphql-js adds to an error about a misspelled
 * field, argument, type or enum value, which spell out the schema as surely. Closed, a document that
 * introspects (`__schema`, `__type`; `__typename` is fine) is refused as invalid, and suggestions are cut
 * from validation errors and from those about a request's variables, whichever way the request comes.
 */
export function useSchemaDiscovery(open: boolean): Plugin[] {
  if (open) return [];
  return [
    {
      onValidate({ addValidationRule }) {
        addValidationRule(NoSchemaIntrospectionCustomRule);
        return ({ result }) => result.forEach(hideSuggestion);
      },
      // Variables are checked as the operation starts: a result of errors, not a stream.
      onExecute: () => ({ onExecuteDone: ({ result }) => hideSuggestions(result) }),
      onSubscribe: () => ({ onSubscribeResult: ({ result }) => hideSuggestions(result) }),
    },
  ];
}
