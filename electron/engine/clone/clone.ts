import { existsSync } from 'node:fs';
import { chmod, copyFile, cp, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, isAbsolute, join, relative } from 'node:path';
import { VireoError } from '../../api/errors.ts';
import type { EventBus } from '../../api/dispatch.ts';
import type { VmDetails } from '../../api/types.ts';
import { VmConfigSchema, type Disk, type VmConfig } from '../../api/schemas/vm-config.ts';
import type { HostService } from '../host.ts';
import type { Jobs, JobContext } from '../jobs.ts';
import type { VmService } from '../vm/service.ts';
import { newMac, type LibraryEntry } from '../library/library.ts';
import { requireState } from '../vm/state-machine.ts';
import { writeJsonAtomic } from '../util/fs-atomic.ts';
import { QemuImg } from '../disk/qemu-img.ts';
import type { SnapshotMeta } from '../snapshots/meta.ts';
import type { SnapshotImage } from '../snapshots/images.ts';

// Clones. Full: a new VM whose disks are standalone qcow2 copies (optionally of a snapshot).
// Linked: the source's disks become read-only bases in the source's folder; source and clone
// each get a fresh qcow2 overlay on them. The source keeps a record of its linked clones
// (linked-clones.json) so it cannot be deleted from under them.

interface LinkedRecord {
  clones: Array<{ id: string; name: string; bases: string[]; createdAt: string }>;
}

export interface CloneDeps {
  /** the reconciled snapshot metadata of a VM (taken under the VM's snapshot lock) */
  tree(entry: LibraryEntry): Promise<SnapshotMeta>;
  images(entry: LibraryEntry): SnapshotImage[];
}

const linkedFile = (entry: LibraryEntry) => join(entry.paths.dir, 'linked-clones.json');

async function readLinked(entry: LibraryEntry): Promise<LinkedRecord> {
  try {
    const r = JSON.parse(await readFile(linkedFile(entry), 'utf8')) as LinkedRecord;
    return Array.isArray(r.clones) ? r : { clones: [] };
  } catch {
    return { clones: [] };
  }
}

export class CloneService {
  constructor(
    private readonly vms: VmService,
    private readonly host: HostService,
    private readonly jobs: Jobs,
    private readonly bus: EventBus,
    private readonly deps: CloneDeps,
  ) {}

  async assertNotBase(id: string): Promise<void> {
    const entry = this.vms.library.get(id);
    if (!entry) return;
    const rec = await readLinked(entry);
    const alive = rec.clones.filter((c) => this.vms.library.get(c.id));
    if (alive.length === 0) return;
    const names = alive.map((c) => `"${this.vms.library.get(c.id)?.config?.name ?? c.name}"`);
    throw new VireoError(
      'IN_USE',
      `"${entry.config?.name ?? id}" is the base of linked clone${alive.length > 1 ? 's' : ''} ${names.join(', ')}: delete ${alive.length > 1 ? 'them' : 'it'} first, or replace ${alive.length > 1 ? 'each' : 'it'} with a full clone (vireo clone <clone> <new name>)`,
      { dependents: alive.map((c) => ({ id: c.id, name: this.vms.library.get(c.id)?.config?.name ?? c.name })) },
    );
  }

  async clone(ref: string, name: string, o: { linked?: boolean; fromSnapshot?: string }): Promise<VmDetails> {
    const src = this.vms.resolve(ref);
    if (!src.config) throw new VireoError('BROKEN_CONFIG', `VM ${src.id} cannot be cloned: ${src.broken}`, { id: src.id });
    const srcConfig = src.config;
    const m = this.vms.machineFor(src);
    this.vms.library.checkName(name);
    let snapshotTag: string | null = null;
    if (o.fromSnapshot) {
      const meta = await this.deps.tree(src);
      const node = meta.nodes.find((n) => n.id === o.fromSnapshot) ?? (meta.nodes.filter((n) => n.name === o.fromSnapshot).length === 1 ? meta.nodes.find((n) => n.name === o.fromSnapshot) : undefined);
      if (!node) throw new VireoError('NOT_FOUND', `"${srcConfig.name}" has no snapshot "${o.fromSnapshot}" (or several share that name): run \`vireo snapshot list ${srcConfig.name}\` and use its id`, { snapshot: o.fromSnapshot });
      snapshotTag = node.id;
    }
    if (o.linked) {
      if (snapshotTag) {
        throw new VireoError('UNSUPPORTED', `a linked clone is built on the current disks, not on a snapshot: make a full clone from snapshot "${o.fromSnapshot}" instead (omit --linked)`);
      }
      requireState('make a linked clone of', srcConfig.name, m.state, ['stopped', 'crashed']);
      const meta = await this.deps.tree(src);
      if (meta.nodes.length) {
        // The disks become a base under a new overlay; their internal snapshots would stay in
        // the base, where the overlay cannot restore them.
        throw new VireoError(
          'UNSUPPORTED',
          `"${srcConfig.name}" has ${meta.nodes.length} snapshot${meta.nodes.length > 1 ? 's' : ''}, which a linked clone would make unrestorable: make a full clone instead, or delete its snapshots first`,
          { snapshots: meta.nodes.length },
        );
      }
    } else if (!snapshotTag) {
      requireState('clone', srcConfig.name, m.state, ['stopped', 'crashed']);
    }

    const title = `${o.linked ? 'Linked clone' : 'Clone'} of "${srcConfig.name}" as "${name}"`;
    const rollback: Array<() => Promise<void>> = [];
    let entry: LibraryEntry;
    try {
      entry = await this.jobs.run({ kind: 'clone', title, vmId: src.id, cancellable: true }, (job) =>
        this.vms.library.create(name, async (staging, id) => {
          const disks = o.linked
            ? await this.linkDisks(src, staging, id, name, rollback)
            : await this.copyDisks(src, staging, snapshotTag, m.isActive, job);
          await this.copyNvramAndTpm(src, staging, snapshotTag, m.isActive);
          job.progress(1);
          const next: VmConfig = {
            ...structuredClone(srcConfig),
            id,
            name,
            createdAt: new Date().toISOString(),
            networks: srcConfig.networks.map((n) => ({ ...n, mac: newMac() })),
            disks,
          };
          return VmConfigSchema.parse(next);
        }),
      );
    } catch (e) {
      for (const undo of rollback.reverse()) await undo().catch(() => {});
      throw e;
    }
    this.vms.machineFor(entry);
    this.bus.emit('vm.changed', { id: entry.id });
    if (o.linked) this.bus.emit('vm.changed', { id: src.id });
    return this.vms.details(entry.id);
  }

  private async copyDisks(src: LibraryEntry, staging: string, tag: string | null, active: boolean, job: JobContext): Promise<Disk[]> {
    const img = new QemuImg(await this.host.qemuImg());
    const c = src.config!;
    const inSnapshot = new Set(this.deps.images(src).map((i) => i.node));
    const sizes = await Promise.all(c.disks.map(async (d) => (await stat(this.vms.diskPath(src, d.file)).catch(() => null))?.size ?? 1));
    const total = sizes.reduce((a, b) => a + b, 0) || 1;
    let done = 0;
    const out: Disk[] = [];
    for (const [i, d] of c.disks.entries()) {
      const path = this.vms.diskPath(src, d.file);
      if (d.readOnly && isAbsolute(d.file)) {
        // A shared read-only image elsewhere (an installer, a data set) is referenced, not copied.
        out.push({ ...d });
        continue;
      }
      const file = `${d.id}.qcow2`;
      const fromSnap = tag !== null && inSnapshot.has(d.id);
      await img.convert(path, join(staging, file), {
        fromFormat: d.format,
        toFormat: 'qcow2',
        snapshot: fromSnap ? tag! : undefined,
        forceShare: active,
        signal: job.signal,
        onProgress: (f) => job.progress(((done + f * sizes[i]!) / total) * 0.95),
      });
      done += sizes[i]!;
      out.push({ ...d, file, format: 'qcow2' });
    }
    return out;
  }

  /** Turns each writable disk of the (stopped) source into a base shared by two overlays. */
  private async linkDisks(src: LibraryEntry, staging: string, cloneId: string, cloneName: string, rollback: Array<() => Promise<void>>): Promise<Disk[]> {
    const img = new QemuImg(await this.host.qemuImg());
    const c = src.config!;
    const out: Disk[] = [];
    const bases: string[] = [];
    for (const d of c.disks) {
      if (d.readOnly) {
        out.push(isAbsolute(d.file) ? { ...d } : { ...d, file: join(src.paths.dir, d.file) });
        continue;
      }
      if (d.format !== 'qcow2') {
        throw new VireoError('UNSUPPORTED', `disk ${d.id} of "${c.name}" is ${d.format}: linked clones need qcow2 disks; convert it or make a full clone`);
      }
      const path = this.vms.diskPath(src, d.file);
      const baseName = `base-${cloneId.slice(0, 8)}-${d.id}.qcow2`;
      const base = join(src.paths.dir, baseName);
      await rename(path, base);
      rollback.push(async () => {
        await chmod(base, 0o644);
        await rm(path, { force: true });
        await rename(base, path);
      });
      // Read-only on the host too: a base written by anything would corrupt both overlays.
      await chmod(base, 0o444);
      const sourceRef = join(path, '..') === src.paths.dir ? baseName : base;
      await img.create(path, { format: 'qcow2', backingFile: sourceRef, backingFormat: 'qcow2' });
      // Relative to the clone's folder, so the library can move as a whole.
      const cloneRef = join('..', basename(src.paths.dir), baseName);
      const file = `${d.id}.qcow2`;
      await img.create(join(staging, file), { format: 'qcow2', backingFile: cloneRef, backingFormat: 'qcow2' });
      out.push({ ...d, file, format: 'qcow2' });
      bases.push(baseName);
    }
    const rec = await readLinked(src);
    const before = structuredClone(rec);
    rec.clones.push({ id: cloneId, name: cloneName, bases, createdAt: new Date().toISOString() });
    await writeJsonAtomic(linkedFile(src), rec);
    rollback.push(() => writeJsonAtomic(linkedFile(src), before));
    return out;
  }

  private async copyNvramAndTpm(src: LibraryEntry, staging: string, tag: string | null, active: boolean) {
    const img = new QemuImg(await this.host.qemuImg());
    const nq = join(src.paths.dir, 'nvram.qcow2');
    const nf = join(src.paths.dir, 'nvram.fd');
    if (existsSync(nq)) {
      await img.convert(nq, join(staging, 'nvram.qcow2'), { fromFormat: 'qcow2', toFormat: 'qcow2', snapshot: tag ?? undefined, forceShare: active });
    } else if (existsSync(nf)) {
      await copyFile(nf, join(staging, 'nvram.fd'));
    }
    const tpmSrc = tag ? join(src.paths.dir, 'snapshots', tag, 'tpm') : src.paths.tpmState;
    if (existsSync(tpmSrc)) await cp(tpmSrc, join(staging, relative(src.paths.dir, src.paths.tpmState)), { recursive: true });
  }
}
