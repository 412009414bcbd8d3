import { createServer, createConnection, type Server } from 'node:net';
import { openSync, writeSync, closeSync, readFileSync, unlinkSync, statSync } from 'node:fs';
import { VireoError } from '../../api/errors.ts';
import { ownerLockFile, ownerLockName, ownerSocketPath } from '../paths.ts';
import { pidAlive } from '../vm/process.ts';

// The library lock: at most one engine (the owner) per library at a time. Everything an owner
// does alone (the start-up sweep of `.creating-*` folders, starting QEMU, naming VMs) is safe
// because nobody else holds this.
//
// Linux: an abstract unix socket (a name, no file). bind() is atomic, and the kernel frees the
// name when the holder dies, kill -9 included, so a crash never leaves a stale lock. Whoever
// connects to it is told who holds it, which is how a loser names the owner's pid. Abstract
// names live in the network namespace: two processes in different namespaces (containers
// sharing a home folder) do not see each other's lock.
// Elsewhere: an O_EXCL file with the holder's pid. Weaker, and documented as such: a holder
// killed hard leaves the file, which the next process removes only when that pid is gone (a
// reused pid keeps it until the reboot or a manual delete).

export type OwnerRole = 'app' | 'serve' | 'cli' | 'engine';

export interface OwnerInfo {
  pid: number;
  role: OwnerRole;
  /** ISO time the lock was taken */
  since: string;
  /** where the owner serves the API (a client reaching the library by another path finds it here) */
  socket?: string;
}

export interface LibraryLock {
  readonly info: OwnerInfo;
  /** Free the lock; safe to call twice. */
  release(): Promise<void>;
}

const ROLE_TEXT: Record<OwnerRole, string> = {
  app: 'the Vireo app',
  serve: '`vireo serve`',
  cli: 'a `vireo` command',
  engine: 'another Vireo engine',
};

export function describeOwner(o: Pick<OwnerInfo, 'pid' | 'role'>): string {
  return `${ROLE_TEXT[o.role] ?? 'another Vireo engine'} (pid ${o.pid})`;
}

export function busyError(home: string, owner: Pick<OwnerInfo, 'pid' | 'role' | 'socket'> | null, extra = ''): VireoError {
  const who = owner ? describeOwner(owner) : 'another process';
  return new VireoError(
    'BUSY',
    `the VM library ${home} is in use by ${who}${extra}: use that one, or quit it first${owner?.role === 'cli' ? ' (it ends with its command)' : ''}`,
    owner ? { pid: owner.pid, role: owner.role, home, ...(owner.socket ? { socket: owner.socket } : {}) } : { home },
  );
}

export async function acquireLibraryLock(
  home: string,
  rtRoot: string,
  role: OwnerRole,
  platform: NodeJS.Platform = process.platform,
): Promise<LibraryLock> {
  const info: OwnerInfo = { pid: process.pid, role, since: new Date().toISOString(), socket: ownerSocketPath(rtRoot, home, platform) };
  return platform === 'linux' ? abstractLock(home, info) : fileLock(home, ownerLockFile(rtRoot), info);
}

/** Who holds the lock now, or null when nobody does (or the holder cannot be asked). */
export async function readLockOwner(home: string, rtRoot: string, platform: NodeJS.Platform = process.platform): Promise<OwnerInfo | null> {
  return platform === 'linux' ? askAbstractOwner(ownerLockName(home)) : readLockFile(ownerLockFile(rtRoot));
}

// ---- Linux: abstract socket ------------------------------------------------------------

async function abstractLock(home: string, info: OwnerInfo): Promise<LibraryLock> {
  const name = ownerLockName(home);
  // A few tries: a holder that is just releasing answers nobody, and then the name is free.
  for (let attempt = 0; ; attempt++) {
    const server = createServer((conn) => {
      conn.on('error', () => {});
      conn.end(JSON.stringify(info) + '\n');
    });
    const bound = await new Promise<boolean>((resolveBind, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) => (e.code === 'EADDRINUSE' ? resolveBind(false) : reject(e)));
      server.listen(name, () => resolveBind(true));
    }).catch((e: Error) => {
      throw new VireoError('IO_ERROR', `cannot take the lock of the VM library ${home}: ${e.message}`);
    });
    if (bound) {
      // The lock must never keep a process alive on its own; the kernel frees it at exit.
      server.unref();
      return { info, release: once(() => closeServer(server)) };
    }
    const owner = await askAbstractOwner(name);
    if (owner) throw busyError(home, owner, foreignUidNote(owner.pid));
    if (attempt >= 20) throw busyError(home, null, ' (it does not say who it is)');
    await sleep(50);
  }
}

function askAbstractOwner(name: string, timeoutMs = 2000): Promise<OwnerInfo | null> {
  return new Promise((resolveAsk) => {
    const conn = createConnection(name);
    let buf = '';
    const done = (v: OwnerInfo | null) => {
      clearTimeout(timer);
      conn.destroy();
      resolveAsk(v);
    };
    const timer = setTimeout(() => done(null), timeoutMs);
    conn.setEncoding('utf8');
    conn.on('data', (d: string) => {
      buf += d;
      if (buf.length > 4096) done(null);
    });
    conn.on('end', () => done(parseOwner(buf)));
    conn.on('error', () => done(null));
  });
}

/** Abstract names carry no permissions: say so when another user's process holds ours. */
function foreignUidNote(pid: number): string {
  try {
    const uid = statSync(`/proc/${pid}`).uid;
    return typeof process.getuid === 'function' && uid !== process.getuid() ? `, which belongs to another user (uid ${uid})` : '';
  } catch {
    return '';
  }
}

// ---- elsewhere: O_EXCL lock file --------------------------------------------------------

async function fileLock(home: string, file: string, info: OwnerInfo): Promise<LibraryLock> {
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      try {
        writeSync(fd, JSON.stringify(info) + '\n');
      } finally {
        closeSync(fd);
      }
      const release = once(async () => {
        process.off('exit', onExit);
        removeIfOurs(file, info);
      });
      // A normal exit (even process.exit) frees the lock; only a hard kill leaves the file.
      const onExit = () => removeIfOurs(file, info);
      process.on('exit', onExit);
      return { info, release };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new VireoError('IO_ERROR', `cannot take the lock ${file}: ${(e as Error).message}`);
    }
    const owner = readLockFile(file);
    if (owner && pidAlive(owner.pid)) throw busyError(home, owner);
    // The holder is gone (or the file is garbage): remove it and try again.
    try {
      unlinkSync(file);
    } catch {
      /* another process removed it first */
    }
    await sleep(20);
  }
  throw busyError(home, readLockFile(file));
}

function readLockFile(file: string): OwnerInfo | null {
  try {
    return parseOwner(readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

function removeIfOurs(file: string, info: OwnerInfo) {
  const cur = readLockFile(file);
  if (cur && cur.pid === info.pid && cur.since === info.since) {
    try {
      unlinkSync(file);
    } catch {
      /* already gone */
    }
  }
}


// ---- helpers ------------------------------------------------------------------------------

const ROLES = new Set<string>(['app', 'serve', 'cli', 'engine']);

function parseOwner(text: string): OwnerInfo | null {
  try {
    const o = JSON.parse(text.trim()) as Partial<OwnerInfo>;
    if (typeof o?.pid !== 'number' || !Number.isInteger(o.pid) || o.pid <= 0) return null;
    return {
      pid: o.pid,
      role: typeof o.role === 'string' && ROLES.has(o.role) ? o.role : 'engine',
      since: String(o.since ?? ''),
      ...(typeof o.socket === 'string' && o.socket.length < 4096 ? { socket: o.socket } : {}),
    };
  } catch {
    return null;
  }
}

function closeServer(server: Server): Promise<void> {
  return new Promise((r) => server.close(() => r()));
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let p: Promise<void> | null = null;
  return () => (p ??= fn());
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
