import { createConnection, type Socket } from 'node:net';
import type { WebSocket, RawData } from 'ws';

// QEMU's `-chardev socket,server=on` serves ONE client at a time: a second connection waits
// until the first goes away. So the bridge holds a single connection to a VM's serial.sock and
// fans its output out to every viewer, forwarding input from any of them. It keeps the last
// bytes of output so that a viewer who (re)connects sees the recent screen, and it re-dials
// when QEMU restarts and the socket comes back.
//
// On the WebSocket, binary frames are console bytes in both directions; text frames from the
// bridge are JSON status messages, `{"type":"status","connected":boolean}`, so a viewer can say
// "waiting for the VM" instead of looking frozen.

const SCROLLBACK_BYTES = 64 * 1024;
/** A viewer that stops reading is dropped rather than allowed to hold memory without bound. */
const VIEWER_MAX_BUFFERED = 8 * 1024 * 1024;
const REDIAL_MIN_MS = 200;
const REDIAL_MAX_MS = 2000;

export class SerialHub {
  private readonly viewers = new Set<WebSocket>();
  private upstream: Socket | null = null;
  private connected = false;
  private scrollback: Buffer[] = [];
  private scrollbackBytes = 0;
  private redialTimer: NodeJS.Timeout | null = null;
  private redialDelay = REDIAL_MIN_MS;
  private closed = false;

  constructor(
    readonly vmId: string,
    private socketPath: () => string | null,
  ) {}

  /** The engine may hand a newer resolver (the VM restarted with another runtime dir). */
  setSocketPath(fn: () => string | null): void {
    this.socketPath = fn;
  }

  get viewerCount(): number {
    return this.viewers.size;
  }

  get isConnected(): boolean {
    return this.connected;
  }

  add(ws: WebSocket): void {
    if (this.closed) {
      ws.close(1001, 'console closed');
      return;
    }
    this.viewers.add(ws);
    if (this.scrollbackBytes > 0) ws.send(Buffer.concat(this.scrollback), { binary: true });
    ws.send(JSON.stringify({ type: 'status', connected: this.connected }));
    ws.on('message', (data: RawData, isBinary: boolean) => this.input(data, isBinary));
    ws.on('close', () => this.remove(ws));
    ws.on('error', () => this.remove(ws));
    this.ensureUpstream();
  }

  close(code = 1001, reason = 'console closed'): void {
    this.closed = true;
    this.clearRedial();
    for (const ws of this.viewers) ws.close(code, reason);
    this.viewers.clear();
    this.dropUpstream();
  }

  private remove(ws: WebSocket): void {
    if (!this.viewers.delete(ws)) return;
    // Nobody is watching: let go of QEMU's only client slot so another tool can take it.
    if (this.viewers.size === 0) {
      this.clearRedial();
      this.dropUpstream();
    }
  }

  private input(data: RawData, isBinary: boolean): void {
    // Text frames from viewers are not console input (the protocol keeps text for control).
    if (!isBinary || !this.upstream || !this.connected) return;
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    if (!this.upstream.write(buf)) {
      for (const v of this.viewers) v.pause();
      this.upstream.once('drain', () => {
        for (const v of this.viewers) v.resume();
      });
    }
  }

  private output(chunk: Buffer): void {
    this.scrollback.push(chunk);
    this.scrollbackBytes += chunk.length;
    while (this.scrollbackBytes > SCROLLBACK_BYTES && this.scrollback.length > 1) {
      this.scrollbackBytes -= this.scrollback.shift()!.length;
    }
    for (const ws of this.viewers) {
      if (ws.bufferedAmount > VIEWER_MAX_BUFFERED) {
        ws.close(1013, 'console viewer too slow');
        continue;
      }
      ws.send(chunk, { binary: true });
    }
  }

  private broadcastStatus(): void {
    const msg = JSON.stringify({ type: 'status', connected: this.connected });
    for (const ws of this.viewers) ws.send(msg);
  }

  private ensureUpstream(): void {
    if (this.closed || this.upstream || this.redialTimer || this.viewers.size === 0) return;
    const path = this.socketPath();
    if (!path) {
      this.scheduleRedial();
      return;
    }
    const sock = createConnection(path);
    this.upstream = sock;
    sock.on('connect', () => {
      this.connected = true;
      this.redialDelay = REDIAL_MIN_MS;
      this.broadcastStatus();
    });
    sock.on('data', (chunk: Buffer) => this.output(chunk));
    sock.on('error', () => {
      // 'close' follows and decides what to do.
    });
    sock.on('close', () => {
      if (this.upstream !== sock) return;
      const wasConnected = this.connected;
      this.upstream = null;
      this.connected = false;
      if (wasConnected) this.broadcastStatus();
      this.scheduleRedial();
    });
  }

  private scheduleRedial(): void {
    if (this.closed || this.redialTimer || this.viewers.size === 0) return;
    this.redialTimer = setTimeout(() => {
      this.redialTimer = null;
      this.ensureUpstream();
    }, this.redialDelay);
    this.redialDelay = Math.min(this.redialDelay * 2, REDIAL_MAX_MS);
  }

  private clearRedial(): void {
    if (this.redialTimer) clearTimeout(this.redialTimer);
    this.redialTimer = null;
    this.redialDelay = REDIAL_MIN_MS;
  }

  private dropUpstream(): void {
    const sock = this.upstream;
    this.upstream = null;
    this.connected = false;
    sock?.destroy();
  }
}
