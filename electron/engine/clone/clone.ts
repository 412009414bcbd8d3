import { existsSync } from 'node:fs';
import { chmod, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, isAbsolute, join, relative } from 'node:path';
import { VireoError } from '../../api/errors.ts';
import type { EventBus } from '../../api/dispatch.ts';
import type { VmDetails } from '../../api/types.ts';
import type { CloneAvailability, CloneInfo } from '../../api/clone-types.ts';
import { VmConfigSchema, type Disk, type VmConfig } from '../../api/schemas/vm-config.ts';
import type { HostService } from '../host.ts';
import type { Jobs, JobContext } from '../jobs.ts';
import type { VmService } from '../vm/service.ts';
import { newMac, type LibraryEntry } from '../library/library.ts';
import { requireState } from '../vm/state-machine.ts';
import { writeJsonAtomic } from '../util/fs-atomic.ts';
import { QemuImg } from '../disk/qemu-img.ts';
import { loadMeta, type SnapshotMeta } from '../snapshots/meta.ts';
import type { SnapshotImage } from '../snapshots/images.ts';
import { BaseStore } from './bases.ts';
import { copyDisks, copyNvramAndTpm, copyWithTree } from './copy.ts';

// Clones. Full: a new VM whose disks are standalone qcow2 copies (of the current state or of a
// snapshot, without snapshots), or byte copies that keep the whole snapshot tree.
// Linked: a new VM whose disks are qcow2 overlays on a read-only base.
//  - Of the current state of a VM without snapshots, the source's disks become the base in its
//    own folder, and source and clone each get an overlay on it. The source keeps a record of
//    its linked clones (linked-clones.json) so it cannot be deleted from under them.
//  - From a snapshot, or of the current state of a VM with snapshots (whose internal snapshots
//    an overlay could not restore), the state is exported once into a shared base under
//    <home>/bases (bases.ts), reused by every linked clone of that snapshot; the source keeps
//    its disks and its whole tree. A template's current state likewise, shared by the VMs made
//    from it while its disks stay unchanged (so no chain of bases grows with each one).
// One clone at a time per source (the VM lock): two linked clones of one VM must not both turn
// its disks into bases.

interface LinkedRecord {
  clones: Array<{ id: string; name: string; bases: string[]; createdAt: string }>;
}

export interface CloneDeps {
  /** the reconciled snapshot metadata of a VM (taken under the VM's snapshot lock) */
  tree(entry: LibraryEntry): Promise<SnapshotMeta>;
  images(entry: LibraryEntry): SnapshotImage[];
}

export interface CloneOptions {
  linked?: boolean;
  fromSnapshot?: string;
  /** a full clone that keeps the source's snapshot tree */
  withSnapshots?: boolean;
  /** "new from template": a linked clone of a template's current state */
  fromTemplate?: boolean;
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

const yes: CloneAvailability = { available: true, reason: null };
const no = (reason: string): CloneAvailability => ({ available: false, reason });
const plural = (n: number, one: string, many: string) => (n === 1 ? one : many);

export class CloneService {
  readonly bases: BaseStore;
  /** clones being built: not in the library yet, but users of their base */
  private readonly creating = new Set<string>();
  private swept: Promise<void> | null = null;

  constructor(
    private readonly vms: VmService,
    private readonly host: HostService,
    private readonly jobs: Jobs,
    private readonly bus: EventBus,
    private readonly deps: CloneDeps,
  ) {
    this.bases = new BaseStore(vms.library.home, vms.locks);
    // A template is never started: its disks are what the VMs made from it build on.
    vms.startHooks.push({
      before: async (_entry, config) => {
        if (config.template) {
          throw new VireoError(
            'INVALID_STATE',
            `"${config.name}" is a template, and templates are not started: make a new VM from it (New from template), or turn off "Template" to start the template itself`,
            { template: true },
          );
        }
        return config;
      },
      after: async () => {},
    });
  }

  /** Once per engine, before bases are read or changed: what a killed engine left (bases.ts sweep). */
  private sweepOnce(): Promise<void> {
    this.swept ??= this.bases.sweep((id) => !!this.vms.library.get(id) || this.creating.has(id)).catch(() => {});
    return this.swept;
  }

  private nameOf(id: string, fallback: string): string {
    return this.vms.library.get(id)?.config?.name ?? fallback;
  }

  /** Linked clones (alive) that need this VM's own disks as their base. */
  private async ownDependents(entry: LibraryEntry) {
    const rec = await readLinked(entry);
    return rec.clones.filter((c) => this.vms.library.get(c.id)).map((c) => ({ id: c.id, name: this.nameOf(c.id, c.name) }));
  }

  /** Why this VM cannot be deleted because linked clones build on it, in the GUI's words; null when it can. */
  private async deleteBlocker(entry: LibraryEntry): Promise<{ message: string; dependents: Array<{ id: string; name: string }> } | null> {
    const alive = await this.ownDependents(entry);
    if (alive.length === 0) return null;
    const n = alive.length;
    const names = alive.map((c) => `"${c.name}"`).join(', ');
    return {
      message: `"${entry.config?.name ?? entry.id}" is the base of the linked ${plural(n, 'clone', 'clones')} ${names}, which would stop working without it: delete ${plural(n, 'that clone', 'those clones')} first, or make a full clone of ${plural(n, 'it', 'each')} and delete the linked ${plural(n, 'one', 'ones')}`,
      dependents: alive,
    };
  }

  async assertNotBase(id: string): Promise<void> {
    const entry = this.vms.library.get(id);
    if (!entry) return;
    const b = await this.deleteBlocker(entry);
    if (b) throw new VireoError('IN_USE', b.message, { dependents: b.dependents });
  }

  /** After a VM is deleted: the bases it used lose a user (the last user removes a base). */
  async released(id: string, keptDisks: boolean): Promise<void> {
    await this.sweepOnce();
    const sources = new Set<string>();
    for (const e of this.vms.library.list()) if ((await readLinked(e)).clones.some((c) => c.id === id)) sources.add(e.id);
    // The VM is gone already: a base that cannot be removed now is left to the next engine's sweep.
    for (const s of await this.bases.release(id, { keptDisks }).catch(() => [] as string[])) sources.add(s);
    for (const s of sources) if (this.vms.library.get(s)) this.bus.emit('vm.changed', { id: s });
  }

  /** What cloning can do with this VM now and why not, said before anyone clicks, in the GUI's words. */
  async info(ref: string): Promise<CloneInfo> {
    const entry = this.vms.resolve(ref);
    const c = entry.config;
    const name = c?.name ?? entry.id;
    const m = this.vms.machineFor(entry);
    const stopped = m.state === 'stopped' || m.state === 'crashed';
    await this.sweepOnce();
    const bases = await this.bases.list();

    let linkedTo: CloneInfo['linkedTo'] = null;
    for (const e of this.vms.library.list()) {
      if (e.id !== entry.id && (await readLinked(e)).clones.some((x) => x.id === entry.id)) linkedTo = { vmId: e.id, name: e.config?.name ?? e.id, snapshot: null };
    }
    const myBase = bases.find((b) => b.clones.some((x) => x.id === entry.id));
    if (myBase) {
      const alive = this.vms.library.get(myBase.source.vmId);
      linkedTo = { vmId: alive ? myBase.source.vmId : null, name: alive?.config?.name ?? myBase.source.vmName, snapshot: myBase.source.snapshotName };
    }
    const baseOf: CloneInfo['baseOf'] = (await this.ownDependents(entry)).map((d) => ({ ...d, snapshot: null }));
    for (const b of bases.filter((x) => x.source.vmId === entry.id)) {
      for (const x of b.clones) if (this.vms.library.get(x.id)) baseOf.push({ id: x.id, name: this.nameOf(x.id, x.name), snapshot: b.source.snapshotName });
    }

    let disks: CloneAvailability = yes;
    if (!c) disks = no(`its settings could not be read (${entry.broken ?? 'unreadable vm.json'})`);
    else {
      const bad = c.disks.filter((d) => !d.readOnly && d.format !== 'qcow2');
      const missing = c.disks.find((d) => !existsSync(this.vms.diskPath(entry, d.file)));
      if (bad.length) {
        disks = no(`linked clones need qcow2 disks, and ${bad.map((d) => `${d.id} is ${d.format}`).join(', ')}: convert ${plural(bad.length, 'it', 'them')} in Settings → Disks, or make a full clone`);
      } else if (missing) disks = no(`disk ${missing.id} is missing (${this.vms.diskPath(entry, missing.file)}): restore the file or remove the disk in Settings → Disks`);
      else if (!c.disks.some((d) => !d.readOnly)) disks = no('it has no writable disk to build on: a full clone copies its settings');
    }
    const snapshotCount = (await loadMeta(entry.paths.snapshotsMeta)).nodes.length;
    const linked = !disks.available ? disks : !stopped ? no(`"${name}" is ${m.state}: shut it down first (a linked clone builds on its disks as they are when stopped), or make a linked clone from one of its snapshots`) : yes;
    const linkedFromSnapshot = !disks.available ? disks : snapshotCount === 0 ? no(`"${name}" has no snapshots: take one first, or make a linked clone of its current state`) : yes;
    const withSnapshots = !c
      ? disks
      : snapshotCount === 0
        ? no(`"${name}" has no snapshots to copy`)
        : linkedTo || c.disposable?.linked
          ? no(`"${name}" is a linked clone: its snapshots live in disks built on a base, so a copy with its snapshot tree would still need that base. Make a full clone without the snapshot tree`)
          : !stopped
            ? no(`"${name}" is ${m.state}: shut it down first to copy it with its snapshot tree`)
            : yes;
    const blocker = await this.deleteBlocker(entry);
    return { template: c?.template ?? false, linked, linkedFromSnapshot, withSnapshots, linkedTo, baseOf, deleteBlocked: blocker?.message ?? null };
  }

  async clone(ref: string, name: string, o: CloneOptions): Promise<VmDetails> {
    const src = this.vms.resolve(ref);
    if (!src.config) throw new VireoError('BROKEN_CONFIG', `VM ${src.id} cannot be cloned: ${src.broken}`, { id: src.id });
    const srcConfig = src.config;
    this.vms.library.checkName(name);
    if (o.fromTemplate) {
      if (!srcConfig.template) throw new VireoError('INVALID_ARGUMENT', `"${srcConfig.name}" is not a template: mark it as a template first, or make an ordinary clone`, { field: 'fromTemplate' });
      if (o.fromSnapshot) throw new VireoError('INVALID_ARGUMENT', 'a VM from a template builds on the template as it is now: leave out the snapshot', { field: 'fromSnapshot' });
    }
    const linked = !!(o.linked || o.fromTemplate);
    if (o.withSnapshots && (linked || o.fromSnapshot)) {
      throw new VireoError('INVALID_ARGUMENT', 'only a full clone of the current state can keep the snapshot tree: leave out linked or the snapshot', { field: 'withSnapshots' });
    }
    let node: { id: string; name: string } | null = null;
    if (o.fromSnapshot) {
      const meta = await this.deps.tree(src);
      const found = meta.nodes.find((n) => n.id === o.fromSnapshot) ?? (meta.nodes.filter((n) => n.name === o.fromSnapshot).length === 1 ? meta.nodes.find((n) => n.name === o.fromSnapshot) : undefined);
      if (!found) throw new VireoError('NOT_FOUND', `"${srcConfig.name}" has no snapshot "${o.fromSnapshot}" (or several share that name): run \`vireo snapshot list ${srcConfig.name}\` and use its id`, { snapshot: o.fromSnapshot });
      node = { id: found.id, name: found.name };
    }
    return this.vms.locks.run(src.id, 'a clone', () => this.cloneNow(src.id, name, { linked, withSnapshots: !!o.withSnapshots }, node));
  }

  private async cloneNow(srcId: string, name: string, o: { linked: boolean; withSnapshots: boolean }, node: { id: string; name: string } | null): Promise<VmDetails> {
    const src = this.vms.resolve(srcId);
    const srcConfig = src.config!;
    const m = this.vms.machineFor(src);
    const info = await this.info(src.id);
    if (o.linked) {
      if (!node) requireState('make a linked clone of', srcConfig.name, m.state, ['stopped', 'crashed']);
      const why = node ? info.linkedFromSnapshot : info.linked;
      if (!why.available) throw new VireoError('UNSUPPORTED', `cannot make a linked clone of "${srcConfig.name}": ${why.reason}`, { reason: why.reason });
    } else if (o.withSnapshots) {
      requireState('copy with its snapshots', srcConfig.name, m.state, ['stopped', 'crashed']);
      if (!info.withSnapshots.available) throw new VireoError('UNSUPPORTED', `cannot copy "${srcConfig.name}" with its snapshot tree: ${info.withSnapshots.reason}`, { reason: info.withSnapshots.reason });
    } else if (!node) {
      requireState('clone', srcConfig.name, m.state, ['stopped', 'crashed']);
    }
    // The images are the truth about snapshots (snapshots.json may lag behind them).
    const img = new QemuImg(await this.host.qemuImg());
    const hasSnapshots = o.linked && !node ? (await Promise.all(this.deps.images(src).map((i) => img.snapshotList(i.path)))).some((l) => l.length > 0) : false;

    const kind = o.linked ? 'Linked clone' : o.withSnapshots ? 'Clone with snapshots' : 'Clone';
    const title = `${kind} of "${srcConfig.name}"${node ? ` at snapshot "${node.name}"` : ''} as "${name}"`;
    const copy = { img, diskPath: (e: LibraryEntry, f: string) => this.vms.diskPath(e, f), images: (e: LibraryEntry) => this.deps.images(e) };
    const rollback: Array<() => Promise<void>> = [];
    let entry: LibraryEntry;
    try {
      entry = await this.jobs.run({ kind: 'clone', title, vmId: src.id, cancellable: true }, (job) =>
        this.vms.library.create(name, async (staging, id) => {
          this.creating.add(id);
          rollback.push(async () => void this.creating.delete(id));
          const disks = o.linked
            ? node || hasSnapshots || srcConfig.template
              ? await this.linkToSharedBase(src, staging, id, name, node, job, rollback)
              : await this.linkDisks(src, staging, id, name, rollback)
            : o.withSnapshots
              ? await copyWithTree(copy, src, staging, job)
              : await copyDisks(copy, src, staging, node?.id ?? null, m.isActive, job);
          await copyNvramAndTpm(copy, src, staging, node?.id ?? null, m.isActive, o.withSnapshots);
          job.progress(1);
          const next: VmConfig = {
            ...structuredClone(srcConfig),
            id,
            name,
            createdAt: new Date().toISOString(),
            // A VM made from a template is an ordinary VM.
            template: false,
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
    this.creating.delete(entry.id);
    this.vms.machineFor(entry);
    this.bus.emit('vm.changed', { id: entry.id });
    if (o.linked) this.bus.emit('vm.changed', { id: src.id });
    return this.vms.details(entry.id);
  }

  /**
   * Overlays on the shared base of a snapshot (or of the current state of a template, or of a
   * VM whose images hold snapshots), exported on first use. The source's images are only read.
   */
  private async linkToSharedBase(
    src: LibraryEntry,
    staging: string,
    cloneId: string,
    cloneName: string,
    node: { id: string; name: string } | null,
    job: JobContext,
    rollback: Array<() => Promise<void>>,
  ): Promise<Disk[]> {
    const img = new QemuImg(await this.host.qemuImg());
    const c = src.config!;
    const active = this.vms.machineFor(src).isActive;
    const writable = c.disks.filter((d) => !d.readOnly);
    if (node) {
      for (const d of writable) {
        const tags = await img.snapshotList(this.vms.diskPath(src, d.file), { forceShare: active });
        if (!tags.some((t) => t.name === node.id)) {
          throw new VireoError('UNSUPPORTED', `disk ${d.id} of "${c.name}" is not in snapshot "${node.name}" (added after it): make a full clone from that snapshot instead`, { disk: d.id });
        }
      }
    }
    // A template's current state is shared while its disks stay as they are (it never runs:
    // only a restore or a Template switched off and on changes them), so every VM made from
    // it builds on one base, one overlay deep. Another VM's current state is not: it goes on
    // changing after the export.
    const stamp = async () => (await Promise.all(writable.map(async (d) => {
      const st = await stat(this.vms.diskPath(src, d.file));
      return `${d.id}@${st.mtimeMs}:${st.size}`;
    }))).join(',');
    const key = node ? `${src.id}:snapshot:${node.id}` : c.template ? `${src.id}:template:${await stamp()}` : `${src.id}:current:${cloneId}`;
    const { record, dir } = await this.bases.acquire(key, { vmId: src.id, vmName: c.name, snapshotId: node?.id ?? null, snapshotName: node?.name ?? null }, { id: cloneId, name: cloneName }, async (baseDir) => {
      const files: Record<string, string> = {};
      for (const [i, d] of writable.entries()) {
        const file = `${d.id}.qcow2`;
        await img.convert(this.vms.diskPath(src, d.file), join(baseDir, file), {
          fromFormat: 'qcow2',
          toFormat: 'qcow2',
          snapshot: node?.id,
          forceShare: active,
          signal: job.signal,
          onProgress: (f) => job.progress(((i + f) / writable.length) * 0.95),
        });
        // Read-only on the host too: a base written by anything would corrupt every overlay.
        await chmod(join(baseDir, file), 0o444);
        files[d.id] = file;
      }
      return files;
    });
    rollback.push(async () => void (await this.bases.release(cloneId)));
    const finalDir = this.vms.library.paths(cloneId).dir;
    const out: Disk[] = [];
    for (const d of c.disks) {
      if (d.readOnly) {
        out.push(isAbsolute(d.file) ? { ...d } : { ...d, file: join(src.paths.dir, d.file) });
        continue;
      }
      const file = `${d.id}.qcow2`;
      // Relative to the clone's folder (the staging folder sits beside it), so the library can move as a whole.
      const ref = relative(finalDir, join(dir, record.disks[d.id]!));
      await img.create(join(staging, file), { format: 'qcow2', backingFile: ref, backingFormat: 'qcow2' });
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
}
