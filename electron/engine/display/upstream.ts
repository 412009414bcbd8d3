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

/**
 * QEMU → viewer bytes without a buffer per read: the socket reads into one reusable buffer
 * (Node's `onread`), which is forwarded as it is and reused for the next read when the kernel
 * took the whole write at once (the common case on loopback); only when part of it is still
 * queued on the viewer's socket — and so still referenced — does the next read get a new
 * buffer. Node's default allocates 64 KiB per read, and the garbage collector's threads then
 * cost as much CPU as the forwarding itself.
 */
export class UpstreamReader {
  private buf = Buffer.allocUnsafe(READ_CHUNK);
  private held = false;
  /** what QEMU sent before the viewer's pipe was attached (copies: the buffer is reused) */
  readonly early: Buffer[] = [];
  /** forwards one chunk; returns false to pause reading; `held` says the chunk is still queued */
  deliver: ((chunk: Buffer) => { more: boolean; held: boolean }) | null = null;

  nextBuffer = (): Buffer => {
    if (this.held) {
      this.buf = Buffer.allocUnsafe(READ_CHUNK);
      this.held = false;
    }
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
