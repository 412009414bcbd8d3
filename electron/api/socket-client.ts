import { createConnection, type Socket } from 'node:net';
import { VireoError, isWireError, type WireError } from './errors.ts';
import { EventBus, type DispatchOutcome } from './dispatch.ts';
import { isEventName, type ApiClient, type Args, type MethodName, type Result } from './contract.ts';
import type { Caller } from './define.ts';
import { lineSplitter } from '../shared/lines.ts';

// The client side of the library owner's socket (see engine/owner/server.ts for the frames).
// It looks like every other transport: an ApiClient for callers (the CLI), and the
// `{dispatch, bus}` pair a transport server needs, so anything that wraps an engine can wrap
// a remote owner the same way.

/** Largest request frame the owner reads (the WebSocket transport's limit too). */
export const OWNER_MAX_FRAME_BYTES = 1024 * 1024;
/** Answers can be larger (screenshots, thumbnails), but not unbounded. */
const MAX_REPLY_BYTES = 256 * 1024 * 1024;

export interface OwnerHello {
  pid: number;
  role: string;
  since: string;
}

export type OwnerFrame =
  | { hello: OwnerHello }
  | { bye: string }
  | { id: number | string | null; result: unknown }
  | { id: number | string | null; error: WireError }
  | { event: string; payload: unknown };

export interface SocketClient extends ApiClient {
  readonly owner: OwnerHello;
  readonly bus: EventBus;
  /** `caller` crosses the socket: a transport in front of this client (serve) keeps its confinement. */
  dispatch(method: unknown, args: unknown, caller?: Caller): Promise<DispatchOutcome>;
  /** Hang up; pending calls fail as "not run" only if the owner never read them. */
  close(): void;
  /** Settles when the connection is gone, for whatever reason. */
  readonly closed: Promise<void>;
}

/**
 * A call that the owner never ran: it was shutting down (bye) or the connection was gone
 * before the call was sent. Safe to send again, to the next owner.
 */
export function isRetryable(e: unknown): boolean {
  return e instanceof VireoError && e.code === 'BUSY' && (e.details as { retry?: boolean } | undefined)?.retry === true;
}

export function connectOwner(path: string, opts: { timeoutMs?: number } = {}): Promise<SocketClient> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  return new Promise((resolveConnect, rejectConnect) => {
    const sock: Socket = createConnection(path);
    sock.setEncoding('utf8');
    const bus = new EventBus();
    const pending = new Map<number, { method: string; done: (o: DispatchOutcome) => void }>();
    let nextId = 1;
    let hello: OwnerHello | null = null;
    let bye = false;
    let gone = false;
    let markClosed!: () => void;
    const closed = new Promise<void>((r) => (markClosed = r));

    const timer = setTimeout(() => fail(new VireoError('TIMEOUT', `the library owner's socket ${path} did not greet within ${timeoutMs} ms`)), timeoutMs);
    const fail = (e: Error) => {
      clearTimeout(timer);
      sock.destroy();
      rejectConnect(e);
    };
    const who = () => (hello ? `the library owner (pid ${hello.pid})` : 'the library owner');

    const onFrame = (f: Record<string, unknown>) => {
      if (!hello) {
        const h = f.hello as OwnerHello | undefined;
        if (!h || typeof h.pid !== 'number') return fail(new VireoError('BAD_REQUEST', `${path} is not a Vireo owner socket (no hello)`));
        hello = { pid: h.pid, role: String(h.role), since: String(h.since) };
        clearTimeout(timer);
        return resolveConnect(client);
      }
      if ('bye' in f) {
        bye = true;
        return;
      }
      if (typeof f.event === 'string') {
        if (isEventName(f.event)) bus.emit(f.event, f.payload as never);
        return;
      }
      if (typeof f.id !== 'number') return; // replies to frames we never sent (id null)
      const p = pending.get(f.id);
      if (!p) return;
      pending.delete(f.id);
      if ('result' in f) p.done({ ok: true, result: f.result });
      else p.done({ ok: false, error: isWireError(f.error) ? f.error : { code: 'INTERNAL', message: `malformed answer from ${who()}` } });
    };

    const lines = lineSplitter((line) => {
      let f: unknown;
      try {
        f = JSON.parse(line);
      } catch {
        return;
      }
      if (f && typeof f === 'object' && !Array.isArray(f)) onFrame(f as Record<string, unknown>);
    });
    sock.on('data', (chunk: string) => {
      lines.push(chunk);
      if (lines.pending > MAX_REPLY_BYTES) sock.destroy(new Error(`an answer from ${who()} exceeds ${MAX_REPLY_BYTES} bytes`));
    });
    sock.on('error', (e: NodeJS.ErrnoException) => {
      if (!hello) fail(new VireoError('IO_ERROR', `cannot reach the library owner at ${path}: ${e.code ?? e.message}`, { errno: e.code }));
    });
    sock.on('close', () => {
      gone = true;
      clearTimeout(timer);
      if (!hello) rejectConnect(new VireoError('IO_ERROR', `the library owner at ${path} hung up before greeting`));
      for (const [, p] of pending) {
        p.done({
          ok: false,
          error: bye
            ? notRun(who(), p.method)
            : {
                code: 'IO_ERROR',
                message: `${who()} went away during ${p.method}: its outcome is unknown; check with \`vireo list\` before trying again`,
              },
        });
      }
      pending.clear();
      markClosed();
    });

    const dispatch = (method: unknown, args: unknown, caller?: Caller): Promise<DispatchOutcome> => {
      const name = typeof method === 'string' ? method : String(method);
      if (gone || bye) return Promise.resolve({ ok: false, error: notRun(who(), name) });
      const id = nextId++;
      const frame = JSON.stringify({ id, method, args: args ?? {}, ...(caller && caller.kind !== 'local' ? { caller } : {}) });
      if (Buffer.byteLength(frame) > OWNER_MAX_FRAME_BYTES) {
        return Promise.resolve({ ok: false, error: { code: 'INVALID_ARGUMENT', message: `${name}: arguments larger than ${OWNER_MAX_FRAME_BYTES} bytes` } });
      }
      return new Promise((done) => {
        pending.set(id, { method: name, done });
        sock.write(frame + '\n');
      });
    };

    const client: SocketClient = {
      get owner() {
        return hello!;
      },
      bus,
      dispatch,
      async call<M extends MethodName>(m: M, a: Args<M>): Promise<Result<M>> {
        const out = await dispatch(m, a);
        if (!out.ok) throw VireoError.fromWire(out.error);
        return out.result as Result<M>;
      },
      on: (name, listener) => bus.on(name, listener),
      close: () => sock.end(),
      closed,
    };
  });
}

function notRun(who: string, method: string): WireError {
  return { code: 'BUSY', message: `${who} is shutting down and did not run ${method}: try again`, details: { retry: true } };
}
