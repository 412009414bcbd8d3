import { createConnection } from 'node:net';
import { WebSocket } from 'ws';
import { VireoError } from '../../api/errors.ts';

// A minimal RFB 3.8 client (security type None, Raw encoding): enough to prove from Node that
// a display path carries a real VNC session end to end, and to measure its throughput. The
// integration tests and the display benchmark use it; noVNC is the real viewer.

export interface PixelFormat {
  bitsPerPixel: number;
  depth: number;
  bigEndian: boolean;
  trueColour: boolean;
  redMax: number;
  greenMax: number;
  blueMax: number;
  redShift: number;
  greenShift: number;
  blueShift: number;
}

export interface ServerInit {
  version: string;
  width: number;
  height: number;
  pixelFormat: PixelFormat;
  name: string;
}

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
  encoding: number;
  /** pixels for Raw rects (w * h * bytesPerPixel); empty for pseudo-encodings */
  data: Buffer;
}

export const ENCODING_RAW = 0;
export const ENCODING_DESKTOP_SIZE = -223;

/** A byte stream under the client: a WebSocket (bridge, websockify) or a unix socket. */
interface ByteStream {
  write(b: Buffer): void;
  close(): void;
  onData(cb: (b: Buffer) => void): void;
  onClose(cb: (why: string) => void): void;
}

class Reader {
  private chunks: Buffer[] = [];
  private have = 0;
  private waiter: { n: number; resolve: (b: Buffer) => void; reject: (e: Error) => void } | null = null;
  private ended: string | null = null;
  total = 0;

  push(b: Buffer): void {
    this.chunks.push(b);
    this.have += b.length;
    this.total += b.length;
    this.wake();
  }

  end(why: string): void {
    this.ended = why;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w.reject(new VireoError('IO_ERROR', `RFB stream closed while waiting for ${w.n} bytes: ${why}`));
    }
  }

  read(n: number): Promise<Buffer> {
    if (this.have >= n) return Promise.resolve(this.take(n));
    if (this.ended !== null) return Promise.reject(new VireoError('IO_ERROR', `RFB stream closed: ${this.ended}`));
    return new Promise((resolve, reject) => {
      this.waiter = { n, resolve, reject };
    });
  }

  private wake(): void {
    if (this.waiter && this.have >= this.waiter.n) {
      const w = this.waiter;
      this.waiter = null;
      w.resolve(this.take(w.n));
    }
  }

  private take(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    const first = this.chunks[0]!;
    if (first.length >= n) {
      this.have -= n;
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let off = 0;
    while (off < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length, n - off);
      c.copy(out, off, 0, k);
      off += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    this.have -= n;
    return out;
  }
}

export class RfbClient {
  private readonly reader = new Reader();
  init: ServerInit | null = null;

  private constructor(private readonly stream: ByteStream) {
    stream.onData((b) => this.reader.push(b));
    stream.onClose((why) => this.reader.end(why));
  }

  /** Bytes received so far (for throughput measurements). */
  get bytesReceived(): number {
    return this.reader.total;
  }

  static overWebSocket(url: string, opts: { protocols?: string[]; origin?: string } = {}): Promise<RfbClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, opts.protocols ?? ['binary'], {
        perMessageDeflate: false,
        ...(opts.origin ? { origin: opts.origin } : {}),
      });
      ws.binaryType = 'nodebuffer';
      let client: RfbClient | null = null;
      const closeCbs: ((why: string) => void)[] = [];
      ws.on('unexpected-response', (_req, res) => {
        reject(new VireoError('IO_ERROR', `WebSocket refused with HTTP ${res.statusCode}`, { status: res.statusCode }));
        res.resume();
      });
      ws.on('error', (e) => {
        if (!client) reject(e);
      });
      ws.on('close', (code, reason) => closeCbs.forEach((cb) => cb(`WebSocket closed ${code} ${reason.toString()}`)));
      ws.on('open', () => {
        const dataCbs: ((b: Buffer) => void)[] = [];
        ws.on('message', (data, isBinary) => {
          if (isBinary) dataCbs.forEach((cb) => cb(data as Buffer));
        });
        client = new RfbClient({
          write: (b) => ws.send(b, { binary: true }),
          close: () => ws.close(),
          onData: (cb) => dataCbs.push(cb),
          onClose: (cb) => closeCbs.push(cb),
        });
        resolve(client);
      });
    });
  }

  static overUnix(path: string): Promise<RfbClient> {
    return new Promise((resolve, reject) => {
      const sock = createConnection(path);
      sock.once('error', reject);
      sock.once('connect', () => {
        sock.off('error', reject);
        sock.on('error', () => {});
        resolve(
          new RfbClient({
            write: (b) => void sock.write(b),
            close: () => sock.destroy(),
            onData: (cb) => sock.on('data', cb),
            onClose: (cb) => sock.on('close', () => cb('unix socket closed')),
          }),
        );
      });
    });
  }

  /** Version exchange, security type None, ClientInit (shared), ServerInit. */
  async handshake(): Promise<ServerInit> {
    const banner = (await this.reader.read(12)).toString('latin1');
    if (!/^RFB \d{3}\.\d{3}\n$/.test(banner)) throw new VireoError('IO_ERROR', `not an RFB server: banner ${JSON.stringify(banner)}`);
    this.stream.write(Buffer.from('RFB 003.008\n', 'latin1'));
    const nTypes = (await this.reader.read(1))[0]!;
    if (nTypes === 0) {
      const len = (await this.reader.read(4)).readUInt32BE(0);
      const reason = (await this.reader.read(len)).toString('utf8');
      throw new VireoError('IO_ERROR', `VNC server refused the connection: ${reason}`);
    }
    const types = [...(await this.reader.read(nTypes))];
    if (!types.includes(1)) throw new VireoError('UNSUPPORTED', `VNC server wants security types ${types.join(',')}, this client only does None (1)`);
    this.stream.write(Buffer.from([1]));
    const result = (await this.reader.read(4)).readUInt32BE(0);
    if (result !== 0) throw new VireoError('IO_ERROR', `VNC security handshake failed (${result})`);
    this.stream.write(Buffer.from([1])); // ClientInit: shared, so other viewers stay connected
    const si = await this.reader.read(24);
    const pf = si.subarray(4, 20);
    const nameLen = si.readUInt32BE(20);
    const name = (await this.reader.read(nameLen)).toString('utf8');
    this.init = {
      version: banner.trim(),
      width: si.readUInt16BE(0),
      height: si.readUInt16BE(2),
      pixelFormat: {
        bitsPerPixel: pf[0]!,
        depth: pf[1]!,
        bigEndian: pf[2] !== 0,
        trueColour: pf[3] !== 0,
        redMax: pf.readUInt16BE(4),
        greenMax: pf.readUInt16BE(6),
        blueMax: pf.readUInt16BE(8),
        redShift: pf[10]!,
        greenShift: pf[11]!,
        blueShift: pf[12]!,
      },
      name,
    };
    return this.init;
  }

  setEncodings(encodings: number[]): void {
    const b = Buffer.alloc(4 + 4 * encodings.length);
    b[0] = 2;
    b.writeUInt16BE(encodings.length, 2);
    encodings.forEach((e, i) => b.writeInt32BE(e, 4 + 4 * i));
    this.stream.write(b);
  }

  requestUpdate(incremental: boolean, rect?: { x: number; y: number; w: number; h: number }): void {
    const r = rect ?? { x: 0, y: 0, w: this.init?.width ?? 0, h: this.init?.height ?? 0 };
    const b = Buffer.alloc(10);
    b[0] = 3;
    b[1] = incremental ? 1 : 0;
    b.writeUInt16BE(r.x, 2);
    b.writeUInt16BE(r.y, 4);
    b.writeUInt16BE(r.w, 6);
    b.writeUInt16BE(r.h, 8);
    this.stream.write(b);
  }

  /** KeyEvent: an X keysym pressed or released. */
  sendKey(keysym: number, down: boolean): void {
    const b = Buffer.alloc(8);
    b[0] = 4;
    b[1] = down ? 1 : 0;
    b.writeUInt32BE(keysym, 4);
    this.stream.write(b);
  }

  /**
   * The next FramebufferUpdate, skipping bell, clipboard and colour-map messages. Only Raw
   * and DesktopSize rects are understood: ask for no other encodings.
   */
  async readUpdate(): Promise<Rect[]> {
    const bpp = (this.init?.pixelFormat.bitsPerPixel ?? 32) / 8;
    for (;;) {
      const type = (await this.reader.read(1))[0]!;
      if (type === 0) {
        const n = (await this.reader.read(3)).readUInt16BE(1);
        const rects: Rect[] = [];
        for (let i = 0; i < n; i++) {
          const h = await this.reader.read(12);
          const rect = { x: h.readUInt16BE(0), y: h.readUInt16BE(2), w: h.readUInt16BE(4), h: h.readUInt16BE(6), encoding: h.readInt32BE(8) };
          if (rect.encoding === ENCODING_RAW) {
            rects.push({ ...rect, data: await this.reader.read(rect.w * rect.h * bpp) });
          } else if (rect.encoding === ENCODING_DESKTOP_SIZE) {
            if (this.init) {
              this.init.width = rect.w;
              this.init.height = rect.h;
            }
            rects.push({ ...rect, data: Buffer.alloc(0) });
          } else {
            throw new VireoError('UNSUPPORTED', `RFB rect encoding ${rect.encoding} was not asked for`);
          }
        }
        return rects;
      } else if (type === 1) {
        const h = await this.reader.read(5);
        await this.reader.read(6 * h.readUInt16BE(3));
      } else if (type === 2) {
        // bell: nothing follows
      } else if (type === 3) {
        const h = await this.reader.read(7);
        await this.reader.read(h.readUInt32BE(3));
      } else {
        throw new VireoError('UNSUPPORTED', `RFB server message type ${type} is not understood`);
      }
    }
  }

  close(): void {
    this.stream.close();
  }
}
