import { existsSync } from 'node:fs';
import { cp, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { LibraryEntry } from '../library/library.ts';

// Files a snapshot keeps beside the images: its thumbnail, and a copy of swtpm's state (plain
// files, which QEMU's internal snapshots do not cover).

export function thumbPath(entry: LibraryEntry, id: string) {
  return join(entry.paths.thumbnails, `${id}.png`);
}

export function snapDir(entry: LibraryEntry, id: string) {
  return join(entry.paths.dir, 'snapshots', id);
}

export async function saveTpm(entry: LibraryEntry, id: string) {
  if (!entry.config?.system.tpm || !existsSync(entry.paths.tpmState)) return;
  const dest = join(snapDir(entry, id), 'tpm');
  await rm(dest, { recursive: true, force: true });
  await cp(entry.paths.tpmState, dest, { recursive: true });
}

/** Only while swtpm is not running: it owns the state files while the VM runs. */
export async function restoreTpm(entry: LibraryEntry, id: string) {
  const src = join(snapDir(entry, id), 'tpm');
  if (!existsSync(src)) return;
  const tmp = join(entry.paths.dir, `.tpm-restore-${id}`);
  await rm(tmp, { recursive: true, force: true });
  await cp(src, tmp, { recursive: true });
  await rm(entry.paths.tpmState, { recursive: true, force: true });
  await rename(tmp, entry.paths.tpmState);
}

export async function removeNodeFiles(entry: LibraryEntry, id: string) {
  await rm(thumbPath(entry, id), { force: true });
  await rm(snapDir(entry, id), { recursive: true, force: true });
}
