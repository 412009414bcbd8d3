import type { VmConfig } from '../../api/schemas/vm-config.ts';
import type { RemoteDomainInfo } from '../../api/host-types.ts';
import { at, child, childrenOf, escapeXml as x, parseXml, textOf, type XmlNode } from './xml.ts';

// Vireo's VM config as libvirt domain XML, and libvirt's domain XML read back. Both are pure:
// where the disks and the ISO live on the host (libvirt storage volumes) and which accelerator
// the host has are inputs, so the same config gives the same XML (golden-tested in
// test/unit/engine/remote/domxml.test.ts against test/fixtures/domxml/*.xml). What a libvirt
// host cannot be given from the config is listed in `dropped`, never silently lost.

export const VIREO_NS = 'https://vireo.dev/xmlns/libvirt/1';

export interface DomainTarget {
  /** the host's accelerator for this guest: "kvm" when it has one, else "qemu" (TCG) */
  domainType: 'kvm' | 'qemu';
  /** each config disk's path on the host (a storage volume's path), by disk id */
  diskPaths: Record<string, string>;
  /** the ISO of cdrom0 on the host (an uploaded volume), or null for an empty drive */
  isoPath: string | null;
  /** the UEFI variable store carried to the host (an uploaded raw volume); absent: libvirt makes one from its template */
  nvramPath?: string | null;
  /** the serial console's unix socket and log on the host (console.ts serialPaths); absent: a pty */
  serial?: { socket: string; log: string } | null;
}

export interface RenderedDomain {
  xml: string;
  /** config features a libvirt domain does not carry from Vireo, each with why */
  dropped: string[];
}

const DISK_PREFIX = { virtio: 'vd', ide: 'hd', sata: 'sd', scsi: 'sd' } as const;
const NIC_MODEL = { 'virtio-net-pci': 'virtio', e1000: 'e1000', e1000e: 'e1000e', rtl8139: 'rtl8139', pcnet: 'pcnet', ne2k_pci: 'ne2k_pci' } as const;
const VIDEO = { 'virtio-vga': 'virtio', 'virtio-gpu-pci': 'virtio', std: 'vga', cirrus: 'cirrus', qxl: 'qxl', ramfb: 'ramfb', none: 'none' } as const;
const SOUND = { hda: 'ich9', ac97: 'ac97', sb16: 'sb16' } as const;
const USB = { xhci: 'qemu-xhci', ehci: 'ich9-ehci1', uhci: 'piix3-uhci' } as const;
const BOOT = { cdrom: 'cdrom', disk: 'hd', network: 'network' } as const;

const devName = (prefix: string, n: number) => prefix + String.fromCharCode(97 + n);

/** The domain XML of a Vireo VM config for a libvirt host. */
export function configToDomainXml(c: VmConfig, t: DomainTarget): RenderedDomain {
  const dropped: string[] = [];
  const s = c.system;
  const l: string[] = [];
  l.push(`<domain type='${t.domainType}'>`);
  l.push(`  <name>${x(c.name)}</name>`);
  l.push(`  <uuid>${x(c.id)}</uuid>`);
  if (c.notes) l.push(`  <description>${x(c.notes)}</description>`);
  l.push('  <metadata>');
  l.push(`    <vireo:vm xmlns:vireo='${VIREO_NS}'>`);
  l.push(`      <vireo:os id='${x(c.os.id)}' name='${x(c.os.name)}' family='${c.os.family}'/>`);
  l.push(`      <vireo:profile>${c.profile}</vireo:profile>`);
  l.push('    </vireo:vm>');
  l.push('  </metadata>');
  l.push(`  <memory unit='MiB'>${s.memoryMiB}</memory>`);
  l.push(`  <vcpu>${s.cpus}</vcpu>`);
  const efi = s.firmware === 'uefi';
  l.push(`  <os${efi ? " firmware='efi'" : ''}>`);
  l.push(`    <type arch='${c.arch === 'aarch64' ? 'aarch64' : 'x86_64'}' machine='${s.machine}'>hvm</type>`);
  if (efi) {
    l.push('    <firmware>');
    l.push(`      <feature enabled='${s.secureBoot ? 'yes' : 'no'}' name='secure-boot'/>`);
    l.push(`      <feature enabled='${s.secureBoot ? 'yes' : 'no'}' name='enrolled-keys'/>`);
    l.push('    </firmware>');
    if (t.nvramPath) l.push(`    <nvram>${x(t.nvramPath)}</nvram>`);
  }
  if (c.unattended) {
    // An express install's first boot: libvirt's direct kernel boot, the files already on the host.
    dropped.push('express install: its kernel and initrd stay in the Vireo library; install on this machine, then move the VM');
  }
  for (const b of c.boot.order) l.push(`    <boot dev='${BOOT[b]}'/>`);
  if (c.boot.menu) l.push("    <bootmenu enable='yes'/>");
  l.push('  </os>');
  l.push('  <features>');
  if (c.arch === 'x86_64') l.push('    <acpi/>');
  if (s.secureBoot) l.push("    <smm state='on'/>");
  if (s.hyperv && c.os.family === 'windows') {
    l.push('    <hyperv>', "      <relaxed state='on'/>", "      <vapic state='on'/>", "      <spinlocks state='on' retries='8191'/>", '    </hyperv>');
  }
  l.push('  </features>');
  if (s.cpuModel === 'auto') l.push(t.domainType === 'kvm' ? "  <cpu mode='host-passthrough'/>" : "  <cpu mode='maximum'/>");
  else if (s.cpuModel === 'host') l.push("  <cpu mode='host-passthrough'/>");
  else if (s.cpuModel === 'max') l.push("  <cpu mode='maximum'/>");
  else {
    const [model, ...flags] = s.cpuModel.split(',');
    if (flags.length) dropped.push(`CPU flags ${flags.join(',')}: give them in the domain's <cpu> by hand`);
    l.push(`  <cpu mode='custom' match='exact'><model fallback='forbid'>${x(model!)}</model></cpu>`);
  }
  l.push(`  <clock offset='${s.rtcLocalTime ? 'localtime' : 'utc'}'/>`);
  l.push('  <on_poweroff>destroy</on_poweroff>', '  <on_reboot>restart</on_reboot>', '  <on_crash>destroy</on_crash>');
  l.push('  <devices>');
  const used: Record<string, number> = {};
  const nextDev = (bus: keyof typeof DISK_PREFIX) => {
    const p = DISK_PREFIX[bus];
    used[p] = (used[p] ?? -1) + 1;
    return devName(p, used[p]!);
  };
  for (const d of c.disks) {
    const path = t.diskPaths[d.id];
    if (!path) throw new Error(`disk ${d.id} has no path on the host`);
    const discard = d.discard ? " discard='unmap'" : '';
    l.push("    <disk type='file' device='disk'>");
    l.push(`      <driver name='qemu' type='${d.format}' cache='${d.cache}'${discard}/>`);
    l.push(`      <source file='${x(path)}'/>`);
    l.push(`      <target dev='${nextDev(d.bus)}' bus='${d.bus}'/>`);
    if (d.readOnly) l.push('      <readonly/>');
    l.push('    </disk>');
  }
  l.push("    <disk type='file' device='cdrom'>");
  l.push("      <driver name='qemu' type='raw'/>");
  if (t.isoPath) l.push(`      <source file='${x(t.isoPath)}'/>`);
  l.push(`      <target dev='${nextDev(c.cdrom.bus)}' bus='${c.cdrom.bus}'/>`);
  l.push('      <readonly/>');
  l.push('    </disk>');
  if (c.cdrom.extra.length) dropped.push(`${c.cdrom.extra.length} more CD drive(s): upload their ISOs and add them on the host`);
  if (c.devices.usb !== 'none') l.push(`    <controller type='usb' model='${USB[c.devices.usb]}'/>`);
  for (const n of c.networks) {
    if (n.mode === 'none') continue;
    if (n.mode === 'bridged' && n.bridge) {
      l.push("    <interface type='bridge'>", `      <source bridge='${x(n.bridge)}'/>`);
    } else {
      // libvirt's user-mode network is Vireo's NAT; its private and host-only networks are Vireo's own.
      if (n.mode !== 'user') dropped.push(`${n.id}: ${n.mode} network is Vireo's own; on the host it is NAT (user mode) instead`);
      if (n.portForwards.length) dropped.push(`${n.id}: port forwards are not carried to libvirt's user network`);
      l.push("    <interface type='user'>");
    }
    l.push(`      <mac address='${n.mac}'/>`, `      <model type='${NIC_MODEL[n.model]}'/>`, '    </interface>');
  }
  if (c.serial.enabled && t.serial) {
    // A socket QEMU serves, which Vireo's console dials (a pty needs a terminal on the host).
    const src = `      <source mode='bind' path='${x(t.serial.socket)}'/>`;
    const log = `      <log file='${x(t.serial.log)}' append='on'/>`;
    l.push("    <serial type='unix'>", src, log, "      <target port='0'/>", '    </serial>', "    <console type='unix'>", src, log, "      <target type='serial' port='0'/>", '    </console>');
  } else if (c.serial.enabled) l.push("    <serial type='pty'>", "      <target port='0'/>", '    </serial>', "    <console type='pty'>", "      <target type='serial' port='0'/>", '    </console>');
  if (c.input.tablet && c.devices.usb !== 'none') l.push("    <input type='tablet' bus='usb'/>");
  if (s.tpm) l.push(`    <tpm model='${c.arch === 'aarch64' ? 'tpm-tis' : 'tpm-crb'}'>`, "      <backend type='emulator' version='2.0'/>", '    </tpm>');
  // The screen on a unix socket libvirt names itself (read back from the live XML): never a TCP port.
  if (c.display.device !== 'none') l.push("    <graphics type='vnc'>", "      <listen type='socket'/>", '    </graphics>');
  l.push('    <video>', `      <model type='${VIDEO[c.display.device]}'/>`, '    </video>');
  if (c.display.resolution) dropped.push('initial screen resolution: libvirt sets none for this video model');
  if (c.sound.device !== 'none') l.push(`    <sound model='${SOUND[c.sound.device]}'/>`);
  if (c.devices.rng) l.push("    <rng model='virtio'>", "      <backend model='random'>/dev/urandom</backend>", '    </rng>');
  l.push(`    <memballoon model='${c.devices.balloon ? 'virtio' : 'none'}'/>`);
  l.push('  </devices>');
  l.push('</domain>');
  if (c.shares.length) dropped.push(`shared folders (${c.shares.map((h) => h.tag).join(', ')}): they name folders of this machine`);
  if (c.usb.length) dropped.push(`USB devices (${c.usb.length}): passthrough names devices of this machine`);
  if (s.pinCpus.length) dropped.push("CPU pinning: it names this machine's CPUs");
  if (c.limits.cpuPercent !== null || c.limits.diskBytesPerSec !== null || c.limits.diskIops !== null) dropped.push('resource limits: set them with virsh schedinfo / blkdeviotune on the host');
  if (c.advanced.extraArgs.length) dropped.push('extra QEMU arguments: libvirt takes them only as <qemu:commandline>, which taints the domain');
  if (c.devices.clipboard) dropped.push('clipboard sharing: needs SPICE graphics on the host');
  return { xml: l.join('\n') + '\n', dropped };
}

const VIREO_VIDEO: Record<string, VmConfig['display']['device']> = { virtio: 'virtio-vga', vga: 'std', cirrus: 'cirrus', qxl: 'qxl', ramfb: 'ramfb', none: 'none' };
const VIREO_NIC: Record<string, VmConfig['networks'][number]['model']> = Object.fromEntries(Object.entries(NIC_MODEL).map(([k, v]) => [v, k as VmConfig['networks'][number]['model']]));

/** What Vireo shows of a domain libvirt has (made by Vireo or not), from its XML. */
export function domainXmlToInfo(xml: string): RemoteDomainInfo {
  const d = parseXml(xml);
  if (d.name !== 'domain') throw new Error(`not a domain document: the root element is <${d.name}>`);
  const os = child(d, 'os');
  const type = child(os, 'type');
  const mem = child(d, 'memory');
  const devices = child(d, 'devices');
  const disks = childrenOf(devices, 'disk').map((k) => ({
    device: (k.attrs.device ?? 'disk') as 'disk' | 'cdrom' | 'floppy' | 'lun',
    file: child(k, 'source')?.attrs.file ?? child(k, 'source')?.attrs.dev ?? null,
    format: child(k, 'driver')?.attrs.type ?? null,
    target: child(k, 'target')?.attrs.dev ?? '',
    bus: child(k, 'target')?.attrs.bus ?? '',
    readOnly: !!child(k, 'readonly'),
  }));
  const nics = childrenOf(devices, 'interface').map((n) => ({
    type: n.attrs.type ?? '',
    mac: child(n, 'mac')?.attrs.address ?? null,
    model: VIREO_NIC[child(n, 'model')?.attrs.type ?? ''] ?? child(n, 'model')?.attrs.type ?? null,
    source: child(n, 'source')?.attrs.bridge ?? child(n, 'source')?.attrs.network ?? null,
  }));
  const g = childrenOf(devices, 'graphics')[0];
  const vireo = metadataVm(d);
  const firmwareEfi = os?.attrs.firmware === 'efi' || !!child(os, 'loader')?.attrs.type?.includes('pflash');
  return {
    name: textOf(child(d, 'name')),
    uuid: textOf(child(d, 'uuid')),
    domainType: d.attrs.type ?? '',
    arch: type?.attrs.arch ?? '',
    machine: type?.attrs.machine ?? '',
    memoryMiB: toMiB(textOf(mem), mem?.attrs.unit ?? 'KiB'),
    vcpus: Number(textOf(child(d, 'vcpu'))) || 1,
    firmware: firmwareEfi ? 'uefi' : 'bios',
    secureBoot: childrenOf(child(os, 'firmware'), 'feature').some((f) => f.attrs.name === 'secure-boot' && f.attrs.enabled === 'yes') || child(os, 'loader')?.attrs.secure === 'yes',
    tpm: childrenOf(devices, 'tpm').length > 0,
    cpuMode: child(d, 'cpu')?.attrs.mode ?? null,
    disks,
    nics,
    graphics: g ? { type: g.attrs.type ?? '', socket: g.attrs.socket ?? child(g, 'listen')?.attrs.socket ?? null, port: g.attrs.port && g.attrs.port !== '-1' ? Number(g.attrs.port) : null, listen: g.attrs.listen ?? child(g, 'listen')?.attrs.address ?? null } : null,
    video: VIREO_VIDEO[at(devices, 'video/model')?.attrs.type ?? ''] ?? null,
    serial: childrenOf(devices, 'serial').length > 0,
    console: serialOf(devices),
    os: vireo ? { id: vireo.id, name: vireo.name, family: vireo.family } : null,
    madeByVireo: !!vireo,
  };
}

/** The first serial port: its type, and the socket of a unix one. */
function serialOf(devices: XmlNode | undefined): RemoteDomainInfo['console'] {
  const s = childrenOf(devices, 'serial')[0];
  if (!s) return null;
  return { type: s.attrs.type ?? '', socket: s.attrs.type === 'unix' ? (child(s, 'source')?.attrs.path ?? null) : null, log: child(s, 'log')?.attrs.file ?? null };
}

function metadataVm(d: XmlNode): { id: string; name: string; family: string } | null {
  const vm = child(d, 'metadata')?.children.find((c) => c.name.endsWith(':vm') && Object.entries(c.attrs).some(([k, v]) => k.startsWith('xmlns') && v === VIREO_NS));
  const os = vm?.children.find((c) => c.name.endsWith(':os'));
  return os ? { id: os.attrs.id ?? 'unknown', name: os.attrs.name ?? 'Unknown OS', family: os.attrs.family ?? 'other' } : null;
}

function toMiB(v: string, unit: string): number {
  const n = Number(v);
  const f: Record<string, number> = { b: 1 / 1024 ** 2, bytes: 1 / 1024 ** 2, KiB: 1 / 1024, k: 1 / 1024, KB: 1000 / 1024 ** 2, MiB: 1, M: 1, MB: 1e6 / 1024 ** 2, GiB: 1024, G: 1024, GB: 1e9 / 1024 ** 2, TiB: 1024 ** 2, T: 1024 ** 2 };
  return Math.round(n * (f[unit] ?? 1 / 1024));
}
