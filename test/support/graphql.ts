import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type GraphQLFormattedError } from 'graphql';

export type Response<Data> = { status: number; data?: Data | null; errors?: GraphQLFormattedError[] };

/** The trusted-document manifest of every codegen document in test/ and bench/ (codegen.ts), as a front-end team deploys theirs. */
export const TEST_DOCUMENTS = path.join(fileURLToPath(new URL('../generated/', import.meta.url)), 'persisted-documents.json');

/** A codegen document's trusted-document id, "sha256:<hex>" (codegen puts it in the document's __meta__). */
export function documentIdOf(document: TypedDocumentNode<unknown, never>): string {
  const id = (document as { __meta__?: { hash?: string } }).__meta__?.hash;
  if (!id) throw new Error('Not a codegen document with an id: persistedDocuments is on in codegen.ts');
  return id;
}

/** How a document travels: its text (`query`), or with `byId` its trusted-document id (`documentId`). */
export const documentParams = (document: TypedDocumentNode<unknown, never>, byId = false) => (byId ? { documentId: documentIdOf(document) } : { query: print(document) });

/** One GraphQL request over real HTTP, typed by the codegen document; `byId` sends the document's id instead of its text. */
export async function request<Data, Variables>(
  url: string,
  document: TypedDocumentNode<Data, Variables>,
  ...[variables, options]: Variables extends Record<string, never> ? [Variables?, RequestOptions?] : [Variables, RequestOptions?]
): Promise<Response<Data>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(options?.token ? { authorization: `Bearer ${options.token}` } : {}),
    },
    body: JSON.stringify({ ...documentParams(document as TypedDocumentNode<unknown, never>, options?.byId), variables }),
  });
  return { status: response.status, ...((await response.json()) as object) };
}

type RequestOptions = { token?: string; byId?: boolean };

/** The data of a request that must succeed; its errors fail the test with their messages. */
export async function ok<Data, Variables>(
  ...args: Parameters<typeof request<Data, Variables>>
): Promise<Data> {
  const response = await request(...args);
  if (response.errors?.length || !response.data) {
    throw new Error(`GraphQL request failed: ${JSON.stringify(response.errors ?? response)}`);
  }
  return response.data;
}

export type RawReply = { status: number; headers: Headers; text: string; data?: Record<string, unknown> | null; errors?: GraphQLFormattedError[] };

/** A GraphQL request as raw HTTP, any document and headers: for tests about status codes, headers and refusals. */
export async function post(url: string, query: string, headers: Record<string, string> = {}, variables?: Record<string, unknown>): Promise<RawReply> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, ...(JSON.parse(text) as object) };
}
