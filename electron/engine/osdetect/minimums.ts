import { formatBytes } from '../../api/schemas/common.ts';

// An OS's minimums come in two kinds. Most are advice (osinfo's "minimum" resources): DOS runs
// on far less disk than its table entry, a Linux installer just runs out of space later. Those
// are warnings the user may go past. Only what the OS's own installer checks and refuses is
// refused here, so a VM that could never be installed is not created.

export interface Requirements {
  memoryMiB?: number;
  diskGiB?: number;
  tpm?: boolean;
  uefi?: boolean;
}

/**
 * What installers refuse, by OS id. Windows 11 setup's hardware check ("This PC can't run
 * Windows 11") stops at less than 4 GB of memory, a disk under 64 GB, no TPM 2.0, and a PC
 * that does not boot through UEFI (Secure Boot capable).
 */
const INSTALLER_REFUSES: Record<string, Requirements> = {
  win11: { memoryMiB: 4096, diskGiB: 64, tpm: true, uefi: true },
};

export function requirementsOf(id: string): Requirements | undefined {
  return INSTALLER_REFUSES[id];
}

export interface MinimumsOs {
  id: string;
  name: string;
  minimum: { memoryMiB: number; diskGiB: number };
}

export interface VmShape {
  memoryMiB: number;
  /** null: no new disk (an imported one, or none) */
  diskBytes: number | null;
  firmware: 'bios' | 'uefi';
  tpm: boolean;
}

export interface MinimumProblem {
  field: 'memory' | 'disk' | 'tpm' | 'firmware';
  message: string;
}

const GiB = 1024 ** 3;

/** What the OS's installer would refuse (each with what to do), and what is only advice. */
export function checkMinimums(os: MinimumsOs, vm: VmShape): { refusals: MinimumProblem[]; warnings: MinimumProblem[] } {
  const req = requirementsOf(os.id) ?? {};
  const refusals: MinimumProblem[] = [];
  const warnings: MinimumProblem[] = [];
  const who = `${os.name}'s installer`;
  if (req.memoryMiB && vm.memoryMiB < req.memoryMiB) {
    refusals.push({ field: 'memory', message: `${who} refuses less than ${formatBytes(req.memoryMiB * 1024 ** 2)} of memory (asked: ${formatBytes(vm.memoryMiB * 1024 ** 2)}): give at least ${req.memoryMiB / 1024}G` });
  } else if (vm.memoryMiB < os.minimum.memoryMiB) {
    warnings.push({ field: 'memory', message: `${os.name} usually needs at least ${formatBytes(os.minimum.memoryMiB * 1024 ** 2)} of memory (this VM has ${formatBytes(vm.memoryMiB * 1024 ** 2)}): its installer may fail` });
  }
  if (vm.diskBytes !== null) {
    if (req.diskGiB && vm.diskBytes < req.diskGiB * GiB) {
      refusals.push({ field: 'disk', message: `${who} refuses disks smaller than ${req.diskGiB} GiB (asked: ${formatBytes(vm.diskBytes)}): choose at least ${req.diskGiB}G` });
    } else if (vm.diskBytes < os.minimum.diskGiB * GiB) {
      warnings.push({ field: 'disk', message: `${os.name} is usually installed on a disk of at least ${os.minimum.diskGiB} GiB (this VM's is ${formatBytes(vm.diskBytes)}): it may run out of space` });
    }
  }
  if (req.tpm && !vm.tpm) refusals.push({ field: 'tpm', message: `${who} refuses PCs without a TPM 2.0: turn TPM on (emulated with swtpm)` });
  if (req.uefi && vm.firmware !== 'uefi') refusals.push({ field: 'firmware', message: `${who} refuses PCs that start with BIOS: use UEFI firmware` });
  return { refusals, warnings };
}
