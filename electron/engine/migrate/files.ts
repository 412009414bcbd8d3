import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, mkdir, readdir } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, posix, sep } from 'node:path';
import { connect, createServer, type Server, type TLSSocket } from 'node:tls';
import { VireoError } from '../../api/errors.ts';
import { PSK_IDENTITY } from './pairing.ts';

// The files of an offline move (offline.ts) travel over one TLS-PSK connection of their own,
// keyed like the live move's streams (the pairing secret and this move's salt): each file is a
// length-prefixed JSON header ({path, size}) and its bytes. The target takes only the paths
// it was told of in advance, each at most its announced size, and writes them under the new
// VM's staging folder and nowhere else.

export interface FileEntry {
  /** relative to the VM folder, "/"-separated */
  path: string;
  size: number;
}

const CIPHERS = 'PSK-AES256-GCM-SHA384:PSK-AES128-GCM-SHA256';
const MAX_FILES = 10_000;

/** A relative path that stays inside a folder: no "..", no absolute path, no empty or odd segment. */
export function safeRelative(p: string): boolean {
  if (typeof p !== 'string' || p.length === 0 || p.length > 512 || isAbsolute(p) || p.includes('\\') || p.includes('\0')) return false;
  const parts = p.split('/');
  return parts.every((s) => s !== '' && s !== '.' && s !== '..') && posix.normalize(p) === p;
}

/** Every regular file under dir (symlinks and special files refused: they could point anywhere). */
export async function listFiles(dir: string, skip: (rel: string) => boolean): Promise<FileEntry[]> {
  const out: FileEntry[] = [];
  const walk = async (rel: string) => {
    for (const name of await readdir(join(dir, rel))) {
      const r = rel ? `${rel}/${name}` : name;
      if (skip(r)) continue;
      const st = await lstat(join(dir, r));
      if (st.isDirectory()) await walk(r);
      else if (st.isFile()) out.push({ path: r, size: st.size });
      else throw new VireoError('UNSUPPORTED', `${join(dir, r)} is not a plain file or folder (a link or a device): move it out of the VM's folder first`);
    }
  };
  await walk('');
  return out;
}

/** Target: one connection's worth of files into `root`; resolves with the bytes received per path. */
export function receiveFiles(host: string, keyHex: string, root: string, expected: FileEntry[]): Promise<{ port: number; done: Promise<void>; close(): void }> {
  const want = new Map(expected.map((f) => [f.path, f.size]));
  if (expected.length > MAX_FILES || want.size !== expected.length || !expected.every((f) => safeRelative(f.path))) {
    return Promise.reject(new VireoError('INVALID_ARGUMENT', 'the list of files offered is not one this host takes (paths must stay inside the VM folder, each once)'));
  }
  let settle!: { resolve(): void; reject(e: Error): void };
  const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  done.catch(() => {});
  const server: Server = createServer({ ciphers: CIPHERS, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', pskCallback: (_s, id) => (id === PSK_IDENTITY ? Buffer.from(keyHex, 'hex') : null) }, (sock) => {
    server.close();
    void take(sock, root, want).then(settle.resolve, (e: Error) => (sock.destroy(), settle.reject(e)));
  });
  server.on('tlsClientError', () => {});
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve({ port: (server.address() as { port: number }).port, done, close: () => server.close() }));
  });
}

async function take(sock: TLSSocket, root: string, want: Map<string, number>): Promise<void> {
  const reader = byteReader(sock);
  const seen = new Set<string>();
  for (;;) {
    const len = (await reader.read(4)).readUInt32BE(0);
    if (len > 4096) throw new VireoError('BAD_REQUEST', 'a file header is too long');
    const h = JSON.parse((await reader.read(len)).toString('utf8')) as { path?: unknown; size?: unknown; end?: unknown };
    if (h.end === true) break;
    if (typeof h.path !== 'string' || typeof h.size !== 'number' || !want.has(h.path) || seen.has(h.path) || h.size !== want.get(h.path)) {
      throw new VireoError('BAD_REQUEST', `the source sent a file it had not announced: ${String(h.path).slice(0, 100)}`);
    }
    seen.add(h.path);
    const file = normalize(join(root, ...h.path.split('/')));
    if (!file.startsWith(root + sep)) throw new VireoError('BAD_REQUEST', 'a file path leaves the VM folder');
    await mkdir(dirname(file), { recursive: true });
    await reader.pipeTo(createWriteStream(file, { mode: 0o600 }), h.size);
  }
  if (seen.size !== want.size) throw new VireoError('IO_ERROR', `the source sent ${seen.size} of ${want.size} files`);
}

/** Reads exact byte counts from a stream (the framing above), or pipes a given count to a writer. */
function byteReader(sock: TLSSocket) {
  let buf: Buffer = Buffer.alloc(0);
  let ended = false;
  let wake: (() => void) | null = null;
  sock.on('data', (d: Buffer) => {
    buf = buf.length ? Buffer.concat([buf, d]) : d;
    if (buf.length > 64 * 1024 * 1024) sock.pause();
    wake?.();
  });
  sock.on('end', () => ((ended = true), wake?.()));
  sock.on('close', () => ((ended = true), wake?.()));
  const more = () => new Promise<void>((r) => (wake = () => ((wake = null), r())));
  return {
    async read(n: number): Promise<Buffer> {
      while (buf.length < n) {
        if (ended) throw new VireoError('IO_ERROR', 'the source closed the file stream early');
        sock.resume();
        await more();
      }
      const out = buf.subarray(0, n);
      buf = buf.subarray(n);
      return out;
    },
    async pipeTo(w: NodeJS.WritableStream & { close?: () => void }, n: number): Promise<void> {
      let left = n;
      const write = (b: Buffer) => new Promise<void>((resolve, reject) => w.write(b, (e) => (e ? reject(e) : resolve())));
      while (left > 0) {
        if (!buf.length) {
          if (ended) throw new VireoError('IO_ERROR', 'the source closed the file stream early');
          sock.resume();
          await more();
          continue;
        }
        const chunk = buf.subarray(0, Math.min(left, buf.length));
        buf = buf.subarray(chunk.length);
        left -= chunk.length;
        await write(chunk);
      }
      await new Promise<void>((resolve, reject) => (w.once('error', reject), w.end(() => resolve())));
    },
  };
}

/** Source: sends the files from `root` (or the path a file is read from instead) to the target's receiver. */
export async function sendFiles(host: string, port: number, keyHex: string, root: string, files: (FileEntry & { from?: string })[], onBytes: (n: number) => void, signal: AbortSignal): Promise<void> {
  const sock = connect({ host, port, ciphers: CIPHERS, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', checkServerIdentity: () => undefined, pskCallback: () => ({ identity: PSK_IDENTITY, psk: Buffer.from(keyHex, 'hex') }) });
  const abort = () => sock.destroy(new VireoError('CANCELLED', 'cancelled'));
  signal.addEventListener('abort', abort);
  try {
    await new Promise<void>((resolve, reject) => (sock.once('secureConnect', resolve), sock.once('error', reject)));
    const header = (o: object) => {
      const b = Buffer.from(JSON.stringify(o));
      const len = Buffer.alloc(4);
      len.writeUInt32BE(b.length);
      return Buffer.concat([len, b]);
    };
    const write = (b: Buffer) => new Promise<void>((resolve, reject) => sock.write(b, (e) => (e ? reject(e) : resolve())));
    for (const f of files) {
      await write(header({ path: f.path, size: f.size }));
      if (f.size === 0) continue;
      for await (const chunk of createReadStream(f.from ?? join(root, ...f.path.split('/')), { start: 0, end: f.size - 1 })) {
        await write(chunk as Buffer);
        onBytes((chunk as Buffer).length);
      }
    }
    await write(header({ end: true }));
    await new Promise<void>((resolve) => sock.end(resolve));
  } finally {
    signal.removeEventListener('abort', abort);
    sock.destroy();
  }
}
