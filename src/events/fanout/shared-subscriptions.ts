import { createSourceEventStream, execute, getOperationAST, GraphQLError, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import { isSharedField, isSharedStream, withoutViewer, type DirectSubscriber, type SharedStream } from './interface.js';
import { ResumeRequiredError } from './room-stream.js';
import { textFrames } from './websocket-frames.js';

/** Where a graphql-ws subscription's messages go: its socket, the TCP connection under it, and its operation id. */
export type Delivery = { socket: WebSocket; connection: Socket; id: string };

/**
 * Messages the fan-out has sent to graphql-ws subscribers since the instance started, by path: `direct`
 * straight from the hub's sweep (the path a room's viewers that keep up take), `stream` one by one through
 * the subscriber's stream (catching up, after a gap or an announcement). Plain numbers, read at a scrape.
 */
export type FanoutCounts = { direct: number; stream: number };

/**
 * The subscribers of one operation and variables (equal keys), who get byte-identical results, and the
 * bytes of the run handed over last: the viewers of a round are handed the same array of items one after
 * another (interface.ts, DirectSubscriber), so all but the first find them here.
 */
type Operation = { key: string; subscribers: number; events: readonly object[] | undefined; bodies: string[] };

/**
 * An event's result as every subscriber of one operation gets it: its JSON's UTF-8 bytes as an octet
 * string (a character per byte: see websocket-frames.ts).
 */
type Payload = { bytes: string };

const CLOSING_BRACE = '}';

/** A subscriber whose socket holds this much unsent data is too slow to keep (it resumes later). */
const MAX_BUFFERED_BYTES = 1024 * 1024;

/**
 * Fan-out for the subscription fields marked shared (interface.ts, `sharedSubscription`): their events are
 * the same for every subscriber (a live room's). Each event is executed and serialized once per distinct
 * operation and variables, with a context that has no viewer (`viewerKeys` throw); each subscriber then
 * costs a copy of bytes and a socket write, not a GraphQL execution, a JSON serialization and a chain of
 * promises, which at a big room's scale the server could not afford (docs/fan-out.md). Events are shared
 * by identity: the stream hands every subscriber the same item object for the same event.
 */
export function createSharedSubscriptions({ toClientError, viewerKeys }: { toClientError: (error: unknown) => GraphQLError; viewerKeys: readonly string[] }) {
  const serialized = new WeakMap<object, Map<string, Payload | Promise<Payload>>>();
  const operations = new Map<string, Operation>();
  const counts: FanoutCounts = { direct: 0, stream: 0 };

  /** The shared field an operation subscribes to, when that is all it does. */
  function sharedField(args: ExecutionArgs): string | undefined {
    const operation = getOperationAST(args.document, args.operationName);
    const [field, ...others] = operation?.selectionSet.selections ?? [];
    if (operation?.operation !== 'subscription' || others.length > 0 || field?.kind !== 'Field') return undefined;
    return isSharedField(args.schema.getSubscriptionType()?.getFields()[field.name.value]) ? field.name.value : undefined;
  }

  // graphql-js's own execute, as its subscribe does per event (Yoga's would treat the subscription
  // operation as a new subscription); errors are masked here the way Yoga masks them elsewhere.
  // Synchronous when every resolver is (a room event's are), so direct deliveries need not wait.
  function executeOnce(args: ExecutionArgs, event: object): Payload | Promise<Payload> {
    const serialize = (result: ExecutionResult): Payload => {
      const text = JSON.stringify(result.errors ? { ...result, errors: result.errors.map(toClientError) } : result);
      return { bytes: Buffer.from(text).toString('latin1') };
    };
    const result = execute({ ...args, contextValue: withoutViewer(args.contextValue as object, viewerKeys), rootValue: event });
    return result instanceof Promise ? result.then(serialize) : serialize(result);
  }

  function payloadOf(args: ExecutionArgs, key: string, event: object): Payload | Promise<Payload> {
    let byOperation = serialized.get(event);
    if (!byOperation) serialized.set(event, (byOperation = new Map()));
    let payload = byOperation.get(key);
    if (payload === undefined) {
      const executing = executeOnce(args, event);
      byOperation.set(key, (payload = executing));
      if (executing instanceof Promise) void executing.then((ready) => byOperation.set(key, ready), () => {});
    }
    return payload;
  }

  /** The bytes of `events`' payloads for `operation`, once all have executed. */
  function bodiesOf(operation: Operation, args: ExecutionArgs, events: readonly object[]): string[] | undefined {
    // The same array for every subscriber handed the same run (interface.ts, DirectSubscriber).
    if (events === operation.events) return operation.bodies;
    const bodies: string[] = [];
    for (const event of events) {
      const payload = payloadOf(args, operation.key, event);
      if (payload instanceof Promise) return undefined;
      bodies.push(payload.bytes);
    }
    operation.events = events;
    operation.bodies = bodies;
    return bodies;
  }

  function join(args: ExecutionArgs): Operation {
    const key = operationKey(args);
    let operation = operations.get(key);
    if (!operation) operations.set(key, (operation = { key, subscribers: 0, events: undefined, bodies: [] }));
    operation.subscribers++;
    return operation;
  }

  function leave(operation: Operation) {
    if (--operation.subscribers === 0) operations.delete(operation.key);
  }

  /**
   * One graphql-ws subscriber's delivery. Events handed over directly while its stream waits
   * (room-stream.ts) are sent at once if their payloads are ready and the socket keeps up; otherwise
   * refused, and `deliver`'s loop takes them as usual. `take` runs for every viewer and visit, so what it
   * reads is in this one object and the operation the viewers share, and it makes no closures and no
   * arrays (docs/fan-out.md, "What a visit touches"). It owns the framing: graphql-ws `next` messages in
   * WebSocket text frames.
   */
  class SocketSubscriber implements DirectSubscriber<object> {
    stopped = false;
    lastSequence = 0;
    /**
     * The message is assembled from bytes (octet strings): the payload is encoded once for every
     * subscriber, and a text frame is not measured and encoded again per socket.
     */
    readonly prefix: string;
    /**
     * Without extensions (no compression: the server negotiates none), ws writes each frame to the TCP
     * socket as it is sent, so a frame written there directly keeps its place among ws's own (pings,
     * graphql-ws's complete) and counts in socket.bufferedAmount. With any, ws may hold frames back.
     */
    readonly direct: boolean;

    constructor(
      readonly socket: WebSocket,
      readonly connection: Socket,
      id: string,
      readonly args: ExecutionArgs,
      readonly operation: Operation,
    ) {
      this.prefix = Buffer.from(`{"id":${JSON.stringify(id)},"type":"next","payload":`).toString('latin1');
      this.direct = socket.extensions === '';
    }

    take(events: readonly object[]): boolean {
      if (this.stopped || this.socket.readyState !== this.socket.OPEN || this.unsent() > MAX_BUFFERED_BYTES) return false;
      let bodies: string[] | undefined;
      try {
        bodies = bodiesOf(this.operation, this.args, events);
      } catch {
        return false; // deliver's loop meets the failure again, and reports it to this subscriber
      }
      if (!bodies) return false;
      this.send(events, bodies);
      counts.direct += events.length;
      return true;
    }

    /** One write for all of `events`: a run handed over directly is all of a viewer's visit (hub.ts). */
    send(events: readonly object[], bodies: readonly string[]) {
      if (this.direct) this.connection.write(textFrames(this.prefix, bodies, CLOSING_BRACE), 'latin1');
      else {
        corkSoon(this.connection);
        for (const body of bodies) this.socket.send(Buffer.from(this.prefix + body + CLOSING_BRACE, 'latin1'), { binary: false });
      }
      this.lastSequence = sequenceOf(events[events.length - 1]) ?? this.lastSequence;
    }

    /** What the socket holds unsent: with direct frames, ws holds nothing of its own (see above). */
    unsent() {
      return this.direct ? this.connection.writableLength : this.socket.bufferedAmount;
    }
  }

  /**
   * Writes each event straight to the subscriber's socket as a graphql-ws `next` message, and resolves
   * (done, so graphql-ws sends `complete`) when the stream ends; or with a last result carrying the
   * refusal that ended it (e.g. too far behind). return() reaches the stream at once.
   */
  function deliver(source: SharedStream<object>, args: ExecutionArgs, { socket, connection, id }: Delivery): AsyncIterableIterator<ExecutionResult> {
    const operation = join(args);
    const subscriber = new SocketSubscriber(socket, connection, id, args, operation);
    source.deliverDirectly(subscriber);
    const pumped = (async (): Promise<IteratorResult<ExecutionResult, undefined>> => {
      try {
        for (;;) {
          const item = await source.next();
          if (item.done || subscriber.stopped || socket.readyState !== socket.OPEN) return { done: true, value: undefined };
          if (subscriber.unsent() > MAX_BUFFERED_BYTES) throw new ResumeRequiredError(subscriber.lastSequence);
          const payload = payloadOf(args, operation.key, item.value as object);
          corkSoon(connection);
          subscriber.send([item.value as object], [(payload instanceof Promise ? await payload : payload).bytes]);
          counts.stream++;
        }
      } catch (error) {
        return { done: false, value: { errors: [toClientError(error)] } };
      } finally {
        leave(operation);
      }
    })();
    let finished = false;
    const iterator: AsyncIterableIterator<ExecutionResult> = {
      [Symbol.asyncIterator]: () => iterator,
      async next() {
        if (finished) return { done: true, value: undefined };
        finished = true;
        return pumped;
      },
      async return() {
        subscriber.stopped = true;
        finished = true;
        await source.return?.();
        return { done: true, value: undefined };
      },
    };
    return iterator;
  }

  /**
   * Subscribes a graphql-ws subscriber: to a shared field through the fan-out, straight to `delivery`'s
   * socket; to anything else with `subscribe`. The field's `subscribe` runs with the subscriber's own
   * context (it makes them a viewer); only its events are executed without one.
   */
  async function subscribe(args: ExecutionArgs, subscribe: (args: ExecutionArgs) => unknown, delivery: Delivery) {
    const field = sharedField(args);
    if (field === undefined) return subscribe(args);
    const source = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in Object(source))) {
      const failed = source as ExecutionResult;
      return { errors: (failed.errors ?? []).map(toClientError) };
    }
    const iterator = (source as AsyncIterable<unknown>)[Symbol.asyncIterator]();
    // A plugin that wrapped the stream would take the direct path away, and a big room's viewers with it:
    // a shared field's source is a SharedStream or the subscription fails, logged.
    if (!isSharedStream(iterator)) {
      await iterator.return?.();
      return { errors: [toClientError(new Error(`The shared subscription field ${field} did not return a SharedStream`))] };
    }
    return deliver(iterator as SharedStream<object>, args, delivery);
  }

  return { subscribe, counts };
}

/**
 * Writes to a connection made in one turn of the event loop leave in one system call: the connection is
 * corked before its first write and uncorked once the turn's I/O is done. A subscriber whose events come
 * one by one through its stream (catching up, or with extensions) gets all of a turn's in one write
 * instead of one write (and, on loopback, one wake-up of the reader) each: the kernel's cost per write is
 * the largest part of fan-out (docs/fan-out.md). Direct runs need none: each is one write already.
 */
function corkSoon(connection: Socket) {
  if (corked.has(connection)) return;
  connection.cork();
  corked.add(connection);
  if (corked.size === 1) setImmediate(uncorkAll);
}

const corked = new Set<Socket>();

function uncorkAll() {
  for (const connection of corked) connection.uncork();
  corked.clear();
}

const sequenceOf = (item: unknown): number | undefined => {
  const value = item as { event?: { sequence?: number }; sequence?: number };
  return value.event?.sequence ?? value.sequence;
};

/** Subscribers with equal keys get byte-identical results. */
const operationKey = (args: ExecutionArgs) => `${documentId(args.document)}|${args.operationName ?? ''}|${JSON.stringify(args.variableValues ?? {})}`;

// Yoga caches parsed documents, so subscribers sending the same operation share one document object.
const documentIds = new WeakMap<object, number>();
let nextDocumentId = 0;
function documentId(document: object): number {
  let id = documentIds.get(document);
  if (id === undefined) documentIds.set(document, (id = nextDocumentId++));
  return id;
}
