import type { OsEntry } from '../../../electron/api/types.ts';
import { MiB, formatBytes, readSize } from '../../../electron/shared/size.ts';
import { V86_MAX_MEMORY_MIB } from '../../../electron/shared/v86-rules.ts';

/** The wizard form's fields v86 rules read (lib/wizard.ts WizardForm; structural, so the two do not import each other). */
interface V86Fields {
  source: string;
  cpus: number;
  memory: string;
  firmware: 'bios' | 'uefi';
  secureBoot: boolean;
  tpm: boolean;
  start: boolean;
  arch: 'x86_64' | 'aarch64';
  backend?: 'qemu' | 'wasm/v86';
}
type Messages = Partial<Record<'importDisk' | 'cpus' | 'memory' | 'firmware' | 'secureBoot' | 'tpm' | 'arch', string>>;

// The wizard's side of the wasm/v86 backend (issue 20): a form switched to it takes the one PC
// v86 emulates (one CPU, BIOS, no TPM, memory under its cap), and the checks say what it
// cannot have before vms.create is called (the engine checks the same: backend/v86/create.ts).

export const isV86Form = (f: V86Fields) => f.backend === 'wasm/v86';

/** The form fitted to v86 (on the switch, and when another OS's defaults come in). */
export function v86Form<F extends V86Fields>(f: F, os: OsEntry | null): F {
  const mem = readSize(f.memory, 'M');
  const recMiB = Math.min(os?.recommended.memoryMiB ?? 128, V86_MAX_MEMORY_MIB);
  const memory = 'bytes' in mem && mem.bytes <= V86_MAX_MEMORY_MIB * MiB ? f.memory : `${recMiB}M`;
  return { ...f, backend: 'wasm/v86', cpus: 1, memory, firmware: 'bios', secureBoot: false, tpm: false, arch: 'x86_64', start: false };
}

/** What a v86 VM cannot have, as the wizard's field errors (added to checkWizard's). */
export function checkV86(f: V86Fields, out: { errors: Messages; warnings: Messages }): void {
  if (!isV86Form(f)) return;
  const e = out.errors;
  // the QEMU-only advice does not apply to a PC emulated in the window
  delete out.warnings.arch;
  delete out.warnings.cpus;
  if (f.source === 'import') e.importDisk = 'Not yet with the wasm/v86 backend: an imported disk becomes qcow2, and v86 reads raw images only. Choose an ISO or an empty disk.';
  if (f.cpus !== 1) e.cpus = 'The wasm/v86 backend has exactly one CPU (no SMP): give 1.';
  const mem = readSize(f.memory, 'M');
  if ('bytes' in mem && mem.bytes > V86_MAX_MEMORY_MIB * MiB) e.memory = `The wasm/v86 backend runs at most ${formatBytes(V86_MAX_MEMORY_MIB * MiB)} of memory: give less.`;
  if (f.firmware !== 'bios') e.firmware = 'The wasm/v86 backend starts with BIOS only: choose BIOS.';
  if (f.secureBoot) e.secureBoot = 'Secure Boot needs UEFI, which the wasm/v86 backend has not.';
  if (f.tpm) e.tpm = 'The wasm/v86 backend has no TPM: turn it off, or use QEMU.';
  if (f.arch !== 'x86_64') e.arch = 'The wasm/v86 backend emulates a 32-bit x86 PC: choose x86_64.';
}
