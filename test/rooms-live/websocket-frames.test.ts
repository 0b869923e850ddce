import * as ws from 'ws';
import { describe, expect, test } from 'vitest';
import { textFrames } from '../../src/events/fanout/websocket-frames.js';

// ws's own framer (public in its source, absent from its types): the frames Ovation writes directly
// must be byte for byte what ws would have written.
type FrameOptions = { fin: boolean; opcode: number; mask: boolean; readOnly: boolean; rsv1: boolean };
const { Sender } = ws as unknown as { Sender: { frame(data: Buffer, options: FrameOptions): Buffer[] } };
const wsFrame = (data: Buffer) => Buffer.concat(Sender.frame(data, { fin: true, opcode: 1, mask: false, readOnly: false, rsv1: false }));
// Ovation's frames are octet strings, written with the latin1 encoding.
const octets = (bytes: Buffer) => bytes.toString('latin1');
const written = (frames: string) => Buffer.from(frames, 'latin1');

describe('a room message written straight to the socket is the text frame ws would write', () => {
  // Each length class of the header: 7-bit, 16-bit and 64-bit payload lengths, at their edges.
  test.each([0, 1, 125, 126, 127, 65535, 65536, 70_000])('%i bytes', (length) => {
    const data = Buffer.from('x'.repeat(length));
    const [head, middle, tail] = [data.subarray(0, Math.floor(length / 3)), data.subarray(Math.floor(length / 3), length - 1), data.subarray(length - 1)];
    expect(written(textFrames(octets(head), [octets(middle)], octets(tail))).equals(wsFrame(data))).toBe(true);
  });

  test("a viewer's several events are ws's frames of each, one after another, whatever their characters", () => {
    const prefix = Buffer.from('{"id":"ünï","type":"next","payload":');
    const bodies = [Buffer.from('{"data":1}'), Buffer.from(`{"data":"${'🌹'.repeat(200)}"}`), Buffer.from('{}')];
    const each = bodies.map((body) => wsFrame(Buffer.concat([prefix, body, Buffer.from('}')])));
    expect(written(textFrames(octets(prefix), bodies.map(octets), '}')).equals(Buffer.concat(each))).toBe(true);
  });
});
