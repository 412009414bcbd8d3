import { copyFile, mkdir, rename, rm, stat } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { VireoError } from '../../api/errors.ts';
import type { BackupCatalog, BackupEntry, BackupKeep, BackupPruneResult, BackupSchedule, BackupVerifyResult } from '../../api/backup-types.ts';
import type { VmDetails } from '../../api/types.ts';
import type { VmConfig } from '../../api/schemas/vm-config.ts';
import type { LibraryEntry } from '../library/library.ts';
import type { EngineParts } from '../parts.ts';
import type { JobContext } from '../jobs.ts';
import type { QmpCommander } from '../qmp/types.ts';
import { QEMU_IDS } from '../qemu/argv/index.ts';
import { QemuImg } from '../disk/qemu-img.ts';
import { convertImage } from '../disk/convert.ts';
import { run } from '../util/proc.ts';
import {
  chainTo, engineSelf, newBackupId, newestGood, publicEntry, readCatalog, readSettings, recoverCatalog, vmBackupDir, writeCatalog, writeSettings,
  isAlive, type CatalogFile, type StoredEntry,
} from './catalog.ts';
import { bitmapName, bitmapsOf, cleanupAfterFailure, runBackup, type DiskTarget } from './qmp-backup.ts';
import { openStorageDaemon, storageDaemonBinary, type StorageDaemon } from './offline.ts';
import { nextDueAt, selectKept } from './retention.ts';

// Backups of a VM's disks into a folder the user chose: full or incremental (qmp-backup.ts),
// of a running VM through its QEMU or of a stopped one through qemu-storage-daemon
// (offline.ts), each a job with progress and cancel, recorded in the VM's catalog
// (catalog.ts). Verify, restore (to a new VM, or in place while stopped), retention and a
// schedule that runs while the engine does.

const SCHEDULE_TICK_MS = 60_000;
const MIN_TICK_MS = 1000;
const hex8 = () => randomBytes(4).toString('hex');

interface BackupDisk {
  id: string;
  node: string;
  path: string;
}

export class BackupService {
  private mutations = new Map<string, Promise<unknown>>();
  private timer: NodeJS.Timeout | null = null;
  private scheduling = false;
  private schedulerOn = false;

  constructor(private readonly p: EngineParts) {}

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

  private disksOf(entry: LibraryEntry, config: VmConfig): BackupDisk[] {
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
      record = {
        id, type: parent ? 'incremental' : 'full', state: 'running', startedAt: new Date().toISOString(), endedAt: null,
        parent: parent?.id ?? null, chain: parent?.chain ?? id, source: live ? 'running' : 'stopped',
        disks: [], bytes: 0, quiesce: null, note, error: null, verified: null,
        engine: engineSelf(), partials: targets.map((t) => basename(t.tmp)),
      };
      // Recorded (with its temp files) before the first byte: a kill from here on is found.
      const rec = record;
      await this.update(dir, entry, config, (c) => c.backups.push(rec));
      for (const t of targets) await job.leftover(t.tmp);
      for (const t of targets) {
        await img.create(t.tmp, t.parentFile ? { format: 'qcow2', backingFile: t.parentFile, backingFormat: 'qcow2' } : { format: 'qcow2', sizeBytes: t.virtualSize });
      }
      let quiesce: string | null = live ? null : 'the VM was stopped: nothing to freeze';
      await runBackup(qmp, targets, {
        backupId: id,
        parentId: parent?.id ?? null,
        signal: job.signal,
        progress: (f) => job.progress(f),
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
      await copyFile(entry.paths.config, join(dir, `${id}.vm.json`)).catch(() => {});
      const done = await this.update(dir, entry, config, (c) => {
        const b = c.backups.find((x) => x.id === id)!;
        Object.assign(b, { state: 'good', endedAt: new Date().toISOString(), disks: files, bytes: files.reduce((s, f) => s + f.bytes, 0), quiesce });
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

  private update<T>(dir: string, entry: LibraryEntry, config: VmConfig, change: (c: CatalogFile) => T): Promise<T> {
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

  private async resolveBackup(ref: string, backupId: string | undefined) {
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

  // ---- verify ---------------------------------------------------------------------------

  async verify(ref: string, backupId?: string): Promise<BackupVerifyResult> {
    const { entry, config, dir, backup, chain } = await this.resolveBackup(ref, backupId);
    const img = new QemuImg(await this.p.host.qemuImg());
    const result: BackupVerifyResult = await this.p.jobs.run({ kind: 'backup', title: `Verify backup ${backup.id} of "${config.name}"`, vmId: entry.id }, async (job) => {
      const files = chain.flatMap((b) => b.disks.map((d) => join(dir, d.file)));
      const problems: string[] = [];
      for (const f of files) {
        const r = await img.check(f).catch((e: Error) => ({ ok: false, corruptions: -1, leaks: 0, message: e.message }));
        if (!r.ok) problems.push(`${basename(f)}: ${'message' in r ? r.message : `${r.corruptions} corruptions`}`);
      }
      let step = 0;
      for (const d of backup.disks) {
        if (job.signal.aborted) throw new VireoError('CANCELLED', 'verify cancelled');
        const head = join(dir, d.file);
        // Restored to a temp copy (a hidden .partial, removed after, or by the next engine).
        const copy = join(dir, `.verify-${backup.id}-${d.disk}.${hex8()}.partial`);
        await job.leftover(copy);
        try {
          await convertImage(img.binary, head, copy, { fromFormat: 'qcow2', toFormat: 'qcow2', signal: job.signal, onProgress: (f) => job.progress((step + f) / backup.disks.length), onTempFile: (p) => job.leftover(p) });
          const cmp = await run(img.binary, ['compare', '-f', 'qcow2', '-F', 'qcow2', copy, head], { okCodes: [0, 1], timeoutMs: 24 * 3600_000, signal: job.signal });
          if (cmp.code !== 0) problems.push(`${d.file}: the restored copy differs from the backup chain (${cmp.stdout.trim()})`);
          const size = (await img.info(copy)).virtualSize;
          if (size !== d.virtualSize) problems.push(`${d.file}: restores to ${size} bytes, the catalog says ${d.virtualSize}`);
        } finally {
          await rm(copy, { force: true });
        }
        step++;
      }
      const ok = problems.length === 0;
      const message = ok ? `restored ${backup.disks.length} disk(s) from ${files.length} file(s) and compared: identical` : problems.join('; ');
      return { backup: backup.id, ok, files: files.map((f) => basename(f)), message };
    });
    await this.update(dir, entry, config, (c) => {
      const b = c.backups.find((x) => x.id === backup.id);
      if (b) b.verified = { at: new Date().toISOString(), ok: result.ok, message: result.message };
    });
    return result;
  }

  // ---- restore --------------------------------------------------------------------------

  async restore(ref: string, opts: { backup?: string; newName?: string }): Promise<VmDetails> {
    const { entry, config, dir, backup } = await this.resolveBackup(ref, opts.backup);
    const heads = backup.disks.map((d) => ({ ...d, path: join(dir, d.file) }));
    if (opts.newName) {
      if (heads.length !== 1) throw new VireoError('UNSUPPORTED', `not yet: restoring a backup of ${heads.length} disks to a new VM (only one-disk VMs); restore it in place instead`);
      const saved = readSavedConfig(join(dir, `${backup.id}.vm.json`)) ?? config;
      return this.p.vms.create({
        name: opts.newName,
        importDisk: heads[0]!.path,
        cpus: saved.system.cpus,
        memory: `${saved.system.memoryMiB}M`,
        firmware: saved.system.firmware,
        ...(saved.os?.id && saved.os.id !== 'unknown' ? { os: saved.os.id } : {}),
      } as Parameters<typeof this.p.vms.create>[0]);
    }
    const img = new QemuImg(await this.p.host.qemuImg());
    await this.p.vms.locks.run(entry.id, 'a restore', () =>
      this.p.jobs.run({ kind: 'backup', title: `Restore "${config.name}" from backup ${backup.id}`, vmId: entry.id }, async (job) => {
        const m = this.p.vms.machineFor(entry);
        if (m.isActive) throw new VireoError('INVALID_STATE', `"${config.name}" is running: stop it to restore a backup in place, or restore to a new VM`);
        // A saved state resumes on the disks it was saved with: new disks under it would corrupt the guest.
        if (m.state === 'saved') throw new VireoError('INVALID_STATE', `"${config.name}" has a saved state that needs its current disks: discard it (vireo discard-state) or resume and shut it down first, or restore to a new VM`);
        const disks = this.disksOf(entry, config);
        for (const h of heads) {
          const d = disks.find((x) => x.id === h.disk);
          if (!d) throw new VireoError('INVALID_STATE', `backup ${backup.id} holds disk ${h.disk}, which "${config.name}" no longer has: restore it to a new VM`);
          const snaps = (await img.info(d.path)).snapshots.length;
          if (snaps) throw new VireoError('INVALID_STATE', `disk ${d.id} of "${config.name}" holds ${snaps} snapshot(s) that restoring in place would drop: delete them first, or restore to a new VM`);
        }
        // Every disk converted beside its image first; only then renamed over: all or nothing.
        const staged: Array<{ tmp: string; path: string }> = [];
        try {
          let i = 0;
          for (const h of heads) {
            const d = disks.find((x) => x.id === h.disk)!;
            const tmp = join(dirname(d.path), `.${basename(d.path)}.${hex8()}.partial`);
            await job.leftover(tmp);
            await convertImage(img.binary, h.path, tmp, { fromFormat: 'qcow2', toFormat: 'qcow2', signal: job.signal, onProgress: (f) => job.progress((i + f) / heads.length), onTempFile: (p) => job.leftover(p) });
            staged.push({ tmp, path: d.path });
            i++;
          }
          for (const s of staged) await rename(s.tmp, s.path);
        } finally {
          for (const s of staged) await rm(s.tmp, { force: true });
        }
      }),
    );
    return this.p.vms.details(entry.id);
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
    void this.rearm();
    return this.list(entry.id);
  }

  /**
   * Scheduled backups while this engine runs: a timer set for the earliest due backup (checked
   * at least every minute, so a clock change or another engine's backup is noticed), re-set
   * after each round and whenever a schedule changes.
   */
  startScheduler(): void {
    this.schedulerOn = true;
    void this.rearm();
  }

  stopScheduler(): void {
    this.schedulerOn = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private async rearm(): Promise<void> {
    if (!this.schedulerOn) return;
    const now = new Date();
    let next = now.getTime() + SCHEDULE_TICK_MS;
    for (const s of await this.schedules()) next = Math.min(next, s.dueAt);
    if (!this.schedulerOn) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(new Date()).finally(() => void this.rearm()), Math.max(MIN_TICK_MS, next - now.getTime()));
    this.timer.unref();
  }

  private async schedules(): Promise<Array<{ entry: LibraryEntry; target: string; schedule: BackupSchedule; dueAt: number }>> {
    const out = [];
    for (const entry of this.p.library.list()) {
      if (!entry.config) continue;
      const s = await readSettings(entry.paths.dir);
      if (!s.schedule || !s.target) continue;
      const c = await readCatalog(vmBackupDir(s.target, entry.id), entry.id, entry.config.name).catch(() => null);
      if (!c) continue;
      const newest = [...c.backups].sort((a, b) => b.startedAt.localeCompare(a.startedAt))[0];
      out.push({ entry, target: s.target, schedule: s.schedule, dueAt: nextDueAt(s.schedule.everyHours, newestGood(c)?.startedAt ?? null, newest?.startedAt ?? null, new Date()) });
    }
    return out;
  }

  /** Takes every scheduled backup due at `now`; returns the VMs backed up. */
  async tick(now: Date): Promise<string[]> {
    if (this.scheduling) return [];
    this.scheduling = true;
    const ran: string[] = [];
    try {
      for (const s of await this.schedules()) {
        if (s.dueAt > now.getTime()) continue;
        try {
          await this.backup(s.entry.id, { to: s.target, incremental: s.schedule.incremental, scheduled: true });
          if (s.schedule.keep) await this.prune(s.entry.id, s.schedule.keep);
          ran.push(s.entry.id);
        } catch {
          /* recorded as a failed entry and a failed job; retried once the retry wait has passed */
        }
      }
    } finally {
      this.scheduling = false;
    }
    return ran;
  }

  private configOf(entry: LibraryEntry): VmConfig {
    if (!entry.config) throw new VireoError('BROKEN_CONFIG', `VM ${entry.id} cannot be used: ${entry.broken}`, { id: entry.id });
    return entry.config;
  }
}

function readSavedConfig(file: string): VmConfig | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as VmConfig;
  } catch {
    return null;
  }
}
