import { readFile } from 'node:fs/promises';
import { VireoError } from '../../api/errors.ts';
import type { VmConfig } from '../../api/schemas/vm-config.ts';
import type { LibraryEntry } from '../library/library.ts';
import type { HelperProcess } from '../vm/helpers.ts';
import { cpuCapHost, moveIntoCgroup, removeCgroup, setCpuCap, vmCgroup } from './cgroup.ts';

// The CPU cap rides the launch as a helper (vm/helpers.ts) although it runs no process: its
// start refuses a cap this host cannot apply before QEMU is spawned, its attach moves the
// paused QEMU into the VM's cgroup before the guest runs a single instruction, and its stop
// removes the group after QEMU has exited — also for a VM a previous engine started, since
// the group's folder follows from the VM's id.

export function cpuCapHelper(entry: LibraryEntry, config: VmConfig): HelperProcess {
  const percent = config.limits.cpuPercent;
  return {
    name: 'cpu-cap',
    async start() {
      if (percent === null) return;
      const host = await cpuCapHost();
      if (!host.available) {
        throw new VireoError('UNSUPPORTED', `"${config.name}" has a CPU cap of ${percent}% that this host cannot apply: ${host.reason}; or remove the cap in Settings → Resources`, { field: 'limits.cpuPercent' });
      }
    },
    async attach() {
      if (percent === null) return;
      const pid = Number((await readFile(entry.paths.pidFile, 'utf8')).trim());
      await moveIntoCgroup(await setCpuCap(await cpuCapHost(), entry.id, percent), pid);
    },
    async stop() {
      const dir = vmCgroup(await cpuCapHost(), entry.id);
      if (dir) await removeCgroup(dir);
    },
  };
}
