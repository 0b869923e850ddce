import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { documentParams } from './graphql.js';
import { Inbox, releaseWhenDone } from './wait.js';

/** One Server-Sent Events frame: its `event:` name and its `data:` lines joined. */
export type SseFrame = { event: string; data: string };

export type EventStream = {
  status: number;
  contentType: string | null;
  /** Frames (comments, i.e. keep-alive pings, skipped) as an inbox with bounded reads. */
  frames: Inbox<SseFrame>;
  /** Aborts the request, as a browser tab closing would. */
  close(): void;
};

/**
 * A GraphQL subscription over SSE on the same /graphql path: a POST asking for `text/event-stream`
 * (`byId`: the document's trusted-document id instead of its text). Closed when the test is done if the
 * test has not closed it.
 */
export async function subscribeOverSse<Data, Variables>(
  url: string,
  document: TypedDocumentNode<Data, Variables>,
  variables: Variables,
  options: { token?: string; headers?: Record<string, string>; byId?: boolean } = {},
): Promise<EventStream> {
  const abort = new AbortController();
  const response = await fetch(url, {
    method: 'POST',
    signal: abort.signal,
    headers: {
      accept: 'text/event-stream',
      'content-type': 'application/json',
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    body: JSON.stringify({ ...documentParams(document as TypedDocumentNode<unknown, never>, options.byId), variables }),
  });
  const frames = new Inbox<SseFrame>('SSE frame');
  void readFrames(response, frames);
  const close = () => abort.abort();
  releaseWhenDone(close);
  return { status: response.status, contentType: response.headers.get('content-type'), frames, close };
}

async function readFrames(response: Response, frames: Inbox<SseFrame>): Promise<void> {
  let buffer = '';
  try {
    for await (const chunk of response.body!.pipeThrough(new TextDecoderStream())) {
      buffer += chunk.replaceAll('\r\n', '\n');
      let boundary;
      while ((boundary = buffer.indexOf('\n\n')) >= 0) {
        const frame = parseFrame(buffer.slice(0, boundary));
        buffer = buffer.slice(boundary + 2);
        if (frame) frames.push(frame);
      }
    }
    frames.end(new Error('The event stream ended'));
  } catch (error) {
    frames.end(error instanceof Error ? error : new Error(String(error)));
  }
}

function parseFrame(text: string): SseFrame | undefined {
  let event = 'message';
  const data: string[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  return data.length || event !== 'message' ? { event, data: data.join('\n') } : undefined;
}
