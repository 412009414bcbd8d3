import { describe, expect, it } from 'vitest';
import { V86_MAX_MEMORY_MIB, v86Issues } from '../../../electron/shared/v86-rules.ts';

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
