import { createServer, type Socket } from 'node:net';
import { chmodSync, unlinkSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import type { Dispatch, EventBus } from '../../api/dispatch.ts';
import { isEventName } from '../../api/contract.ts';
import { OWNER_MAX_FRAME_BYTES, type OwnerFrame } from '../../api/socket-client.ts';
import { LOCAL_CALLER, type WebCaller } from '../../api/define.ts';
import type { OwnerInfo } from './lock.ts';

// The owner's API socket: how the CLI, a second app or a second serve reach the one engine
// that owns a library. Newline-delimited JSON on a 0600 unix socket in the 0700 runtime
// folder, so only the same user gets in (callers here are local). Frames:
//   owner → client on connect: {"hello": {pid, role, since}}
//   client → owner:            {"id", "method", "args", "caller"?}
//     caller: absent for the client itself (local: same user), or the web caller of a
//     transport in front of it, which only ever narrows what the call may do.
//   owner → client:            {"id", "result"} | {"id", "error"} | {"event", "payload"}
//   owner → client on close:   {"bye": reason}: requests not yet answered were never run.
// A malformed frame gets BAD_REQUEST and the connection lives on; an oversized one cannot be
// resynchronised, so it gets BAD_REQUEST and the connection is closed. Never a crash.
// On Windows the socket is a named pipe with the default ACL (untested here): weaker than the
// 0700/0600 pair, like the lock file there.

/** A client that stops reading is cut off instead of growing the owner's memory without end. */
const MAX_BUFFERED_OUT = 16 * 1024 * 1024;

export interface OwnerServer {
  readonly path: string;
  /**
   * Stop accepting; let every request already read finish and its answer go out, then say bye.
   * Connections still busy after `graceMs` are cut (their callers learn the outcome is unknown).
   */
  close(graceMs?: number): Promise<void>;
}

interface Conn {
  sock: Socket;
  inFlight: number;
  closing: boolean;
}

export async function startOwnerServer(opts: { path: string; dispatch: Dispatch; bus: EventBus; info: OwnerInfo }): Promise<OwnerServer> {
  const { path, dispatch, bus, info } = opts;
  const isPipe = process.platform === 'win32';
  // We hold the library lock, so a socket file here is a dead owner's leftover.
  if (!isPipe) removeFile(path);

  const conns = new Set<Conn>();
  const write = (c: Conn, frame: OwnerFrame) => {
    if (c.sock.destroyed) return;
    if (c.sock.writableLength > MAX_BUFFERED_OUT) {
      c.sock.destroy();
      return;
    }
    c.sock.write(JSON.stringify(frame) + '\n');
  };
  const sayBye = (c: Conn) => {
    write(c, { bye: 'the library owner is shutting down' });
    c.sock.end();
    // A client that does not hang up after bye is not waited for.
    setTimeout(() => c.sock.destroy(), 2000).unref();
  };

  const handleLine = (c: Conn, line: string) => {
    if (!line.trim()) return;
    let msg: unknown;
    try {
      msg = JSON.parse(line);
    } catch {
      return write(c, { id: null, error: { code: 'BAD_REQUEST', message: 'frame is not valid JSON' } });
    }
    const env = msg as { id?: unknown; method?: unknown; args?: unknown; caller?: unknown };
    const id = env && typeof env === 'object' && !Array.isArray(env) ? env.id : undefined;
    if (!(typeof id === 'number' || (typeof id === 'string' && id.length <= 64))) {
      return write(c, { id: null, error: { code: 'BAD_REQUEST', message: 'a request is {"id": number|string, "method": string, "args": object}' } });
    }
    if (typeof env.method !== 'string') return write(c, { id, error: { code: 'BAD_REQUEST', message: 'request has no "method" string' } });
    const caller = env.caller === undefined ? LOCAL_CALLER : parseWebCaller(env.caller);
    if (!caller) return write(c, { id, error: { code: 'BAD_REQUEST', message: '"caller" is {"kind":"web","roots":[absolute folders],"allowExtraArgs":boolean}' } });
    c.inFlight++;
    dispatch(env.method, env.args, caller)
      .then((out) => write(c, out.ok ? { id, result: out.result } : { id, error: out.error }))
      .catch((e: Error) => write(c, { id, error: { code: 'INTERNAL', message: `internal error: ${e.message}` } }))
      .finally(() => {
        c.inFlight--;
        if (c.closing && c.inFlight === 0) sayBye(c);
      });
  };

  const server = createServer((sock) => {
    const c: Conn = { sock, inFlight: 0, closing: false };
    conns.add(c);
    sock.setEncoding('utf8');
    let buf = '';
    sock.on('data', (chunk: string) => {
      // Once closing, nothing more is read: whatever the client sent after that never runs,
      // which is what "bye" promises it.
      if (c.closing) return;
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (Buffer.byteLength(line) > OWNER_MAX_FRAME_BYTES) return tooLarge(c);
        handleLine(c, line);
        if (c.closing) return;
      }
      if (Buffer.byteLength(buf) > OWNER_MAX_FRAME_BYTES) tooLarge(c);
    });
    sock.on('error', () => {});
    sock.on('close', () => conns.delete(c));
    write(c, { hello: info });
  });
  const tooLarge = (c: Conn) => {
    write(c, { id: null, error: { code: 'BAD_REQUEST', message: `frame larger than ${OWNER_MAX_FRAME_BYTES} bytes: send smaller requests` } });
    c.closing = true;
    c.sock.end();
  };
  server.on('error', () => {});

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolveListen());
  });
  // The folder is 0700 already; the socket's own mode is the second wall.
  if (!isPipe) chmodSync(path, 0o600);
  // Like the lock, the socket must not keep a finished CLI command alive.
  server.unref();

  const offEvents = bus.onAny((event, payload) => {
    if (!isEventName(event)) return;
    for (const c of conns) if (!c.closing) write(c, { event, payload });
  });

  let closed: Promise<void> | null = null;
  return {
    path,
    close(graceMs = 10 * 60_000) {
      return (closed ??= (async () => {
        offEvents();
        const stopped = new Promise<void>((r) => server.close(() => r()));
        for (const c of conns) {
          c.closing = true;
          if (c.inFlight === 0) sayBye(c);
        }
        const cut = setTimeout(() => conns.forEach((c) => c.sock.destroy()), graceMs);
        await stopped; // resolves when every connection has closed
        clearTimeout(cut);
        if (!isPipe) removeFile(path);
      })());
    },
  };
}

/** A web caller as a transport in front of a client sends it; anything else is refused. */
function parseWebCaller(x: unknown): WebCaller | null {
  const c = x as Partial<WebCaller> | null;
  if (!c || typeof c !== 'object' || c.kind !== 'web' || typeof c.allowExtraArgs !== 'boolean' || !Array.isArray(c.roots) || c.roots.length > 64) return null;
  if (!c.roots.every((r) => typeof r === 'string' && r.length > 0 && r.length < 4096 && isAbsolute(r))) return null;
  return Object.freeze({ kind: 'web', roots: Object.freeze([...c.roots]), allowExtraArgs: c.allowExtraArgs });
}

function removeFile(p: string) {
  try {
    unlinkSync(p);
  } catch {
    /* not there */
  }
}
