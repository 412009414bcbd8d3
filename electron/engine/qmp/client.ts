import { createConnection, type Socket } from 'node:net';
import { EventEmitter } from 'node:events';
import { VireoError } from '../../api/errors.ts';

// QMP: newline-delimited JSON over a unix socket. Replies are routed by the id we put on each
// command (never by order), so calls may overlap; events arrive as a stream; when the socket
// closes every pending call is rejected at once rather than left hanging.

export interface QmpEvent {
  event: string;
  data?: unknown;
  timestamp?: { seconds: number; microseconds: number };
}

export class QmpError extends VireoError {
  constructor(
    readonly command: string,
    readonly errorClass: string,
    desc: string,
  ) {
    super('QMP_ERROR', `QEMU refused ${command}: ${desc}`, { command, errorClass });
  }
}

interface Pending {
  command: string;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer?: NodeJS.Timeout;
}

export interface QmpClientEvents {
  event: [QmpEvent];
  close: [];
  malformed: [line: string];
}

const DEFAULT_TIMEOUT_MS = 30_000;

export class QmpClient extends EventEmitter<QmpClientEvents> {
  private buffer = '';
  private nextId = 1;
  private pending = new Map<string, Pending>();
  private closed = false;
  greeting: { version?: unknown; capabilities?: unknown } | null = null;

  private constructor(private readonly socket: Socket) {
    super();
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('close', () => this.onClose());
    socket.on('error', () => {
      /* 'close' follows and fails the pending calls */
    });
  }

  /** Connect, read the greeting, negotiate capabilities. Retries while the socket is not there yet. */
  static async connect(socketPath: string, opts: { timeoutMs?: number; retryUntilMs?: number } = {}): Promise<QmpClient> {
    const timeoutMs = opts.timeoutMs ?? 10_000;
    const retryUntil = Date.now() + (opts.retryUntilMs ?? 0);
    for (;;) {
      try {
        return await QmpClient.connectOnce(socketPath, timeoutMs);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if ((code === 'ENOENT' || code === 'ECONNREFUSED') && Date.now() < retryUntil) {
          await new Promise((r) => setTimeout(r, 50));
          continue;
        }
        if (e instanceof VireoError) throw e;
        throw new VireoError('QMP_DISCONNECTED', `cannot connect to QEMU's monitor at ${socketPath}: ${(e as Error).message}`, { socketPath, errno: code });
      }
    }
  }

  private static connectOnce(socketPath: string, timeoutMs: number): Promise<QmpClient> {
    return new Promise((resolve, reject) => {
      const socket = createConnection(socketPath);
      let client: QmpClient | null = null;
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new VireoError('TIMEOUT', `QEMU's monitor at ${socketPath} sent no greeting within ${timeoutMs} ms (another client may hold it)`));
      }, timeoutMs);
      socket.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      socket.once('connect', () => {
        client = new QmpClient(socket);
        client.once('close', () => {
          clearTimeout(timer);
          reject(new VireoError('QMP_DISCONNECTED', `QEMU closed its monitor at ${socketPath} before the handshake`));
        });
        client
          .waitGreeting()
          .then(() => client!.execute('qmp_capabilities', undefined, { timeoutMs }))
          .then(() => {
            clearTimeout(timer);
            client!.removeAllListeners('close');
            resolve(client!);
          })
          .catch((e) => {
            clearTimeout(timer);
            socket.destroy();
            reject(e);
          });
      });
    });
  }

  private greetingWaiter: ((g: unknown) => void) | null = null;
  private waitGreeting(): Promise<unknown> {
    if (this.greeting) return Promise.resolve(this.greeting);
    return new Promise((r) => (this.greetingWaiter = r));
  }

  get isClosed() {
    return this.closed;
  }

  execute<T = unknown>(command: string, args?: object, opts: { timeoutMs?: number } = {}): Promise<T> {
    if (this.closed) return Promise.reject(new VireoError('QMP_DISCONNECTED', `cannot send ${command}: QEMU's monitor connection is closed`, { command }));
    const id = `v${this.nextId++}`;
    const msg = JSON.stringify(args === undefined ? { execute: command, id } : { execute: command, arguments: args, id });
    return new Promise<T>((resolve, reject) => {
      const p: Pending = { command, resolve: resolve as (v: unknown) => void, reject };
      const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      if (timeoutMs > 0) {
        p.timer = setTimeout(() => {
          this.pending.delete(id);
          reject(new VireoError('TIMEOUT', `QEMU did not answer ${command} within ${timeoutMs} ms`, { command }));
        }, timeoutMs);
      }
      this.pending.set(id, p);
      this.socket.write(msg + '\n');
    });
  }

  /** Resolves with the first event of that name (and matching predicate) within the timeout. */
  waitForEvent(name: string, predicate: (e: QmpEvent) => boolean = () => true, timeoutMs = 30_000): Promise<QmpEvent> {
    return new Promise((resolve, reject) => {
      const onEvent = (e: QmpEvent) => {
        if (e.event === name && predicate(e)) {
          cleanup();
          resolve(e);
        }
      };
      const onClose = () => {
        cleanup();
        reject(new VireoError('QMP_DISCONNECTED', `QEMU's monitor closed while waiting for ${name}`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new VireoError('TIMEOUT', `no ${name} event within ${timeoutMs} ms`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.off('event', onEvent);
        this.off('close', onClose);
      };
      this.on('event', onEvent);
      this.once('close', onClose);
    });
  }

  /**
   * Run a QMP job (snapshot-save/-load/-delete ...): start it, report progress from
   * query-jobs, wait until it concludes, read its error, dismiss it. Aborting cancels it.
   */
  async runJob(
    command: string,
    args: Record<string, unknown>,
    opts: { jobId: string; onProgress?: (fraction: number) => void; signal?: AbortSignal; timeoutMs?: number },
  ): Promise<void> {
    const { jobId } = opts;
    const concluded = this.waitForEvent('JOB_STATUS_CHANGE', (e) => {
      const d = e.data as { id?: string; status?: string };
      return d.id === jobId && d.status === 'concluded';
    }, opts.timeoutMs ?? 30 * 60_000);
    concluded.catch(() => {});
    const onAbort = () => void this.execute('job-cancel', { id: jobId }).catch(() => {});
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const poll = opts.onProgress
      ? setInterval(async () => {
          try {
            const jobs = await this.execute<Array<{ id: string; 'current-progress': number; 'total-progress': number }>>('query-jobs');
            const j = jobs.find((x) => x.id === jobId);
            if (j && j['total-progress'] > 0) opts.onProgress!(j['current-progress'] / j['total-progress']);
          } catch {
            /* the monitor went away; the wait below reports it */
          }
        }, 250)
      : null;
    try {
      await this.execute(command, { 'job-id': jobId, ...args });
      await concluded;
      const jobs = await this.execute<Array<{ id: string; status: string; error?: string }>>('query-jobs');
      const j = jobs.find((x) => x.id === jobId);
      await this.execute('job-dismiss', { id: jobId }).catch(() => {});
      if (opts.signal?.aborted) throw new VireoError('CANCELLED', `${command} was cancelled`);
      if (j?.error) throw new QmpError(command, 'GenericError', j.error);
      opts.onProgress?.(1);
    } finally {
      if (poll) clearInterval(poll);
      opts.signal?.removeEventListener('abort', onAbort);
    }
  }

  close(): void {
    if (this.closed) return;
    this.socket.destroy();
    this.onClose();
  }

  private onData(chunk: string) {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      if (line) this.onLine(line);
    }
  }

  private onLine(line: string) {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(line) as Record<string, unknown>;
    } catch {
      this.emit('malformed', line);
      return;
    }
    if ('QMP' in msg) {
      this.greeting = msg.QMP as { version?: unknown };
      this.greetingWaiter?.(this.greeting);
      this.greetingWaiter = null;
      return;
    }
    if (typeof msg.event === 'string') {
      this.emit('event', msg as unknown as QmpEvent);
      return;
    }
    const id = typeof msg.id === 'string' ? msg.id : null;
    const p = id ? this.pending.get(id) : undefined;
    if (!p || !id) return; // a reply to a call that already timed out
    this.pending.delete(id);
    if (p.timer) clearTimeout(p.timer);
    if ('error' in msg) {
      const err = msg.error as { class?: string; desc?: string };
      p.reject(new QmpError(p.command, err.class ?? 'GenericError', err.desc ?? 'unknown error'));
    } else {
      p.resolve(msg.return);
    }
  }

  private onClose() {
    if (this.closed) return;
    this.closed = true;
    const err = () => new VireoError('QMP_DISCONNECTED', 'QEMU closed its monitor connection (QEMU exited?)');
    for (const [, p] of this.pending) {
      if (p.timer) clearTimeout(p.timer);
      p.reject(err());
    }
    this.pending.clear();
    this.emit('close');
  }
}
