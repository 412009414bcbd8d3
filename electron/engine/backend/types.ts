import type { VmConfig } from '../../api/schemas/vm-config.ts';
import type { LibraryEntry } from '../library/library.ts';
import type { HelperProcess } from '../vm/helpers.ts';
import type { LaunchSpec } from '../vm/machine.ts';
import type { GuestArch } from '../arch.ts';

// The seam between the engine and what actually runs a guest. QEMU is the first backend; a
// wasm emulator in the renderer is meant to be the second. The engine asks a backend whether
// it can run a VM here, for everything a start needs, for the helpers a running VM has (so a
// VM found running after an engine restart can be cleaned up after), and for the endpoints
// its screen and console are reached through. API results speak of those endpoints, never of
// a backend's internals (socket paths stay inside the engine).

export type BackendId = VmConfig['backend'];

export interface Availability {
  available: boolean;
  /** why not, phrased for a person with what to do next; null when available */
  reason: string | null;
}

/** Where a running VM's screen and console are served, inside the engine. */
export interface VmEndpoints {
  display: { protocol: 'vnc'; socket: string } | null;
  console: { protocol: 'serial'; socket: string } | null;
}

export interface LaunchOptions {
  /** start into this snapshot (a live snapshot restored into a stopped VM) */
  loadvm?: string;
  /** boot from the CD this once (the saved boot order is untouched: vm/boot-once.ts) */
  bootOnce?: 'cdrom';
}

export interface Backend {
  readonly id: BackendId;
  /** whether guests of this architecture can run here, and why not */
  availability(arch: GuestArch): Promise<Availability>;
  /** everything a start needs: binary, argv, accelerator and its reason, helper processes */
  prepareLaunch(entry: LibraryEntry, config: VmConfig, opts?: LaunchOptions): Promise<LaunchSpec>;
  /** the helpers a running VM of this config has, found again by their runtime files */
  helpersFor(entry: LibraryEntry, config: VmConfig): HelperProcess[];
  /** the endpoints of a VM while it runs */
  endpoints(entry: LibraryEntry, config: VmConfig): VmEndpoints;
}
