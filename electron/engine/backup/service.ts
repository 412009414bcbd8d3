import { copyFile, mkdir, rename, rm, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, join } from 'node:path';
import { VireoError } from '../../api/errors.ts';
import type { BackupCatalog, BackupEntry, BackupKeep, BackupPruneResult, BackupSchedule, BackupVerifyResult } from '../../api/backup-types.ts';
import type { VmDetails } from '../../api/types.ts';
import type { Caller } from '../../api/define.ts';
import type { VmConfig } from '../../api/schemas/vm-config.ts';
import type { LibraryEntry } from '../library/library.ts';
import type { EngineParts } from '../parts.ts';
import type { JobContext } from '../jobs.ts';
import type { QmpCommander } from '../qmp/types.ts';
import { QEMU_IDS } from '../qemu/argv/index.ts';
import { QemuImg } from '../disk/qemu-img.ts';
import {
  chainTo, newBackupId, newestGood, publicEntry, readCatalog, readSettings, recoverCatalog, vmBackupDir, writeCatalog, writeSettings,
  type CatalogFile, type StoredEntry,
} from './catalog.ts';
import { engineSelf, isAlive } from '../util/engine-id.ts';
import { bitmapName, bitmapsOf, cleanupAfterFailure, runBackup, type DiskTarget } from './qmp-backup.ts';
import { openStorageDaemon, storageDaemonBinary, type StorageDaemon } from './offline.ts';
import { selectKept } from './retention.ts';
import { BackupScheduler } from './schedule.ts';
import { restoreBackup, verifyBackup } from './restore.ts';
import { commitFirmware, copyFirmware, firmwareFiles, planFirmware, planPartials } from './firmware.ts';

// Backups of a VM's disks into a folder the user chose: full or incremental (qmp-backup.ts),
// of a running VM through its QEMU or of a stopped one through qemu-storage-daemon
// (offline.ts), each a job with progress and cancel, recorded in the VM's catalog
// (catalog.ts). Verify, restore (to a new VM, or in place while stopped), retention and a
// schedule that runs while the engine does.

const hex8 = () => randomBytes(4).toString('hex');

interface BackupDisk {
  id: string;
  node: string;
  path: string;
}

export class BackupService {
  private mutations = new Map<string, Promise<unknown>>();
  private readonly scheduler: BackupScheduler;

  constructor(private readonly p: EngineParts) {
    this.scheduler = new BackupScheduler(p, this);
  }

  // ---- taking a backup ------------------------------------------------------------------

  async backup(ref: string, opts: { to?: string | null; incremental?: boolean; scheduled?: boolean } = {}): Promise<BackupEntry> {
    const entry = this.p.vms.resolve(ref);
    const config = this.configOf(entry);
    const settings = await readSettings(entry.paths.dir);
    const target = opts.to ?? settings.target;
    if (!target) throw new VireoError('INVALID_ARGUMENT', `no backup folder for "${config.name}" yet: give one (vireo backup ${config.name} --to DIR)`, { field: 'to' });
    const st = await stat(target).catch(() => null);
    if (!st?.isDirectory()) throw new VireoError('NOT_FOUND', `backup folder ${target} does not exist or is not a folder: create it first`, { field: 'to', path: target });
    const disks = this.disksOf(entry, config);
    const dir = vmBackupDir(target, entry.id);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    if (settings.target !== target) await writeSettings(entry.paths.dir, { ...settings, target });
    const kind = opts.incremental ? 'incremental' : 'full';
    return this.p.vms.locks.run(entry.id, 'a backup', () =>
      this.p.jobs.run({ kind: 'backup', title: `${opts.scheduled ? 'Scheduled b' : 'B'}ackup (${kind}) of "${config.name}" to ${target}`, vmId: entry.id }, (job) => this.take(entry, config, disks, dir, !!opts.incremental, job)),
    );
  }

  disksOf(entry: LibraryEntry, config: VmConfig): BackupDisk[] {
    const disks = config.disks.filter((d) => !d.readOnly);
    if (disks.length === 0) throw new VireoError('UNSUPPORTED', `"${config.name}" has no writable disk to back up`);
    const raw = disks.filter((d) => d.format !== 'qcow2');
    if (raw.length) {
      throw new VireoError('UNSUPPORTED', `disk ${raw.map((d) => `${d.id} (${d.format})`).join(', ')} of "${config.name}" is not qcow2: backups track changes in qcow2 images only; convert it (Settings → Disks) to back it up`);
    }
    return disks.map((d) => ({ id: d.id, node: QEMU_IDS.diskNode(d), path: this.p.vms.diskPath(entry, d.file) }));
  }

  private async take(entry: LibraryEntry, config: VmConfig, disks: BackupDisk[], dir: string, incremental: boolean, job: JobContext): Promise<BackupEntry> {
    const m = this.p.vms.machineFor(entry);
    const live = m.isActive;
    let daemon: StorageDaemon | null = null;
    let qmp: QmpCommander;
    if (live) {
      if (m.state !== 'running' && m.state !== 'paused') throw new VireoError('INVALID_STATE', `"${config.name}" is ${m.state}: back it up once it is running, paused or stopped`);
      qmp = m.monitor('back up');
    } else {
      const binary = storageDaemonBinary(await this.p.host.qemuImg());
      daemon = await openStorageDaemon(binary, disks.map((d) => ({ node: d.node, path: d.path })), join(this.p.rtRoot, `bk-${entry.id.slice(0, 8)}.sock`));
      qmp = daemon.qmp;
    }
    let record: StoredEntry | null = null;
    try {
      const cat = await this.mutate(dir, async () => {
        const c = await readCatalog(dir, entry.id, config.name);
        if ((await recoverCatalog(dir, c)).changed) await writeCatalog(dir, c);
        return c;
      });
      // The parent: the chain's newest good backup, if its bitmap is still there and whole.
      let parent = incremental ? newestGood(cat) : null;
      let note: string | null = null;
      if (incremental && !parent) note = 'incremental asked, but there is no good backup to build on: this one is full';
      if (parent) {
        const why = await this.whyNotIncremental(qmp, cat, parent, disks);
        if (why) {
          note = `incremental asked, but ${why}: this one is full`;
          parent = null;
        }
      }
      const id = newBackupId();
      const targets: Array<DiskTarget & { final: string; parentFile: string | null; virtualSize: number }> = [];
      const img = new QemuImg(await this.p.host.qemuImg());
      for (const d of disks) {
        const final = `${id}-${d.id}.qcow2`;
        const virtualSize = (await img.info(d.path)).virtualSize;
        targets.push({ disk: d.id, node: d.node, tmp: join(dir, `.${final}.${hex8()}.partial`), final, virtualSize, parentFile: parent?.disks.find((x) => x.disk === d.id)?.file ?? null });
      }
      const fw = await planFirmware(entry, dir, id);
      record = {
        id, type: parent ? 'incremental' : 'full', state: 'running', startedAt: new Date().toISOString(), endedAt: null,
        parent: parent?.id ?? null, chain: parent?.chain ?? id, source: live ? 'running' : 'stopped',
        disks: [], firmware: null, bytes: 0, quiesce: null, note, error: null, verified: null,
        engine: engineSelf(), partials: [...targets.map((t) => t.tmp), ...planPartials(fw)].map((t) => basename(t)),
      };
      // Recorded (with its temp files) before the first byte: a kill from here on is found.
      const rec = record;
      await this.update(dir, entry, config, (c) => c.backups.push(rec));
      for (const t of [...targets.map((x) => x.tmp), ...planPartials(fw)]) await job.leftover(t);
      for (const t of targets) {
        await img.create(t.tmp, t.parentFile ? { format: 'qcow2', backingFile: t.parentFile, backingFormat: 'qcow2' } : { format: 'qcow2', sizeBytes: t.virtualSize });
      }
      let quiesce: string | null = live ? null : 'the VM was stopped: nothing to freeze';
      await runBackup(qmp, targets, {
        backupId: id,
        parentId: parent?.id ?? null,
        signal: job.signal,
        progress: (f) => job.progress(f),
        // Firmware state at the disks' point in time (inside the freeze when there is one).
        atPoint: () => copyFirmware(fw, img, live),
        freeze: live
          ? async () => {
              if (m.state !== 'running') {
                quiesce = 'the VM was paused: its guest agent cannot freeze file systems';
                return async () => {};
              }
              const q = await this.p.agent.quiesce(entry.id);
              quiesce = q.result.status === 'frozen' ? `frozen (${q.result.filesystems} file systems)` : `not frozen: ${q.result.message ?? q.result.status}`;
              return q.thaw;
            }
          : undefined,
      });
      for (const t of targets) await rename(t.tmp, join(dir, t.final));
      const files: BackupEntry['disks'] = [];
      for (const t of targets) files.push({ disk: t.disk, file: t.final, bytes: (await stat(join(dir, t.final))).size, virtualSize: t.virtualSize });
      const firmware = await commitFirmware(fw, dir);
      await copyFile(entry.paths.config, join(dir, `${id}.vm.json`)).catch(() => {});
      const done = await this.update(dir, entry, config, (c) => {
        const b = c.backups.find((x) => x.id === id)!;
        Object.assign(b, { state: 'good', endedAt: new Date().toISOString(), disks: files, firmware: firmware.firmware, bytes: files.reduce((s, f) => s + f.bytes, firmware.bytes), quiesce });
        delete b.engine;
        delete b.partials;
        return b;
      });
      return publicEntry(done);
    } catch (e) {
      if (record) {
        const rec = record;
        for (const t of rec.partials ?? []) await rm(join(dir, t), { force: true });
        await this.update(dir, entry, config, (c) => {
          const b = c.backups.find((x) => x.id === rec.id);
          if (!b) return;
          Object.assign(b, { state: 'failed', endedAt: new Date().toISOString(), error: (e as Error).message });
          delete b.engine;
          delete b.partials;
        }).catch(() => {});
      }
      throw e;
    } finally {
      await daemon?.close();
    }
  }

  private async whyNotIncremental(qmp: QmpCommander, cat: CatalogFile, parent: StoredEntry, disks: BackupDisk[]): Promise<string | null> {
    if (!chainTo(cat, parent.id)) return `the chain under ${parent.id} is incomplete`;
    const ids = disks.map((d) => d.id).sort().join(',');
    if (parent.disks.map((d) => d.disk).sort().join(',') !== ids) return `the VM's disks changed since ${parent.id}`;
    for (const d of disks) {
      const b = (await bitmapsOf(qmp, d.node)).find((x) => x.name === bitmapName(parent.id));
      if (!b) return `disk ${d.id} has no record of the changes since ${parent.id} (its disk was restored or replaced)`;
      if (b.inconsistent) return `disk ${d.id}'s record of changes since ${parent.id} is incomplete (QEMU stopped without closing the image)`;
    }
    return null;
  }

  // ---- the catalog ----------------------------------------------------------------------

  /** Catalog writes of one folder, one at a time (read fresh, change, write atomically). */
  private mutate<T>(dir: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.mutations.get(dir) ?? Promise.resolve();
    const next = prev.catch(() => {}).then(fn);
    this.mutations.set(dir, next.catch(() => {}));
    return next;
  }

  update<T>(dir: string, entry: LibraryEntry, config: VmConfig, change: (c: CatalogFile) => T): Promise<T> {
    return this.mutate(dir, async () => {
      const c = await readCatalog(dir, entry.id, config.name);
      const r = change(c);
      c.vmName = config.name;
      await writeCatalog(dir, c);
      return r;
    });
  }

  async list(ref: string): Promise<BackupCatalog> {
    const entry = this.p.vms.resolve(ref);
    const config = this.configOf(entry);
    const s = await readSettings(entry.paths.dir);
    const dir = s.target ? vmBackupDir(s.target, entry.id) : null;
    const c = dir ? await readCatalog(dir, entry.id, config.name) : null;
    const backups = (c?.backups ?? []).map(publicEntry).sort((a, b) => b.startedAt.localeCompare(a.startedAt));
    return { vmId: entry.id, vmName: config.name, dir, target: s.target, schedule: s.schedule, backups };
  }

  /** At engine start: backups a killed engine left running become failed, their files and QEMU's side cleaned. */
  async recoverAll(): Promise<void> {
    for (const entry of this.p.library.list()) {
      if (!entry.config) continue;
      const s = await readSettings(entry.paths.dir);
      if (!s.target) continue;
      const dir = vmBackupDir(s.target, entry.id);
      const config = entry.config;
      await this.mutate(dir, async () => {
        const c = await readCatalog(dir, entry.id, config.name);
        const dead = c.backups.filter((b) => b.state === 'running' && !(b.engine && isAlive(b.engine)));
        const m = this.p.vms.machineFor(entry);
        if (dead.length && m.isActive) {
          // The killed engine's job may still run in QEMU: stopped, its target and new bitmap dropped.
          const disks = config.disks.filter((d) => !d.readOnly).map((d) => ({ disk: d.id, node: QEMU_IDS.diskNode(d) }));
          const qmp = m.monitor('clean up an interrupted backup of');
          for (const b of dead) await cleanupAfterFailure(qmp, disks, b.id).catch(() => {});
        }
        const r = await recoverCatalog(dir, c, true);
        if (r.changed) await writeCatalog(dir, c);
      }).catch(() => {});
    }
  }

  async resolveBackup(ref: string, backupId: string | undefined) {
    const entry = this.p.vms.resolve(ref);
    const config = this.configOf(entry);
    const s = await readSettings(entry.paths.dir);
    if (!s.target) throw new VireoError('NOT_FOUND', `"${config.name}" has no backups yet: vireo backup ${config.name} --to DIR`);
    const dir = vmBackupDir(s.target, entry.id);
    const c = await readCatalog(dir, entry.id, config.name);
    const b = backupId ? c.backups.find((x) => x.id === backupId) : newestGood(c);
    if (!b) throw new VireoError('NOT_FOUND', backupId ? `"${config.name}" has no backup ${backupId}: see vireo backup ls ${config.name}` : `"${config.name}" has no good backup in ${dir}`, { backup: backupId });
    const chain = chainTo(c, b.id);
    if (!chain) throw new VireoError('INVALID_STATE', `backup ${b.id} of "${config.name}" is ${b.state === 'good' ? 'on top of a backup that is missing or failed' : b.state}: it cannot be restored; choose another (vireo backup ls)`, { backup: b.id });
    return { entry, config, dir, backup: b, chain };
  }

  verify(ref: string, backupId?: string): Promise<BackupVerifyResult> {
    return verifyBackup(this.p, this, ref, backupId);
  }

  restore(ref: string, opts: { backup?: string; newName?: string }, caller?: Caller): Promise<VmDetails> {
    return restoreBackup(this.p, this, ref, opts, caller);
  }


  // ---- retention and schedule -----------------------------------------------------------

  async prune(ref: string, keep: BackupKeep): Promise<BackupPruneResult> {
    const entry = this.p.vms.resolve(ref);
    const config = this.configOf(entry);
    const s = await readSettings(entry.paths.dir);
    if (!s.target) return { removed: [], kept: [] };
    const dir = vmBackupDir(s.target, entry.id);
    return this.update(dir, entry, config, (c) => {
      const finished = c.backups.filter((b) => b.state !== 'running');
      const kept = selectKept(finished.map((b) => ({ id: b.id, startedAt: b.startedAt, parent: b.parent, good: b.state === 'good' })), keep);
      const removed = finished.filter((b) => !kept.has(b.id));
      c.backups = c.backups.filter((b) => b.state === 'running' || kept.has(b.id));
      return { removed, kept: [...kept] };
    }).then(async (r) => {
      // Files after the catalog no longer lists them: a kill in between leaves stray files, never a listed backup without its files.
      for (const b of r.removed) {
        for (const d of b.disks) await rm(join(dir, basename(d.file)), { force: true });
        for (const f of firmwareFiles(b.firmware)) await rm(join(dir, basename(f)), { force: true });
        await rm(join(dir, `${b.id}.vm.json`), { force: true });
      }
      return { removed: r.removed.map((b) => b.id), kept: r.kept };
    });
  }

  async setSchedule(ref: string, to: string | null | undefined, schedule: BackupSchedule | null): Promise<BackupCatalog> {
    const entry = this.p.vms.resolve(ref);
    const config = this.configOf(entry);
    const s = await readSettings(entry.paths.dir);
    const target = to ?? s.target;
    if (schedule && !target) throw new VireoError('INVALID_ARGUMENT', `no backup folder for "${config.name}" yet: give one with the schedule (--to DIR)`, { field: 'to' });
    if (to) {
      const st = await stat(to).catch(() => null);
      if (!st?.isDirectory()) throw new VireoError('NOT_FOUND', `backup folder ${to} does not exist or is not a folder: create it first`, { field: 'to', path: to });
    }
    await writeSettings(entry.paths.dir, { version: 1, target: target ?? null, schedule });
    void this.scheduler.rearm();
    return this.list(entry.id);
  }

  startScheduler(): void {
    this.scheduler.start();
  }

  stopScheduler(): void {
    this.scheduler.stop();
  }

  private configOf(entry: LibraryEntry): VmConfig {
    if (!entry.config) throw new VireoError('BROKEN_CONFIG', `VM ${entry.id} cannot be used: ${entry.broken}`, { id: entry.id });
    return entry.config;
  }
}

