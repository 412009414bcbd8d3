import type { DiskBus } from '../../api/schemas/vm-config.ts';
import { attr, child, children, type XmlNode } from './xml.ts';
import { osFromVbox } from './os-map.ts';
import { mapped, nicModelOf, normaliseMac, type ApplianceSpec, type SpecNic } from './spec.ts';

// VirtualBox's own machine settings (the <Machine> element of a .vbox file, which an OVA
// VirtualBox exported carries as <vbox:Machine>): CPUs, RAM, firmware, OS type, network
// adapters with their MACs, and (for a .vbox file) the disks by storage controller.

const CONTROLLER_BUS: Record<string, DiskBus> = { AHCI: 'sata', PIIX3: 'ide', PIIX4: 'ide', ICH6: 'ide', LsiLogic: 'scsi', BusLogic: 'scsi', LsiLogicSas: 'scsi', VirtioSCSI: 'scsi', NVMe: 'virtio' };

export interface VboxDisk {
  location: string;
  bus: DiskBus;
  format: string | null;
}

/**
 * Apply a Machine element to a spec. In an OVF the disks come from the OVF's own sections
 * (`ovfDisks`); in a .vbox file from the media registry, returned for the caller to resolve.
 */
export function applyVboxMachine(spec: ApplianceSpec, m: XmlNode, from: string, o: { ovfDisks: boolean }): VboxDisk[] {
  const hw = child(m, 'Hardware');
  const platform = child(m, 'Platform') ?? child(hw, 'Platform');
  const osType = attr(m, 'OSType');
  if (osType) {
    const os = osFromVbox(osType);
    if (os) {
      spec.os = os;
      mapped(spec, 'OS', `${os.name} (${os.id})`, `${from} OSType ${osType}`);
    }
  }
  const name = attr(m, 'name');
  if (name && !o.ovfDisks) spec.name = name;
  const cpus = Number(attr(child(hw, 'CPU'), 'count') ?? 1);
  if (Number.isInteger(cpus) && cpus > 0 && (!o.ovfDisks || spec.cpus === null)) {
    spec.cpus = cpus;
    mapped(spec, 'CPUs', String(cpus), `${from} CPU count`);
  }
  const ram = Number(attr(child(hw, 'Memory'), 'RAMSize'));
  if (Number.isInteger(ram) && ram > 0 && (!o.ovfDisks || spec.memoryMiB === null)) {
    spec.memoryMiB = ram;
    mapped(spec, 'memory', `${ram} MiB`, `${from} Memory RAMSize`);
  }
  const fw = child(hw, 'Firmware') ?? child(platform, 'Firmware');
  const fwType = attr(fw, 'type') ?? 'BIOS';
  spec.firmware = /^EFI/i.test(fwType) ? 'uefi' : 'bios';
  mapped(spec, 'firmware', spec.firmware, `${from} Firmware type ${fwType}${fw ? '' : ' (absent: BIOS)'}`);

  // Network adapters, enabled ones in slot order.
  const adapters = children(child(hw, 'Network'), 'Adapter').filter((a) => attr(a, 'enabled') === 'true').sort((a, b) => Number(attr(a, 'slot')) - Number(attr(b, 'slot')));
  const nics: SpecNic[] = [];
  adapters.forEach((a, i) => {
    const type = attr(a, 'type') ?? 'Am79C973';
    const model = nicModelOf(type) ?? 'e1000';
    const attached = ['NAT', 'NATNetwork', 'BridgedInterface', 'InternalNetwork', 'HostOnlyInterface', 'HostOnlyNetwork', 'GenericInterface', 'CloudNetwork'].find((k) => a[k] !== undefined);
    const mode: SpecNic['mode'] = attached ? 'user' : 'none';
    const mac = normaliseMac(attr(a, 'MACAddress'));
    nics.push({ model, mode, mac });
    mapped(spec, `NIC ${i + 1}`, `${model}, ${mode === 'user' ? 'NAT' : 'not connected'}${mac ? `, MAC ${mac}` : ''}`, `${from} Adapter slot ${attr(a, 'slot')} (${type})`);
    if (attached && attached !== 'NAT') spec.dropped.push({ item: `NIC ${i + 1} attachment`, value: attached, note: "the other host's networks and bridges are not this host's: the card is on NAT; change it in Settings → Network" });
    if (!nicModelOf(type)) spec.dropped.push({ item: `NIC ${i + 1} adapter type`, value: type, note: 'not an adapter Vireo emulates: e1000 instead' });
  });
  if (o.ovfDisks) {
    // The OVF's Ethernet items are the same cards: the Machine adds their MACs and exact types.
    nics.forEach((n, i) => {
      if (spec.nics[i]) spec.nics[i] = { ...spec.nics[i]!, ...n };
      else spec.nics.push(n);
    });
  } else {
    spec.nics = nics;
  }
  for (const [k, what] of [['USB', 'USB controllers'], ['AudioAdapter', 'audio'], ['SharedFolders', 'shared folders'], ['RemoteDisplay', 'VRDE remote display'], ['Clipboard', 'clipboard'], ['GuestProperties', 'guest properties']] as const) {
    const el = child(hw, k);
    if (el && (k !== 'SharedFolders' || children(el, 'SharedFolder').length) && (k !== 'AudioAdapter' || attr(el, 'enabled') === 'true'))
      spec.dropped.push({ item: what, value: k, note: k === 'SharedFolders' ? "host folders of the other machine: add shares in Settings → Shared folders" : "Vireo's defaults for the OS are used" });
  }
  if (child(m, 'Snapshot')) spec.dropped.push({ item: 'snapshots', value: 'VirtualBox snapshots', note: 'only the current state is imported' });
  if (o.ovfDisks) return [];

  // .vbox: disks attached to storage controllers, by uuid in the media registry.
  const registry = new Map<string, { location: string; format: string | null }>();
  const walk = (n: XmlNode) => {
    for (const hd of children(n, 'HardDisk')) {
      registry.set((attr(hd, 'uuid') ?? '').toLowerCase(), { location: attr(hd, 'location') ?? '', format: attr(hd, 'format') ?? null });
      walk(hd);
    }
  };
  walk(child(child(m, 'MediaRegistry'), 'HardDisks') ?? {});
  const disks: VboxDisk[] = [];
  const controllers = children(child(m, 'StorageControllers') ?? child(hw, 'StorageControllers'), 'StorageController');
  for (const c of controllers) {
    const bus = CONTROLLER_BUS[attr(c, 'type') ?? ''] ?? 'sata';
    for (const ad of children(c, 'AttachedDevice')) {
      const type = attr(ad, 'type');
      const uuid = (attr(child(ad, 'Image'), 'uuid') ?? '').toLowerCase();
      if (type !== 'HardDisk') {
        if (type === 'DVD' || type === 'Floppy') spec.dropped.push({ item: `${type} drive on ${attr(c, 'name')}`, value: uuid ? 'with media' : 'empty', note: 'media of the other host are not imported: the VM gets an empty CD drive' });
        continue;
      }
      const hd = registry.get(uuid);
      if (!hd) {
        spec.dropped.push({ item: `disk on ${attr(c, 'name')} port ${attr(ad, 'port')}`, value: uuid, note: 'not in the media registry of the .vbox file' });
        continue;
      }
      disks.push({ location: hd.location, bus, format: hd.format });
      spec.disks.push({ source: hd.location, bus, capacityBytes: null });
      mapped(spec, `disk ${spec.disks.length}`, `${hd.location} on ${bus}`, `${from} StorageController ${attr(c, 'name')} (${attr(c, 'type')}) port ${attr(ad, 'port')}`);
    }
  }
  return disks;
}
