// Results of the appliance methods (electron/engine/appliance/): an import's preview and what
// an export wrote. Plain types, so the renderer may import them.

/** One setting of an appliance: what Vireo made of it, or why it left it out. */
export interface ApplianceItem {
  /** what it is: "CPUs", "memory", "disk vmdisk1", "NIC 2", "USB controller" */
  item: string;
  /** mapped: the Vireo value ("2", "2048 MiB", "sata, 20 GiB"); dropped: the appliance's value */
  value: string;
  /** mapped: where it was read ("VirtualHardwareSection", "vbox:Machine"); dropped: why it was left out */
  note: string;
}

export type ApplianceKind = 'ova' | 'ovf' | 'vbox' | 'utm' | 'bundle';

export interface AppliancePreview {
  path: string;
  kind: ApplianceKind;
  /** the name the VM gets unless the import names another */
  name: string;
  os: { id: string; name: string; family: string } | null;
  cpus: number | null;
  memoryMiB: number | null;
  firmware: 'bios' | 'uefi' | null;
  disks: Array<{ source: string; bus: string; capacityBytes: number | null }>;
  nics: Array<{ model: string; mode: string; mac: string | null }>;
  mapped: ApplianceItem[];
  dropped: ApplianceItem[];
  /** OVA/OVF: the manifest the import will verify (SHA1 or SHA256), or null when there is none */
  manifest: string | null;
}

export interface ApplianceExport {
  path: string;
  format: 'ova' | 'bundle';
  sizeBytes: number;
  files: Array<{ name: string; sizeBytes: number; sha256: string }>;
}

/** The machines of a VirtualBox library folder (`~/VirtualBox VMs` by default). */
export interface VirtualBoxLibrary {
  dir: string;
  /** why nothing could be listed (no such folder), else null */
  note: string | null;
  machines: Array<{ name: string; path: string; os: string | null; cpus: number | null; memoryMiB: number | null; disks: number; error: string | null }>;
}
