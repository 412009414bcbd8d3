import { copyFile, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { VireoError } from '../../api/errors.ts';
import { writeJsonAtomic } from '../util/fs-atomic.ts';
import type { LibraryEntry } from '../library/library.ts';
import type { VmConfig } from '../../api/schemas/vm-config.ts';

/** What snapshots need of the drives (drives.ts WasmDrives; an interface here, so the two do not import each other). */
export interface V86DriveAccess {
  v86Entry(ref: string): { entry: LibraryEntry; config: VmConfig };
  requireLease(id: string, name: string, lease: string | undefined): void;
  drive(ref: string, name: string): Promise<{ path: string; size: number; writable: boolean }>;
}

// Snapshots of a wasm/v86 VM (issue 20): v86's save_state (RAM and devices, taken in the page
// after its dirty blocks are flushed) plus a copy of every writable drive at that moment, so a
// restore brings back RAM and disks together. One folder per snapshot under
// <vm>/v86-snapshots/<id>/ (state.bin, <drive>.img, thumb.png, meta.json), written into a temp
// folder and renamed, so a half-taken snapshot never shows up. They are not yet in the QEMU
// snapshot tree (snapshots/), whose nodes are qcow2 internal snapshots of the VM's images.

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
  constructor(private readonly drives: V86DriveAccess) {}

  private dir(entry: LibraryEntry) {
    return join(entry.paths.dir, 'v86-snapshots');
  }

  async list(ref: string): Promise<V86Snapshot[]> {
    const { entry } = this.drives.v86Entry(ref);
    const names = await readdir(this.dir(entry)).catch(() => [] as string[]);
    const out: V86Snapshot[] = [];
    for (const n of names.filter((x) => ID_RE.test(x))) {
      try {
        out.push(JSON.parse(await readFile(join(this.dir(entry), n, 'meta.json'), 'utf8')) as V86Snapshot);
      } catch {
        // a folder without its meta is not a snapshot (never renamed into place)
      }
    }
    return out.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  /** Take one: `state` streams v86's saved state; the holder's drives are copied as they are now. */
  async save(ref: string, lease: string | undefined, name: string, state: Readable, thumbnail: Buffer | null): Promise<V86Snapshot> {
    const { entry, config } = this.drives.v86Entry(ref);
    this.drives.requireLease(entry.id, config.name, lease);
    const clean = name.trim().slice(0, 80);
    if (!clean) throw new VireoError('INVALID_ARGUMENT', 'a snapshot needs a name', { field: 'name' });
    const id = randomBytes(6).toString('hex');
    const tmp = join(this.dir(entry), `.tmp-${id}`);
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
      if (thumbnail) await writeFile(join(tmp, 'thumb.png'), thumbnail);
      const prior = await this.list(entry.id);
      const snap: V86Snapshot = { id, name: clean, createdAt: new Date().toISOString(), parent: prior.at(-1)?.id ?? null, hasThumbnail: !!thumbnail };
      await writeJsonAtomic(join(tmp, 'meta.json'), snap);
      await rename(tmp, join(this.dir(entry), id));
      return snap;
    } catch (e) {
      await rm(tmp, { recursive: true, force: true });
      throw e;
    }
  }

  private async find(ref: string, id: string) {
    const { entry, config } = this.drives.v86Entry(ref);
    if (!ID_RE.test(id)) throw new VireoError('INVALID_ARGUMENT', `no snapshot id "${id.slice(0, 20)}"`);
    const dir = join(this.dir(entry), id);
    const snap = (await this.list(entry.id)).find((s) => s.id === id);
    if (!snap) throw new VireoError('NOT_FOUND', `"${config.name}" has no v86 snapshot ${id}`);
    return { entry, config, dir, snap };
  }

  statePath = async (ref: string, id: string) => join((await this.find(ref, id)).dir, 'state.bin');

  async thumbnail(ref: string, id: string): Promise<Buffer | null> {
    const { dir } = await this.find(ref, id);
    return readFile(join(dir, 'thumb.png')).catch(() => null);
  }

  async setThumbnail(ref: string, lease: string | undefined, id: string, png: Buffer): Promise<V86Snapshot> {
    const { entry, config, dir, snap } = await this.find(ref, id);
    this.drives.requireLease(entry.id, config.name, lease);
    if (png.subarray(0, 8).toString('latin1') !== '\x89PNG\r\n\x1a\n') throw new VireoError('INVALID_ARGUMENT', 'a thumbnail must be a PNG image');
    await writeFile(join(dir, 'thumb.png.tmp'), png);
    await rename(join(dir, 'thumb.png.tmp'), join(dir, 'thumb.png'));
    const next = { ...snap, hasThumbnail: true };
    await writeJsonAtomic(join(dir, 'meta.json'), next);
    return next;
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
    return snap;
  }
}
