import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parse as parsePlist, parseBinary } from 'plist';
import { VireoError } from '../../api/errors.ts';
import type { DiskBus } from '../../api/schemas/vm-config.ts';
import { emptySpec, mapped, nicModelOf, normaliseMac, type ApplianceSpec } from './spec.ts';
import { checkMemberName } from './tar.ts';

// A UTM virtual machine (`<name>.utm`, a folder): config.plist in UTM's configuration format 4
// (Information, System, QEMU, Drive, Network… as UTM's Configuration/*.swift encode them),
// the disk images in Data/. QEMU-backend VMs only: an Apple Virtualization one has nothing
// QEMU could run.

type Dict = Record<string, unknown>;
const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

const BUS: Record<string, DiskBus> = { virtio: 'virtio', ide: 'ide', scsi: 'scsi', nvme: 'virtio', sata: 'sata' };

export async function readUtmBundle(dir: string): Promise<{ spec: ApplianceSpec }> {
  const file = join(dir, 'config.plist');
  let doc: Dict;
  try {
    const bytes = await readFile(file);
    // UTM writes XML; a plist re-saved by other tools may be binary.
    doc = (bytes.subarray(0, 6).toString('latin1') === 'bplist' ? parseBinary(bytes) : parsePlist(bytes.toString('utf8'))) as Dict;
    if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new Error('not a dictionary');
  } catch (e) {
    throw new VireoError('INVALID_ARGUMENT', `${basename(dir)} is not a readable UTM virtual machine (config.plist: ${(e as Error).message.split('\n')[0]}): choose the .utm folder UTM keeps the VM in`, { path: file });
  }
  const backend = str(doc.Backend) ?? 'QEMU';
  if (backend !== 'QEMU') throw new VireoError('UNSUPPORTED', `${basename(dir)} runs on UTM's ${backend} backend (Apple Virtualization), which QEMU cannot run: not importable`, { backend });
  const version = num(doc.ConfigurationVersion) ?? 0;
  if (version < 4) throw new VireoError('UNSUPPORTED', `not yet: ${basename(dir)} has UTM configuration version ${version} (UTM 3 or older); open it once in UTM 4 or later, which updates it, then import it`, { version });
  const info = (doc.Information ?? {}) as Dict;
  const system = (doc.System ?? {}) as Dict;
  const qemu = (doc.QEMU ?? {}) as Dict;
  const spec = emptySpec(str(info.Name) ?? basename(dir, '.utm'));
  const arch = str(system.Architecture) ?? 'x86_64';
  if (arch !== 'x86_64' && arch !== 'aarch64') throw new VireoError('UNSUPPORTED', `${basename(dir)} emulates ${arch}; Vireo runs x86_64 and aarch64 guests`, { arch });
  spec.arch = arch;
  mapped(spec, 'architecture', arch, 'config.plist System.Architecture');
  const cpus = num(system.CPUCount);
  if (cpus && cpus > 0) {
    spec.cpus = cpus;
    mapped(spec, 'CPUs', String(cpus), 'config.plist System.CPUCount');
  } else spec.dropped.push({ item: 'CPUs', value: 'as many as the host', note: "UTM's 0 means the host's count: Vireo's default for the OS instead" });
  const mem = num(system.MemorySize);
  if (mem && mem > 0) {
    spec.memoryMiB = mem;
    mapped(spec, 'memory', `${mem} MiB`, 'config.plist System.MemorySize');
  }
  spec.firmware = arch === 'aarch64' || qemu.UEFIBoot === true ? 'uefi' : 'bios';
  mapped(spec, 'firmware', spec.firmware, `config.plist QEMU.UEFIBoot ${qemu.UEFIBoot === true}`);
  if (str(system.Target)) spec.dropped.push({ item: 'machine', value: str(system.Target)!, note: "Vireo's machine type for the architecture is used" });

  for (const d of Array.isArray(doc.Drive) ? (doc.Drive as Dict[]) : []) {
    const type = (str(d.ImageType) ?? '').toLowerCase();
    const name = str(d.ImageName);
    if (type !== 'disk') {
      spec.dropped.push({ item: `${str(d.ImageType) ?? 'drive'} drive`, value: name ?? '(removable)', note: type === 'cd' ? 'media are not imported: the VM gets an empty CD drive' : 'not a disk: left out' });
      continue;
    }
    if (!name) {
      spec.dropped.push({ item: 'disk', value: 'an image outside the bundle', note: 'UTM keeps only a bookmark to it: add it in Settings → Disks' });
      continue;
    }
    const bus = BUS[(str(d.Interface) ?? '').toLowerCase()] ?? 'virtio';
    spec.disks.push({ source: join(dir, 'Data', checkMemberName(name, basename(dir))), bus, capacityBytes: null });
    mapped(spec, `disk ${spec.disks.length}`, `Data/${name} on ${bus}`, `config.plist Drive (${str(d.Interface)})`);
  }
  (Array.isArray(doc.Network) ? (doc.Network as Dict[]) : []).forEach((n, i) => {
    const hw = str(n.Hardware) ?? 'e1000';
    const model = nicModelOf(hw) ?? 'e1000';
    const mode = str(n.Mode) ?? 'Emulated';
    const mac = normaliseMac(str(n.MacAddress));
    spec.nics.push({ model, mode: 'user', mac });
    mapped(spec, `NIC ${i + 1}`, `${model}, NAT${mac ? `, MAC ${mac}` : ''}`, `config.plist Network (${hw}, ${mode})`);
    if (!/^(emulated|shared)$/i.test(mode)) spec.dropped.push({ item: `NIC ${i + 1} mode`, value: mode, note: "the other host's networks and bridges are not this host's: NAT" });
    if (!nicModelOf(hw)) spec.dropped.push({ item: `NIC ${i + 1} adapter type`, value: hw, note: 'not an adapter Vireo emulates: e1000 instead' });
  });
  if (Array.isArray(qemu.AdditionalArguments) && qemu.AdditionalArguments.length) {
    spec.dropped.push({ item: 'additional QEMU arguments', value: (qemu.AdditionalArguments as unknown[]).map(String).join(' ').slice(0, 200), note: "an appliance may not choose QEMU arguments: add them in Settings → Advanced if you trust them" });
  }
  for (const [k, what] of [['Sharing', 'shared folders and clipboard'], ['Sound', 'sound'], ['Display', 'display'], ['Serial', 'serial ports']] as const) {
    const v = doc[k];
    if (Array.isArray(v) ? v.length : v) spec.dropped.push({ item: what, value: k, note: "Vireo's defaults for the OS are used" });
  }
  return { spec };
}
