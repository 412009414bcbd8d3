import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeJsonAtomic } from '../util/fs-atomic.ts';
import type { VmLocks } from '../vm/locks.ts';

// Shared read-only bases of linked clones made from a snapshot (or from the current state of a
// VM that has snapshots): <home>/bases/<id>/ holds one standalone qcow2 per disk, exported
// once from the source, and base.json names the source and the clones built on it. A base is
// independent of its source (the source keeps its disks and whole snapshot tree, and may even
// be deleted); it lives while one clone needs it and goes with the last one.

const BaseSchema = z.object({
  version: z.literal(1),
  id: z.string(),
  /** what the base was exported from; clones of the same key share it */
  key: z.string(),
  source: z.object({ vmId: z.string(), vmName: z.string(), snapshotId: z.string().nullable(), snapshotName: z.string().nullable() }),
  createdAt: z.string(),
  /** disk id → file in the base folder */
  disks: z.record(z.string(), z.string()),
  /** kept: the clone was deleted with its disks kept (vms.delete keepDisks), which still need the base */
  clones: z.array(z.object({ id: z.string(), name: z.string(), kept: z.boolean().optional() })),
});
export type BaseRecord = z.infer<typeof BaseSchema>;

const LOCK = 'clone-bases';

export class BaseStore {
  readonly root: string;

  constructor(
    home: string,
    private readonly locks: VmLocks,
  ) {
    this.root = join(home, 'bases');
  }

  private file(id: string) {
    return join(this.root, id, 'base.json');
  }

  async list(): Promise<BaseRecord[]> {
    const names = await readdir(this.root).catch(() => [] as string[]);
    const out: BaseRecord[] = [];
    for (const n of names) {
      if (n.startsWith('.')) continue;
      try {
        out.push(BaseSchema.parse(JSON.parse(await readFile(this.file(n), 'utf8'))));
      } catch {
        // A folder without a readable record is never reused, and never removed: it may hold
        // the only copy of a disk some clone still needs.
      }
    }
    return out;
  }

  /**
   * The base for `key` with `clone` added to its users: the existing one when every disk file
   * is there, else a new one that `make(dir)` fills (disk id → file). One at a time per
   * library, so two clones of one snapshot never export it twice, and a release never removes
   * a base a clone is just joining.
   */
  acquire(key: string, source: BaseRecord['source'], clone: { id: string; name: string }, make: (dir: string) => Promise<Record<string, string>>): Promise<{ record: BaseRecord; dir: string; created: boolean }> {
    return this.locks.run(LOCK, 'a linked clone base', async () => {
      const found = (await this.list()).find((b) => b.key === key && Object.values(b.disks).every((f) => existsSync(join(this.root, b.id, f))));
      if (found) {
        found.clones.push(clone);
        await writeJsonAtomic(this.file(found.id), found);
        return { record: found, dir: join(this.root, found.id), created: false };
      }
      const id = randomUUID();
      const staging = join(this.root, `.creating-${id}`);
      await mkdir(staging, { recursive: true });
      try {
        const disks = await make(staging);
        const record: BaseRecord = { version: 1, id, key, source, createdAt: new Date().toISOString(), disks, clones: [clone] };
        await writeJsonAtomic(join(staging, 'base.json'), record);
        await rename(staging, join(this.root, id));
        return { record, dir: join(this.root, id), created: true };
      } catch (e) {
        await rm(staging, { recursive: true, force: true });
        throw e;
      }
    });
  }

  /**
   * The clone no longer needs its base (deleted, or its creation failed); the last one removes
   * it. Returns the ids of the VMs the bases were made from.
   */
  release(cloneId: string, opts: { keptDisks?: boolean } = {}): Promise<string[]> {
    return this.locks.run(LOCK, 'a linked clone base', async () => {
      const sources: string[] = [];
      for (const b of await this.list()) {
        if (!b.clones.some((c) => c.id === cloneId)) continue;
        sources.push(b.source.vmId);
        // Kept disks still point at their base: it stays for them.
        b.clones = opts.keptDisks ? b.clones.map((c) => (c.id === cloneId ? { ...c, kept: true } : c)) : b.clones.filter((c) => c.id !== cloneId);
        if (b.clones.length === 0) await rm(join(this.root, b.id), { recursive: true, force: true });
        else await writeJsonAtomic(this.file(b.id), b);
      }
      return sources;
    });
  }

  /**
   * What a killed engine left: half-exported bases (staging folders) and users that are gone
   * (a clone deleted between its removal and its release). `alive` says which clones still
   * exist, those being created included.
   */
  sweep(alive: (cloneId: string) => boolean): Promise<void> {
    return this.locks.run(LOCK, 'a linked clone base', async () => {
      for (const n of await readdir(this.root).catch(() => [] as string[])) {
        if (n.startsWith('.creating-')) await rm(join(this.root, n), { recursive: true, force: true });
      }
      for (const b of await this.list()) {
        const users = b.clones.filter((c) => c.kept || alive(c.id));
        if (users.length === b.clones.length) continue;
        if (users.length === 0) await rm(join(this.root, b.id), { recursive: true, force: true });
        else await writeJsonAtomic(this.file(b.id), { ...b, clones: users });
      }
    });
  }
}
