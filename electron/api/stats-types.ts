// Live resource figures (electron/engine/stats/): their own file so types.ts stays small;
// types.ts re-exports them. Every figure the engine cannot get is null, and the sample's
// `unavailable` says why (style habit 8) instead of showing a zero that looks measured.

/** One vCPU thread's share of a host core over the last interval. */
export interface VcpuSample {
  index: number;
  /** the host thread QEMU runs this vCPU on (query-cpus-fast thread-id) */
  threadId: number;
  percent: number | null;
}

/** One second of a running VM, as the engine measured it. Rates are per second. */
export interface VmStatsSample {
  /** when it was taken (ms since the epoch) */
  t: number;
  /** the QEMU process's CPU use, in % of one host core (200 = two cores busy) */
  cpuPercent: number | null;
  vcpus: VcpuSample[];
  /** resident memory of the QEMU process */
  rssBytes: number | null;
  /** what the balloon leaves the guest (query-balloon), null without a balloon device */
  balloonActualBytes: number | null;
  /** free memory the guest reports through the balloon's statistics */
  guestFreeBytes: number | null;
  guestTotalBytes: number | null;
  diskReadBytesPerSec: number | null;
  diskWriteBytesPerSec: number | null;
  diskReadOpsPerSec: number | null;
  diskWriteOpsPerSec: number | null;
  /** bytes written and read since QEMU started (all disks), for totals */
  diskReadBytes: number | null;
  diskWriteBytes: number | null;
  /** the guest's received / sent bytes per second (all cards but loopback) */
  netRxBytesPerSec: number | null;
  netTxBytesPerSec: number | null;
}

/** Why a figure is absent (keys of VmStatsSample that are null), for this VM's current run. */
export type StatsUnavailable = Partial<Record<'cpu' | 'vcpus' | 'rss' | 'balloon' | 'guestMemory' | 'disk' | 'net', string>>;

/** The `stats.sample` event: one VM's newest sample, streamed at 1 Hz to watchers. */
export interface VmStatsEvent {
  vmId: string;
  sample: VmStatsSample;
  unavailable: StatsUnavailable;
  /** where the network figures come from ("guest agent"), null when there are none */
  netSource: string | null;
}

/** stats.history: what the engine kept of one VM (the last 10 minutes it was watched). */
export interface VmStatsHistory {
  vmId: string;
  name: string;
  running: boolean;
  intervalMs: number;
  /** how many samples the ring holds at most */
  capacity: number;
  samples: VmStatsSample[];
  unavailable: StatsUnavailable;
  netSource: string | null;
}

/** stats.watch: a lease; renew it (stats.watch with its id) before leaseMs passes, or it lapses. */
export interface StatsWatch {
  watchId: string;
  /** the VM watched, null for every running VM (host overview, `vireo top`) */
  vmId: string | null;
  intervalMs: number;
  leaseMs: number;
}

/** What the sampler itself costs: it samples only while someone watches. */
export interface SamplerStatus {
  watchers: number;
  /** VMs sampled each tick now */
  sampling: string[];
  /** ticks and QMP commands the sampler has made since the engine started */
  ticks: number;
  qmpCommands: number;
}

/** stats.host: the host and every VM's newest CPU and memory figures (no sampling of its own). */
export interface HostStats {
  cpus: number;
  memTotalBytes: number | null;
  memAvailableBytes: number | null;
  /** why per-process figures are missing on this OS, null where they work */
  unavailable: string | null;
  vms: { id: string; name: string; state: string; latest: VmStatsSample | null; unavailable: StatsUnavailable }[];
  sampler: SamplerStatus;
}
