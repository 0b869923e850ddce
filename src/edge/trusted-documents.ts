import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import { GraphQLError, Kind, parse, validate, type DocumentNode, type GraphQLSchema } from 'graphql';
import type { GraphQLParams, Plugin } from 'graphql-yoga';
import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import { ConfigError } from '../config.js';
import overlayManifest from '../generated/overlay/persisted-documents.json' with { type: 'json' };

/**
 * Trusted documents (README, "Trusted documents"): a client sends a document's id instead of its text, as
 * the GraphQL-over-HTTP draft's persisted documents have it: `documentId: "sha256:<hex>"` beside
 * `variables` and `operationName`, in a POST body or a GET query string (and in a graphql-ws subscribe
 * payload, with `query: ""`). The ids and texts come from manifests (codegen's persisted-documents.json),
 * checked and parsed once at start. With TRUSTED_DOCUMENTS_ONLY nothing else runs.
 */
export type TrustedDocuments = {
  /** TRUSTED_DOCUMENTS_ONLY: document text is refused. */
  readonly only: boolean;
  /** How many documents are trusted, Ovation's own included. */
  readonly size: number;
  /** The rules over HTTP (POST, GET, SSE): Yoga's persisted operations plugin. */
  readonly plugins: Plugin[];
  /**
   * The rules over graphql-ws, where Yoga's HTTP hooks do not run: for one subscribe message, the refusal,
   * or the source to parse with the Yoga instance's parse for `context` (the context given to getEnveloped):
   * the text, or a stand-in for a trusted document, which parses to the document parsed at start.
   */
  socketSource(context: object, params: SocketParams): string | GraphQLError;
};

/** A graphql-ws subscribe payload: graphql-ws requires `query` to be a string, so an id comes with `query: ""`. */
export type SocketParams = { query: string; documentId?: unknown };

/** A trusted document's id: "sha256:" and the lower-case hex SHA-256 of its text, as codegen's client preset writes them. */
const DOCUMENT_ID = /^sha256:[0-9a-f]{64}$/;

type Manifest = { name: string; entries?: unknown; problem?: string };

/** Ovation's own documents (the stream overlays' subscription, src/overlay/overlay.graphql), always trusted. */
const OWN_MANIFEST: Manifest = { name: 'src/generated/overlay/persisted-documents.json', entries: overlayManifest };

/** A manifest that cannot be trusted: the server does not start, saying why as for any bad variable. */
export class TrustedDocumentsError extends ConfigError {
  override name = 'TrustedDocumentsError';
}

/** Reads and checks every manifest (Ovation's own, then `files`); any problem in any of them refuses them all, naming each. */
export async function loadTrustedDocuments(schema: GraphQLSchema, { files, only }: { files: string[]; only: boolean }): Promise<TrustedDocuments> {
  const documents = new Map<string, DocumentNode>();
  const problems: string[] = [];
  const manifests = [OWN_MANIFEST, ...(await Promise.all(files.map(readManifest)))];
  for (const { name, entries, problem } of manifests) {
    if (problem) problems.push(`  ${name}: ${problem}`);
    else if (!entries || typeof entries !== 'object' || Array.isArray(entries)) problems.push(`  ${name}: must be a JSON object of document ids to document texts`);
    else {
      for (const [id, text] of Object.entries(entries)) {
        const checked = checkEntry(schema, id, text);
        if (typeof checked === 'string') problems.push(`  ${name}: ${DOCUMENT_ID.test(id) ? id : JSON.stringify(id.slice(0, 80))}: ${checked}`);
        else documents.set(id, checked);
      }
    }
  }
  if (problems.length) throw new TrustedDocumentsError(`Trusted documents refused (TRUSTED_DOCUMENTS):\n${problems.join('\n')}`);
  return createTrustedDocuments(documents, only);
}

async function readManifest(file: string): Promise<Manifest> {
  let text;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    return { name: file, problem: `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})` };
  }
  try {
    return { name: file, entries: JSON.parse(text) };
  } catch (error) {
    return { name: file, problem: `is not JSON (${(error as Error).message})` };
  }
}

/** The entry's document, parsed; or what is wrong with it. */
function checkEntry(schema: GraphQLSchema, id: string, text: unknown): DocumentNode | string {
  if (!DOCUMENT_ID.test(id)) return 'is not a document id: "sha256:" and the 64 lower-case hex digits of the SHA-256 of the document\'s text';
  if (typeof text !== 'string') return "must map to the document's text";
  const actual = `sha256:${createHash('sha256').update(text).digest('hex')}`;
  if (actual !== id) return `is not the SHA-256 of its document's text, which is ${actual}: the manifest was edited or damaged`;
  let document;
  try {
    document = parse(text);
  } catch (error) {
    return `does not parse: ${(error as Error).message}`;
  }
  const errors = validate(schema, document);
  if (errors.length) return `${operationsOf(document)} is not valid against this server's schema: ${errors.map((error) => error.message).join(' ')}`;
  return document;
}

const operationsOf = (document: DocumentNode) =>
  document.definitions
    .flatMap((definition) => (definition.kind === Kind.OPERATION_DEFINITION ? [definition.name?.value ?? `anonymous ${definition.operation}`] : []))
    .join(', ') || 'the document';

function createTrustedDocuments(documents: Map<string, DocumentNode>, only: boolean): TrustedDocuments {
  // Over HTTP each is a request error, as Yoga marks its own (a 400 under application/graphql-response+json,
  // a 200 under application/json), never a 500; over graphql-ws it ends that operation only.
  type Over = 'http' | 'socket';
  const refusal = (over: Over, message: string, code: string) =>
    new GraphQLError(message, { extensions: { code, ...(over === 'http' ? { http: { spec: true, status: 400 } } : {}) } });
  const required = (over: Over) =>
    refusal(over, 'This server runs only trusted documents: send the document\'s id as documentId ("sha256:<hex>"), not its text', 'PERSISTED_DOCUMENT_REQUIRED');
  const notFound = (over: Over, id: string | null) =>
    refusal(
      over,
      id !== null && DOCUMENT_ID.test(id) ? `No trusted document has the id ${id}` : 'No trusted document has that id: ids are "sha256:" and 64 lower-case hex digits',
      'PERSISTED_DOCUMENT_NOT_FOUND',
    );
  const missing = (over: Over) => (only ? required(over) : refusal(over, 'Must provide query string or documentId.', 'BAD_REQUEST'));
  const idOf = (value: unknown) => (typeof value === 'string' && value !== '' ? value : null);
  // The GraphQL-over-HTTP draft: in the body of a POST, in the query string of a GET.
  const requestedId = (params: GraphQLParams, request: Request) =>
    idOf(request.method === 'GET' ? new URL(request.url).searchParams.get('documentId') : (params as { documentId?: unknown }).documentId);

  // graphql-ws's operations: the trusted document each context was given, for the parse below.
  const chosen = new WeakMap<object, DocumentNode>();
  return {
    only,
    size: documents.size,
    plugins: [
      {
        // Yoga refuses a documentId beside a query in a POST body, but reads only its own parameters from a
        // GET's query string: there the text would run, and the id be ignored.
        onParams({ params, request }) {
          if (!only && request.method === 'GET' && params.query && requestedId(params, request) !== null) {
            throw refusal('http', 'Unexpected parameter "documentId" beside a query: send one or the other.', 'BAD_REQUEST');
          }
        },
      },
      usePersistedOperations({
        allowArbitraryOperations: !only,
        extractPersistedOperationId: requestedId,
        // Parsed at start: Yoga parses nothing for it.
        getPersistedOperation: (id) => documents.get(id) ?? null,
        customErrors: {
          persistedQueryOnly: () => required('http'),
          keyNotFound: () => missing('http'),
          notFound: ({ params, request }) => notFound('http', requestedId(params, request)),
        },
      }),
      {
        onParse({ context, setParsedDocument }) {
          const document = chosen.get(context);
          if (document) setParsedDocument(document);
        },
      },
    ],
    // The plugin's rules, in its order: a query is text (refused when only, and never with an id, as Yoga
    // refuses a documentId beside a query over HTTP); without one, an id is looked up.
    socketSource(context, { query, documentId }) {
      const id = idOf(documentId);
      if (query) {
        if (only) return required('socket');
        if (documentId != null) return refusal('socket', 'Unexpected parameter "documentId" beside a query: send one or the other.', 'BAD_REQUEST');
        return query;
      }
      if (id === null) return missing('socket');
      const document = documents.get(id);
      if (!document) return notFound('socket', id);
      chosen.set(context, document);
      // Yoga's parse cache keys documents by their source: the plugin's stand-in for this id over HTTP.
      return `__PERSISTED_OPERATION_${id}__`;
    },
  };
}
