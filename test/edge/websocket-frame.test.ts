import * as ws from 'ws';
import { describe, expect, test } from 'vitest';
import { textFrame } from '../../src/edge/websocket-frame.js';

// ws's own framer (public in its source, absent from its types): the frames Ovation writes directly
// must be byte for byte what ws would have written.
type FrameOptions = { fin: boolean; opcode: number; mask: boolean; readOnly: boolean; rsv1: boolean };
const { Sender } = ws as unknown as { Sender: { frame(data: Buffer, options: FrameOptions): Buffer[] } };
const wsFrame = (data: Buffer) => Buffer.concat(Sender.frame(data, { fin: true, opcode: 1, mask: false, readOnly: false, rsv1: false }));

describe('a room message written straight to the socket is the text frame ws would write', () => {
  // Each length class of the header: 7-bit, 16-bit and 64-bit payload lengths, at their edges.
  test.each([0, 1, 125, 126, 127, 65535, 65536, 70_000])('%i bytes', (length) => {
    const data = Buffer.from('x'.repeat(length));
    const [head, tail] = [data.subarray(0, Math.floor(length / 3)), data.subarray(Math.floor(length / 3))];
    expect(textFrame(head, tail).equals(wsFrame(data))).toBe(true);
  });
});
