import { createCipheriv, createDecipheriv } from 'node:crypto';
import { WebSocket, type RawData } from 'ws';
import { isErrorCode, toWireError, VireoError, type WireError } from '../../api/errors.ts';
import { channelKey, nonce, proof, sameHex } from './pairing.ts';

// The control channel between two paired engines: a WebSocket on the target serve's own port
// (/migrate), opened by the source. No serve token: the pairing secret is proven both ways
// (HMAC over the other side's nonce); after that every message is sealed with AES-256-GCM under
// a key of this session (pairing.ts channelKey, from the secret and both nonces), so nobody on
// the path reads a VM's config or injects, replays or reorders a request. The nonce is the
// sender's direction and its message count, never sent: a receiver opens frame n only with
// nonce n, so a replayed, dropped or reordered frame fails to open and closes the channel, and
// the direction in the nonce and the associated data keeps one side's frame from being
// reflected back as the other's. The VM's RAM and disks go over QEMU's own TLS-PSK streams.

export const MIGRATE_PATH = '/migrate';
const MAX_FRAME = 4 * 1024 * 1024;
const TAG = 16;
/** 2: sealed with AES-256-GCM (1 signed with HMAC in the clear) */
const CHANNEL_VERSION = 2;
type Side = 'client' | 'server';

/** One direction's 96-bit GCM nonce: 4 bytes of direction, 8 of the message's number (1, 2, …). */
const gcmNonce = (from: Side, seq: number) => {
  const n = Buffer.alloc(12);
  n.writeUInt32BE(from === 'client' ? 1 : 2, 0);
  n.writeBigUInt64BE(BigInt(seq), 4);
  return n;
};
const aad = (from: Side) => Buffer.from(`vireo-control v2 from ${from}`);

/** What each side seals with and opens with. Exported for the channel's unit tests, which play a peer. */
export class Sealed {
  private sent = 0;
  private received = 0;
  constructor(
    private readonly key: Buffer,
    private readonly me: Side,
  ) {}
  /** The next frame of this side: ciphertext ‖ tag. */
  seal(obj: unknown): Buffer {
    const c = createCipheriv('aes-256-gcm', this.key, gcmNonce(this.me, ++this.sent), { authTagLength: TAG });
    c.setAAD(aad(this.me));
    const body = Buffer.concat([c.update(JSON.stringify(obj), 'utf8'), c.final()]);
    return Buffer.concat([body, c.getAuthTag()]);
  }
  /** The other side's next message, or throws when the frame is not that one, intact. */
  unseal(frame: Buffer): unknown {
    const from: Side = this.me === 'client' ? 'server' : 'client';
    if (frame.length < TAG) throw new Error('short frame');
    const d = createDecipheriv('aes-256-gcm', this.key, gcmNonce(from, this.received + 1), { authTagLength: TAG });
    d.setAAD(aad(from));
    d.setAuthTag(frame.subarray(frame.length - TAG));
    const text = Buffer.concat([d.update(frame.subarray(0, frame.length - TAG)), d.final()]).toString('utf8');
    this.received++;
    return JSON.parse(text);
  }
}

/** A Sealed bound to one socket: a frame that does not open closes the channel. */
class SealedSocket {
  private readonly s: Sealed;
  constructor(
    private readonly ws: WebSocket,
    key: Buffer,
    me: Side,
  ) {
    this.s = new Sealed(key, me);
  }
  send(obj: unknown) {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    this.ws.send(this.s.seal(obj), { binary: true });
  }
  /** The message inside a frame, or null (and the channel closed) when it is forged, replayed or out of order. */
  open(data: RawData, isBinary: boolean): unknown {
    if (!isBinary) {
      // What a v1 engine sends (signed JSON in the clear).
      this.ws.close(4002, 'frame in the clear: is the other engine the same Vireo release?');
      return null;
    }
    try {
      return this.s.unseal(Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer));
    } catch {
      /* falls through: not the next frame of this session */
    }
    this.ws.close(4002, 'bad frame');
    return null;
  }
}

export type RequestHandler = (op: string, args: Record<string, unknown>, ctx: { closed: AbortSignal; localAddress: string }) => Promise<unknown>;

/** Target side: authenticates the peer on an upgraded socket, then answers its requests. */
export function serveChannel(ws: WebSocket, secret: string, localAddress: string, handle: RequestHandler): void {
  const serverNonce = nonce();
  const closed = new AbortController();
  let signed: SealedSocket | null = null;
  ws.on('close', () => closed.abort());
  ws.on('error', () => closed.abort());
  const authTimer = setTimeout(() => ws.close(4001, 'no authentication'), 15_000);
  authTimer.unref();
  ws.send(JSON.stringify({ hello: serverNonce, v: CHANNEL_VERSION }));
  ws.on('message', (data, isBinary) => {
    if (!signed) {
      clearTimeout(authTimer);
      let msg: { auth?: unknown; nonce?: unknown };
      try {
        msg = JSON.parse(data.toString()) as typeof msg;
      } catch {
        msg = {};
      }
      if (typeof msg.nonce !== 'string' || msg.nonce.length < 16 || msg.nonce.length > 128 || !sameHex(msg.auth, proof(secret, 'client', serverNonce))) {
        ws.send(JSON.stringify({ error: { code: 'UNAUTHORIZED', message: 'wrong pairing secret: take the one `vireo serve` prints on the target (vireo host add NAME vireo://ADDR:PORT --secret S)' } }));
        ws.close(4001, 'wrong pairing secret');
        return;
      }
      signed = new SealedSocket(ws, channelKey(secret, serverNonce, msg.nonce), 'server');
      ws.send(JSON.stringify({ ok: proof(secret, 'server', msg.nonce) }));
      return;
    }
    const req = signed.open(data, isBinary) as { id?: unknown; op?: unknown; args?: unknown } | null;
    if (!req || typeof req.id !== 'number' || typeof req.op !== 'string') return;
    const s = signed;
    const args = req.args && typeof req.args === 'object' && !Array.isArray(req.args) ? (req.args as Record<string, unknown>) : {};
    handle(req.op, args, { closed: closed.signal, localAddress }).then(
      (result) => s.send({ id: req.id, result: result ?? null }),
      (e: unknown) => s.send({ id: req.id, error: toWireError(e) }),
    );
  });
}

/** vireo://addr:port, the form a Vireo host is added with. */
export function parseVireoUri(uri: string): { host: string; port: number } | null {
  const m = /^vireo:\/\/(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})\/?$/.exec(uri);
  if (!m) return null;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return null;
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

/** Source side: one authenticated channel to a paired target. */
export class PeerChannel {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: unknown): void }>();
  private closedError: VireoError | null = null;

  private constructor(
    private readonly ws: WebSocket,
    private readonly signed: SealedSocket,
    readonly host: string,
  ) {
    ws.on('message', (data, isBinary) => {
      const msg = signed.open(data, isBinary) as { id?: number; result?: unknown; error?: WireError } | null;
      const p = msg && typeof msg.id === 'number' ? this.pending.get(msg.id) : undefined;
      if (!p) return;
      this.pending.delete(msg!.id!);
      if (msg!.error) p.reject(new VireoError(isErrorCode(msg!.error.code) ? msg!.error.code : 'INTERNAL', String(msg!.error.message), msg!.error.details));
      else p.resolve(msg!.result);
    });
    ws.on('close', (code, reason) => {
      this.closedError = new VireoError('IO_ERROR', `the connection to ${host} closed (${code}${reason.length ? `: ${reason.toString()}` : ''})`);
      for (const p of this.pending.values()) p.reject(this.closedError);
      this.pending.clear();
    });
  }

  static connect(uri: string, secret: string, timeoutMs = 20_000): Promise<PeerChannel> {
    const at = parseVireoUri(uri);
    if (!at) return Promise.reject(new VireoError('INVALID_ARGUMENT', `${uri} is not a Vireo host address: write vireo://ADDRESS:PORT (the address and port \`vireo serve\` listens on there)`, { field: 'uri' }));
    const hostPart = at.host.includes(':') ? `[${at.host}]` : at.host;
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://${hostPart}:${at.port}${MIGRATE_PATH}`, { maxPayload: MAX_FRAME, handshakeTimeout: timeoutMs });
      const clientNonce = nonce();
      let step: 'hello' | 'ok' | 'done' = 'hello';
      const fail = (e: VireoError) => {
        if (step === 'done') return;
        step = 'done';
        clearTimeout(timer);
        ws.terminate();
        reject(e);
      };
      const timer = setTimeout(() => fail(new VireoError('TIMEOUT', `${uri} did not answer within ${timeoutMs / 1000} s: is \`vireo serve\` running there, and reachable from here?`)), timeoutMs);
      ws.on('error', (e) => fail(new VireoError('IO_ERROR', `cannot reach the Vireo host ${uri}: ${e.message} — check that \`vireo serve --host ADDR\` runs there`)));
      ws.on('unexpected-response', (_req, res) => fail(new VireoError('IO_ERROR', `${uri} answered HTTP ${res.statusCode} on ${MIGRATE_PATH}: it is not a Vireo serve that takes migrations`)));
      ws.on('close', () => fail(new VireoError('UNAUTHORIZED', `${uri} closed the connection while pairing`)));
      let serverNonce = '';
      ws.on('message', function first(data) {
        let msg: { hello?: unknown; v?: unknown; ok?: unknown; error?: WireError };
        try {
          msg = JSON.parse(data.toString()) as typeof msg;
        } catch {
          return fail(new VireoError('IO_ERROR', `${uri} sent something that is not Vireo's pairing`));
        }
        if (msg.error) return fail(new VireoError(isErrorCode(msg.error.code) ? msg.error.code : 'UNAUTHORIZED', `${uri}: ${String(msg.error.message)}`));
        if (step === 'hello' && typeof msg.hello === 'string') {
          // v1 signed its messages in the clear; the two cannot talk, so say so rather than fail later.
          if (msg.v !== CHANNEL_VERSION) return fail(new VireoError('UNSUPPORTED', `${uri} runs another Vireo release (its control channel is v${String(msg.v)}, this engine's v${CHANNEL_VERSION}): update both to the same release`));
          serverNonce = msg.hello;
          step = 'ok';
          ws.send(JSON.stringify({ auth: proof(secret, 'client', serverNonce), nonce: clientNonce }));
          return;
        }
        if (step === 'ok' && sameHex(msg.ok, proof(secret, 'server', clientNonce))) {
          step = 'done';
          clearTimeout(timer);
          ws.off('message', first);
          ws.removeAllListeners('close');
          ws.removeAllListeners('error');
          ws.on('error', () => {});
          resolve(new PeerChannel(ws, new SealedSocket(ws, channelKey(secret, serverNonce, clientNonce), 'client'), uri));
          return;
        }
        fail(new VireoError('UNAUTHORIZED', `${uri} could not prove it holds the pairing secret: it is not the host that was paired`));
      });
    });
  }

  call<T>(op: string, args: Record<string, unknown> = {}, timeoutMs = 120_000): Promise<T> {
    if (this.closedError) return Promise.reject(this.closedError);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new VireoError('TIMEOUT', `${this.host} did not answer "${op}" within ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      timer.unref();
      this.pending.set(id, {
        resolve: (v) => (clearTimeout(timer), resolve(v as T)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      this.signed.send({ id, op, args });
    });
  }

  close() {
    this.ws.close(1000);
  }
}
