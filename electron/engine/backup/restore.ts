import { readFileSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { VireoError } from '../../api/errors.ts';
import type { BackupVerifyResult } from '../../api/backup-types.ts';
import type { VmDetails } from '../../api/types.ts';
import type { VmConfig } from '../../api/schemas/vm-config.ts';
import type { LibraryEntry } from '../library/library.ts';
import type { EngineParts } from '../parts.ts';
import { QemuImg } from '../disk/qemu-img.ts';
import { convertImage } from '../disk/convert.ts';
import { run } from '../util/proc.ts';
import type { CatalogFile, StoredEntry } from './catalog.ts';

// Verify and restore of a backup (service.ts finds it and keeps the catalog): a chain is
// read whole by qemu-img, its incrementals' backing files being their parents.

const hex8 = () => randomBytes(4).toString('hex');

/** What verify and restore need of the backup service. */
export interface BackupAccess {
  resolveBackup(ref: string, backupId: string | undefined): Promise<{ entry: LibraryEntry; config: VmConfig; dir: string; backup: StoredEntry; chain: StoredEntry[] }>;
  update<T>(dir: string, entry: LibraryEntry, config: VmConfig, change: (c: CatalogFile) => T): Promise<T>;
  disksOf(entry: LibraryEntry, config: VmConfig): Array<{ id: string; node: string; path: string }>;
}

export async function verifyBackup(p: EngineParts, svc: BackupAccess, ref: string, backupId?: string): Promise<BackupVerifyResult> {
  const { entry, config, dir, backup, chain } = await svc.resolveBackup(ref, backupId);
  const img = new QemuImg(await p.host.qemuImg());
  const result: BackupVerifyResult = await p.jobs.run({ kind: 'backup', title: `Verify backup ${backup.id} of "${config.name}"`, vmId: entry.id }, async (job) => {
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
  await svc.update(dir, entry, config, (c) => {
    const b = c.backups.find((x) => x.id === backup.id);
    if (b) b.verified = { at: new Date().toISOString(), ok: result.ok, message: result.message };
  });
  return result;
}

export async function restoreBackup(p: EngineParts, svc: BackupAccess, ref: string, opts: { backup?: string; newName?: string }): Promise<VmDetails> {
  const { entry, config, dir, backup } = await svc.resolveBackup(ref, opts.backup);
  const heads = backup.disks.map((d) => ({ ...d, path: join(dir, d.file) }));
  if (opts.newName) {
    if (heads.length !== 1) throw new VireoError('UNSUPPORTED', `not yet: restoring a backup of ${heads.length} disks to a new VM (only one-disk VMs); restore it in place instead`);
    const saved = readSavedConfig(join(dir, `${backup.id}.vm.json`)) ?? config;
    return p.vms.create({
      name: opts.newName,
      importDisk: heads[0]!.path,
      cpus: saved.system.cpus,
      memory: `${saved.system.memoryMiB}M`,
      firmware: saved.system.firmware,
      ...(saved.os?.id && saved.os.id !== 'unknown' ? { os: saved.os.id } : {}),
    } as Parameters<EngineParts['vms']['create']>[0]);
  }
  const img = new QemuImg(await p.host.qemuImg());
  await p.vms.locks.run(entry.id, 'a restore', () =>
    p.jobs.run({ kind: 'backup', title: `Restore "${config.name}" from backup ${backup.id}`, vmId: entry.id }, async (job) => {
      const m = p.vms.machineFor(entry);
      if (m.isActive) throw new VireoError('INVALID_STATE', `"${config.name}" is running: stop it to restore a backup in place, or restore to a new VM`);
      // A saved state resumes on the disks it was saved with: new disks under it would corrupt the guest.
      if (m.state === 'saved') throw new VireoError('INVALID_STATE', `"${config.name}" has a saved state that needs its current disks: discard it (vireo discard-state) or resume and shut it down first, or restore to a new VM`);
      const disks = svc.disksOf(entry, config);
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
  return p.vms.details(entry.id);
}

function readSavedConfig(file: string): VmConfig | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as VmConfig;
  } catch {
    return null;
  }
}
