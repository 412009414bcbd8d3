import { join } from 'node:path';
import { rename, writeFile } from 'node:fs/promises';
import type { VmConfig } from '../../api/schemas/vm-config.ts';
import type { HelperProcess } from '../vm/helpers.ts';
import { SEED_FILE } from './seed-drive.ts';
import { seedIso } from './seed.ts';

// The seed is written before every start, from the vm.json QEMU is about to run with, so it
// can never lag behind a settings change (nor be a file someone swapped in the VM folder). It
// rides the launch's helper list because that is the one "ready before QEMU" step a launch
// has; it starts no process, and there is nothing to stop.

export function cloudSeedHelpers(vmDir: string, config: VmConfig): HelperProcess[] {
  const cloud = config.cloudInit;
  if (!cloud) return [];
  const file = join(vmDir, SEED_FILE);
  return [
    {
      name: 'cloud-init seed',
      async start() {
        const iso = seedIso({ vmId: config.id, createdAt: config.createdAt, cloud });
        const tmp = `${file}.tmp`;
        await writeFile(tmp, iso, { mode: 0o600 });
        await rename(tmp, file);
      },
      async stop() {},
    },
  ];
}
