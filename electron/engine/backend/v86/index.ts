import { VireoError } from '../../../api/errors.ts';
import type { VmConfig } from '../../../api/schemas/vm-config.ts';
import type { LibraryEntry } from '../../library/library.ts';
import type { LaunchSpec } from '../../vm/machine.ts';
import type { HelperProcess } from '../../vm/helpers.ts';
import type { GuestArch } from '../../arch.ts';
import type { Availability, Backend, VmEndpoints } from '../types.ts';
import { V86_TRADE_OFF } from '../../../shared/v86-rules.ts';

// The wasm/v86 backend (issue 20): v86, an x86 emulator compiled to wasm, runs the guest in a
// renderer (the desktop window or a browser page of `vireo serve`). The engine keeps the VM's
// config, drives (served to the renderer in ranges, written back in blocks: engine/wasm/) and
// snapshots; it starts no process, so there is nothing to launch, no helper and no endpoint
// of its own: the screen and serial console are the renderer's.
//
// qemu-wasm (QEMU compiled to wasm, not on the npm registry) would plug in here the same way:
// a second renderer-run backend with this engine side unchanged (leases, drives, snapshots),
// and a renderer module that loads its artifacts (qemu-system-*.js/.wasm/.data from a folder
// the user sets, served by the engine like the BIOS files) instead of libv86.

export class V86Backend implements Backend {
  readonly id = 'wasm/v86' as const;

  async availability(arch: GuestArch): Promise<Availability> {
    if (arch !== 'x86_64') return { available: false, reason: `v86 emulates 32-bit x86 PCs only, not ${arch}: use the QEMU backend` };
    return { available: true, reason: null };
  }

  async prepareLaunch(_entry: LibraryEntry, config: VmConfig): Promise<LaunchSpec> {
    throw new VireoError('UNSUPPORTED', `"${config.name}" runs on the wasm/v86 backend, inside the window that opens its display (${V86_TRADE_OFF}): open its Display tab to run it`, { backend: config.backend });
  }

  helpersFor(): HelperProcess[] {
    return [];
  }

  endpoints(): VmEndpoints {
    return { display: null, console: null };
  }
}
