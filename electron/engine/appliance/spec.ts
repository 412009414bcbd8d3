import { VmConfigSchema, MAC_RE, type DiskBus, type NicModel, type VmConfig } from '../../api/schemas/vm-config.ts';
import type { ApplianceItem } from '../../api/appliance-types.ts';
import { baseConfig, newMac } from '../library/library.ts';
import { mergePatch } from '../library/config-store.ts';
import { defaultsForOs } from '../qemu/defaults.ts';
import { aarch64Defaults } from '../qemu/defaults-aarch64.ts';
import type { MappedOs } from './os-map.ts';

// What an appliance (OVF, a .vbox file, a Vireo extension section) says about a machine, in
// Vireo's terms, before it becomes a config: every field either mapped (with where it came
// from) or dropped (with why), so the preview shows both and the import does exactly that.

export interface SpecDisk {
  /** the file as the appliance names it (an OVF href, a .vbox Location) */
  source: string;
  bus: DiskBus;
  capacityBytes: number | null;
}

export interface SpecNic {
  model: NicModel;
  mode: 'user' | 'none';
  mac: string | null;
}

export interface ApplianceSpec {
  name: string;
  /** the guest architecture when the appliance says (UTM); x86_64 otherwise */
  arch?: 'x86_64' | 'aarch64';
  os: MappedOs | null;
  cpus: number | null;
  memoryMiB: number | null;
  firmware: 'bios' | 'uefi' | null;
  disks: SpecDisk[];
  nics: SpecNic[];
  /** the settings of Vireo's own section (an OVA Vireo exported), checked field by field */
  vireo: Partial<VmConfig> | null;
  mapped: ApplianceItem[];
  dropped: ApplianceItem[];
}

export const emptySpec = (name: string): ApplianceSpec => ({ name, os: null, cpus: null, memoryMiB: null, firmware: null, disks: [], nics: [], vireo: null, mapped: [], dropped: [] });

/** Record a mapped setting; a later, more exact source (vbox:Machine after the OVF sections) replaces an earlier one's line. */
export function mapped(spec: ApplianceSpec, item: string, value: string, note: string): void {
  const i = spec.mapped.findIndex((m) => m.item === item);
  if (i >= 0) spec.mapped[i] = { item, value, note };
  else spec.mapped.push({ item, value, note });
}

/** NIC models by the names OVF (rasd:ResourceSubType) and VirtualBox (Adapter type) give them. */
export function nicModelOf(name: string): NicModel | null {
  const n = name.trim().toLowerCase();
  if (['virtio', 'virtio-net', 'virtio-net-pci', 'vmxnet3'].includes(n)) return 'virtio-net-pci';
  if (['e1000', '82540em', '82543gc', '82545em'].includes(n)) return 'e1000';
  if (['e1000e', '82574l'].includes(n)) return 'e1000e';
  if (['pcnet32', 'pcnet', 'am79c970a', 'am79c973', 'pcnetpci'].includes(n)) return 'pcnet';
  if (['rtl8139', 'pcnet-fast'].includes(n)) return 'rtl8139';
  return null;
}

/** "080027AABBCC" or "08:00:27:aa:bb:cc" → "08:00:27:aa:bb:cc"; null when it is not a MAC. */
export function normaliseMac(m: string | undefined): string | null {
  if (!m) return null;
  const hex = m.replace(/[:-]/g, '').toLowerCase();
  if (!/^[0-9a-f]{12}$/.test(hex)) return null;
  const mac = hex.match(/../g)!.join(':');
  // A multicast address would not work as a card's own.
  return MAC_RE.test(mac) && (parseInt(hex.slice(0, 2), 16) & 1) === 0 ? mac : null;
}

/**
 * The config an import creates: Vireo's defaults for the OS, then what the appliance says.
 * `diskFiles` are the qcow2 files the import wrote, in the spec's disk order.
 */
export function specToConfig(spec: ApplianceSpec, id: string, name: string, diskFiles: string[]): VmConfig {
  const family = spec.os?.family ?? 'other';
  const firmware = spec.firmware ?? 'bios';
  const base = baseConfig(id, name);
  const defaults = defaultsForOs({ family, id: spec.os?.id ?? 'unknown', profile: 'modern', firmware, secureBoot: false, tpm: false });
  let merged = mergePatch(base, defaults) as Record<string, unknown>;
  if (spec.arch === 'aarch64') merged = mergePatch(mergePatch(merged, aarch64Defaults(family)), { arch: 'aarch64', profile: 'modern' }) as Record<string, unknown>;
  const v = spec.vireo;
  if (v) {
    // Only the settings that stay inside the VM (vireoSection in ovf-read.ts kept no others).
    merged = mergePatch(merged, { ...v, networks: undefined, disks: undefined }) as Record<string, unknown>;
  }
  const nics = spec.nics.map((n, i) => ({ ...(v?.networks?.[i] ?? {}), id: `net${i}`, model: n.model, mode: n.mode, mac: n.mac ?? newMac(), portForwards: v?.networks?.[i]?.portForwards ?? [] }));
  merged = mergePatch(merged, {
    os: spec.os ? { id: spec.os.id, name: spec.os.name, family } : { id: 'unknown', name: 'Unknown OS', family: 'other' },
    system: { ...(spec.cpus ? { cpus: spec.cpus } : {}), ...(spec.memoryMiB ? { memoryMiB: spec.memoryMiB } : {}), firmware },
    boot: v?.boot ?? { order: ['disk', 'cdrom'] },
  }) as Record<string, unknown>;
  merged.networks = nics;
  merged.disks = spec.disks.map((d, i) => ({ ...(v?.disks?.[i] ?? {}), id: v?.disks?.[i]?.id ?? `disk${i}`, file: diskFiles[i]!, format: 'qcow2', bus: v?.disks?.[i]?.bus ?? d.bus, readOnly: false }));
  return VmConfigSchema.parse(merged);
}
