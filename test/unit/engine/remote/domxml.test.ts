import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { VmConfigSchema, CONFIG_SCHEMA_VERSION, type VmConfig } from '../../../../electron/api/schemas/vm-config.ts';
import { mergePatch } from '../../../../electron/engine/library/config-store.ts';
import { configToDomainXml, domainXmlToInfo, type DomainTarget } from '../../../../electron/engine/remote/domxml.ts';
import { parseXml } from '../../../../electron/engine/remote/xml.ts';
import { consoleProblem, serialPaths } from '../../../../electron/engine/remote/console.ts';

// Vireo config → libvirt domain XML, golden files in test/fixtures/domxml/ (regenerate with
// VIREO_UPDATE_GOLDEN=1 and review the diff), and domain XML (libvirt's own, as virsh dumpxml
// writes it) read back.

const dir = join(fileURLToPath(new URL('.', import.meta.url)), '../../../fixtures/domxml');
const update = process.env.VIREO_UPDATE_GOLDEN === '1';

function golden(name: string, text: string) {
  const file = join(dir, name);
  if (update) writeFileSync(file, text);
  if (!existsSync(file)) throw new Error(`golden file ${file} is missing: run with VIREO_UPDATE_GOLDEN=1 to create it`);
  expect(text).toBe(readFileSync(file, 'utf8'));
}

function config(patch: Record<string, unknown> = {}): VmConfig {
  const base = {
    schemaVersion: CONFIG_SCHEMA_VERSION,
    id: '6f1c1a52-8f3e-4c39-9a8e-0d6d1f2b3c4d',
    name: 'debian <lab> & co',
    createdAt: '2026-12-01T00:00:00.000Z',
    os: { id: 'debian12', name: 'Debian 12', family: 'linux' },
    system: { cpus: 2, memoryMiB: 1024 },
    disks: [{ id: 'disk0', file: 'disk0.qcow2' }],
    networks: [{ id: 'net0', mac: '52:54:00:12:34:56' }],
  };
  return VmConfigSchema.parse(mergePatch(base, patch));
}

const target: DomainTarget = { domainType: 'qemu', diskPaths: { disk0: '/var/lib/libvirt/images/debian-disk0.qcow2', disk1: '/srv/images/data.raw' }, isoPath: '/var/lib/libvirt/images/debian-12.iso', serial: { socket: '/var/lib/libvirt/qemu/.vm-6f1c1a52.serial.sock', log: '/var/lib/libvirt/qemu/.vm-6f1c1a52.serial.log' } };

describe('configToDomainXml', () => {
  it('renders a BIOS Linux VM under TCG (names escaped, VNC on a socket, no TCP port)', () => {
    const r = configToDomainXml(config(), target);
    golden('linux-bios-tcg.xml', r.xml);
    expect(r.dropped).toEqual([]);
    expect(r.xml).not.toMatch(/<graphics[^>]*port=|autoport|listen type='address'/);
    expect(() => parseXml(r.xml)).not.toThrow();
  });

  it('renders a Windows 11 shape under KVM: UEFI with Secure Boot, SMM, TPM emulator, Hyper-V, local clock, SATA', () => {
    const c = config({
      name: 'win11',
      os: { id: 'win11', name: 'Windows 11', family: 'windows' },
      system: { cpus: 4, memoryMiB: 4096, firmware: 'uefi', secureBoot: true, tpm: true, hyperv: true, rtcLocalTime: true },
      disks: [{ id: 'disk0', file: 'disk0.qcow2', bus: 'sata' }],
      networks: [{ id: 'net0', mac: '52:54:00:aa:bb:cc', model: 'e1000e' }],
      sound: { device: 'hda' },
      display: { device: 'std' },
      boot: { order: ['cdrom', 'disk'], menu: true },
    });
    const r = configToDomainXml(c, { ...target, domainType: 'kvm' });
    golden('windows11-uefi-kvm.xml', r.xml);
    expect(r.xml).toContain("<cpu mode='host-passthrough'/>");
    // A variable store carried by an offline move: <nvram> names its volume, inside <os>.
    const moved = configToDomainXml(c, { ...target, domainType: 'kvm', nvramPath: '/var/lib/libvirt/images/win11-VARS.fd' }).xml;
    expect(moved).toBe(r.xml.replace('    </firmware>\n', "    </firmware>\n    <nvram>/var/lib/libvirt/images/win11-VARS.fd</nvram>\n"));
  });

  it('lists what a host cannot be given instead of dropping it silently', () => {
    const c = config({
      disks: [{ id: 'disk0', file: 'disk0.qcow2' }, { id: 'disk1', file: '/srv/images/data.raw', format: 'raw', bus: 'scsi', readOnly: true }],
      networks: [{ id: 'net0', mac: '52:54:00:12:34:56', portForwards: [{ hostPort: 2222, guestPort: 22 }] }, { id: 'net1', mac: '52:54:00:12:34:57', mode: 'bridged', bridge: 'br0' }],
      shares: [{ tag: 'src', path: '/home/me/src' }],
      system: { cpuModel: 'Skylake-Client,+avx2', pinCpus: [0, 1] },
      advanced: { extraArgs: ['-device', 'pvpanic'] },
      limits: { diskIops: 100 },
      cdrom: { extra: [{ id: 'cdrom1', iso: '/x.iso' }] },
    });
    const r = configToDomainXml(c, { ...target, isoPath: null });
    golden('devices-and-dropped.xml', r.xml);
    const words = r.dropped.join('\n');
    for (const w of ['port forwards', 'shared folders', 'CPU pinning', 'extra QEMU arguments', 'resource limits', 'CPU flags +avx2', 'more CD drive']) expect(words).toContain(w);
  });

  it('names every disk of a bus in order and refuses a disk without a host path', () => {
    const c = config({ disks: [{ id: 'disk0', file: 'a.qcow2' }, { id: 'disk1', file: 'b.raw', format: 'raw' }] });
    const xml = configToDomainXml(c, target).xml;
    expect([...xml.matchAll(/<target dev='(\w+)'/g)].map((m) => m[1])).toEqual(['vda', 'vdb', 'sda']);
    expect(() => configToDomainXml(c, { ...target, diskPaths: { disk0: '/a' } })).toThrow(/disk1 has no path/);
  });
});

describe('domainXmlToInfo', () => {
  it('reads back what it rendered (round trip of the fields Vireo shows)', () => {
    const c = config({ system: { firmware: 'uefi', secureBoot: true, tpm: true } });
    const i = domainXmlToInfo(configToDomainXml(c, target).xml);
    expect(i).toMatchObject({ name: 'debian <lab> & co', uuid: c.id, memoryMiB: 1024, vcpus: 2, firmware: 'uefi', secureBoot: true, tpm: true, machine: 'q35', arch: 'x86_64', madeByVireo: true, os: { id: 'debian12', family: 'linux' }, serial: true, video: 'std' });
    expect(i.disks.map((d) => [d.device, d.file, d.target, d.bus])).toEqual([
      ['disk', target.diskPaths.disk0, 'vda', 'virtio'],
      ['cdrom', target.isoPath, 'sda', 'sata'],
    ]);
    expect(i.nics).toEqual([{ type: 'user', mac: '52:54:00:12:34:56', model: 'virtio-net-pci', source: null }]);
  });

  it('reads a domain libvirt wrote itself (virsh dumpxml of a running session domain: KiB memory, a live VNC socket)', () => {
    const i = domainXmlToInfo(readFileSync(join(dir, 'libvirt-dumpxml-running.xml'), 'utf8'));
    expect(i.madeByVireo).toBe(false);
    expect(i.os).toBeNull();
    expect(i.memoryMiB).toBe(192);
    expect(i.graphics?.type).toBe('vnc');
    expect(i.graphics?.socket).toMatch(/vnc\.sock$/);
    expect(i.disks[0]).toMatchObject({ device: 'disk', format: 'qcow2', bus: 'virtio' });
  });

  it('says what is wrong with a document that is not a domain', () => {
    expect(() => domainXmlToInfo('<network><name>x</name></network>')).toThrow(/not a domain document/);
    expect(() => domainXmlToInfo('<domain><name>x</domain>')).toThrow(/closes <name>/);
  });
});

describe('the serial console of a domain', () => {
  it('is a unix socket with a log, read back from the XML; a pty serial is rendered only without paths', () => {
    const r = configToDomainXml(config(), target);
    expect(r.xml).toContain("<serial type='unix'>\n      <source mode='bind' path='/var/lib/libvirt/qemu/.vm-6f1c1a52.serial.sock'/>\n      <log file='/var/lib/libvirt/qemu/.vm-6f1c1a52.serial.log' append='on'/>");
    const info = domainXmlToInfo(r.xml);
    expect(info.console).toEqual({ type: 'unix', socket: '/var/lib/libvirt/qemu/.vm-6f1c1a52.serial.sock', log: '/var/lib/libvirt/qemu/.vm-6f1c1a52.serial.log' });
    expect(consoleProblem(info.console ?? null, 'vm')).toBeNull();
    const pty = domainXmlToInfo(configToDomainXml(config(), { ...target, serial: null }).xml);
    expect(pty.console).toEqual({ type: 'pty', socket: null, log: null });
    expect(consoleProblem(pty.console ?? null, 'vm')).toMatch(/^not yet: vm's serial is a pty .*virsh console vm/);
    expect(consoleProblem(null, 'vm')).toMatch(/has no serial port/);
  });

  it('goes in the pool directory of a session daemon and in libvirt\'s QEMU directory of the system one; too long stays a pty', () => {
    const id = '6f1c1a52-8f3e-4c39-9a8e-0d6d1f2b3c4d';
    expect(serialPaths('qemu+unix:///session?socket=/run/x', '/home/me/pool/', 'debian <lab>', id)).toEqual({ socket: '/home/me/pool/.debian__lab_-6f1c1a52.serial.sock', log: '/home/me/pool/.debian__lab_-6f1c1a52.serial.log' });
    expect(serialPaths('qemu+ssh://me@srv/system', '/var/lib/libvirt/images', 'w', id)).toMatchObject({ socket: '/var/lib/libvirt/qemu/.w-6f1c1a52.serial.sock' });
    expect(serialPaths('qemu:///session', `/${'d'.repeat(80)}`, 'x'.repeat(40), id)).toEqual({ problem: expect.stringMatching(/longer than 107 bytes, so it stays a pty/) });
  });
});
