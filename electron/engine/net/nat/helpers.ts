import { join } from 'node:path';
import type { VmConfig } from '../../../api/schemas/vm-config.ts';
import type { LibraryEntry } from '../../library/library.ts';
import type { ArgvNat } from '../../qemu/argv/context.ts';
import type { HelperProcess } from '../../vm/helpers.ts';
import { passtHelper, type PasstOptions } from './passt.ts';
import { assertPortFree } from './port-holder.ts';

// The NAT cards' helper processes for the backend's helpersFor: one passt per card that uses it.

/** passt's options for one card; the forwards are read from vm.json when passt (re)starts. */
export function passtOptions(entry: LibraryEntry, nicId: string, config: VmConfig): PasstOptions {
  return {
    runtimeDir: entry.paths.runtime,
    nicId,
    logFile: join(entry.paths.logs, `passt-${nicId}.log`),
    qemuPidFile: entry.paths.pidFile,
    forwards: () => config.networks.find((n) => n.id === nicId)?.portForwards ?? [],
  };
}

/**
 * With `plan` (a launch): a passt helper per card the plan gives passt. Without (a VM found
 * running, or gone): one per NAT card, since stopping works from the pidfile alone and is a
 * no-op for a card that ran on slirp.
 */
export function natHelpers(entry: LibraryEntry, config: VmConfig, plan?: Readonly<Record<string, ArgvNat>>): HelperProcess[] {
  const nat = config.networks.filter((n) => n.mode === 'user');
  const helpers = nat.filter((n) => !plan || plan[n.id]?.backend === 'passt').map((n) => passtHelper(passtOptions(entry, n.id, config)));
  const slirp = plan ? nat.filter((n) => plan[n.id]?.backend !== 'passt') : [];
  if (slirp.some((n) => n.portForwards.length)) {
    // Not a process: slirp's forwards are QEMU's, and QEMU fails on a taken port with only
    // "could not set up host forwarding rule". Checked first, the start names the holder.
    helpers.unshift({
      name: 'slirp forwards',
      start: async () => {
        for (const f of slirp.flatMap((n) => n.portForwards)) await assertPortFree(f);
      },
      stop: async () => {},
    });
  }
  return helpers;
}
