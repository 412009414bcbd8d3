import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { VireoError } from '../../api/errors.ts';
import type { BackupFirmware } from '../../api/backup-types.ts';
import type { LibraryEntry } from '../library/library.ts';
import type { QemuImg } from '../disk/qemu-img.ts';

// The machine state a backup carries beside the disks: the UEFI variable store (boot entries,
// Secure Boot keys) and swtpm's state (a Windows 11 VM's BitLocker keys are sealed in it, so a
// restore without it asks for the recovery key). Both are small and copied whole each time,
// also in an incremental. The variable store is copied by qemu-img (a running QEMU keeps it
// open; its internal snapshots stay behind, as the disks' do); swtpm writes its state file
// whole and renames it into place, so a copy taken while it runs is one state or the next.
//
// Files in the backup folder: <id>-nvram.qcow2 (or .fd) and <id>-tpm__<name> per state file.

const hex8 = () => randomBytes(4).toString('hex');
const TPM_PREFIX = 'tpm__';

export interface FirmwarePlan {
  nvram: { src: string; format: 'qcow2' | 'raw'; final: string; tmp: string } | null;
  tpm: Array<{ src: string; final: string; tmp: string }>;
}

/** What a backup `id` of the VM will copy (its temp names known before the first byte, for recovery). */
export async function planFirmware(entry: LibraryEntry, dir: string, id: string): Promise<FirmwarePlan> {
  const plan: FirmwarePlan = { nvram: null, tpm: [] };
  const c = entry.config!;
  if (c.system.firmware === 'uefi') {
    for (const [file, format, ext] of [['nvram.qcow2', 'qcow2', 'qcow2'], ['nvram.fd', 'raw', 'fd']] as const) {
      const src = join(entry.paths.dir, file);
      if (!existsSync(src)) continue;
      const final = `${id}-nvram.${ext}`;
      plan.nvram = { src, format, final, tmp: join(dir, `.${final}.${hex8()}.partial`) };
      break;
    }
  }
  if (c.system.tpm && existsSync(entry.paths.tpmState)) {
    for (const n of (await readdir(entry.paths.tpmState)).sort()) {
      // swtpm's lock file and temp files are not state.
      if (n.startsWith('.') || !/^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,200}$/.test(n)) continue;
      const src = join(entry.paths.tpmState, n);
      if (!(await stat(src)).isFile()) continue;
      const final = `${id}-${TPM_PREFIX}${n}`;
      plan.tpm.push({ src, final, tmp: join(dir, `.${final}.${hex8()}.partial`) });
    }
  }
  return plan;
}

export const planPartials = (p: FirmwarePlan) => [...(p.nvram ? [p.nvram.tmp] : []), ...p.tpm.map((t) => t.tmp)];

/** Copies into the temp names (renamed by `commitFirmware` once the disks are complete too). */
export async function copyFirmware(p: FirmwarePlan, img: QemuImg, live: boolean): Promise<void> {
  if (p.nvram?.format === 'qcow2') await img.convert(p.nvram.src, p.nvram.tmp, { fromFormat: 'qcow2', toFormat: 'qcow2', forceShare: live });
  else if (p.nvram) await copyFile(p.nvram.src, p.nvram.tmp);
  for (const t of p.tpm) await copyFile(t.src, t.tmp);
}

export async function commitFirmware(p: FirmwarePlan, dir: string): Promise<{ firmware: BackupFirmware | null; bytes: number }> {
  if (!p.nvram && p.tpm.length === 0) return { firmware: null, bytes: 0 };
  let bytes = 0;
  for (const f of [...(p.nvram ? [p.nvram] : []), ...p.tpm]) {
    await rename(f.tmp, join(dir, f.final));
    bytes += (await stat(join(dir, f.final))).size;
  }
  return { firmware: { nvram: p.nvram?.final ?? null, tpm: p.tpm.map((t) => t.final) }, bytes };
}

/** A catalog names only files of these shapes (a catalog edited by hand must not reach other files). */
const FILE_RE = /^[0-9A-Za-z-]{1,40}-(nvram\.(qcow2|fd)|tpm__[A-Za-z0-9_][A-Za-z0-9_.+-]{0,200})$/;

function checked(f: BackupFirmware): BackupFirmware {
  for (const n of firmwareFiles(f)) if (!FILE_RE.test(n)) throw new VireoError('BROKEN_CONFIG', `the backup catalog names ${JSON.stringify(n.slice(0, 100))} as firmware state, which is not a file name Vireo writes: the catalog was edited; restore another backup`, { file: n.slice(0, 100) });
  return f;
}

export const firmwareFiles = (f: BackupFirmware | null | undefined): string[] => (f ? [...(f.nvram ? [f.nvram] : []), ...f.tpm] : []);

/**
 * The backup's variable store and TPM state into VM folder `vmDir` (a new VM's staging folder,
 * or a stopped VM's own): each written beside its place first, then renamed over it.
 */
export async function restoreFirmware(f: BackupFirmware | null | undefined, backupDir: string, vmDir: string, img: QemuImg, signal?: AbortSignal): Promise<void> {
  if (!f) return;
  checked(f);
  if (f.nvram) {
    const qcow2 = f.nvram.endsWith('.qcow2');
    const dest = join(vmDir, qcow2 ? 'nvram.qcow2' : 'nvram.fd');
    const tmp = join(vmDir, `.${qcow2 ? 'nvram.qcow2' : 'nvram.fd'}.${hex8()}.partial`);
    try {
      if (qcow2) await img.convert(join(backupDir, f.nvram), tmp, { fromFormat: 'qcow2', toFormat: 'qcow2', signal });
      else await copyFile(join(backupDir, f.nvram), tmp);
      await rename(tmp, dest);
    } finally {
      await rm(tmp, { force: true });
    }
    // One store only: the other format's file would be taken instead of the restored one.
    await rm(join(vmDir, qcow2 ? 'nvram.fd' : 'nvram.qcow2'), { force: true });
  }
  if (f.tpm.length) {
    const staged = join(vmDir, `.tpm-restore.${hex8()}`);
    try {
      await mkdir(staged, { mode: 0o700 });
      for (const t of f.tpm) await copyFile(join(backupDir, t), join(staged, t.slice(t.indexOf(TPM_PREFIX) + TPM_PREFIX.length)));
      // The VM folder's tpm/ (paths.ts): swtpm is not running, the VM being stopped or new.
      await rm(join(vmDir, 'tpm'), { recursive: true, force: true });
      await rename(staged, join(vmDir, 'tpm'));
    } finally {
      await rm(staged, { recursive: true, force: true });
    }
  }
}
