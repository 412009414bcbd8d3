import { existsSync, readFileSync } from 'node:fs';
import { copyFile, cp } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import { randomBytes } from 'node:crypto';
import { VireoError } from '../../api/errors.ts';
import type { VmDetails } from '../../api/types.ts';
import { VmConfigSchema, type Disk, type Disposable, type VmConfig } from '../../api/schemas/vm-config.ts';
import type { EngineParts } from '../parts.ts';
import { newMac, type LibraryEntry } from '../library/library.ts';
import { requireState } from './state-machine.ts';
import { QemuImg } from '../disk/qemu-img.ts';

// Throwaway VMs (`vireo run --rm`, a VM file's disposable entries). Two ways to make one:
// - from the base's current disks: each writable disk gets a fresh qcow2 overlay in the new
//   VM's folder whose backing file is the base's own disk, left where it is. Unlike a linked
//   clone (clone/clone.ts), the base is not rebased: a linked clone renames the base's disk
//   into a new read-only layer every time, so a hundred CI runs would leave a hundred-deep
//   chain. The price: the base must stay unwritten while an overlay exists, so it may not start
//   or be deleted then (assertNotBacking), and QEMU's image locks refuse it during a run anyway.
// - from one of the base's snapshots: a qcow2 overlay cannot name an internal snapshot as its
//   backing, so that is a full copy of the snapshot (clone/clone.ts's full clone), marked.
// Every disposable records its owner process; an engine removes those whose owner is gone
// (sweep, run when an engine starts and by every `vireo run`), so a `vireo run` killed with
// SIGKILL leaves its VM only until the next engine or run looks.

export interface CreateDisposable {
  from: string;
  snapshot?: string;
  name?: string;
  /** the process whose life this VM lasts (the CLI's); null: kept until discarded */
  ownerPid: number | null;
  start?: boolean;
}

/** Linux: a process's start time (field 22 of /proc/PID/stat), null where unreadable. */
export function processStartTime(pid: number): string | null {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    return st.slice(st.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** Whether the owner recorded in a disposable still runs (the same process, not a reused pid). */
export function ownerAlive(owner: NonNullable<Disposable['owner']>): boolean {
  try {
    process.kill(owner.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (owner.startTime === null) return true;
  const now = processStartTime(owner.pid);
  return now === null || now === owner.startTime;
}

export class Disposables {
  private sweeping: Promise<{ removed: string[] }> | null = null;

  constructor(private readonly p: EngineParts) {}

  async create(o: CreateDisposable): Promise<VmDetails> {
    const { vms, library } = this.p;
    const base = vms.resolve(o.from);
    if (!base.config) throw new VireoError('BROKEN_CONFIG', `VM ${base.id} cannot be used as a base: ${base.broken}`, { id: base.id });
    const baseName = base.config.name;
    if (base.config.disposable) {
      throw new VireoError('UNSUPPORTED', `"${baseName}" is itself a throwaway VM: make runs from the VM it was made from, or keep a clone of it (vireo clone)`, { base: base.id });
    }
    const name = o.name ?? `${baseName.slice(0, 52)}-run-${randomBytes(3).toString('hex')}`;
    const owner = o.ownerPid === null ? null : { pid: o.ownerPid, startTime: processStartTime(o.ownerPid) };
    const createdAt = new Date().toISOString();
    let entry: LibraryEntry;
    if (o.snapshot) {
      const copy = await this.p.clones.clone(base.id, name, { fromSnapshot: o.snapshot });
      entry = library.resolve(copy.id);
      // Marked at once: the window between the copy and this line is the one a crash could
      // leave an unmarked copy in (a normal VM then, visible and deletable).
      const marked = { ...entry.config!, disposable: { owner, base: base.id, linked: false, createdAt } };
      entry = await library.saveConfig(entry, VmConfigSchema.parse(marked));
    } else {
      requireState('make a throwaway run of', baseName, vms.machineFor(base).state, ['stopped', 'crashed']);
      entry = await library.create(name, (staging, id) => this.overlayConfig(base, staging, id, name, { owner, base: base.id, linked: true, createdAt }));
      vms.machineFor(entry);
    }
    this.p.bus.emit('vm.changed', { id: entry.id });
    if (o.start) {
      try {
        await vms.start(entry.id);
      } catch (e) {
        // No half-made run: a VM that cannot start goes again, and the start error is the answer.
        await this.discard(entry.id).catch(() => {});
        throw e;
      }
    }
    return vms.details(entry.id);
  }

  /** Powers a throwaway VM off (if it runs) and deletes it with its files. */
  async discard(ref: string): Promise<{ deleted: string }> {
    const { vms } = this.p;
    const entry = vms.resolve(ref);
    const name = entry.config?.name ?? entry.id;
    if (!entry.config?.disposable) {
      throw new VireoError('INVALID_ARGUMENT', `"${name}" is not a throwaway VM: delete it with \`vireo delete ${name}\` if that is what you mean`, { id: entry.id });
    }
    const m = vms.machineFor(entry);
    if (m.isActive) await vms.stop(entry.id, { force: true }).catch((e: unknown) => {
      // It may have stopped on its own between the check and the stop.
      if (vms.machineFor(entry).isActive) throw e;
    });
    this.p.bridge.revoke(entry.id);
    return vms.delete(entry.id);
  }

  /** Removes every throwaway VM whose owner process is gone; one sweep at a time. */
  sweep(): Promise<{ removed: string[] }> {
    this.sweeping ??= this.sweepNow().finally(() => (this.sweeping = null));
    return this.sweeping;
  }

  private async sweepNow(): Promise<{ removed: string[] }> {
    const removed: string[] = [];
    for (const e of this.p.library.list()) {
      const owner = e.config?.disposable?.owner;
      if (!owner || ownerAlive(owner)) continue;
      try {
        await this.discard(e.id);
        removed.push(e.config!.name);
      } catch {
        /* busy (a start or delete under way): the next sweep tries again */
      }
    }
    return { removed };
  }

  /** A base whose disks back a throwaway VM's overlays must stay unwritten and in place. */
  assertNotBacking(ref: string, op: 'start' | 'delete' | 'restore'): void {
    const entry = this.p.library.get(ref) ?? this.p.library.resolve(ref);
    const runs = this.p.library.list().filter((e) => e.config?.disposable?.linked && e.config.disposable.base === entry.id);
    if (!runs.length) return;
    const names = runs.map((r) => `"${r.config!.name}"`).join(', ');
    throw new VireoError(
      'IN_USE',
      `"${entry.config?.name ?? entry.id}" is the base of throwaway VM${runs.length > 1 ? 's' : ''} ${names}, whose disks are overlays on its disks: ${op === 'delete' ? 'they need its disks' : `${op === 'start' ? 'starting it' : 'restoring a snapshot'} would write under them`}; discard ${runs.length > 1 ? 'them' : 'it'} first (vireo delete ${runs[0]!.config!.name})`,
      { dependents: runs.map((r) => ({ id: r.id, name: r.config!.name })) },
    );
  }

  private async overlayConfig(base: LibraryEntry, staging: string, id: string, name: string, disposable: Disposable): Promise<VmConfig> {
    const img = new QemuImg(await this.p.host.qemuImg());
    const c = base.config!;
    const disks: Disk[] = [];
    for (const d of c.disks) {
      const path = this.p.vms.diskPath(base, d.file);
      if (d.readOnly) {
        disks.push({ ...d, file: path });
        continue;
      }
      // Relative to the new VM's folder when the disk is in the base's, so the library can move as a whole.
      const backing = path.startsWith(base.paths.dir + sep) ? join('..', basename(base.paths.dir), relative(base.paths.dir, path)) : path;
      const file = `${d.id}.qcow2`;
      await img.create(join(staging, file), { format: 'qcow2', backingFile: backing, backingFormat: d.format });
      disks.push({ ...d, file, format: 'qcow2' });
    }
    // UEFI variables: an overlay too (qcow2), or a copy of the raw file; the TPM's state: a copy.
    const nq = join(base.paths.dir, 'nvram.qcow2');
    const nf = join(base.paths.dir, 'nvram.fd');
    if (existsSync(nq)) await img.create(join(staging, 'nvram.qcow2'), { format: 'qcow2', backingFile: join('..', basename(base.paths.dir), 'nvram.qcow2'), backingFormat: 'qcow2' });
    else if (existsSync(nf)) await copyFile(nf, join(staging, 'nvram.fd'));
    // A cloud image's generated SSH key (schemas/cloud-init.ts), so `vireo ssh` works on the run too.
    const keyFile = (c as { cloudInit?: { generatedKeyFile?: string | null } | null }).cloudInit?.generatedKeyFile;
    if (keyFile && existsSync(join(base.paths.dir, keyFile))) await copyFile(join(base.paths.dir, keyFile), join(staging, keyFile));
    if (existsSync(base.paths.tpmState)) await cp(base.paths.tpmState, join(staging, relative(base.paths.dir, base.paths.tpmState)), { recursive: true });
    const next: VmConfig = {
      ...structuredClone(c),
      id,
      name,
      createdAt: disposable.createdAt,
      networks: c.networks.map((n) => ({ ...n, mac: newMac() })),
      disks,
      disposable,
    };
    return VmConfigSchema.parse(next);
  }
}
