import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/** No GraphQL request to Ovation comes near this; a larger one is refused before its body is read. */
export const MAX_REQUEST_BODY_BYTES = 1024 * 1024;

const refusal = (status: number, code: string, message: string) => new GraphQLError(message, { extensions: { http: { status }, code } });

/**
 * Bounds a GraphQL request's body by its declared length. Node's HTTP parser never hands a request more
 * body than its Content-Length says, so checking the header is enough, and costs nothing per byte.
 * Yoga's own limit (maxRequestBodySize) streams every body through a TransformStream instead, which
 * costs a large share of a small request's throughput (docs/architecture.md). A body sent without a length
 * (chunked) can't be bounded that way, so it is refused: every GraphQL client sends the length.
 */
export function useRequestBodyLimit(limit = MAX_REQUEST_BODY_BYTES): Plugin {
  return {
    onRequestParse({ request }) {
      const length = request.headers.get('content-length');
      if (length === null) {
        if (request.headers.has('transfer-encoding')) throw refusal(411, 'LENGTH_REQUIRED', 'A request body must come with a Content-Length header');
        return;
      }
      if (!/^\d+$/.test(length)) throw refusal(400, 'BAD_REQUEST', 'The Content-Length header is invalid');
      if (Number(length) > limit) throw refusal(413, 'REQUEST_ENTITY_TOO_LARGE', `A request body may hold at most ${limit} bytes`);
    },
  };
}
