import { VireoError } from '../../api/errors.ts';
import { VmConfigSchema, type DiskBus, type VmConfig } from '../../api/schemas/vm-config.ts';
import { attr, child, children, parseXml, text, type XmlNode } from './xml.ts';
import { osFromCim, osFromVbox } from './os-map.ts';
import { emptySpec, mapped, nicModelOf, normaliseMac, type ApplianceSpec, type SpecDisk } from './spec.ts';
import { applyVboxMachine } from './vbox-machine.ts';

// An OVF 1.x/2.x descriptor (DMTF DSP0243) as VirtualBox and VMware write it, read into an
// ApplianceSpec: References (files), DiskSection (disks and capacities), the first
// VirtualSystem's OperatingSystemSection and VirtualHardwareSection items by rasd:ResourceType
// (CIM_ResourceAllocationSettingData), then VirtualBox's vbox:Machine extension, which knows
// more (firmware, MACs, the exact OS type) and wins where it speaks, and Vireo's own section.

export interface OvfFile {
  id: string;
  href: string;
  size: number | null;
}

export interface OvfRead {
  spec: ApplianceSpec;
  files: OvfFile[];
}

/** CIM resource types (DSP0243 / CIM_ResourceAllocationSettingData.ResourceType). */
const RT = { other: 1, cpu: 3, memory: 4, ide: 5, scsi: 6, ethernet: 10, floppy: 14, cd: 15, dvd: 16, disk: 17, sata: 20, usb: 23, graphics: 24, sound: 35 } as const;
const RT_NAMES: Record<number, string> = { 1: 'other device', 14: 'floppy drive', 23: 'USB controller', 24: 'graphics card', 35: 'sound card', 19: 'storage extent', 21: 'serial port', 22: 'parallel port' };

const VIREO_NS_SECTION = 'VireoConfig';

/** "byte * 2^20", "MegaBytes", "GigaBytes", "KB"… as a multiplier of bytes. */
export function allocationUnits(u: string | undefined): number {
  if (!u) return 1;
  const s = u.replace(/\s+/g, '').toLowerCase();
  const m = /^byte(?:\*(\d+)\^(\d+))?$/.exec(s);
  if (m) return m[1] ? Number(m[1]) ** Number(m[2]) : 1;
  const named: Record<string, number> = { kilobytes: 2 ** 10, kb: 2 ** 10, megabytes: 2 ** 20, mb: 2 ** 20, gigabytes: 2 ** 30, gb: 2 ** 30, terabytes: 2 ** 40, tb: 2 ** 40, bytes: 1 };
  const n = named[s];
  if (n) return n;
  throw new VireoError('INVALID_ARGUMENT', `unknown allocation unit "${u}" in the OVF descriptor: expected "byte * 2^N" or MegaBytes/GigaBytes`, { units: u });
}

const int = (s: string | undefined): number | null => (s !== undefined && /^\s*\d+\s*$/.test(s) ? Number(s) : null);

export function readOvf(xml: string, fileName: string): OvfRead {
  const doc = parseXml(xml, fileName);
  const env = child(doc, 'Envelope');
  if (!env) throw new VireoError('INVALID_ARGUMENT', `${fileName} is not an OVF descriptor (no Envelope element): choose the .ovf or .ova of an exported appliance`, { file: fileName });
  const files: OvfFile[] = children(child(env, 'References'), 'File').map((f) => ({ id: attr(f, 'id') ?? '', href: attr(f, 'href') ?? '', size: int(attr(f, 'size')) }));
  const systems = children(env, 'VirtualSystem');
  const vs = systems[0] ?? child(child(env, 'VirtualSystemCollection'), 'VirtualSystem');
  if (!vs) throw new VireoError('INVALID_ARGUMENT', `${fileName} describes no virtual machine (no VirtualSystem element)`, { file: fileName });
  const name = text(vs, 'Name') ?? attr(vs, 'id') ?? 'Imported VM';
  const spec = emptySpec(name);
  if (systems.length > 1) spec.dropped.push({ item: 'virtual systems', value: `${systems.length - 1} more`, note: 'an appliance of several machines: only the first is imported' });

  // Disks: DiskSection ids → References hrefs.
  const diskById = new Map<string, { href: string | null; capacityBytes: number | null; format: string }>();
  for (const d of children(child(env, 'DiskSection'), 'Disk')) {
    const id = attr(d, 'diskId') ?? '';
    const ref = attr(d, 'fileRef');
    const file = files.find((f) => f.id === ref);
    const cap = int(attr(d, 'capacity'));
    diskById.set(id, { href: file?.href ?? null, capacityBytes: cap === null ? null : cap * allocationUnits(attr(d, 'capacityAllocationUnits')), format: attr(d, 'format') ?? '' });
  }

  // OS.
  const osSec = child(vs, 'OperatingSystemSection');
  if (osSec) {
    const cim = int(attr(osSec, 'id'));
    const vboxType = text(osSec, 'OSType');
    const os = (vboxType && osFromVbox(vboxType)) || (cim !== null ? osFromCim(cim) : null);
    if (os) mapped(spec, 'OS', `${os.name} (${os.id})`, vboxType ? `OperatingSystemSection vbox:OSType ${vboxType}` : `OperatingSystemSection id ${cim}`);
    else spec.dropped.push({ item: 'OS', value: `id ${attr(osSec, 'id')}`, note: 'an OS this importer does not know: set it in Settings → General' });
    spec.os = os;
  }

  // Hardware items.
  const hw = child(vs, 'VirtualHardwareSection');
  const items = children(hw, 'Item');
  const controllers = new Map<string, DiskBus>();
  for (const it of items) {
    const rt = int(text(it, 'ResourceType'));
    const inst = text(it, 'InstanceID') ?? '';
    const sub = (text(it, 'ResourceSubType') ?? '').toLowerCase();
    if (rt === RT.ide) controllers.set(inst, 'ide');
    else if (rt === RT.sata) controllers.set(inst, 'sata');
    else if (rt === RT.scsi) controllers.set(inst, sub.includes('virtio') ? 'virtio' : 'scsi');
  }
  for (const it of items) {
    const rt = int(text(it, 'ResourceType'));
    const label = text(it, 'ElementName') ?? text(it, 'Caption') ?? `item ${text(it, 'InstanceID')}`;
    switch (rt) {
      case RT.cpu: {
        const n = int(text(it, 'VirtualQuantity'));
        if (n && n > 0) {
          spec.cpus = n;
          mapped(spec, 'CPUs', String(n), 'VirtualHardwareSection');
        }
        break;
      }
      case RT.memory: {
        const q = int(text(it, 'VirtualQuantity'));
        if (q) {
          const mib = Math.round((q * allocationUnits(text(it, 'AllocationUnits') ?? 'byte * 2^20')) / 2 ** 20);
          spec.memoryMiB = mib;
          mapped(spec, 'memory', `${mib} MiB`, 'VirtualHardwareSection');
        }
        break;
      }
      case RT.ethernet: {
        const subType = text(it, 'ResourceSubType') ?? '';
        const model = nicModelOf(subType) ?? 'e1000';
        const conn = text(it, 'Connection') ?? '';
        const i = spec.nics.length;
        spec.nics.push({ model, mode: 'user', mac: normaliseMac(text(it, 'Address')) });
        mapped(spec, `NIC ${i + 1}`, `${model}, NAT`, `VirtualHardwareSection (${subType || 'no adapter type'}${conn ? `, network "${conn}"` : ''})`);
        if (conn && !/^nat$/i.test(conn)) spec.dropped.push({ item: `NIC ${i + 1} network`, value: conn, note: 'networks of the other host do not exist here: the card is on NAT; change it in Settings → Network' });
        if (!nicModelOf(subType)) spec.dropped.push({ item: `NIC ${i + 1} adapter type`, value: subType || '(none)', note: 'not an adapter Vireo emulates: e1000 instead' });
        break;
      }
      case RT.disk: {
        const host = text(it, 'HostResource') ?? '';
        const m = /^(?:ovf:)?\/disk\/(.+)$/.exec(host);
        const d = m ? diskById.get(m[1]!) : undefined;
        if (!d || !d.href) {
          spec.dropped.push({ item: label, value: host || '(none)', note: 'the disk names no file in the package (an empty disk): left out' });
          break;
        }
        const bus = controllers.get(text(it, 'Parent') ?? '') ?? 'sata';
        const disk: SpecDisk = { source: d.href, bus, capacityBytes: d.capacityBytes };
        spec.disks.push(disk);
        mapped(spec, `disk ${spec.disks.length}`, `${d.href} on ${bus}`, `DiskSection ${m![1]}${d.format ? ` (${d.format.replace(/^.*#/, '')})` : ''}`);
        break;
      }
      case RT.cd:
      case RT.dvd:
        spec.dropped.push({ item: label, value: 'CD/DVD drive', note: 'media of the other host are not in the package: the VM gets an empty CD drive' });
        break;
      case RT.ide:
      case RT.sata:
      case RT.scsi:
        break;
      default:
        if (rt !== null) spec.dropped.push({ item: label, value: RT_NAMES[rt] ?? `resource type ${rt}`, note: "Vireo's defaults for the OS are used instead" });
    }
  }
  // Disks in the order of DiskSection when the hardware section attached none (some writers).
  if (!spec.disks.length) {
    for (const [id, d] of diskById) {
      if (!d.href) continue;
      spec.disks.push({ source: d.href, bus: 'sata', capacityBytes: d.capacityBytes });
      mapped(spec, `disk ${spec.disks.length}`, `${d.href} on sata`, `DiskSection ${id}`);
    }
  }

  // VMware's firmware key.
  for (const cfg of children(hw, 'Config')) {
    if (attr(cfg, 'key') === 'firmware') {
      spec.firmware = attr(cfg, 'value') === 'efi' ? 'uefi' : 'bios';
      mapped(spec, 'firmware', spec.firmware, 'vmw:Config firmware');
    }
  }
  const machine = child(vs, 'Machine');
  if (machine) applyVboxMachine(spec, machine, 'vbox:Machine', { ovfDisks: true });
  const vireo = child(vs, VIREO_NS_SECTION);
  if (vireo) readVireoSection(spec, vireo);
  if (!spec.firmware) {
    spec.firmware = 'bios';
    mapped(spec, 'firmware', 'bios', 'the descriptor names none (OVF 1.0 has no firmware field): BIOS');
  }
  return { spec, files };
}

/** The settings Vireo's own exporter wrote, as JSON in <vireo:VireoConfig>: only those that stay inside the VM. */
function readVireoSection(spec: ApplianceSpec, node: XmlNode) {
  let raw: unknown;
  try {
    raw = JSON.parse(text(node, 'Settings') ?? '');
  } catch {
    spec.dropped.push({ item: 'Vireo settings', value: 'vireo:VireoConfig', note: 'not readable JSON: the standard sections are used' });
    return;
  }
  const parsed = VmConfigSchema.safeParse({ networks: [], ...(raw as object), schemaVersion: 2, id: '00000000-0000-4000-8000-000000000000', name: 'imported', createdAt: '' });
  if (!parsed.success) {
    spec.dropped.push({ item: 'Vireo settings', value: 'vireo:VireoConfig', note: `not a valid Vireo config (${parsed.error.issues[0]?.message}): the standard sections are used` });
    return;
  }
  spec.vireo = keepInsideVm(parsed.data);
  mapped(spec, 'Vireo settings', 'machine, devices, display, boot', 'vireo:VireoConfig (an appliance Vireo exported)');
  spec.os = parsed.data.os.id !== 'unknown' || !spec.os ? parsed.data.os : spec.os;
  spec.firmware = parsed.data.system.firmware;
  parsed.data.networks.forEach((n, i) => {
    const s = spec.nics[i];
    if (s) [s.model, s.mode] = [n.model, n.mode === 'none' ? 'none' : 'user'];
    if (n.mode !== 'user' && n.mode !== 'none') spec.dropped.push({ item: `NIC ${i + 1} mode`, value: n.mode, note: "the other host's networks and bridges are not this host's: NAT" });
  });
}

/**
 * What a foreign file may set: nothing that names host files or devices or reaches QEMU's
 * command line (extra arguments, shares, USB passthrough, ISOs, pinning), which an appliance
 * from the internet must not choose.
 */
export function keepInsideVm(c: VmConfig): Partial<VmConfig> {
  return {
    arch: c.arch,
    os: c.os,
    profile: c.profile,
    system: { ...c.system, pinCpus: [], secureBoot: c.system.secureBoot, tpm: c.system.tpm },
    boot: c.boot,
    display: c.display,
    input: c.input,
    sound: c.sound,
    devices: c.devices,
    serial: c.serial,
    limits: c.limits,
    notes: c.notes,
    cdrom: { iso: null, bus: c.cdrom.bus, extra: c.cdrom.extra.map((e) => ({ iso: null, bus: e.bus })) },
    disks: c.disks.map((d) => ({ ...d })),
    networks: c.networks.map((n) => ({ id: n.id, model: n.model, mode: n.mode === 'none' ? 'none' : 'user', mac: n.mac, portForwards: n.portForwards.filter((p) => p.hostAddress === '127.0.0.1'), ...(n.natBackend ? { natBackend: n.natBackend } : {}) })),
  } as Partial<VmConfig>;
}
