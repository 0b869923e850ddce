/**
 * Unfragmented, unmasked WebSocket text frames (RFC 6455 section 5.2, as a server sends), one per body,
 * each holding `prefix`, the body and `suffix`, one after another in a single string of octets: every part
 * is bytes held one per character (UTF-8 bytes read as latin1), and the socket writes the result with the
 * latin1 encoding, byte for byte. A string, not a Buffer: Node writes a small string from a copy on its
 * stack, with no Buffer object, pool slice or typed-array copies per viewer (docs/fan-out.md, "Frames");
 * and one chunk, not ws's header and payload, takes Node's single-write path rather than writev. Only for
 * connections without extensions: see SocketSubscriber in shared-subscriptions.ts.
 */
export function textFrames(prefix: string, bodies: readonly string[], suffix: string): string {
  let frames = '';
  for (const body of bodies) {
    const length = prefix.length + body.length + suffix.length;
    frames += header(length) + prefix + body + suffix;
  }
  return frames;
}

/** A text frame's first bytes (FIN, opcode 1) and its payload length, in the shortest of the three forms. */
function header(length: number): string {
  if (length < 126) return String.fromCharCode(0x81, length);
  if (length < 65536) return String.fromCharCode(0x81, 126, length >> 8, length & 0xff);
  const bytes = Buffer.alloc(10);
  bytes[0] = 0x81;
  bytes[1] = 127;
  bytes.writeBigUInt64BE(BigInt(length), 2);
  return bytes.toString('latin1');
}
