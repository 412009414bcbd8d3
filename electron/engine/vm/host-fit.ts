import { totalmem, cpus as hostCpus } from 'node:os';
import type { VmConfig } from '../../api/schemas/vm-config.ts';

/** What in a VM's settings this host will struggle with (vms.get's warnings): memory, UEFI's needs, vCPUs. */
export function hostFitWarnings(c: VmConfig): string[] {
  const w: string[] = [];
  const hostMiB = Math.floor(totalmem() / 1024 ** 2);
  if (c.system.memoryMiB > hostMiB * 0.8) w.push(`memory ${c.system.memoryMiB} MiB is more than 80% of this host's ${hostMiB} MiB: the host may swap`);
  if (c.system.firmware === 'uefi' && c.system.memoryMiB < 512) {
    w.push(`UEFI with ${c.system.memoryMiB} MiB: many UEFI boot loaders (GRUB, shim) run out of memory below 512 MiB`);
  }
  if (c.system.cpus > hostCpus().length) w.push(`${c.system.cpus} vCPUs is more than this host's ${hostCpus().length} CPUs: the guest will run slowly`);
  return w;
}
