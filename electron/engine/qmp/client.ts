import { EventEmitter } from 'node:events';
import { createConnection, type Socket } from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import { setTimeout as sleep } from 'node:timers/promises';
import { VireoError } from '../../api/errors.ts';
import { QmpError } from './errors.ts';
import { runJob, type JobInfo, type RunJobOptions } from './jobs.ts';
import type { QmpClientEvents, QmpCloseInfo, QmpConnectOptions, QmpEvent, QmpExecuteOptions, QmpGreeting, QmpVersion } from './types.ts';
export type * from './types.ts';

export { QmpError };

// A QMP client over a unix socket. QMP interleaves command replies and asynchronous events on
// one newline-delimited JSON stream; replies are matched to calls by the `id` we attach, never
// by arrival order, so any number of calls may be in flight at once.

interface Pending {
  command: string;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_EXEC_TIMEOUT_MS = 30_000;
const RETRY_INTERVAL_MS = 50;
/** refuse to buffer an unterminated line beyond this; QMP replies are far smaller */
const MAX_LINE_BYTES = 64 * 1024 * 1024;

const isObject = (x: unknown): x is Record<string, unknown> =>
  !!x && typeof x === 'object' && !Array.isArray(x);

function openSocket(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = createConnection({ path });
    const onError = (e: Error) => {
      sock.destroy();
      reject(e);
    };
    sock.once('error', onError);
    sock.once('connect', () => {
      sock.off('error', onError);
      resolve(sock);
    });
  });
}

export class QmpClient extends EventEmitter<QmpClientEvents> {
  private readonly pending = new Map<string, Pending>();
  /** ids whose caller gave up (timeout); their late replies are expected and dropped quietly */
  private readonly abandoned = new Set<string>();
  private nextId = 1;
  private buffer = '';
  private readonly decoder = new StringDecoder('utf8');
  private isClosed = false;
  private greetingResolver: ((g: QmpGreeting) => void) | null = null;
  private greetingValue: QmpGreeting | null = null;

  private constructor(
    private readonly socket: Socket,
    readonly socketPath: string,
  ) {
    super();
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (e) => this.shutdown('disconnected', e));
    socket.on('close', () => this.shutdown('disconnected'));
  }

  /** Connect, read the greeting and negotiate capabilities; resolves once commands may be sent. */
  static async connect(socketPath: string, opts: QmpConnectOptions = {}): Promise<QmpClient> {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const started = Date.now();
    const retryDeadline = started + (opts.retryUntilMs ?? 0);
    const overallDeadline = Math.max(started + timeoutMs, retryDeadline);

    let socket: Socket;
    for (;;) {
      try {
        socket = await openSocket(socketPath);
        break;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        const retriable = code === 'ENOENT' || code === 'ECONNREFUSED';
        if (retriable && Date.now() + RETRY_INTERVAL_MS <= retryDeadline) {
          await sleep(RETRY_INTERVAL_MS);
          continue;
        }
        throw new VireoError(
          'QMP_DISCONNECTED',
          `could not connect to the QMP socket ${socketPath}: ${(e as Error).message}; ` +
            (retriable
              ? 'QEMU is not running or has not created its monitor socket; check the VM log'
              : 'check the runtime folder permissions'),
          { socketPath, errno: code },
        );
      }
    }

    const client = new QmpClient(socket, socketPath);
    const remaining = Math.max(overallDeadline - Date.now(), 1);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        client.handshake(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new VireoError(
                  'TIMEOUT',
                  `QMP on ${socketPath} did not greet and negotiate within ${timeoutMs} ms; ` +
                    'another client may hold the monitor, or QEMU is hung',
                  { socketPath, timeoutMs },
                ),
              ),
            remaining,
          );
        }),
      ]);
    } catch (e) {
      client.close();
      throw e;
    } finally {
      clearTimeout(timer);
    }
    return client;
  }

  private async handshake(): Promise<void> {
    let onClose: (() => void) | undefined;
    const closed = new Promise<never>((_, reject) => {
      onClose = () =>
        reject(
          new VireoError('QMP_DISCONNECTED', `QMP socket ${this.socketPath} closed during the greeting; QEMU may have exited, check the VM log`, {
            socketPath: this.socketPath,
          }),
        );
      this.once('close', onClose);
    });
    closed.catch(() => {});
    try {
      const greeting = this.greetingValue
        ? Promise.resolve(this.greetingValue)
        : new Promise<QmpGreeting>((resolve) => (this.greetingResolver = resolve));
      await Promise.race([greeting, closed]);
      await Promise.race([this.execute('qmp_capabilities'), closed]);
    } finally {
      if (onClose) this.off('close', onClose);
    }
  }

  /** The server's greeting (QEMU version and offered capabilities). */
  get greeting(): QmpGreeting {
    if (!this.greetingValue) throw new VireoError('INVALID_STATE', 'QMP greeting not received yet');
    return this.greetingValue;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  execute<T = unknown>(command: string, args?: object, opts: QmpExecuteOptions = {}): Promise<T> {
    if (this.isClosed) {
      return Promise.reject(
        new VireoError('QMP_DISCONNECTED', `cannot run QMP command ${command}: the connection to ${this.socketPath} is closed`, {
          command,
          socketPath: this.socketPath,
        }),
      );
    }
    const id = `v${this.nextId++}`;
    const timeoutMs = opts.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS;
    const msg: Record<string, unknown> = { execute: command, id };
    if (args !== undefined) msg.arguments = args;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        this.abandoned.add(id);
        reject(
          new VireoError('TIMEOUT', `QMP command ${command} got no reply within ${timeoutMs} ms; QEMU may be busy or hung`, {
            command,
            timeoutMs,
          }),
        );
      }, timeoutMs);
      this.pending.set(id, { command, resolve: resolve as (v: unknown) => void, reject, timer });
      this.socket.write(JSON.stringify(msg) + '\n');
    });
  }

  /**
   * Resolve with the next event named `name` (and accepted by `predicate`). Subscribe before
   * sending the command that causes it: an event that already went by is not replayed.
   */
  waitForEvent(
    name: string,
    predicate?: (e: QmpEvent) => boolean,
    timeoutMs = DEFAULT_EXEC_TIMEOUT_MS,
    signal?: AbortSignal,
  ): Promise<QmpEvent> {
    if (this.isClosed) {
      return Promise.reject(
        new VireoError('QMP_DISCONNECTED', `cannot wait for QMP event ${name}: the connection is closed`, { event: name }),
      );
    }
    return new Promise((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        this.off('event', onEvent);
        this.off('close', onClose);
        signal?.removeEventListener('abort', onAbort);
      };
      const onEvent = (e: QmpEvent) => {
        if (e.event !== name) return;
        let ok: boolean;
        try {
          ok = predicate ? predicate(e) : true;
        } catch (err) {
          cleanup();
          reject(err as Error);
          return;
        }
        if (!ok) return;
        cleanup();
        resolve(e);
      };
      const onClose = () => {
        cleanup();
        reject(new VireoError('QMP_DISCONNECTED', `QMP connection closed while waiting for event ${name}`, { event: name }));
      };
      const onAbort = () => {
        cleanup();
        reject(new VireoError('CANCELLED', `stopped waiting for QMP event ${name}`, { event: name }));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new VireoError('TIMEOUT', `QMP event ${name} did not arrive within ${timeoutMs} ms`, { event: name, timeoutMs }));
      }, timeoutMs);
      this.on('event', onEvent);
      this.on('close', onClose);
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Run a QMP job (snapshot-save/-load/-delete, ...) to its end; see jobs.ts. */
  runJob(command: string, args: Record<string, unknown>, opts: RunJobOptions): Promise<JobInfo> {
    return runJob(this, command, args, opts);
  }

  /** Close the connection; pending calls reject with QMP_DISCONNECTED. QEMU keeps running. */
  close(): void {
    this.shutdown('closed');
  }

  private shutdown(reason: QmpCloseInfo['reason'], error?: Error): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.socket.destroy();
    const why = reason === 'closed' ? 'the client closed the connection' : 'QEMU closed the connection (it may have exited)';
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(
        new VireoError('QMP_DISCONNECTED', `QMP command ${p.command} got no reply: ${why}`, {
          command: p.command,
          socketPath: this.socketPath,
          id,
        }),
      );
    }
    this.pending.clear();
    this.abandoned.clear();
    this.emit('close', error ? { reason, error } : { reason });
  }

  private onData(chunk: Buffer): void {
    this.buffer += this.decoder.write(chunk);
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      if (line.trim() !== '') this.onLine(line);
      if (this.isClosed) return;
    }
    if (this.buffer.length > MAX_LINE_BYTES) {
      this.report(this.buffer, `unterminated line longer than ${MAX_LINE_BYTES} bytes`);
      this.shutdown('disconnected', new Error('QMP line too long'));
    }
  }

  private report(line: string, problem: string): void {
    this.emit('protocolError', { line: line.length > 500 ? `${line.slice(0, 500)}…` : line, problem });
  }

  private onLine(line: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(line);
    } catch (e) {
      this.report(line, `not JSON: ${(e as Error).message}`);
      return;
    }
    if (!isObject(msg)) {
      this.report(line, 'not a JSON object');
      return;
    }
    if ('QMP' in msg) {
      const g = msg.QMP;
      if (!isObject(g) || !isObject(g.version)) {
        this.report(line, 'malformed greeting');
        return;
      }
      this.greetingValue = {
        version: g.version as unknown as QmpVersion,
        capabilities: Array.isArray(g.capabilities) ? (g.capabilities as string[]) : [],
      };
      this.greetingResolver?.(this.greetingValue);
      this.greetingResolver = null;
      return;
    }
    if (typeof msg.event === 'string') {
      const ts = isObject(msg.timestamp) ? msg.timestamp : {};
      this.emit('event', {
        event: msg.event,
        data: msg.data ?? {},
        timestamp: {
          seconds: typeof ts.seconds === 'number' ? ts.seconds : 0,
          microseconds: typeof ts.microseconds === 'number' ? ts.microseconds : 0,
        },
      });
      return;
    }
    if ('return' in msg || 'error' in msg) {
      const id = typeof msg.id === 'string' ? msg.id : undefined;
      const p = id === undefined ? undefined : this.pending.get(id);
      if (!p || id === undefined) {
        if (id !== undefined && this.abandoned.delete(id)) return;
        this.report(line, 'reply with an unknown id');
        return;
      }
      this.pending.delete(id);
      clearTimeout(p.timer);
      if ('error' in msg) {
        const err = isObject(msg.error) ? msg.error : {};
        const cls = typeof err.class === 'string' ? err.class : 'GenericError';
        const desc = typeof err.desc === 'string' ? err.desc : 'QMP error without a description';
        p.reject(new QmpError(p.command, cls, `QMP command ${p.command} failed: ${desc}`, { desc }));
      } else {
        p.resolve(msg.return);
      }
      return;
    }
    this.report(line, 'neither a greeting, an event nor a reply');
  }
}
