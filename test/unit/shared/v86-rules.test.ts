import { describe, expect, it } from 'vitest';
import { V86_MAX_MEMORY_MIB, proposeV86, v86Issues } from '../../../electron/shared/v86-rules.ts';

// The wasm/v86 backend's limits: one 32-bit PC with IDE, floppy, CD-ROM, VGA, NE2000, SB16.
const ok = () => ({
  backend: 'wasm/v86',
  arch: 'x86_64',
  system: { machine: 'pc', cpus: 1, memoryMiB: 64, firmware: 'bios', secureBoot: false, tpm: false },
  disks: [{ id: 'disk0', bus: 'ide', format: 'raw' }],
  cdrom: { bus: 'ide', extra: [] as unknown[] },
  networks: [{ id: 'net0', model: 'ne2k_pci', mode: 'user' }],
  display: { device: 'std' },
  sound: { device: 'sb16' },
  usb: [] as unknown[],
  shares: [] as unknown[],
  cloudInit: null,
  unattended: null,
  floppy: 'dos.img' as string | null,
  advanced: { extraArgs: [] as string[] },
});

describe('v86Issues', () => {
  it('accepts a PC it can emulate (IDE disk, floppy, CD, VGA, NE2000, SB16)', () => {
    expect(v86Issues(ok())).toEqual([]);
  });

  it('refuses what v86 does not have, each with the field and what to pick', () => {
    const c = ok();
    c.arch = 'aarch64';
    c.system = { ...c.system, machine: 'q35', cpus: 2, memoryMiB: V86_MAX_MEMORY_MIB + 1, firmware: 'uefi', secureBoot: true, tpm: true };
    c.disks = [{ id: 'disk0', bus: 'virtio', format: 'qcow2' }, { id: 'disk1', bus: 'ide', format: 'raw' }, { id: 'disk2', bus: 'ide', format: 'raw' }];
    c.cdrom = { bus: 'sata', extra: [{}] };
    c.networks = [{ id: 'net0', model: 'virtio-net-pci', mode: 'user' }, { id: 'net1', model: 'ne2k_pci', mode: 'user' }];
    c.display = { device: 'virtio-vga' };
    c.sound = { device: 'hda' };
    c.usb = [{}];
    c.shares = [{}];
    c.cloudInit = {} as never;
    c.advanced = { extraArgs: ['-S'] };
    const issues = v86Issues(c);
    const paths = issues.map((i) => i.path.join('.'));
    expect(paths).toEqual([
      'arch', 'system.machine', 'system.cpus', 'system.memoryMiB', 'system.firmware', 'system.secureBoot', 'system.tpm',
      'disks', 'disks.0.bus', 'disks.0.format', 'cdrom.bus', 'cdrom.extra', 'networks', 'networks.0.model',
      'display.device', 'sound.device', 'usb', 'shares', 'cloudInit', 'advanced.extraArgs',
    ]);
    expect(issues.find((i) => i.path.join('.') === 'system.cpus')?.message).toMatch(/no SMP.*cpus to 1/);
    expect(issues.find((i) => i.path.join('.') === 'disks.0.format')?.message).toMatch(/raw images only.*convert/);
    for (const i of issues) expect(i.message).toMatch(/wasm\/v86 backend emulates a 32-bit PC/);
  });

  it('lets QEMU VMs be, except for a floppy it does not run yet', () => {
    const c = { ...ok(), backend: 'qemu', system: { ...ok().system, cpus: 8, memoryMiB: 8192 } };
    expect(v86Issues({ ...c, floppy: null })).toEqual([]);
    expect(v86Issues(c).map((i) => i.path.join('.'))).toEqual(['floppy']);
  });
});

describe('proposeV86', () => {
  const found = { found: true };
  it('proposes it for DOS, Windows 9x and old Linux, with why', () => {
    expect(proposeV86({ id: 'msdos6.22', name: 'Microsoft MS-DOS 6.22', family: 'dos' }, found)).toEqual({ propose: true, why: expect.stringMatching(/MS-DOS 6.22 is a DOS/) });
    expect(proposeV86({ id: 'win98', name: 'Microsoft Windows 98', family: 'windows' }, found).propose).toBe(true);
    expect(proposeV86({ id: 'win95', name: 'Microsoft Windows 95', family: 'windows' }, found).propose).toBe(true);
    expect(proposeV86({ id: 'win2k', name: 'Microsoft Windows 2000', family: 'windows' }, found).propose).toBe(true);
    expect(proposeV86({ id: 'debian4', name: 'Debian 4.0', family: 'linux', releaseDate: '2007-04-08' }, found).propose).toBe(true);
  });
  it('does not for modern OSes while QEMU is there', () => {
    expect(proposeV86({ id: 'win2k22', name: 'Microsoft Windows Server 2022', family: 'windows' }, found).propose).toBe(false);
    expect(proposeV86({ id: 'win11', name: 'Microsoft Windows 11', family: 'windows' }, found).propose).toBe(false);
    expect(proposeV86({ id: 'debian12', name: 'Debian 12', family: 'linux', releaseDate: '2023-06-10' }, found).propose).toBe(false);
    expect(proposeV86(null, found)).toEqual({ propose: false, why: null });
  });
  it('proposes it for anything when no QEMU is found', () => {
    expect(proposeV86({ id: 'debian12', name: 'Debian 12', family: 'linux' }, { found: false })).toEqual({ propose: true, why: expect.stringMatching(/no QEMU was found/) });
    expect(proposeV86(null, { found: false }).propose).toBe(true);
  });
});
