// Result and event payload types of the API. Plain data only: these cross IPC and WebSocket,
// and the renderer imports them (types only).
import type { PortForward, VmConfig } from './schemas/vm-config.ts';
import type { CloneInfo } from './clone-types.ts';
import type { WireError } from './errors.ts';
import { VM_STATE_NAMES } from '../shared/states.ts';

export type { VmConfig } from './schemas/vm-config.ts';
export type { WireError } from './errors.ts';

export type AccelName = 'kvm' | 'hvf' | 'whpx' | 'tcg';

export interface AccelCandidate {
  accel: AccelName;
  present: boolean;
  presentReason: string;
  ok: boolean;
  /** QEMU start to the probe's long-mode marker (start-up + firmware + mode switches) */
  bootMs?: number;
  /** the probe's WORK-START to WORK-END markers */
  workMs?: number;
  error?: string;
  verdict: string;
}

export interface AccelReport {
  chosen: AccelName;
  reason: string;
  testedAt: string;
  candidates: AccelCandidate[];
  cached: boolean;
}

export interface FirmwareSummary {
  description: string;
  code: string;
  vars: string | null;
  features: string[];
  secureBoot: boolean;
  enrolledKeys: boolean;
  requiresSmm: boolean;
}

/** One guest architecture on this host. */
export interface ArchHostInfo {
  arch: 'x86_64' | 'aarch64';
  /** the host's own CPU architecture: only these guests can use a hardware accelerator */
  native: boolean;
  qemu: HostInfo['qemu'];
  accel: AccelReport | null;
  firmware: FirmwareSummary[];
}

export interface HostInfo {
  appVersion: string;
  platform: string;
  arch: string;
  cpus: number;
  memoryBytes: number;
  home: string;
  qemu:
    | { found: true; binary: string; imgBinary: string | null; version: string; source: string; accels: string[] }
    | { found: false; error: WireError };
  accel: AccelReport | null;
  firmware: FirmwareSummary[];
  /** every guest architecture: its QEMU, accelerators (with the self-test's reasons) and firmware; the fields above are x86_64's */
  arches: ArchHostInfo[];
  tpm: { available: boolean; binary?: string; version?: string; reason?: string };
  /** passt for NAT cards (engine/net/nat/plan.ts); without it they use QEMU's slirp */
  passt: PasstAvailability;
  /** shared folders: what this host can serve (filled by the shares area) */
  shares?: SharesAvailability;
}

/** The contract's VM states: the shared list, so the renderer's state groups cannot drift from it. */
export const VM_STATES = VM_STATE_NAMES;
export type VmState = (typeof VM_STATES)[number];

export interface CrashInfo {
  at: string;
  exitCode: number | null;
  signal: string | null;
  stderrTail: string;
  reason: string;
}

export interface VmSummary {
  id: string;
  name: string;
  os: { id: string; name: string; family: string };
  state: VmState;
  /** set when vm.json could not be loaded; config is then unavailable */
  broken: string | null;
  cpus: number;
  memoryMiB: number;
  createdAt: string;
  accel: AccelName | null;
  crash: CrashInfo | null;
  /** a template: not started, VMs are made from it (config.template) */
  template?: boolean;
  /** a wasm/v86 VM running in a window or tab (its lease holder): which browser at which address, since when */
  heldBy?: { who: string; since: string };
}

export interface DiskDetails {
  id: string;
  path: string;
  format: string;
  bus: string;
  virtualSize: number | null;
  actualSize: number | null;
  error?: string;
}

export interface VmDetails extends VmSummary {
  dir: string;
  config: VmConfig | null;
  runtime: {
    pid: number | null;
    accel: AccelName | null;
    accelReason: string | null;
    startedAt: string | null;
    /** what a running VM offers to viewers (display.open / console.open); null when stopped or absent */
    display: 'vnc' | null;
    console: 'serial' | null;
    argv: string[] | null;
    /** the guest agent (qemu-ga) as the engine last saw it */
    agent: AgentInfo;
  };
  paths: { serialLog: string; qemuLog: string };
  disks: DiskDetails[];
  snapshots: { available: boolean; reason: string | null };
  warnings: string[];
  /** each NAT card: its backend (in use, or what a start would pick) and why */
  nat: NatNicStatus[];
  /** shared folders with their availability and mount commands (filled by the shares area) */
  shares?: SharesList;
  /** what cloning can do with this VM and why not, its base and its linked clones (filled by the clone area) */
  clones?: CloneInfo;
}

export interface SnapshotNode {
  id: string;
  name: string;
  description: string;
  createdAt: string;
  parent: string | null;
  /** true for live snapshots that hold RAM and device state */
  live: boolean;
  vmState: 'running' | 'paused' | 'stopped';
  hasThumbnail: boolean;
  /** whether the guest's file systems were frozen for a live snapshot (null: offline, or older) */
  quiesce?: SnapshotQuiesce | null;
}

export interface SnapshotTree {
  vmId: string;
  nodes: SnapshotNode[];
  /** the snapshot the current state descends from (null: none yet) */
  current: string | null;
  available: boolean;
  reason: string | null;
}

/** interrupted: the engine running it died (kill -9, power cut); a later engine reports it */
export type JobState = 'running' | 'done' | 'failed' | 'cancelled' | 'interrupted';

export interface Job {
  id: string;
  kind: 'create' | 'import' | 'convert' | 'snapshot-save' | 'snapshot-restore' | 'snapshot-delete' | 'clone' | 'disk-create' | 'disk-resize' | 'self-test' | 'delete' | 'file-copy' | 'save-state' | 'backup' | 'export' | 'migrate';
  title: string;
  vmId: string | null;
  state: JobState;
  /** 0..1, or null when unknown */
  progress: number | null;
  startedAt: string;
  endedAt: string | null;
  error: WireError | null;
  cancellable: boolean;
  /** of a copy of known size (bytesTotal): progress × bytesTotal; absent for other work */
  bytesDone?: number | null;
  bytesTotal?: number | null;
  /** seconds left at the recent rate (shared/job-progress.ts), null while it cannot be told */
  etaSec?: number | null;
}

export interface OsEntry {
  id: string;
  name: string;
  family: string;
  version: string;
  vendor?: string;
  releaseDate?: string;
  recommended: { cpus: number; memoryMiB: number; diskGiB: number };
  minimum?: { cpus: number; memoryMiB: number; diskGiB: number };
  firmware: 'bios' | 'uefi';
  secureBoot: boolean;
  tpm: boolean;
  profile: 'modern' | 'legacy';
  /** what the OS's own installer refuses to run without; everything else in minimum is advice */
  requires?: { memoryMiB?: number; diskGiB?: number; tpm?: boolean; uefi?: boolean };
}

/** the platforms the disc's El Torito boot catalog can start */
export interface BootPlatforms {
  bios: boolean;
  efi: boolean;
}

export type DetectResult =
  | (OsEntry & {
      status: 'detected';
      arch: string;
      /** what said the architecture: the EFI boot file on the media, its label, or the OS table */
      archEvidence?: string;
      build?: string;
      iso: Record<string, string>;
      /** why this firmware, in plain words ("This disc can only start with BIOS, so the VM uses BIOS") */
      firmwareReason?: string;
      boot?: BootPlatforms;
      /** the release is newer than the OS list: what named it and whose settings it gets */
      newerThanList?: string;
    })
  | {
      status: 'unknown'; reason: string; iso?: Record<string, string>; arch?: string; archEvidence?: string;
      firmware?: 'bios' | 'uefi'; firmwareReason?: string; boot?: BootPlatforms;
    };

/** the firmware found nothing to start (engine/vm/boot-problem.ts) */
export interface BootProblem {
  kind: 'efi-shell' | 'no-bootable-device';
  firmware: 'bios' | 'uefi';
  /** what happened and why, in plain words */
  message: string;
  /** the one-click fix (settings change + restart), or null when switching firmware would not help */
  fix: { firmware: 'bios' | 'uefi'; label: string } | null;
}

export interface DisplaySession {
  /**
   * ws(s):// URL of the VM's screen or console, token included: on the desktop the engine's
   * loopback bridge, in web mode the server's own origin (/display/<vm>, /console/<vm>)
   */
  url: string;
  token: string;
  expiresAt: string;
}

export interface FileEntry {
  name: string;
  path: string;
  kind: 'file' | 'dir';
  size: number;
}

export interface ImageInfo {
  path: string;
  format: string;
  virtualSize: number;
  actualSize: number | null;
  backingFile: string | null;
  snapshots: number;
}

export interface CheckResult {
  ok: boolean;
  corruptions: number;
  leaks: number;
}

// ---- shared folders and guest tools -------------------------------------------------------

/** Whether this host can serve one kind of shared folder, and why not. */
export interface ShareTypeAvailability {
  available: boolean;
  reason: string | null;
  /** read-only shares are enforced (9p always; virtiofs when its virtiofsd has a read-only mode) */
  readOnly: boolean;
  /** what a share of this kind does to live snapshots of a running VM */
  liveSnapshot: string;
  /** virtiofs: the virtiofsd found */
  daemon: { binary: string; flavour: 'c' | 'rust'; version: string; needsRoot: boolean } | null;
}

export interface SharesAvailability {
  '9p': ShareTypeAvailability;
  virtiofs: ShareTypeAvailability;
}

/** What to run inside the guest to see a share, for the VM's OS family. */
export interface ShareMountHint {
  family: string;
  /** shell lines for a person; empty when the guest has no client */
  commands: string[];
  note: string | null;
  /** `shares.mount` can run it through the guest agent (Linux guests) */
  viaAgent: boolean;
}

export interface ShareInfo {
  tag: string;
  path: string;
  readOnly: boolean;
  type: '9p' | 'virtiofs';
  /** false when this host cannot serve it (the VM would not start): reason says why */
  available: boolean;
  reason: string | null;
  mount: ShareMountHint;
}

export interface SharesList {
  shares: ShareInfo[];
  availability: SharesAvailability;
}

export interface ShareMountResult {
  tag: string;
  mountPoint: string;
  argv: string[];
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface GuestToolImage {
  kind: 'virtio-win' | 'spice-guest-tools';
  name: string;
  path: string;
  size: number;
  /** a CD image that guestTools.attach can insert */
  attachable: boolean;
  note: string | null;
}

export interface GuestToolsInfo {
  found: GuestToolImage[];
  /** the folders looked in, in order */
  searched: string[];
  /** where to get them, when none was found */
  guidance: string | null;
}

// the guest agent's types live in agent-types.ts
export type * from './agent-types.ts';
import type { AgentInfo, SnapshotQuiesce } from './agent-types.ts';

// ---- NAT (engine/net/nat/) ----------------------------------------------------------------

export interface PasstAvailability {
  available: boolean;
  binary?: string;
  version?: string;
  /** why not, and how to get it */
  reason?: string;
}

export interface NatNicStatus {
  nic: string;
  backend: 'passt' | 'slirp';
  reason: string;
  /** the VM runs with this backend on this card */
  running: boolean;
  /** what a forward change while running does to open connections */
  liveChange: string;
  forwards: PortForward[];
}

/** forwards.list/add/remove: a VM's NAT cards with their forwards. */
export interface ForwardsResult {
  vm: string;
  running: boolean;
  nics: NatNicStatus[];
}

// USB devices (usb.*): their own file, so this one stays under the module size limit.
export type { HostUsbDevice, HostUsbList, VmUsbDevice } from './usb-types.ts';

// ---- stats (engine/stats/, owned by the live-graphs work): types in stats-types.ts ----
export type * from './stats-types.ts';

// ---- express install (engine/unattended/): types in unattended-types.ts ----
export type * from './unattended-types.ts';
