import type { VmConfig } from './schemas/vm-config.ts';

// Results of the resources area (electron/engine/resources/): limits, overcommit, host meter.

export interface LimitAvailability {
  available: boolean;
  /** why not, with what to do; null when available */
  reason: string | null;
}

export interface LimitsInfo {
  limits: VmConfig['limits'];
  cpu: LimitAvailability & {
    /** how the cap is applied on this host */
    mechanism: 'cgroup-v2' | 'cgroup-v1' | null;
    /** the VM's cgroup while its QEMU is in one, else null */
    cgroup: string | null;
  };
  disk: LimitAvailability & {
    /** false while the VM runs without its disks behind the throttle group: a change then takes effect at the next start */
    live: boolean;
  };
  /** per network backend: whether limits.netBytesPerSec reaches its cards here, and how or why not */
  network: { backend: 'slirp' | 'passt' | 'bridged' | 'private' | 'hostonly'; available: boolean; reason: string }[];
  /** what was saved but waits for the next start, as sentences */
  pending: string[];
}

export interface OvercommitReport {
  memory: {
    /** this VM's memory */
    thisMiB: number;
    /** the running VMs' configured memory, together */
    runningMiB: number;
    /** of that, what their QEMUs have not yet taken from the host (configured − resident), which they may still claim */
    runningUnclaimedMiB: number;
    /** thisMiB + runningUnclaimedMiB: what the host must still be able to give */
    neededMiB: number;
    /** the host's MemAvailable now */
    availableMiB: number;
    totalMiB: number;
    over: boolean;
  };
  cpus: { thisVcpus: number; runningVcpus: number; hostCpus: number; over: boolean };
  /** one sentence per kind of overcommit, with the numbers */
  warnings: string[];
}

/** The library's host meter: what the running VMs take of this host. */
export interface HostResources {
  memTotalMiB: number;
  memAvailableMiB: number;
  /** running VMs' configured memory, together */
  vmsMemoryMiB: number;
  /** running VMs' QEMU resident memory, together */
  vmsResidentMiB: number;
  cpus: number;
  vmsVcpus: number;
  running: number;
}
