import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { releaseWhenDone } from '../support/wait.js';

/** One request a brand's endpoint received. */
export type Received = { eventId: string; signature: string; body: string; event: { id: string; type: string; campaignId: string | null; data: Record<string, unknown> } };

/**
 * A brand's back-end, played by the test: a real HTTP listener that records every request and answers
 * what `answer` says (200 unless told), in the order requests arrive.
 */
export async function startReceiver(answer: (received: Received, index: number) => number = () => 200) {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const entry: Received = { eventId: String(req.headers['ovation-event-id']), signature: String(req.headers['ovation-signature']), body, event: JSON.parse(body) };
      received.push(entry);
      res.writeHead(answer(entry, received.length - 1)).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  releaseWhenDone(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/ovation`, received };
}

/**
 * The README's recipe, as a brand writes it: HMAC-SHA256 of "<t>.<raw body>" with the secret, in hex,
 * equal to one of the header's v1 values, and t within five minutes.
 */
export function verifies(secret: string, signature: string, body: string, now = Date.now()): boolean {
  const parts = signature.split(',').map((part) => part.split('='));
  const t = parts.find(([key]) => key === 't')?.[1];
  if (!t || Math.abs(now / 1000 - Number(t)) > 300) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest();
  return parts.some(([key, value]) => key === 'v1' && value?.length === 64 && timingSafeEqual(Buffer.from(value, 'hex'), expected));
}
