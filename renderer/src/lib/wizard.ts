import type { OsEntry } from '../../../electron/api/types.ts';
import { GiB, MiB, formatBytes, readSize } from '../../../electron/shared/size.ts';
import { nameProblem } from './names.ts';
import { checkV86 } from './wizard-v86.ts';

// The New-VM wizard's rules, kept pure so they are unit-tested and so the dialog can refuse
// to call vms.create while any of them fails.

export type Source = 'iso' | 'empty' | 'import';

export interface WizardForm {
  source: Source;
  iso: string;
  importDisk: string;
  name: string;
  cpus: number;
  memory: string;
  disk: string;
  firmware: 'bios' | 'uefi';
  secureBoot: boolean;
  tpm: boolean;
  start: boolean;
  /** guest architecture: follows the ISO's (OS detection), or the person's choice */
  arch: 'x86_64' | 'aarch64';
  /** the emulator: QEMU unless the person takes the wasm/v86 proposal (lib/wizard-v86.ts) */
  backend?: 'qemu' | 'wasm/v86';
}

export interface WizardContext {
  hostCpus: number;
  hostMemoryBytes: number;
  taken: Iterable<string>;
  os: OsEntry | null;
  tpmAvailable: boolean;
  /** host.info's per-arch facts: whether the host runs each guest arch natively */
  arches?: readonly { arch: string; native: boolean }[];
}

export type Field = 'iso' | 'importDisk' | 'name' | 'cpus' | 'memory' | 'disk' | 'firmware' | 'secureBoot' | 'tpm' | 'arch';

export interface WizardCheck {
  errors: Partial<Record<Field, string>>;
  warnings: Partial<Record<Field, string>>;
}

export function checkWizard(f: WizardForm, ctx: WizardContext): WizardCheck {
  const errors: WizardCheck['errors'] = {};
  const warnings: WizardCheck['warnings'] = {};

  if (f.source === 'iso' && !f.iso.trim()) errors.iso = 'Choose an installer ISO, or pick "No ISO".';
  if (f.source === 'import' && !f.importDisk.trim()) errors.importDisk = 'Choose a disk image to import.';

  const np = nameProblem(f.name, ctx.taken);
  if (np) errors.name = np;

  if (!Number.isInteger(f.cpus) || f.cpus < 1) errors.cpus = 'Give at least 1 CPU.';
  else if (f.cpus > ctx.hostCpus) errors.cpus = `This host has ${ctx.hostCpus} CPUs: give at most ${ctx.hostCpus}.`;
  else if (f.cpus === ctx.hostCpus && ctx.hostCpus > 1) warnings.cpus = 'All host CPUs: the host may become sluggish while the VM is busy.';

  const mem = readSize(f.memory, 'M');
  if ('error' in mem) errors.memory = `Memory: ${mem.error}`;
  else if (mem.bytes < 16 * MiB) errors.memory = 'Memory must be at least 16 MiB.';
  else if (mem.bytes > ctx.hostMemoryBytes) {
    errors.memory = `Memory ${formatBytes(mem.bytes)} is more than this host has (${formatBytes(ctx.hostMemoryBytes)}): lower it.`;
  } else if (mem.bytes > ctx.hostMemoryBytes * 0.75) {
    warnings.memory = `Over 75% of host memory (${formatBytes(ctx.hostMemoryBytes)}): the host may start swapping.`;
  } else if (ctx.os?.requires?.memoryMiB && mem.bytes < ctx.os.requires.memoryMiB * MiB) {
    // only what the OS's own installer refuses is an error (engine: osdetect/minimums.ts)
    errors.memory = `${ctx.os.name}'s installer refuses less than ${formatBytes(ctx.os.requires.memoryMiB * MiB)} of memory: give at least that.`;
  } else if (ctx.os?.minimum && mem.bytes < ctx.os.minimum.memoryMiB * MiB) {
    warnings.memory = `${ctx.os.name} needs at least ${formatBytes(ctx.os.minimum.memoryMiB * MiB)}; the installer may fail.`;
  }

  if (f.source !== 'import') {
    const disk = readSize(f.disk, 'G');
    if ('error' in disk) errors.disk = `Disk: ${disk.error}`;
    else if (disk.bytes < 1 * MiB) errors.disk = 'The disk must be at least 1 MiB.';
    else if (ctx.os?.requires?.diskGiB && disk.bytes < ctx.os.requires.diskGiB * GiB) {
      errors.disk = `${ctx.os.name} needs a disk of at least ${ctx.os.requires.diskGiB} GiB: make it larger.`;
    } else if (ctx.os?.minimum && disk.bytes < ctx.os.minimum.diskGiB * GiB) {
      // advice, not a rule: DOS runs on far less than its table entry says
      warnings.disk = `${ctx.os.name} is usually installed on a disk of at least ${ctx.os.minimum.diskGiB} GiB; it may run out of space.`;
    }
  }

  if (f.secureBoot && f.firmware !== 'uefi') errors.secureBoot = 'Secure Boot needs UEFI firmware.';
  if (f.tpm && !ctx.tpmAvailable) errors.tpm = 'No TPM emulator (swtpm) on this host: turn TPM off or install swtpm.';
  if (ctx.os?.tpm && !f.tpm) warnings.tpm = `${ctx.os.name} expects a TPM 2.0; its installer may refuse to continue.`;
  if (ctx.os?.requires?.tpm && !f.tpm && !errors.tpm) errors.tpm = `${ctx.os.name}'s installer refuses PCs without a TPM 2.0: turn TPM on.`;
  if (ctx.os?.firmware === 'uefi' && f.firmware === 'bios') warnings.firmware = `${ctx.os.name} is normally installed with UEFI.`;
  if (ctx.os?.requires?.uefi && f.firmware === 'bios') errors.firmware = `${ctx.os.name}'s installer refuses PCs that start with BIOS: choose UEFI.`;
  if (f.arch === 'aarch64' && f.firmware !== 'uefi') errors.firmware = 'aarch64 guests boot only through UEFI.';
  const guest = ctx.arches?.find((a) => a.arch === f.arch);
  const native = ctx.arches?.find((a) => a.native)?.arch;
  if (guest && !guest.native) {
    warnings.arch = `${f.arch} guests are emulated on this ${native ?? 'host'} computer (no hardware accelerator runs them): expect them to run many times slower than native` +
      (f.arch === 'x86_64' ? '; Windows and desktop systems will feel very slow.' : '.');
  }

  const out = { errors, warnings };
  checkV86(f, out);
  return out;
}

export const hasErrors = (c: WizardCheck) => Object.keys(c.errors).length > 0;

/** The arguments for vms.create; only call after checkWizard found no errors. */
export function createArgs(f: WizardForm, osId: string | null) {
  const mem = readSize(f.memory, 'M');
  const disk = readSize(f.disk, 'G');
  return {
    name: f.name.trim(),
    ...(f.source === 'iso' ? { iso: f.iso.trim() } : { iso: null }),
    ...(f.source === 'import' ? { importDisk: f.importDisk.trim() } : {}),
    ...(osId ? { os: osId } : {}),
    cpus: f.cpus,
    ...('bytes' in mem ? { memory: `${Math.round(mem.bytes / MiB)}M` } : {}),
    ...(f.source !== 'import' && 'bytes' in disk ? { disk: `${Math.round(disk.bytes / MiB)}M` } : {}),
    firmware: f.firmware,
    secureBoot: f.secureBoot,
    tpm: f.tpm,
    arch: f.arch,
    ...(f.backend === 'wasm/v86' ? { backend: 'wasm/v86' as const } : {}),
    start: f.start,
  };
}

/** Recommended values, bounded by the host (a recommendation above the host is no help). */
export function defaultsFor(os: OsEntry | null, hostCpus: number, hostMemoryBytes: number) {
  const rec = os?.recommended ?? { cpus: 2, memoryMiB: 2048, diskGiB: 20 };
  const hostMiB = Math.floor(hostMemoryBytes / MiB);
  // never below what the OS's installer refuses (Windows 11: 4 GiB), where the host has it
  const memMiB = Math.max(16, Math.min(os?.requires?.memoryMiB ?? 0, hostMiB), Math.min(rec.memoryMiB, Math.floor(hostMiB / 2)));
  return {
    // One host CPU stays free by default: all of them is what the CPU warning warns about.
    cpus: Math.max(1, Math.min(rec.cpus, hostCpus - 1)),
    memory: memMiB % 1024 === 0 ? `${memMiB / 1024}G` : `${memMiB}M`,
    disk: `${rec.diskGiB}G`,
    firmware: os?.firmware ?? 'bios',
    secureBoot: os?.secureBoot ?? false,
    tpm: os?.tpm ?? false,
  } as const;
}
