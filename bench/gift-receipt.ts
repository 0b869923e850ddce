// How the fan-out benchmarks' load processes read a received message, cheaply. At 100,000 messages a
// second on one core, JSON.parse and Date.parse per message were a quarter of the load process, and a
// saturated load process stamps receipts late: its lag, not the server's, ended up in the latency.
// Every server message of the bench's subscription has the same shape, so the two fields are found by
// position; anything else is parsed in full.

export type GiftReceipt = { sequence: number; sentAtMs: number };

// The gift event's fields as the bench's subscription selects them, in the order they are serialized.
const GIFT = '"__typename":"GiftSentEvent","sequence":';
const SENT_AT = ',"sentAt":"';

// Every subscriber hears the same event within a few milliseconds: parse its timestamp once.
let lastSentAt = '';
let lastSentAtMs = 0;
function millisecondsOf(sentAt: string): number {
  if (sentAt !== lastSentAt) {
    lastSentAt = sentAt;
    lastSentAtMs = Date.parse(sentAt);
  }
  return lastSentAtMs;
}

/**
 * The gift event in a graphql-transport-ws `next` message (`{"id":..,"type":"next","payload":{"data":
 * {"liveSessionEvents":{"__typename":"GiftSentEvent","sequence":N,"sentAt":"..."}}}}`), or undefined
 * for any other message (which the caller then parses in full).
 */
export function giftReceiptOf(text: string): GiftReceipt | undefined {
  const giftAt = text.indexOf(GIFT);
  if (giftAt < 0 || !text.startsWith('"type":"next"', text.indexOf('"type":'))) return undefined;
  let at = giftAt + GIFT.length;
  let sequence = 0;
  for (let digit = text.charCodeAt(at) - 48; digit >= 0 && digit <= 9; digit = text.charCodeAt(++at) - 48) sequence = sequence * 10 + digit;
  if (at === giftAt + GIFT.length || !text.startsWith(SENT_AT, at)) return undefined;
  const sentAtFrom = at + SENT_AT.length;
  const sentAtMs = millisecondsOf(text.slice(sentAtFrom, text.indexOf('"', sentAtFrom)));
  return Number.isFinite(sentAtMs) ? { sequence, sentAtMs } : undefined;
}
