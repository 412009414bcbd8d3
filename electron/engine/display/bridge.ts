import { createServer, type IncomingMessage, type Server } from 'node:http';
import { Socket as NetSocket, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { chmod, lstat } from 'node:fs/promises';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import { VireoError } from '../../api/errors.ts';
import type { DisplaySession } from '../../api/types.ts';
import { isAllowedOrigin, isLoopbackHost, KIND_PATH, TokenStore, type SessionKind } from './auth.ts';
import { SerialHub } from './serial-hub.ts';
import { DIAL_RETRY_MS, UpstreamReader, dialUnix, frameInPlace } from './upstream.ts';

// QEMU's VNC server and serial port listen on unix sockets in the VM's 0700 runtime dir; a
// browser can only speak WebSocket. The bridge joins the two on 127.0.0.1, and only for a
// holder of a short-lived random token from `display.open`/`console.open` — so there is never
// an unauthenticated TCP port in front of a VM's keyboard.

export interface OpenSessionOptions {
  kind: SessionKind;
  vmId: string;
  /** resolves the VM's current socket (null while it is not running); asked at every dial */
  socketPath: () => string | null;
  /** how long the token may be used to connect; live connections outlast it */
  ttlMs?: number;
}

export interface DisplayBridgeOptions {
  /** default token lifetime, 2 minutes: enough for a page to load and connect */
  ttlMs?: number;
  /**
   * extra browser origins allowed on the bridge's own listener besides loopback and file://:
   * the desktop's app://vireo. (`vireo serve` checks its own origin and hands upgrades in.)
   */
  allowedOrigins?: string[];
  /** pause reading QEMU while this much is queued on a viewer's WebSocket */
  highWaterMark?: number;
}

const DEFAULT_TTL_MS = 120_000;
const DEFAULT_HIGH_WATER = 4 * 1024 * 1024;

interface VncConn {
  ws: WebSocket;
  sock: Socket;
  /** true while reading from QEMU is paused because the viewer is behind */
  paused: boolean;
}

interface Route {
  kind: SessionKind;
  vmId: string;
}

function parseRoute(url: URL): Route | null {
  const m = /^\/(display|console)\/([^/]+)$/.exec(url.pathname);
  if (!m) return null;
  let vmId: string;
  try {
    vmId = decodeURIComponent(m[2]!);
  } catch {
    return null;
  }
  return { kind: m[1] === 'display' ? 'vnc' : 'serial', vmId };
}

/** Per-call policy of an upgrade handed in by another server (the `vireo serve` port). */
export interface UpgradeOptions {
  /** replaces the bridge's own Origin rule; the server checked Host and Origin itself */
  originAllowed?: (origin: string | undefined) => boolean;
}

/** Answer a WebSocket handshake with a plain HTTP error and close; never throws. */
export function refuseUpgrade(socket: Duplex, status: number, reason: string, body: string): void {
  socket.on('error', () => {});
  if (socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  const text = `${body}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
  );
  setTimeout(() => socket.destroy(), 1000).unref();
}

export class DisplayBridge {
  private server: Server | null = null;
  private starting: Promise<number> | null = null;
  private readonly wss: WebSocketServer;
  private readonly tokens = new TokenStore();
  /** latest resolver per kind+VM, so a connection dials the VM's current socket */
  private readonly resolvers = new Map<string, () => string | null>();
  private readonly vncConns = new Map<string, Set<VncConn>>();
  private readonly hubs = new Map<string, SerialHub>();
  private readonly ttlMs: number;
  private readonly allowedOrigins: string[];
  private readonly highWater: number;
  private closed = false;
  /** bumped by every revoke, so a connection that was dialing when its VM stopped is dropped */
  private revocations = 0;
  /** told of every revoke (a VM id, or undefined for all): what serves a session's socket may end with it */
  private readonly revokeListeners = new Set<(vmId?: string) => void>();
  private readonly revokedAt = new Map<string, number>();
  private revokedAllAt = 0;

  constructor(opts: DisplayBridgeOptions = {}) {
    this.ttlMs = opts.ttlMs ?? DEFAULT_TTL_MS;
    this.allowedOrigins = opts.allowedOrigins ?? [];
    this.highWater = opts.highWaterMark ?? DEFAULT_HIGH_WATER;
    this.wss = new WebSocketServer({
      noServer: true,
      // Framebuffer updates are already encoded by QEMU; deflating them again costs CPU on
      // both ends for little gain on a loopback link.
      perMessageDeflate: false,
      maxPayload: 8 * 1024 * 1024,
      // noVNC up to 1.3 asks for 'binary'; newer ones ask for nothing. Answer what was asked.
      handleProtocols: (protocols) => (protocols.has('binary') ? 'binary' : false),
    });
  }

  /** The port once started, else null. */
  get port(): number | null {
    const addr = this.server?.address();
    return addr && typeof addr === 'object' ? addr.port : null;
  }

  /** Listen on 127.0.0.1 on an ephemeral port (once); resolves to the port. */
  start(): Promise<number> {
    if (this.closed) return Promise.reject(new VireoError('INVALID_STATE', 'the display bridge was closed; create a new one'));
    this.starting ??= new Promise<number>((resolve, reject) => {
      const server = createServer((_req, res) => {
        res.writeHead(426, { 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' });
        res.end('Vireo display bridge: connect with a WebSocket to the URL from display.open or console.open\n');
      });
      server.on('upgrade', (req, socket, head) => {
        // Node drops its own error listener from an upgraded socket: without this one, a
        // client that resets mid-handshake would throw from the event loop.
        socket.on('error', () => {});
        if (!isLoopbackHost(req.headers.host, this.port ?? -1)) {
          refuseUpgrade(socket, 421, 'Misdirected Request', `this display bridge answers only to 127.0.0.1:${this.port}, not to Host ${String(req.headers.host).slice(0, 100)}`);
          return;
        }
        if (!this.handleUpgrade(req, socket, head)) refuseUpgrade(socket, 404, 'Not Found', 'no such display route');
      });
      server.once('error', (e) => {
        this.starting = null;
        reject(new VireoError('IO_ERROR', `the display bridge could not listen on 127.0.0.1: ${e.message}`, { error: String(e) }));
      });
      server.listen(0, '127.0.0.1', () => {
        this.server = server;
        resolve(this.port!);
      });
    });
    return this.starting;
  }

  /** A token-protected URL for one VM's screen (vnc) or serial console. Starts the bridge. */
  async openSession(opts: OpenSessionOptions): Promise<DisplaySession> {
    const port = await this.start();
    const ttl = opts.ttlMs ?? this.ttlMs;
    if (!(ttl > 0)) throw new VireoError('INVALID_ARGUMENT', `session lifetime must be positive, got ${ttl} ms`);
    this.resolvers.set(`${opts.kind}:${opts.vmId}`, opts.socketPath);
    this.hubs.get(opts.vmId)?.setSocketPath(opts.socketPath);
    const { token, expiresAt } = this.tokens.issue(opts.kind, opts.vmId, ttl);
    const url = `ws://127.0.0.1:${port}/${KIND_PATH[opts.kind]}/${encodeURIComponent(opts.vmId)}?token=${token}`;
    return { url, token, expiresAt: new Date(expiresAt).toISOString() };
  }

  /**
   * Forget the tokens of one VM (or all) and close its live viewers. The engine calls it when a
   * VM stops or is deleted; viewers then see the VM state and stop reconnecting.
   */
  revoke(vmId?: string): void {
    this.revocations++;
    for (const l of this.revokeListeners) l(vmId);
    if (vmId === undefined) this.revokedAllAt = this.revocations;
    else this.revokedAt.set(vmId, this.revocations);
    this.tokens.revoke(vmId);
    for (const [id, conns] of this.vncConns) {
      if (vmId !== undefined && id !== vmId) continue;
      for (const c of conns) {
        c.ws.close(1001, 'display closed by Vireo');
        c.sock.destroy();
      }
      this.vncConns.delete(id);
    }
    for (const [id, hub] of this.hubs) {
      if (vmId !== undefined && id !== vmId) continue;
      hub.close(1001, 'console closed by Vireo');
      this.hubs.delete(id);
    }
    for (const key of this.resolvers.keys()) {
      if (vmId === undefined || key.endsWith(`:${vmId}`)) this.resolvers.delete(key);
    }
  }

  /** Calls `fn` at every revoke (remote/tunnel.ts ends a session's ssh forwarding with it); returns its removal. */
  onRevoke(fn: (vmId?: string) => void): () => void {
    this.revokeListeners.add(fn);
    return () => this.revokeListeners.delete(fn);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.revoke();
    const server = this.server;
    this.server = null;
    this.starting = null;
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  }

  /** Live connections of a VM, bytes queued towards its VNC viewers and how many are held back. */
  stats(vmId: string): { vnc: number; vncBuffered: number; vncPaused: number; serial: number; serialConnected: boolean } {
    const hub = this.hubs.get(vmId);
    const conns = [...(this.vncConns.get(vmId) ?? [])];
    return {
      vnc: conns.length,
      vncBuffered: conns.reduce((n, c) => n + c.ws.bufferedAmount, 0),
      vncPaused: conns.filter((c) => c.paused).length,
      serial: hub?.viewerCount ?? 0,
      serialConnected: hub?.isConnected ?? false,
    };
  }

  /**
   * Handle a WebSocket upgrade aimed at /display/<vmId> or /console/<vmId>: from the bridge's
   * own 127.0.0.1 listener (desktop) or from the `vireo serve` port, which checks Host and
   * Origin for its own origin and passes `originAllowed`. Returns false when the path is not
   * ours, leaving the socket untouched. A token opens one connection.
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, opts: UpgradeOptions = {}): boolean {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://127.0.0.1');
    } catch {
      return false;
    }
    const route = parseRoute(url);
    if (!route) return false;
    const originOk = opts.originAllowed ?? ((o: string | undefined) => isAllowedOrigin(o, this.allowedOrigins));
    if (!originOk(req.headers.origin)) {
      refuseUpgrade(socket, 403, 'Forbidden', `origin ${String(req.headers.origin).slice(0, 200)} may not open a VM display`);
      return true;
    }
    if (this.closed || !this.tokens.consume(route.kind, route.vmId, url.searchParams.get('token'))) {
      refuseUpgrade(socket, 401, 'Unauthorized', 'missing, wrong, used or expired token: ask display.open or console.open for a new URL (each opens one connection)');
      return true;
    }
    const resolver = this.resolvers.get(`${route.kind}:${route.vmId}`);
    if (route.kind === 'serial') {
      this.wss.handleUpgrade(req, socket, head, (ws) => this.attachSerial(ws, route.vmId, resolver ?? (() => null)));
      return true;
    }
    const path = resolver?.() ?? null;
    if (!path) {
      refuseUpgrade(socket, 503, 'Service Unavailable', `VM ${route.vmId} has no display socket: it is not running`);
      return true;
    }
    // Dial QEMU before completing the handshake so that a VM that is down gets an HTTP error,
    // not a WebSocket that opens and closes at once.
    const epoch = this.revocations;
    const reader = new UpstreamReader();
    dialUnix(path, DIAL_RETRY_MS, reader).then(
      (sock) => {
        if (socket.destroyed) {
          sock.destroy();
          return;
        }
        if (this.revokedSince(route.vmId, epoch)) {
          sock.destroy();
          refuseUpgrade(socket, 401, 'Unauthorized', `the display of VM ${route.vmId} was closed while connecting: the VM stopped`);
          return;
        }
        this.wss.handleUpgrade(req, socket, head, (ws) => this.pipeVnc(ws, sock, reader, route.vmId));
      },
      (e: Error) => refuseUpgrade(socket, 503, 'Service Unavailable', `cannot reach the display of VM ${route.vmId} (${path}): ${e.message}`),
    );
    return true;
  }

  private revokedSince(vmId: string, epoch: number): boolean {
    return this.revokedAllAt > epoch || (this.revokedAt.get(vmId) ?? 0) > epoch;
  }

  private attachSerial(ws: WebSocket, vmId: string, resolver: () => string | null): void {
    let hub = this.hubs.get(vmId);
    if (!hub) {
      hub = new SerialHub(vmId, resolver);
      this.hubs.set(vmId, hub);
    }
    hub.add(ws);
  }

  private pipeVnc(ws: WebSocket, sock: Socket, reader: UpstreamReader, vmId: string): void {
    const conn: VncConn = { ws, sock, paused: false };
    let conns = this.vncConns.get(vmId);
    if (!conns) this.vncConns.set(vmId, (conns = new Set()));
    conns.add(conn);
    const lowWater = this.highWater / 4;

    // QEMU → viewer, one WebSocket message per read. The frame is the read buffer itself with
    // its header written in the room the reader keeps before it (frameInPlace), written to the
    // viewer's socket as one write: no copy, no second buffer, no cork, and none of ws's
    // per-message work (options, a header buffer, a callback per write), which cost more CPU
    // than the forwarding itself (issue 21: the bridge against websockify). ws still owns the
    // socket for everything else (handshake, the viewer's frames, ping, close); a frame is
    // always one write, so ws's own frames never land inside one of these. ws turns Nagle off.
    // Reading stops while the viewer's socket has a backlog, so a slow viewer slows QEMU's
    // sends to it (QEMU then merges updates) instead of growing memory.
    const raw = (ws as unknown as { _socket?: unknown })._socket;
    const out = raw instanceof NetSocket ? raw : null;
    const resume = () => {
      if (conn.paused && ws.bufferedAmount < lowWater) {
        conn.paused = false;
        sock.resume();
      }
    };
    const forward = (chunk: Buffer, inPlace: boolean): { more: boolean; held: boolean } => {
      if (ws.readyState !== ws.OPEN) return { more: true, held: false };
      if (out && inPlace) out.write(frameInPlace(chunk));
      else ws.send(chunk, { binary: true }, resume);
      // Anything still buffered means this chunk is queued (writes keep their order).
      const buffered = ws.bufferedAmount;
      if (!conn.paused && buffered > this.highWater) {
        conn.paused = true;
        // A write that left this much queued returned false, so the socket says when it drained.
        out?.once('drain', resume);
      }
      return { more: !conn.paused, held: buffered > 0 };
    };
    for (const chunk of reader.early.splice(0)) forward(chunk, false);
    reader.deliver = (chunk) => forward(chunk, true);
    reader.drained = () => (out ? out.writableLength === 0 : false);
    if (conn.paused) sock.pause();

    // Viewer → QEMU (input, update requests): the same in the other direction. ws hands a
    // binary message over as one Buffer (fragments as an array of them).
    ws.on('message', (data: RawData) => {
      const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      if (!sock.write(buf)) {
        ws.pause();
        sock.once('drain', () => ws.resume());
      }
    });

    const finish = () => {
      conns.delete(conn);
      if (conns.size === 0 && this.vncConns.get(vmId) === conns) this.vncConns.delete(vmId);
    };
    sock.on('error', () => {});
    sock.on('close', () => {
      finish();
      // 1011 tells the viewer the far end went away (QEMU quit or the guest reset the display).
      if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(1011, 'VM display closed');
    });
    ws.on('error', () => sock.destroy());
    ws.on('close', () => {
      finish();
      sock.end();
      setTimeout(() => sock.destroy(), 1000).unref();
    });
  }
}

/**
 * QEMU creates `vnc.sock` with the process umask; the runtime dir is already 0700, and this
 * makes the socket itself owner-only too, so a mistake in the dir's mode still leaves no
 * other user a way to the VM's keyboard. Call it after QEMU is up (it creates its listeners
 * before QMP answers). Refuses anything but a socket, so a planted symlink is not followed.
 */
export async function secureSocket(path: string): Promise<void> {
  let st;
  try {
    st = await lstat(path);
  } catch (e) {
    throw new VireoError('IO_ERROR', `cannot secure the VM socket ${path}: ${(e as Error).message}; was QEMU started with it?`, { path });
  }
  if (!st.isSocket()) {
    throw new VireoError('IO_ERROR', `refusing to chmod ${path}: it is not a unix socket`, { path, mode: st.mode });
  }
  await chmod(path, 0o600);
}
