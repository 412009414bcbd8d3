import { constants, readFileSync } from 'node:fs';
import { access, rename, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { VireoError } from '../../api/errors.ts';
import type { BackupVerifyResult } from '../../api/backup-types.ts';
import type { VmDetails } from '../../api/types.ts';
import { VmConfigSchema, type Disk, type VmConfig } from '../../api/schemas/vm-config.ts';
import type { Caller } from '../../api/define.ts';
import { baseConfig, newMac, type LibraryEntry } from '../library/library.ts';
import { chooseFirmware, createNvram } from '../firmware/ovmf.ts';
import { firmwareFiles, restoreFirmware } from './firmware.ts';
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
    const firmware = firmwareFiles(backup.firmware).map((f) => join(dir, basename(f)));
    const files = [...chain.flatMap((b) => b.disks.map((d) => join(dir, d.file))), ...firmware];
    const problems: string[] = [];
    for (const f of files) {
      if (!f.endsWith('.qcow2')) {
        // A raw variable store or a TPM state file: there, and readable.
        await access(f, constants.R_OK).catch(() => problems.push(`${basename(f)}: missing or unreadable`));
        continue;
      }
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
    const fw = backup.firmware ? [backup.firmware.nvram ? 'UEFI variables' : null, backup.firmware.tpm.length ? 'TPM state' : null].filter(Boolean).join(' and ') : '';
    const message = ok ? `restored ${backup.disks.length} disk(s) from ${files.length - firmware.length} file(s) and compared: identical${fw ? `; ${fw} checked` : ''}` : problems.join('; ');
    return { backup: backup.id, ok, files: files.map((f) => basename(f)), message };
  });
  await svc.update(dir, entry, config, (c) => {
    const b = c.backups.find((x) => x.id === backup.id);
    if (b) b.verified = { at: new Date().toISOString(), ok: result.ok, message: result.message };
  });
  return result;
}

export async function restoreBackup(p: EngineParts, svc: BackupAccess, ref: string, opts: { backup?: string; newName?: string }, caller?: Caller): Promise<VmDetails> {
  const { entry, config, dir, backup } = await svc.resolveBackup(ref, opts.backup);
  const heads = backup.disks.map((d) => ({ ...d, path: join(dir, basename(d.file)) }));
  if (opts.newName) return restoreToNewVm(p, { config, dir, backup, heads }, opts.newName, caller);
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
        await restoreFirmware(backup.firmware, dir, entry.paths.dir, img, job.signal);
      } finally {
        for (const s of staged) await rm(s.tmp, { force: true });
      }
    }),
  );
  return p.vms.details(entry.id);
}

/**
 * A new VM as the backed-up one was: the config saved with the backup (every setting; new id,
 * name and MACs, as a clone gets), each disk from the chain, the UEFI variables and TPM state.
 */
async function restoreToNewVm(
  p: EngineParts,
  b: { config: VmConfig; dir: string; backup: StoredEntry; heads: Array<StoredEntry['disks'][number] & { path: string }> },
  name: string,
  caller: Caller | undefined,
): Promise<VmDetails> {
  const raw = readSavedConfig(join(b.dir, `${basename(b.backup.id)}.vm.json`));
  const parsed = raw ? VmConfigSchema.safeParse(raw) : null;
  // The config saved with the backup, else (a backup from before configs were kept) today's.
  const saved = parsed?.success ? parsed.data : b.config;
  const img = new QemuImg(await p.host.qemuImg());
  const fwList = saved.system.firmware === 'uefi' && !b.backup.firmware?.nvram ? await p.host.firmwareList(saved.arch) : [];
  const entry = await p.jobs.run({ kind: 'backup', title: `Restore backup ${b.backup.id} of "${b.config.name}" as "${name}"`, cancellable: true }, (job) =>
    p.library.create(name, async (staging, id) => {
      const disks: Disk[] = [];
      let i = 0;
      for (const d of saved.disks) {
        const h = b.heads.find((x) => x.disk === d.id);
        if (!h) {
          // A shared read-only image kept elsewhere (an installer) is referenced, as a clone does.
          if (d.readOnly && isAbsolute(d.file)) disks.push({ ...d });
          else if (!d.readOnly) throw new VireoError('BROKEN_CONFIG', `backup ${b.backup.id} lacks disk ${d.id}, which the VM had when it was taken: restore another backup`, { disk: d.id });
          continue;
        }
        const file = `${d.id}.qcow2`;
        await convertImage(img.binary, h.path, join(staging, file), { fromFormat: 'qcow2', toFormat: 'qcow2', signal: job.signal, onProgress: (f) => job.progress(((i + f) / b.heads.length) * 0.95) });
        disks.push({ ...d, file, format: 'qcow2' });
        i++;
      }
      await restoreFirmware(b.backup.firmware, b.dir, staging, img, job.signal);
      if (saved.system.firmware === 'uefi' && !b.backup.firmware?.nvram) {
        // A backup from before variable stores were kept: a fresh one, as a new VM gets.
        await createNvram(chooseFirmware(fwList, { machine: saved.system.machine, secureBoot: saved.system.secureBoot }), staging, img.binary, { arch: saved.arch });
      }
      const next = VmConfigSchema.parse({
        ...structuredClone(saved),
        id,
        name,
        createdAt: new Date().toISOString(),
        template: false,
        disposable: null,
        networks: saved.networks.map((n) => ({ ...n, mac: newMac() })),
        disks,
      });
      // The saved config is read from the backup folder: a web client's restore passes the policy its settings changes do.
      if (caller) await p.confine.vmConfig(caller, staging, baseConfig(id, name), next);
      job.progress(1);
      return next;
    }),
  );
  p.vms.machineFor(entry);
  p.bus.emit('vm.changed', { id: entry.id });
  return p.vms.details(entry.id);
}

function readSavedConfig(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as unknown;
  } catch {
    return null;
  }
}
