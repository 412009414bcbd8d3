import type { Disk } from '../../../api/schemas/vm-config.ts';

// What argv needs besides the VM config: facts about the host and the files and sockets the
// engine chose. Names of files and sockets come from electron/engine/paths.ts (VmPaths) via
// the caller; nothing here invents a path.

/** The part of the capability probe that argv needs; structural so the probe can evolve. */
export interface ArgvCaps {
  versionParts: [number, number, number];
  /** `-machine help` names; empty means "not probed" and skips the check */
  machines: string[];
  /** `-device help` names; empty means "not probed" and skips the check */
  devices: string[];
  /** `-chardev help` names, when probed; qemu-vdagent is not a device so needs its own list */
  chardevs?: string[];
  /** `-audiodev help` drivers, when probed */
  audiodevs?: string[];
}

export interface ArgvFirmware {
  code: string;
  /** raw unless the descriptor says otherwise (Fedora ships qcow2 code images) */
  codeFormat?: 'raw' | 'qcow2';
  vars: string;
  varsFormat: 'qcow2' | 'raw';
  secureBoot: boolean;
  requiresSmm: boolean;
}

export type AudioBackend = 'none' | 'pa' | 'pipewire' | 'alsa' | 'coreaudio' | 'dsound' | 'sdl';

/** Unix sockets QEMU listens on (VmPaths.qmpSocket, .qmpCmdSocket, .vncSocket, .serialSocket). */
export interface ArgvSockets {
  /** the engine's own QMP monitor */
  qmp: string;
  /**
   * a second monitor for short-lived clients (the CLI while `vireo serve` holds the first);
   * the engine always passes it, without it there is no second monitor
   */
  qmpCmd?: string;
  vnc: string;
  serial: string;
  /** the guest agent's virtio-serial channel (VmPaths.agentSocket); without it, no channel */
  agent?: string;
}

/** A NAT card's netdev as the engine resolved its natBackend (engine/net/nat/plan.ts). */
export type ArgvNat = { backend: 'slirp' } | { backend: 'passt'; socket: string };

export interface ArgvContext {
  /** absolute VM folder; disks with relative paths live inside it */
  vmDir: string;
  /** the accelerator the engine settled on (config "auto" is resolved before argv) */
  accel: 'kvm' | 'hvf' | 'whpx' | 'tcg';
  caps: ArgvCaps;
  platform: NodeJS.Platform;
  sockets: ArgvSockets;
  pidFile: string;
  serialLog: string;
  /** the chosen UEFI firmware and this VM's NVRAM copy; required when firmware is uefi */
  firmware?: ArgvFirmware;
  /** swtpm control socket; required when config.system.tpm */
  tpmSocket?: string;
  /** host audio backend for the guest's sound card; "none" keeps the device but stays silent */
  audioBackend?: AudioBackend;
  /**
   * spare PCIe root ports for hot-plugging disks into a running q35 guest; the engine always
   * asks for them (without it a q35 VM can hot-plug nothing)
   */
  hotplugPorts?: boolean;
  /** snapshot tag to resume from (`-loadvm`), when starting into a snapshot */
  loadvm?: string;
  /** per NAT card id: passt (QEMU serves the socket passt is handed) or slirp; a card not named is slirp */
  nat?: Readonly<Record<string, ArgvNat>>;
  /** the library's folder of private-network switches (net/switch/paths.ts); needed by mode "private" */
  privateNetDir?: string;
  /** Linux: qemu-bridge-helper found on this host, for mode "bridged" (QEMU's built-in path when absent) */
  bridgeHelper?: string;
  /** virtiofsd's vhost-user socket per virtiofs share tag; required for each virtiofs share */
  shareSockets?: Readonly<Record<string, string>>;
}

/** Stable ids other engine modules address through QMP. */
export const QEMU_IDS = {
  cdromDevice: 'cdrom0',
  balloon: 'balloon0',
  usb: 'usb0',
  /** the first NIC's netdev; NIC i is net<i> (its config id) */
  net: 'net0',
  pflashCode: 'pflash0',
  pflashVars: 'pflash1',
  diskNode: (d: Pick<Disk, 'id'>) => d.id,
  diskFileNode: (d: Pick<Disk, 'id'>) => `${d.id}-file`,
  diskDevice: (d: Pick<Disk, 'id'>) => `${d.id}-dev`,
  /** the guest device of a NIC: net3 → nic3 */
  nicDevice: (n: { id: string }) => n.id.replace(/^net/, 'nic'),
} as const;
