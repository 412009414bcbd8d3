import { mkdir, readdir, readFile, rename, rm, rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { LibraryEntry } from '../library/library.ts';
import type { ImageTags, SnapshotMeta } from './meta.ts';
import { snapDir, thumbPath } from './files.ts';

// Where a wasm/v86 VM's snapshots are true (issue 20): a raw image holds no internal
// snapshots, so each of its nodes in the VM's snapshot tree (snapshots.json, the tree QEMU VMs
// use) is backed by a folder <vm>/snapshots/<id>/v86/ with v86's saved state and copies of the
// writable drives (engine/wasm/snapshots.ts writes it, renamed into place whole). The
// reconcile in meta.ts reads these folders as the tags of one image, "v86": a node whose folder
// is gone leaves the tree, a folder the tree does not know is adopted.

export const V86_IMAGE = 'v86';

export const v86SnapDir = (entry: LibraryEntry, id: string) => join(snapDir(entry, id), 'v86');

/** The snapshots the VM's folder holds, as reconcile's tags of the one image "v86". */
export async function v86Tags(entry: LibraryEntry): Promise<ImageTags> {
  const tags = new Map<string, { vmStateSize: number; dateSec: number }>();
  const root = join(entry.paths.dir, 'snapshots');
  for (const id of await readdir(root).catch(() => [] as string[])) {
    const s = await stat(join(v86SnapDir(entry, id), 'state.bin')).catch(() => null);
    if (s?.isFile()) tags.set(id, { vmStateSize: s.size, dateSec: Math.floor(s.mtimeMs / 1000) });
  }
  return new Map([[V86_IMAGE, tags]]);
}

/** Removes a snapshot's folder (a tag reconcile gave up on). */
export async function v86Purge(entry: LibraryEntry, tag: string): Promise<void> {
  await rm(v86SnapDir(entry, tag), { recursive: true, force: true });
}

/**
 * Snapshots of the first v86 layout (<vm>/v86-snapshots/<id>/ with its own meta.json, a tree
 * of its own) moved into this one, their names and parents kept: run before the reconcile,
 * which would otherwise not see them. Returns the tree with them added (unsaved).
 */
export async function adoptLegacyV86(entry: LibraryEntry, meta: SnapshotMeta): Promise<SnapshotMeta> {
  const old = join(entry.paths.dir, 'v86-snapshots');
  const ids = (await readdir(old).catch(() => [] as string[])).filter((n) => /^[a-z0-9]{12}$/.test(n));
  const nodes = [...meta.nodes];
  let current = meta.current;
  for (const id of ids) {
    const from = join(old, id);
    const m = JSON.parse(await readFile(join(from, 'meta.json'), 'utf8').catch(() => 'null')) as { name?: string; createdAt?: string; parent?: string | null } | null;
    if (!m?.name || nodes.some((n) => n.id === id)) continue;
    await rename(join(from, 'thumb.png'), thumbPath(entry, id)).catch(() => {});
    await mkdir(snapDir(entry, id), { recursive: true });
    await rename(from, v86SnapDir(entry, id));
    nodes.push({ id, name: m.name, description: '', createdAt: m.createdAt ?? new Date().toISOString(), parent: m.parent ?? null, live: true, vmState: 'running', hasThumbnail: false });
    current = id;
  }
  // what is left is a half-taken one (no meta.json, never renamed into place) or one the tree already has: kept
  await rmdir(old).catch(() => {});
  return ids.length ? { ...meta, nodes, current } : meta;
}
