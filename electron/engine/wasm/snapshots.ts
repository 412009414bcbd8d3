import { copyFile, mkdir, rename, rm, readFile } from 'node:fs/promises';
import { createWriteStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { VireoError } from '../../api/errors.ts';
import { writeFileAtomic } from '../util/fs-atomic.ts';
import type { LibraryEntry } from '../library/library.ts';
import type { VmConfig } from '../../api/schemas/vm-config.ts';
import { loadMeta, saveMeta, type SnapshotMeta } from '../snapshots/meta.ts';
import { thumbPath } from '../snapshots/files.ts';
import { v86SnapDir } from '../snapshots/v86-source.ts';

/** What snapshots need of the drives (drives.ts WasmDrives; an interface here, so the two do not import each other). */
export interface V86DriveAccess {
  v86Entry(ref: string): { entry: LibraryEntry; config: VmConfig };
  requireLease(id: string, name: string, lease: string | undefined): void;
  drive(ref: string, name: string): Promise<{ path: string; size: number; writable: boolean }>;
}

// Snapshots of a wasm/v86 VM (issue 20): v86's save_state (RAM and devices, taken in the page
// after its dirty blocks are flushed) plus a copy of every writable drive at that moment, so a
// restore brings back RAM and disks together. They are nodes of the VM's snapshot tree, the one
// QEMU VMs have (snapshots.json, shown and reconciled by engine/snapshots/: rename, delete and
// thumbnails from the Snapshots tab), each backed by <vm>/snapshots/<id>/v86/ (state.bin,
// <drive>.img; snapshots/v86-source.ts), written into a temp folder and renamed, so a half-taken
// snapshot never shows up. Taking and restoring need the page: only it has the guest's state.

export const MAX_STATE_BYTES = 2 * 1024 ** 3;

export interface V86Snapshot {
  id: string;
  name: string;
  createdAt: string;
  parent: string | null;
  hasThumbnail: boolean;
}

const ID_RE = /^[a-z0-9]{12}$/;

export class WasmSnapshots {
  /** the VM's operation lock (VmService.locks, set by WasmDrives.attach), so the tree is written by one at a time */
  lock: <T>(vmId: string, fn: () => Promise<T>) => Promise<T> = (_id, fn) => fn();
  /** told when the tree changed (the snapshots.changed event) */
  changed: (vmId: string) => void = () => {};

  constructor(private readonly drives: V86DriveAccess) {}

  /** The tree's snapshots that are v86 states (all of a v86 VM's, once reconciled). */
  async list(ref: string): Promise<V86Snapshot[]> {
    const { entry } = this.drives.v86Entry(ref);
    const meta = await loadMeta(entry.paths.snapshotsMeta);
    return meta.nodes
      .filter((n) => existsSync(join(v86SnapDir(entry, n.id), 'state.bin')))
      .map((n) => ({ id: n.id, name: n.name, createdAt: n.createdAt, parent: n.parent, hasThumbnail: existsSync(thumbPath(entry, n.id)) }))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  private async update(entry: LibraryEntry, fn: (m: SnapshotMeta) => SnapshotMeta): Promise<void> {
    await this.lock(entry.id, async () => saveMeta(entry.paths.snapshotsMeta, fn(await loadMeta(entry.paths.snapshotsMeta))));
    this.changed(entry.id);
  }

  /** Take one: `state` streams v86's saved state; the holder's drives are copied as they are now. */
  async save(ref: string, lease: string | undefined, name: string, state: Readable, thumbnail: Buffer | null): Promise<V86Snapshot> {
    const { entry, config } = this.drives.v86Entry(ref);
    this.drives.requireLease(entry.id, config.name, lease);
    const clean = name.trim().slice(0, 80);
    if (!clean) throw new VireoError('INVALID_ARGUMENT', 'a snapshot needs a name', { field: 'name' });
    const id = randomBytes(6).toString('hex');
    const dir = v86SnapDir(entry, id);
    const tmp = `${dir}.tmp`;
    await mkdir(tmp, { recursive: true });
    try {
      let n = 0;
      state.on('data', (c: Buffer) => {
        n += c.length;
        if (n > MAX_STATE_BYTES) state.destroy(new VireoError('INVALID_ARGUMENT', `a v86 state may be at most ${MAX_STATE_BYTES} bytes`));
      });
      await pipeline(state, createWriteStream(join(tmp, 'state.bin')));
      for (const d of config.disks) {
        const drive = await this.drives.drive(entry.id, d.id);
        if (drive.writable) await copyFile(drive.path, join(tmp, `${d.id}.img`));
      }
      if (thumbnail) await writeFileAtomic(thumbPath(entry, id), thumbnail);
      await rename(tmp, dir);
    } catch (e) {
      await rm(tmp, { recursive: true, force: true });
      throw e;
    }
    const snap: V86Snapshot = { id, name: clean, createdAt: new Date().toISOString(), parent: null, hasThumbnail: !!thumbnail };
    // Into the tree, below the current node, and current from now on (as a QEMU snapshot is).
    await this.update(entry, (m) => {
      snap.parent = m.current && m.nodes.some((x) => x.id === m.current) ? m.current : null;
      const node = { ...snap, description: '', live: true, vmState: 'running' as const };
      return { ...m, nodes: [...m.nodes.filter((x) => x.id !== id), node], current: id }; // a reconcile in between may have adopted it
    });
    return snap;
  }

  private async find(ref: string, id: string) {
    const { entry, config } = this.drives.v86Entry(ref);
    if (!ID_RE.test(id)) throw new VireoError('INVALID_ARGUMENT', `no snapshot id "${id.slice(0, 20)}"`);
    const snap = (await this.list(entry.id)).find((s) => s.id === id);
    if (!snap) throw new VireoError('NOT_FOUND', `"${config.name}" has no v86 snapshot ${id}`);
    return { entry, config, dir: v86SnapDir(entry, id), snap };
  }

  statePath = async (ref: string, id: string) => join((await this.find(ref, id)).dir, 'state.bin');

  async thumbnail(ref: string, id: string): Promise<Buffer | null> {
    const { entry } = await this.find(ref, id);
    return readFile(thumbPath(entry, id)).catch(() => null);
  }

  async setThumbnail(ref: string, lease: string | undefined, id: string, png: Buffer): Promise<V86Snapshot> {
    const { entry, config, snap } = await this.find(ref, id);
    this.drives.requireLease(entry.id, config.name, lease);
    if (png.subarray(0, 8).toString('latin1') !== '\x89PNG\r\n\x1a\n') throw new VireoError('INVALID_ARGUMENT', 'a thumbnail must be a PNG image');
    await writeFileAtomic(thumbPath(entry, id), png);
    await this.update(entry, (m) => ({ ...m, nodes: m.nodes.map((n) => (n.id === id ? { ...n, hasThumbnail: true } : n)) }));
    return { ...snap, hasThumbnail: true };
  }

  /** Put the snapshot's drives back (the holder only, its guest stopped); the page then loads its state. */
  async restoreDrives(ref: string, lease: string | undefined, id: string): Promise<V86Snapshot> {
    const { entry, config, dir, snap } = await this.find(ref, id);
    this.drives.requireLease(entry.id, config.name, lease);
    for (const d of config.disks) {
      const drive = await this.drives.drive(entry.id, d.id);
      if (!drive.writable) continue;
      const from = join(dir, `${d.id}.img`);
      const tmp = `${drive.path}.v86-restore`;
      await copyFile(from, tmp);
      await rename(tmp, drive.path);
    }
    await this.update(entry, (m) => ({ ...m, current: id }));
    return snap;
  }
}
