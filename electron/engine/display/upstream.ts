import { createConnection, type Socket } from 'node:net';

// The bridge's side of QEMU's unix sockets: dialing them (QEMU's tiny listen backlog) and
// reading the VNC stream without a buffer per read.

/** How long a dial may retry while QEMU's listen queue is full (a burst of viewers). */
export const DIAL_RETRY_MS = 2_000;

/**
 * Bytes read from QEMU's socket at a time. A full 720×400 Raw frame is 1.15 MB; Node's default
 * 64 KiB reads would make it 18 reads, 18 WebSocket frames and 18 writev calls.
 */
const READ_CHUNK = 256 * 1024;

/** Room kept before every read for a WebSocket frame header (2, 4 or 10 bytes). */
const HEADROOM = 10;
/** The memory of every read buffer, the only memory frameInPlace writes a header into. */
const readMemory = new WeakSet<ArrayBufferLike>();

function readBuffer(): Buffer {
  // Over half of Node's pool size, so never a slice of the shared pool: the headroom is ours.
  const whole = Buffer.allocUnsafe(HEADROOM + READ_CHUNK);
  readMemory.add(whole.buffer);
  return whole.subarray(HEADROOM);
}

/**
 * A chunk the reader handed over, as one unmasked binary WebSocket frame (a server's frames
 * are never masked): the header is written into the room the reader keeps before the chunk,
 * so the frame goes out as one write of memory already there, with no copy and no second buffer.
 */
export function frameInPlace(chunk: Buffer): Buffer {
  const n = chunk.length;
  const hlen = n < 126 ? 2 : n < 65536 ? 4 : 10;
  if (!readMemory.has(chunk.buffer) || chunk.byteOffset !== HEADROOM) throw new Error('frameInPlace: the chunk is not a read of an UpstreamReader (no room of its own for the header)');
  const frame = Buffer.from(chunk.buffer, chunk.byteOffset - hlen, hlen + n);
  frame[0] = 0x82; // FIN, binary
  if (hlen === 2) frame[1] = n;
  else if (hlen === 4) {
    frame[1] = 126;
    frame.writeUInt16BE(n, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(0, 2);
    frame.writeUInt32BE(n, 6);
  }
  return frame;
}

/**
 * QEMU → viewer bytes without a buffer per read: the socket reads into one reusable buffer
 * (Node's `onread`), which is forwarded as it is and reused for the next read when the kernel
 * took the whole write at once (the common case on loopback) or it has left by the next read;
 * only when part of it is still queued on the viewer's socket — and so still referenced — does
 * the next read get a new buffer. The buffer keeps room before the data for the WebSocket
 * frame's header (frameInPlace). Node's default allocates 64 KiB per read, and the garbage collector's threads then
 * cost as much CPU as the forwarding itself.
 */
export class UpstreamReader {
  private buf = readBuffer();
  private held = false;
  /** what QEMU sent before the viewer's pipe was attached (copies: the buffer is reused) */
  readonly early: Buffer[] = [];
  /** forwards one chunk; returns false to pause reading; `held` says the chunk is still queued */
  deliver: ((chunk: Buffer) => { more: boolean; held: boolean }) | null = null;
  /** whether everything forwarded has left (then a held buffer is free again) */
  drained: (() => boolean) | null = null;

  nextBuffer = (): Buffer => {
    if (this.held && !this.drained?.()) this.buf = readBuffer();
    this.held = false;
    return this.buf;
  };

  onRead = (n: number, buf: Buffer): boolean => {
    const chunk = buf.subarray(0, n);
    if (!this.deliver) {
      this.early.push(Buffer.from(chunk));
      return true;
    }
    const r = this.deliver(chunk);
    this.held = r.held;
    return r.more;
  };
}

/**
 * Connect to a unix socket. QEMU listens with a tiny backlog, and a non-blocking connect to a
 * full unix-socket queue fails at once with EAGAIN (ECONNREFUSED on some systems) even though
 * QEMU is up; those are retried briefly. A missing socket (ENOENT) fails at once: the VM is down.
 * With a reader, incoming bytes go to it instead of 'data' events.
 */
export function dialUnix(path: string, retryMs: number, reader?: UpstreamReader): Promise<Socket> {
  const until = Date.now() + retryMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const sock = reader ? createConnection({ path, onread: { buffer: reader.nextBuffer, callback: reader.onRead } }) : createConnection(path);
      const onError = (e: NodeJS.ErrnoException) => {
        sock.destroy();
        if ((e.code === 'EAGAIN' || e.code === 'ECONNREFUSED') && Date.now() < until) setTimeout(attempt, 25);
        else reject(e);
      };
      sock.once('error', onError);
      sock.once('connect', () => {
        // Until the viewer's pipe adds its own, an error must not go unhandled.
        sock.off('error', onError).on('error', () => {});
        resolve(sock);
      });
    };
    attempt();
  });
}
