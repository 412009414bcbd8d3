import { EventEmitter } from 'node:events';
import { createConnection, type Socket } from 'node:net';
import { VireoError } from '../../api/errors.ts';

// The QEMU guest agent's wire protocol over the VM's virtio-serial socket (QEMU's chardev;
// qemu-ga is on the other end of the port inside the guest). Like QMP it is newline-delimited
// JSON, but unlike QMP:
// - there is no greeting and no id routing we can rely on: qemu-ga answers one request at a
//   time, in order, and some commands (guest-shutdown) never answer when they succeed, so calls
//   here run one after another;
// - the stream outlives the agent: QEMU keeps the socket open while the guest reboots, and
//   whatever we wrote while no agent read it (or a late reply to a call we gave up on) reaches
//   the next one. So before the first call, and after any call that timed out, the connection
//   resynchronises with `guest-sync-delimited`: we send a 0xFF byte (invalid JSON, so the
//   agent's parser drops any half-read request), the agent puts 0xFF before its reply, and
//   everything up to that sentinel and every reply but the one echoing our random id is stale.

export interface AgentCallOptions {
  /** how long the guest may take to answer; the connection resyncs before the next call if it did not */
  timeoutMs?: number;
  /** the command answers only on failure (guest-shutdown): resolve after `timeoutMs` of silence */
  noReplyOnSuccess?: boolean;
}

export interface AgentConnectionEvents {
  close: [];
}

const SENTINEL = 0xff;
const DEFAULT_TIMEOUT_MS = 10_000;
const SYNC_TIMEOUT_MS = 3_000;
/** qemu-ga's replies are bounded by what we ask (file reads of 48 KiB chunks); refuse runaways */
const MAX_LINE_BYTES = 16 * 1024 * 1024;

/** The agent answered `{"error": {"class", "desc"}}`. */
export class AgentError extends VireoError {
  constructor(
    readonly command: string,
    readonly errorClass: string,
    readonly desc: string,
  ) {
    super('AGENT_ERROR', `the guest agent refused ${command}: ${desc}`, { command, errorClass, desc });
  }
}

type Reply = { ok: true; value: unknown } | { ok: false; errorClass: string; desc: string };

interface Waiter {
  resolve: (r: Reply) => void;
}

export class AgentConnection extends EventEmitter<AgentConnectionEvents> {
  private buf: Buffer = Buffer.alloc(0);
  /** replies not yet claimed by a call, in arrival order */
  private replies: Reply[] = [];
  private waiter: Waiter | null = null;
  /** whether the stream is known to be in step (no stale reply can arrive before the next one) */
  private synced = false;
  /** set while a sync waits for its sentinel: lines before it are stale */
  private awaitingSentinel = false;
  private syncId = 0;
  private chain: Promise<unknown> = Promise.resolve();
  private isClosed = false;

  private constructor(
    private readonly socket: Socket,
    readonly socketPath: string,
  ) {
    super();
    socket.on('data', (c: Buffer) => this.onData(c));
    socket.on('error', () => this.close());
    socket.on('close', () => this.close());
  }

  static connect(socketPath: string): Promise<AgentConnection> {
    return new Promise((resolve, reject) => {
      const sock = createConnection({ path: socketPath });
      sock.once('error', (e) => {
        sock.destroy();
        reject(new VireoError('AGENT_UNAVAILABLE', `cannot reach the guest agent channel ${socketPath}: ${e.message}; the VM may not be running`, { socketPath }));
      });
      sock.once('connect', () => {
        sock.removeAllListeners('error');
        resolve(new AgentConnection(sock, socketPath));
      });
    });
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Run one agent command; calls queue behind each other (the agent answers in order). */
  call<T = unknown>(command: string, args?: object, opts: AgentCallOptions = {}): Promise<T> {
    const run = this.chain.then(() => this.callNow<T>(command, args, opts));
    this.chain = run.catch(() => {});
    return run;
  }

  /** Resynchronise now (a guest reboot was seen); resolves when the agent echoed our id. */
  sync(timeoutMs = SYNC_TIMEOUT_MS): Promise<void> {
    const run = this.chain.then(() => this.syncNow(timeoutMs));
    this.chain = run.catch(() => {});
    return run;
  }

  /** Forget the stream's state: the next call resyncs first. */
  desync(): void {
    this.synced = false;
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.socket.destroy();
    this.waiter?.resolve({ ok: false, errorClass: 'Disconnected', desc: 'closed' });
    this.waiter = null;
    this.emit('close');
  }

  private disconnected(command: string): VireoError {
    return new VireoError('AGENT_UNAVAILABLE', `guest agent command ${command} got no reply: the channel closed (the VM stopped)`, { command });
  }

  private async syncNow(timeoutMs: number): Promise<void> {
    if (this.isClosed) throw this.disconnected('guest-sync-delimited');
    // A random id: a stale sync reply from an earlier attempt cannot be mistaken for this one.
    const id = Math.floor(Math.random() * 2 ** 31);
    this.syncId = id;
    this.replies = [];
    this.awaitingSentinel = true;
    this.socket.write(Buffer.concat([Buffer.from([SENTINEL]), Buffer.from(JSON.stringify({ execute: 'guest-sync-delimited', arguments: { id } }) + '\n')]));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await this.nextReply(deadline - Date.now());
      if (r === 'timeout') {
        this.awaitingSentinel = false;
        throw new VireoError('AGENT_UNAVAILABLE', `no guest agent answered within ${timeoutMs} ms: it is not installed or not running in the guest (yet)`, { timeoutMs });
      }
      if (r === 'closed') throw this.disconnected('guest-sync-delimited');
      if (r.ok && r.value === this.syncId) {
        this.synced = true;
        return;
      }
      // anything else is a stale reply meant for an earlier call: drop it
    }
  }

  private async callNow<T>(command: string, args: object | undefined, opts: AgentCallOptions): Promise<T> {
    if (this.isClosed) throw this.disconnected(command);
    if (!this.synced) await this.syncNow(SYNC_TIMEOUT_MS);
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.socket.write(JSON.stringify(args === undefined ? { execute: command } : { execute: command, arguments: args }) + '\n');
    const r = await this.nextReply(timeoutMs);
    if (r === 'closed') throw this.disconnected(command);
    if (r === 'timeout') {
      // A reply may still come; the next call must not take it for its own.
      this.synced = false;
      if (opts.noReplyOnSuccess) return undefined as T;
      throw new VireoError('TIMEOUT', `the guest agent did not answer ${command} within ${timeoutMs} ms; the guest may be busy or the agent hung`, { command, timeoutMs });
    }
    if (!r.ok) throw new AgentError(command, r.errorClass, r.desc);
    return r.value as T;
  }

  private nextReply(timeoutMs: number): Promise<Reply | 'timeout' | 'closed'> {
    if (this.isClosed) return Promise.resolve('closed');
    const queued = this.replies.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        resolve('timeout');
      }, Math.max(timeoutMs, 1));
      this.waiter = {
        resolve: (r) => {
          clearTimeout(timer);
          this.waiter = null;
          resolve(this.isClosed && !r.ok && r.errorClass === 'Disconnected' ? 'closed' : r);
        },
      };
    });
  }

  private onData(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    // The sentinel marks where the agent's reply to our sync starts: everything before it is
    // from before the resync (and may be a fragment, not valid JSON).
    const s = this.buf.lastIndexOf(SENTINEL);
    if (s >= 0) {
      this.buf = this.buf.subarray(s + 1);
      this.replies = [];
      this.awaitingSentinel = false;
    }
    let nl: number;
    while ((nl = this.buf.indexOf(0x0a)) >= 0) {
      const line = this.buf.subarray(0, nl).toString('utf8').trim();
      this.buf = this.buf.subarray(nl + 1);
      if (line && !this.awaitingSentinel) this.onLine(line);
    }
    if (this.buf.length > MAX_LINE_BYTES) this.close();
  }

  private onLine(line: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(line);
    } catch {
      return; // garbage from a half-started agent; the next sync puts us back in step
    }
    if (!msg || typeof msg !== 'object') return;
    const m = msg as { return?: unknown; error?: { class?: unknown; desc?: unknown } };
    let reply: Reply;
    if ('return' in m) reply = { ok: true, value: m.return };
    else if (m.error && typeof m.error === 'object') {
      reply = { ok: false, errorClass: typeof m.error.class === 'string' ? m.error.class : 'GenericError', desc: typeof m.error.desc === 'string' ? m.error.desc : 'no description' };
    } else return;
    if (this.waiter) this.waiter.resolve(reply);
    else this.replies.push(reply);
  }
}
