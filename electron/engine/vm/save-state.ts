import { createServer, type Server, type Socket } from 'node:net';
import { createWriteStream, existsSync } from 'node:fs';
import { open, readFile, rename, rm, unlink } from 'node:fs/promises';
import { VireoError } from '../../api/errors.ts';
import type { QmpClient } from '../qmp/client.ts';
import type { VmPaths } from '../paths.ts';
import { writeJsonAtomic } from '../util/fs-atomic.ts';

// Save state (suspend to disk): QEMU's migration stream of the stopped guest, written to a file
// in the VM's folder; a later start feeds it back with `-incoming fd:3`, the file opened by the
// engine and handed to QEMU as its fourth descriptor. QEMU 7.2 has no `file:` migration URI
// (8.2 added it) and `exec:` would run a shell, so the outgoing stream goes to a unix socket in
// the VM's runtime folder that the engine itself listens on and copies to the file.

export interface SavedMeta {
  version: 1;
  savedAt: string;
  bytes: number;
  /** the argv QEMU ran with: the resumed QEMU must be the same machine, or the stream does not fit */
  argv: string[];
  binary: string;
  /** the state the guest was in: a paused guest resumes paused */
  wasRunning: boolean;
}

export const savedFiles = (p: VmPaths) => ({ state: `${p.dir}/saved-state.bin`, meta: `${p.dir}/saved-state.json`, partial: `${p.dir}/.saved-state.bin.partial` });

export const hasSavedState = (p: VmPaths): boolean => existsSync(savedFiles(p).meta);

export async function readSavedMeta(p: VmPaths): Promise<SavedMeta | null> {
  try {
    const m = JSON.parse(await readFile(savedFiles(p).meta, 'utf8')) as SavedMeta;
    return m.version === 1 && Array.isArray(m.argv) && existsSync(savedFiles(p).state) ? m : null;
  } catch {
    return null;
  }
}

export async function removeSavedState(p: VmPaths): Promise<void> {
  const f = savedFiles(p);
  // The meta first: without it the VM is no longer "saved", whatever happens to the data file.
  await unlink(f.meta).catch(() => {});
  await Promise.all([f.state, f.partial].map((x) => rm(x, { force: true })));
}

interface MigrateInfo {
  status?: string;
  'error-desc'?: string;
  ram?: { transferred?: number; total?: number; remaining?: number };
}

/**
 * Streams the guest's state (QEMU already stopped it) to `savedFiles(p).state`, durably; returns
 * its size. On failure the partial file is removed and the VM is untouched (still in QEMU).
 */
export async function migrateToFile(qmp: QmpClient, p: VmPaths, sockDir: string, onProgress: (fraction: number | null, totalBytes?: number) => void): Promise<number> {
  const f = savedFiles(p);
  const sock = `${sockDir}/save.sock`;
  await rm(sock, { force: true });
  await rm(f.partial, { force: true });
  const fh = await open(f.partial, 'wx', 0o600);
  let server: Server | null = null;
  let conn: Socket | null = null;
  try {
    const out = createWriteStream('', { fd: fh.fd, autoClose: false });
    const written = new Promise<number>((resolve, reject) => {
      server = createServer((s) => {
        if (conn) return void s.destroy(); // one stream only: QEMU's
        conn = s;
        s.pipe(out);
        s.on('error', reject);
        out.on('error', reject);
        out.on('finish', () => resolve(out.bytesWritten));
      });
      server.on('error', reject);
    });
    written.catch(() => {});
    await new Promise<void>((ok, fail) => (server!.once('error', fail), server!.listen(sock, () => ok())));
    // One pass at full speed: the guest is stopped, so there is nothing to converge; 7.2's default
    // bandwidth cap (32 MiB/s) would only make the user wait.
    await qmp.execute('migrate-set-parameters', { 'max-bandwidth': 64 * 1024 ** 3 }).catch(() => {});
    await qmp.execute('migrate', { uri: `unix:${sock}` });
    for (;;) {
      const info = await qmp.execute<MigrateInfo>('query-migrate');
      const st = info.status ?? 'none';
      if (st === 'completed') break;
      if (st === 'failed' || st === 'cancelled') throw new VireoError('QEMU_FAILED', `saving the VM's state failed in QEMU: ${info['error-desc'] ?? st}`);
      const r = info.ram;
      onProgress(r?.total ? Math.min(0.99, (r.transferred ?? 0) / r.total) : null, r?.total);
      await new Promise((x) => setTimeout(x, 200));
    }
    const bytes = await written;
    await fh.sync();
    await fh.close();
    await rename(f.partial, f.state);
    onProgress(1);
    return bytes;
  } catch (e) {
    (conn as Socket | null)?.destroy();
    await fh.close().catch(() => {});
    await rm(f.partial, { force: true });
    throw e;
  } finally {
    (server as Server | null)?.close();
    await rm(sock, { force: true });
  }
}

export const writeSavedMeta = (p: VmPaths, meta: SavedMeta) => writeJsonAtomic(savedFiles(p).meta, meta, 0o600);

/** Waits for QEMU started with `-incoming` to have read the whole state (it stays paused: -S). */
export async function waitIncoming(qmp: QmpClient, onProgress?: (fraction: number | null) => void): Promise<void> {
  for (;;) {
    const info = await qmp.execute<MigrateInfo>('query-migrate');
    const st = info.status ?? 'none';
    if (st === 'completed') return;
    if (st === 'failed' || st === 'cancelled') {
      throw new VireoError('QEMU_FAILED', `the saved state could not be loaded: ${info['error-desc'] ?? st}`);
    }
    onProgress?.(null);
    await new Promise((x) => setTimeout(x, 100));
  }
}

/**
 * The first difference between the saved QEMU command line and the one a start would use now,
 * other than the VM's name (`-name`, a label the guest never sees: renaming stays allowed).
 */
export function argvDifference(saved: readonly string[], now: readonly string[]): string | null {
  const n = Math.max(saved.length, now.length);
  for (let i = 0; i < n; i++) {
    if (i > 0 && saved[i - 1] === '-name' && now[i - 1] === '-name') continue;
    if (saved[i] !== now[i]) return `was ${saved[i] ?? '(nothing)'}, now ${now[i] ?? '(nothing)'}`;
  }
  return null;
}
