import type { VmConfig } from '../../api/schemas/vm-config.ts';
import { getOs } from './detect.ts';
import { checkMinimums } from './minimums.ts';

/**
 * The OS's advisory minimums a VM is below ("MS-DOS 6.22 is usually installed on a disk of at
 * least 1 GiB …"), for VmDetails.warnings: a VM created past them keeps saying so.
 */
export function osMinimumWarnings(c: VmConfig, disks: ReadonlyArray<{ virtualSize: number | null }>): string[] {
  const os = getOs(c.os.id);
  if (!os) return [];
  const first = disks[0]?.virtualSize ?? null;
  const { warnings } = checkMinimums({ id: os.id, name: c.os.name, minimum: os.minimum }, { memoryMiB: c.system.memoryMiB, diskBytes: first, firmware: c.system.firmware, tpm: c.system.tpm });
  return warnings.map((w) => w.message);
}
