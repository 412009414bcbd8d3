import { lstat, readFile, readdir, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, join } from 'node:path';
import type { BackupEntry, BackupSchedule } from '../../api/backup-types.ts';
import { writeJsonAtomic } from '../util/fs-atomic.ts';
import { isAlive, type EngineId } from '../util/engine-id.ts';

// A VM's backup catalog: <target>/<vm id>/catalog.json beside the backup files, so a backup
// folder carried to another host still says what it holds. Written whole and atomically
// (temp file, fsync, rename) at every step: a kill -9 at any moment leaves the previous or the
// next catalog, never a torn one. A backup is entered as "running" (with the engine that runs
// it) before its first byte is written and becomes "good" only after its files are complete
// and renamed into place; the next engine turns a "running" entry whose engine is gone into
// "failed" and deletes its partial files (recover()).
//
// The VM's own backup settings (the folder last chosen and the schedule) live in its library
// folder, <vm dir>/backup.json, so the engine finds every catalog at start.


export interface StoredEntry extends BackupEntry {
  /** the engine writing it, while running */
  engine?: EngineId;
  /** the temp files it writes, while running */
  partials?: string[];
}

export interface CatalogFile {
  version: 1;
  vmId: string;
  vmName: string;
  backups: StoredEntry[];
}

export interface BackupSettings {
  version: 1;
  target: string | null;
  schedule: BackupSchedule | null;
}

export const CATALOG = 'catalog.json';
export const SETTINGS = 'backup.json';
/** Only files of the shape our backups write are deleted, whatever a catalog says. */
const PARTIAL_RE = /^\..+\.[0-9a-f]{8}\.partial$/;

export const vmBackupDir = (target: string, vmId: string) => join(target, vmId);

export function newBackupId(now = new Date()): string {
  const t = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${t}-${randomBytes(2).toString('hex')}`;
}

export async function readCatalog(dir: string, vmId: string, vmName: string): Promise<CatalogFile> {
  try {
    const j = JSON.parse(await readFile(join(dir, CATALOG), 'utf8')) as Partial<CatalogFile>;
    const backups = Array.isArray(j.backups) ? j.backups.filter((b) => b && typeof b.id === 'string' && typeof b.state === 'string') : [];
    return { version: 1, vmId: j.vmId ?? vmId, vmName: j.vmName ?? vmName, backups };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, vmId, vmName, backups: [] };
    throw e;
  }
}

export const writeCatalog = (dir: string, c: CatalogFile) => writeJsonAtomic(join(dir, CATALOG), c, 0o600);

export async function readSettings(vmDir: string): Promise<BackupSettings> {
  try {
    const j = JSON.parse(await readFile(join(vmDir, SETTINGS), 'utf8')) as Partial<BackupSettings>;
    return { version: 1, target: typeof j.target === 'string' ? j.target : null, schedule: j.schedule ?? null };
  } catch {
    return { version: 1, target: null, schedule: null };
  }
}

export const writeSettings = (vmDir: string, s: BackupSettings) => writeJsonAtomic(join(vmDir, SETTINGS), s, 0o600);

/** What the API shows of an entry: the engine's bookkeeping stays in the file. */
export function publicEntry(e: StoredEntry): BackupEntry {
  const { engine: _e, partials: _p, ...rest } = e;
  return { ...rest, firmware: rest.firmware ?? null };
}

/** Good entries from the full one up to `id`, oldest first; null when a link is missing or not good. */
export function chainTo(c: CatalogFile, id: string): StoredEntry[] | null {
  const byId = new Map(c.backups.map((b) => [b.id, b]));
  const out: StoredEntry[] = [];
  let cur = byId.get(id);
  while (cur) {
    if (cur.state !== 'good') return null;
    out.unshift(cur);
    if (cur.type === 'full') return out;
    cur = cur.parent ? byId.get(cur.parent) : undefined;
  }
  return null;
}

export function newestGood(c: CatalogFile): StoredEntry | null {
  return [...c.backups].filter((b) => b.state === 'good').sort((a, b) => b.startedAt.localeCompare(a.startedAt))[0] ?? null;
}

/**
 * Running entries of engines that are gone become failed, their partial files removed. With
 * `sweep` (at engine start, when nothing of this engine runs yet) partial files no entry
 * claims go too: a killed verify's temp copy, or a folder copied by hand mid-backup.
 */
export async function recoverCatalog(dir: string, c: CatalogFile, sweep = false): Promise<{ changed: boolean; interrupted: StoredEntry[] }> {
  const interrupted: StoredEntry[] = [];
  for (const b of c.backups) {
    if (b.state !== 'running' || (b.engine && isAlive(b.engine))) continue;
    // Gone either way: removed here, or already by the next engine's jobs sweep (jobs.ts).
    const removed: string[] = [];
    for (const p of b.partials ?? []) {
      const file = join(dir, basename(p));
      await removePartial(file);
      if (!(await lstat(file).then(() => true, () => false))) removed.push(basename(p));
    }
    b.state = 'failed';
    b.endedAt = b.endedAt ?? new Date().toISOString();
    b.error = `interrupted: the engine taking it (pid ${b.engine?.pid ?? '?'}) stopped before it finished${removed.length ? `; its unfinished ${removed.join(', ')} is removed` : ''}: take a new backup`;
    delete b.engine;
    delete b.partials;
    interrupted.push(b);
  }
  if (!sweep) return { changed: interrupted.length > 0, interrupted };
  const claimed = new Set(c.backups.filter((b) => b.state === 'running').flatMap((b) => (b.partials ?? []).map((p) => basename(p))));
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (PARTIAL_RE.test(name) && !claimed.has(name)) await removePartial(join(dir, name));
  }
  return { changed: interrupted.length > 0, interrupted };
}

async function removePartial(p: string): Promise<boolean> {
  if (!PARTIAL_RE.test(basename(p))) return false;
  const st = await lstat(p).catch(() => null);
  // A regular file only: a symlink planted under that name must not steer a delete elsewhere.
  if (!st?.isFile()) return false;
  return rm(p, { force: true }).then(() => true, () => false);
}

