// The fan-out benchmarks' viewer socket: a WebSocket client (RFC 6455) on a bare TCP socket, made to cost
// its load process as little as possible per message. bench:fanout's 10,000 viewers hear 100,000 messages a
// second on a 2-core machine, and the load process's CPU is taken from the server under test: with `ws`
// (a Writable stream per socket that frames, copies and emits each message) it needed a whole core, and
// the server got less than one. Here every socket of the process reads into one shared buffer (Node's
// `onread`), and each text message is handed over in place, as a range of that buffer, without a copy.
// It speaks only what these benchmarks need from a trusted local server: unfragmented frames, no
// extensions, pings answered.
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';

export type ViewerHandlers = {
  /** The upgrade was accepted: messages can be sent. */
  open(): void;
  /** A text message, in `bytes` from `start` to `end`: valid only during the call. */
  message(bytes: Buffer, start: number, end: number): void;
  /** The socket closed, or never opened: why, unless the client closed it itself. */
  closed(reason: string | undefined): void;
};

export type Viewer = { send(text: string): void; close(): Promise<void> };

const TEXT = 0x1;
const CLOSE = 0x8;
const PING = 0x9;
const PONG = 0xa;
const HEADER_END = Buffer.from('\r\n\r\n');

// Every socket of this process reads into this buffer; what a read leaves unfinished (a frame cut in
// two) is copied out to its socket.
const shared = Buffer.allocUnsafe(256 * 1024);

/** A client frame: FIN, `opcode`, masked as RFC 6455 requires of clients. */
function clientFrame(opcode: number, payload: Buffer): Buffer {
  const length = payload.length;
  const header = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(header + 4 + length);
  frame[0] = 0x80 | opcode;
  if (header === 2) frame[1] = 0x80 | length;
  else if (header === 4) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  const mask = randomBytes(4);
  mask.copy(frame, header);
  for (let i = 0; i < length; i++) frame[header + 4 + i] = payload[i]! ^ mask[i & 3]!;
  return frame;
}

/** Opens a WebSocket to `url` (ws://) offering `protocol`. */
export function connectViewer(url: URL, protocol: string, handlers: ViewerHandlers): Viewer {
  const key = randomBytes(16).toString('base64');
  const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
  let upgraded = false;
  let closing = false;
  let ended = false;
  let carried: Buffer | undefined; // the start of a frame (or of the upgrade response) the last read cut off
  const end = (reason: string | undefined) => {
    if (ended) return;
    ended = true;
    socket.destroy();
    handlers.closed(closing ? undefined : reason);
  };

  /** Consumes whole frames from bytes[from, to); returns where the unfinished rest starts. */
  function frames(bytes: Buffer, from: number, to: number): number {
    let at = from;
    while (at + 2 <= to) {
      const final = (bytes[at]! & 0x80) !== 0;
      const opcode = bytes[at]! & 0x0f;
      let length = bytes[at + 1]! & 0x7f;
      let header = 2;
      if (length === 126) {
        if (at + 4 > to) break;
        length = bytes.readUInt16BE(at + 2);
        header = 4;
      } else if (length === 127) {
        if (at + 10 > to) break;
        length = Number(bytes.readBigUInt64BE(at + 2));
        header = 10;
      }
      if (at + header + length > to) break;
      const start = at + header;
      at = start + length;
      if (!final) {
        end('a fragmented frame, which this client does not read');
        return to;
      }
      if (opcode === TEXT) handlers.message(bytes, start, at);
      else if (opcode === PING) socket.write(clientFrame(PONG, bytes.subarray(start, at)));
      else if (opcode === CLOSE) {
        end(`close ${length >= 2 ? bytes.readUInt16BE(start) : 1005}`);
        return to;
      }
    }
    return at;
  }

  function received(bytes: Buffer) {
    let from = 0;
    if (!upgraded) {
      const headerEnd = bytes.indexOf(HEADER_END);
      if (headerEnd < 0) return void (carried = Buffer.from(bytes));
      const head = bytes.toString('latin1', 0, headerEnd);
      if (!head.startsWith('HTTP/1.1 101') || !head.toLowerCase().includes(`sec-websocket-accept: ${accept.toLowerCase()}`)) {
        return end(`upgrade refused: ${head.split('\r\n')[0]}`);
      }
      upgraded = true;
      from = headerEnd + HEADER_END.length;
      handlers.open();
    }
    const rest = frames(bytes, from, bytes.length);
    carried = rest < bytes.length && !ended ? Buffer.from(bytes.subarray(rest)) : undefined;
  }

  const socket = net.connect({
    host: url.hostname,
    port: Number(url.port),
    noDelay: true,
    onread: {
      buffer: shared,
      callback: (bytesRead, buffer) => {
        const bytes = (buffer as Buffer).subarray(0, bytesRead);
        received(carried ? Buffer.concat([carried, bytes]) : bytes);
        return true; // keep reading
      },
    },
  });
  socket.on('connect', () =>
    socket.write(
      `GET ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ${protocol}\r\n\r\n`,
    ),
  );
  socket.on('error', (error) => end(error.message));
  socket.on('end', () => end('the server ended the connection'));
  socket.on('close', () => end('closed'));

  return {
    send: (text) => void socket.write(clientFrame(TEXT, Buffer.from(text))),
    close: () =>
      new Promise<void>((closed) => {
        closing = true;
        if (ended) return closed();
        socket.once('close', () => closed());
        // A normal closure: the server answers with its own close frame and ends the connection.
        socket.write(clientFrame(CLOSE, Buffer.from([0x03, 0xe8])));
        setTimeout(() => socket.destroy(), 5000).unref();
      }),
  };
}
