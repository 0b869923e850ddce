import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type GraphQLFormattedError } from 'graphql';

export type Response<Data> = { status: number; data?: Data | null; errors?: GraphQLFormattedError[] };

/** One GraphQL request over real HTTP, typed by the codegen document. */
export async function request<Data, Variables>(
  url: string,
  document: TypedDocumentNode<Data, Variables>,
  ...[variables, options]: Variables extends Record<string, never> ? [Variables?, { token?: string }?] : [Variables, { token?: string }?]
): Promise<Response<Data>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(options?.token ? { authorization: `Bearer ${options.token}` } : {}),
    },
    body: JSON.stringify({ query: print(document), variables }),
  });
  return { status: response.status, ...((await response.json()) as object) };
}

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
