// How the fan-out benchmarks' load processes read a received message, cheaply. At 100,000 messages a
// second the load process competes with the server for the machine's two cores: every microsecond it
// spends per message is taken from the server under test. So a gift message is read in place from the
// bytes received, never decoded to a string or parsed, and each gift's sentAt is parsed once.

export type GiftReceipt = { sequence: number; sentAtMs: number };

// A gift's graphql-transport-ws `next` message, whatever the build's subscription document (bench/ab.ts's
// ViewerSubscription): its first `"sequence":` is the gift's, directly followed by its `"sentAt":`, e.g.
// {"id":"<id>","type":"next","payload":{"data":{"liveSessionEvents":{"__typename":"GiftSentEvent","sequence":N,"sentAt":"<ISO>"}}}}
const ID = Buffer.from('{"id":"');
const NEXT = Buffer.from('","type":"next",');
const SEQUENCE = Buffer.from('"sequence":');
const SENT_AT = Buffer.from(',"sentAt":"');
const QUOTE = 0x22;

// Every subscriber hears the same gift: its sentAt, by sequence, is parsed once. (A load process that
// falls behind reads different subscribers' gifts in turn, so remembering only the last one is not enough.)
const sentAtBySequence = new Map<number, number>();

function matches(bytes: Buffer, at: number, end: number, expected: Buffer): boolean {
  if (at + expected.length > end) return false;
  for (let i = 0; i < expected.length; i++) if (bytes[at + i] !== expected[i]) return false;
  return true;
}

/** Where `expected` first starts in bytes[from, end), or -1. (Buffer's indexOf would search on past `end`, through the rest of the read.) */
function find(bytes: Buffer, from: number, end: number, expected: Buffer): number {
  for (let at = from; at + expected.length <= end; at++) if (bytes[at] === expected[0] && matches(bytes, at, end, expected)) return at;
  return -1;
}

/**
 * The gift event in the message held in `bytes` from `start` to `end`, or undefined for any other
 * message, or one serialized differently (the caller then parses it in full).
 */
export function giftReceiptOf(bytes: Buffer, start = 0, end = bytes.length): GiftReceipt | undefined {
  if (!matches(bytes, start, end, ID)) return undefined;
  let at = start + ID.length;
  while (at < end && bytes[at] !== QUOTE) at++; // the operation id
  if (!matches(bytes, at, end, NEXT)) return undefined;
  const sequenceAt = find(bytes, at + NEXT.length, end, SEQUENCE);
  if (sequenceAt < 0) return undefined;
  at = sequenceAt + SEQUENCE.length;
  const digitsFrom = at;
  let sequence = 0;
  for (let digit = bytes[at]! - 48; at < end && digit >= 0 && digit <= 9; digit = bytes[++at]! - 48) sequence = sequence * 10 + digit;
  if (at === digitsFrom || !matches(bytes, at, end, SENT_AT)) return undefined;
  let sentAtMs = sentAtBySequence.get(sequence);
  if (sentAtMs === undefined) {
    const from = at + SENT_AT.length;
    const to = bytes.indexOf(QUOTE, from);
    if (to < 0 || to >= end) return undefined;
    sentAtMs = Date.parse(bytes.toString('latin1', from, to));
    sentAtBySequence.set(sequence, sentAtMs);
  }
  return Number.isFinite(sentAtMs) ? { sequence, sentAtMs } : undefined;
}
