// Remote hosts (engine/remote/): libvirt hosts reached by URI, their domains and snapshots.

export interface RemoteHost {
  id: string;
  name: string;
  /** libvirt URI: qemu:///session, qemu+ssh://user@host/system, qemu+tls://host/system, qemu+unix:///session?socket=… */
  uri: string;
  addedAt: string;
  /** a Vireo host (vireo://addr:port, a `vireo serve` there): the pairing secret it printed; never sent to API clients */
  secret?: string;
}

export interface RemoteHostStatus extends RemoteHost {
  /** whether the last look reached libvirt, and if not, why */
  reachable: boolean;
  reason: string | null;
  /** libvirt's and the hypervisor's versions when reached */
  libvirtVersion: string | null;
  hypervisorVersion: string | null;
  /** screen and console through this connection: only where libvirt's sockets are on this machine */
  localSockets: boolean;
  /** libvirt (reached by URI through virsh) or another Vireo engine (paired, vireo://) */
  kind: 'libvirt' | 'vireo';
}

export type RemoteDomainState = 'running' | 'paused' | 'stopped' | 'crashed' | 'suspended' | 'other';

export interface RemoteDomainDisk {
  device: 'disk' | 'cdrom' | 'floppy' | 'lun';
  file: string | null;
  format: string | null;
  target: string;
  bus: string;
  readOnly: boolean;
}

/** A domain's config as read back from its XML (engine/remote/domxml.ts). */
export interface RemoteDomainInfo {
  name: string;
  uuid: string;
  domainType: string;
  arch: string;
  machine: string;
  memoryMiB: number;
  vcpus: number;
  firmware: 'bios' | 'uefi';
  secureBoot: boolean;
  tpm: boolean;
  cpuMode: string | null;
  disks: RemoteDomainDisk[];
  nics: { type: string; mac: string | null; model: string | null; source: string | null }[];
  graphics: { type: string; socket: string | null; port: number | null; listen: string | null } | null;
  video: string | null;
  serial: boolean;
  /** the first serial port: its type (pty, unix, …), the socket of a unix one, its log file */
  console?: { type: string; socket: string | null; log: string | null } | null;
  os: { id: string; name: string; family: string } | null;
  /** the domain carries Vireo's metadata (created from a Vireo config) */
  madeByVireo: boolean;
}

export interface RemoteDomain {
  hostId: string;
  name: string;
  uuid: string;
  state: RemoteDomainState;
  /** libvirt's own word for the state (virsh domstate) */
  libvirtState: string;
  persistent: boolean;
}

export interface RemoteDomainDetails extends RemoteDomain {
  info: RemoteDomainInfo;
  snapshots: RemoteSnapshot[];
  /** features of the Vireo config the host did not get (create only) */
  dropped?: string[];
}

export interface RemoteSnapshot {
  name: string;
  parent: string | null;
  createdAt: string | null;
  state: string;
  current: boolean;
  description: string;
}

/** A live move of a library VM to a paired Vireo host (engine/migrate/). */
export interface VmMoveResult {
  vm: string;
  host: string;
  /** the guest's stop at the switch-over as QEMU measured it (query-migrate downtime), ms */
  downtimeMs: number | null;
  /** the whole move, disk mirror included, ms */
  totalMs: number;
  /** what became of the snapshot tree: a live move refuses a VM with snapshots, so there were none */
  snapshots: 'none';
}

/** An offline move or copy of a stopped VM to a host (engine/migrate/offline.ts, engine/remote/offline.ts). */
export interface VmOfflineMoveResult {
  vm: string;
  /** its id there: the same for a move to a Vireo host, a new one for a copy */
  id: string;
  host: string;
  copied: boolean;
  /** snapshots carried with it (the whole tree) */
  snapshots: number;
  /** whether TPM state went with it */
  tpm: boolean;
  /** what was left behind, each with why */
  dropped: string[];
  /** how what went arrived there, when it differs from here ("snapshots arrive as disk states") */
  notes?: string[];
}
