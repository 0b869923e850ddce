import { createSourceEventStream, execute, getOperationAST, GraphQLError, type ExecutionArgs, type ExecutionResult } from 'graphql';

/**
 * Fan-out for subscriptions whose events are the same for every subscriber (a live room's): each event
 * is executed once per distinct operation and variables, and that one result goes to every subscriber,
 * instead of one GraphQL execution per subscriber per event (10,000 viewers x 10 gifts/s would be
 * 100,000 executions a second). Events are shared by identity: the stream hands every subscriber the
 * same event object. Only for root fields whose resolvers ignore the viewer.
 */
export function createSharedSubscriptions(sharedFields: Set<string>, toClientError: (error: unknown) => GraphQLError) {
  const results = new WeakMap<object, Map<string, Promise<ExecutionResult>>>();

  function shares(args: ExecutionArgs): boolean {
    const operation = getOperationAST(args.document, args.operationName);
    const [field, ...others] = operation?.selectionSet.selections ?? [];
    return operation?.operation === 'subscription' && others.length === 0 && field?.kind === 'Field' && sharedFields.has(field.name.value);
  }

  /**
   * The subscriber's results. A plain iterator rather than an async generator: a generator's return()
   * would wait behind the pending wait for the room's next event, so an unsubscribed viewer of a quiet
   * room would linger; this one passes return() straight to the stream.
   */
  function deliver(source: AsyncIterator<unknown>, args: ExecutionArgs): AsyncIterableIterator<ExecutionResult> {
    const key = `${documentId(args.document)}|${args.operationName ?? ''}|${JSON.stringify(args.variableValues ?? {})}`;
    let done = false;
    const iterator: AsyncIterableIterator<ExecutionResult> = {
      [Symbol.asyncIterator]: () => iterator,
      async next() {
        if (done) return { done: true, value: undefined };
        try {
          const item = await source.next();
          if (item.done || typeof item.value !== 'object' || item.value === null) {
            done = true;
            return { done: true, value: undefined };
          }
          let byOperation = results.get(item.value);
          if (!byOperation) results.set(item.value, (byOperation = new Map()));
          let result = byOperation.get(key);
          if (!result) byOperation.set(key, (result = executeOnce(args, item.value)));
          return { done: false, value: await result };
        } catch (error) {
          // A stream that ends with a refusal (e.g. too far behind) tells the client why, then completes.
          done = true;
          return { done: false, value: { errors: [toClientError(error)] } };
        }
      },
      async return() {
        done = true;
        await source.return?.();
        return { done: true, value: undefined };
      },
    };
    return iterator;
  }

  // graphql-js's own execute, as its subscribe does per event (Yoga's would treat the subscription
  // operation as a new subscription); errors are masked here the way Yoga masks them elsewhere.
  async function executeOnce(args: ExecutionArgs, event: object): Promise<ExecutionResult> {
    const result = await execute({ ...args, rootValue: event });
    return result.errors ? { ...result, errors: result.errors.map(toClientError) } : result;
  }

  return async function subscribe(args: ExecutionArgs, subscribe: (args: ExecutionArgs) => unknown) {
    if (!shares(args)) return subscribe(args);
    const source = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in Object(source))) {
      const failed = source as ExecutionResult;
      return { errors: (failed.errors ?? []).map(toClientError) };
    }
    return deliver((source as AsyncIterable<unknown>)[Symbol.asyncIterator](), args);
  };
}

// Yoga caches parsed documents, so subscribers sending the same operation share one document object.
const documentIds = new WeakMap<object, number>();
let nextDocumentId = 0;
function documentId(document: object): number {
  let id = documentIds.get(document);
  if (id === undefined) documentIds.set(document, (id = nextDocumentId++));
  return id;
}
