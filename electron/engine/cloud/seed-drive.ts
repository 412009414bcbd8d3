import type { VmConfig } from '../../api/schemas/vm-config.ts';

// Where a VM's NoCloud seed lives and how it reaches QEMU: one more CD drive after the
// configured ones, on the same bus as the first, holding the `cidata` ISO the engine rewrites
// before each start (seed-helper.ts). Pure, so argv stays a function of the config.

/** The seed ISO's file name inside the VM folder. */
export const SEED_FILE = 'cidata.iso';

/** The extra read-only CD drive of a VM with a seed (none without one). */
export function seedDrives(config: Pick<VmConfig, 'cloudInit' | 'cdrom'>): { iso: string; bus: VmConfig['cdrom']['bus'] }[] {
  return config.cloudInit ? [{ iso: SEED_FILE, bus: config.cdrom.bus }] : [];
}
