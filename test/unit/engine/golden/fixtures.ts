import { posix, win32 } from 'node:path';
import { VmConfigSchema, type VmConfig } from '../../../../electron/api/schemas/vm-config.ts';
import type { ArgvContext } from '../../../../electron/engine/qemu/argv/index.ts';

// Configs shared by the golden tests, the coverage test and the real-QEMU acceptance test.
// Each one is a realistic VM a person would create with the wizard.

const ID = '3f2c1b7e-8a4d-4c2e-9b1a-0d5e6f7a8b9c';

export function cfg(over: Record<string, unknown>): VmConfig {
  return VmConfigSchema.parse({
    schemaVersion: 2,
    id: ID,
    name: 'test vm',
    createdAt: '2025-01-01T00:00:00.000Z',
    networks: [{ id: 'net0', mac: '52:54:00:12:34:56' }],
    ...over,
  });
}

export const CAPS_7_2: ArgvContext['caps'] = {
  versionParts: [7, 2, 0],
  machines: ['pc', 'q35', 'pc-i440fx-7.2', 'pc-q35-7.2', 'isapc', 'microvm', 'none'],
  devices: [
    'virtio-blk-pci', 'virtio-scsi-pci', 'ich9-ahci', 'ide-hd', 'ide-cd', 'scsi-hd', 'scsi-cd',
    'virtio-net-pci', 'e1000', 'e1000e', 'rtl8139', 'pcnet', 'ne2k_pci',
    'virtio-vga', 'virtio-gpu-pci', 'VGA', 'cirrus-vga', 'qxl-vga',
    'qemu-xhci', 'usb-ehci', 'piix3-usb-uhci', 'usb-tablet', 'usb-host', 'usb-storage', 'usb-kbd', 'usb-mouse',
    'intel-hda', 'hda-duplex', 'AC97', 'sb16',
    'virtio-rng-pci', 'virtio-balloon-pci', 'virtio-serial-pci', 'virtserialport',
    'tpm-tis', 'tpm-crb',
    'virtio-9p-pci', 'vhost-user-fs-pci',
  ],
  chardevs: ['socket', 'qemu-vdagent', 'null', 'file'],
};

export interface Case {
  config: VmConfig;
  ctx: Omit<ArgvContext, 'vmDir' | 'sockets' | 'pidFile' | 'serialLog' | 'caps' | 'platform'> & { sockets?: Partial<ArgvContext['sockets']>; caps?: ArgvContext['caps']; platform?: NodeJS.Platform };
  vmDir?: string;
}

export const CASES: Record<string, Case> = {
  'modern-linux': {
    config: cfg({
      name: 'Debian 12',
      os: { id: 'debian12', name: 'Debian 12', family: 'linux' },
      system: { machine: 'q35', cpus: 4, memoryMiB: 4096 },
      disks: [{ id: 'disk0', file: 'disk0.qcow2', bus: 'virtio' }],
      cdrom: { iso: '/isos/debian-12.iso', bus: 'sata' },
      boot: { order: ['cdrom', 'disk'] },
      networks: [{ id: 'net0', model: 'virtio-net-pci', mac: '52:54:00:12:34:56', portForwards: [{ hostPort: 2222, guestPort: 22 }] }],
      display: { device: 'virtio-vga' },
      devices: { usb: 'xhci', rng: true, balloon: true, clipboard: true },
    }),
    ctx: { accel: 'kvm' },
  },
  'legacy-dos': {
    config: cfg({
      name: 'MS-DOS 6.22',
      os: { id: 'msdos6.22', name: 'MS-DOS 6.22', family: 'dos' },
      profile: 'legacy',
      system: { machine: 'pc', cpus: 1, memoryMiB: 64, rtcLocalTime: true },
      disks: [{ id: 'disk0', file: 'dos.img', format: 'raw', bus: 'ide', discard: false }],
      cdrom: { iso: null, bus: 'ide' },
      boot: { order: ['disk', 'cdrom'], menu: true },
      networks: [{ id: 'net0', model: 'pcnet', mac: '52:54:00:00:00:01' }],
      display: { device: 'cirrus' },
      input: { tablet: false },
      sound: { device: 'sb16' },
      devices: { usb: 'none', rng: false, balloon: false },
    }),
    ctx: { accel: 'tcg' },
  },
  'windows11': {
    config: cfg({
      name: 'Windows 11',
      os: { id: 'win11', name: 'Windows 11', family: 'windows' },
      system: { machine: 'q35', cpus: 2, memoryMiB: 4096, firmware: 'uefi', secureBoot: true, tpm: true, hyperv: true, rtcLocalTime: true },
      disks: [{ id: 'disk0', file: 'disk0.qcow2', bus: 'sata', cache: 'none' }],
      cdrom: { iso: '/isos/Win11_24H2.iso', bus: 'sata' },
      boot: { order: ['disk', 'cdrom'] },
      networks: [{ id: 'net0', model: 'e1000e', mac: '52:54:00:ab:cd:ef' }],
      display: { device: 'std' },
      sound: { device: 'hda' },
      devices: { usb: 'xhci', rng: true, balloon: false },
    }),
    ctx: {
      accel: 'kvm',
      firmware: { code: '/usr/share/OVMF/OVMF_CODE_4M.ms.fd', vars: '/vms/win11/nvram.qcow2', varsFormat: 'qcow2', secureBoot: true, requiresSmm: true },
      tpmSocket: '/run/vireo/x/tpm.sock',
    },
    vmDir: '/vms/win11',
  },
  'plain-uefi': {
    config: cfg({
      name: 'Fedora UEFI',
      os: { id: 'fedora40', name: 'Fedora 40', family: 'linux' },
      system: { firmware: 'uefi', memoryMiB: 2048 },
      disks: [
        { id: 'disk0', file: 'disk0.qcow2', bus: 'virtio' },
        { id: 'data', file: '/srv/images/data.raw', format: 'raw', bus: 'scsi', readOnly: true, cache: 'unsafe' },
      ],
      cdrom: { iso: null, bus: 'scsi' },
      boot: { order: ['disk', 'network'] },
      networks: [{ id: 'net0', model: 'virtio-net-pci', mac: '52:54:00:00:00:02' }],
      display: { device: 'virtio-gpu-pci' },
      sound: { device: 'ac97' },
      devices: { usb: 'ehci' },
      serial: { enabled: false },
      advanced: { extraArgs: ['-device', 'pvpanic'] },
    }),
    ctx: {
      accel: 'tcg',
      firmware: { code: '/usr/share/OVMF/OVMF_CODE_4M.fd', vars: '/vms/fedora/nvram.fd', varsFormat: 'raw', secureBoot: false, requiresSmm: false },
    },
  },
  'commas-in-paths': {
    config: cfg({
      name: 'a,b=c vm',
      system: { machine: 'pc' },
      disks: [
        { id: 'disk0', file: 'disk,0.qcow2', bus: 'ide' },
        { id: 'disk1', file: '/data/x,y/second.qcow2', bus: 'sata' },
      ],
      cdrom: { iso: '/isos/weird,name.iso', bus: 'ide' },
      networks: [{ id: 'net0', model: 'e1000', mac: '52:54:00:00:00:03', portForwards: [{ protocol: 'udp', hostAddress: '127.0.0.1', hostPort: 5353, guestPort: 53 }] }],
      devices: { usb: 'uhci' },
    }),
    ctx: { accel: 'tcg' },
    vmDir: '/home/me/VMs/a,b vm',
  },
  // A router guest: NAT on two cards, network boot from the first, a forward on the second.
  'two-nics': {
    config: cfg({
      name: 'OpenWrt router',
      os: { id: 'linux2022', name: 'Linux', family: 'linux' },
      system: { cpus: 1, memoryMiB: 256 },
      disks: [{ id: 'disk0', file: 'openwrt.qcow2', bus: 'virtio' }],
      boot: { order: ['network', 'disk'] },
      networks: [
        { id: 'net0', model: 'virtio-net-pci', mac: '52:54:00:00:01:00' },
        { id: 'net1', model: 'e1000', mac: '52:54:00:00:01:01', portForwards: [{ hostPort: 8080, guestPort: 80 }] },
      ],
      display: { device: 'none' },
      devices: { usb: 'none', balloon: false },
    }),
    ctx: { accel: 'tcg' },
  },
};

/**
 * Whole-VM cases beyond CASES: not started by the real-QEMU test (a -loadvm of a snapshot the
 * disk lacks would fail there). The restore golden was recorded with the v1 engine, which
 * spliced these arguments in after the builder.
 */
export const RESUME_CASES: Record<string, Case> = {
  'restore-snapshot': {
    ...CASES['plain-uefi']!,
    ctx: { ...CASES['plain-uefi']!.ctx, sockets: { qmpCmd: '/run/vireo/3f2c1b7e/qmp-cmd.sock' }, loadvm: 'before upgrade,1' },
  },
};

/**
 * Shared folders (electron/engine/shares/): golden cases only, since the real-QEMU start test
 * has neither the host folders nor a virtiofsd; test/integration/shares-9p-virtiofs.test.ts
 * boots these kinds of shares for real.
 */
export const SHARE_CASES: Record<string, Case> = {
  'shared-folders': {
    config: cfg({
      name: 'Shared folders',
      os: { id: 'debian12', name: 'Debian 12', family: 'linux' },
      system: { memoryMiB: 1024 },
      disks: [{ id: 'disk0', file: 'disk0.qcow2', bus: 'virtio' }],
      shares: [
        { tag: 'projects', path: '/home/me/src,old' },
        { tag: 'isos.ro', path: '/srv/isos', readOnly: true },
        { tag: 'docs', path: '/home/me/Documents', type: 'virtiofs' },
      ],
    }),
    ctx: { accel: 'kvm', shareSockets: { docs: '/run/vireo/3f2c1b7e/vfs2.sock' } },
  },
};

/** Screen cases (issue 16, display half): an initial resolution, and the clipboard's vdagent port. */
export const DISPLAY_CASES: Record<string, Case> = {
  'virtio-resolution': {
    config: cfg({
      name: 'Desktop 1920x1200',
      disks: [{ id: 'disk0', file: 'disk0.qcow2', bus: 'virtio' }],
      display: { device: 'virtio-vga', resolution: { width: 1920, height: 1200 } },
      devices: { clipboard: true },
    }),
    ctx: { accel: 'kvm' },
  },
  'std-resolution': {
    config: cfg({ name: 'Std VGA 1024x768', display: { device: 'std', resolution: { width: 1024, height: 768 } } }),
    ctx: { accel: 'tcg' },
  },
};

/**
 * NAT backends (engine/net/nat/): net0 on passt, where QEMU serves the stream socket passt gets
 * and the forwards are passt's (not in argv); net1 on slirp, its forward a hostfwd.
 */
export const NAT_CASES: Record<string, Case> = {
  'nat-passt': {
    config: cfg({
      name: 'NAT on passt and slirp',
      disks: [{ id: 'disk0', file: 'disk0.qcow2', bus: 'virtio' }],
      networks: [
        { id: 'net0', model: 'virtio-net-pci', mac: '52:54:00:12:34:56', natBackend: 'passt', portForwards: [{ hostPort: 8080, guestPort: 80 }] },
        { id: 'net1', model: 'e1000', mac: '52:54:00:12:34:57', natBackend: 'slirp', portForwards: [{ protocol: 'udp', hostPort: 5353, guestPort: 53 }] },
      ],
    }),
    ctx: { accel: 'kvm', nat: { net0: { backend: 'passt', socket: '/run/vireo/3f2c1b7e/nat-net0.sock' }, net1: { backend: 'slirp' } } },
  },
};

/**
 * USB devices, CD drives and boot order (issue 16): golden cases only, since the real-QEMU
 * start test has no host USB device to give them. Sound backends: argv-audio.test.ts.
 */
export const DEVICE_CASES: Record<string, Case> = {
  'usb-devices': {
    config: cfg({
      name: 'USB devices',
      disks: [{ id: 'disk0', file: 'disk0.qcow2', bus: 'virtio' }],
      usb: [
        { id: 'usb1', kind: 'host', host: '046d:c52b', label: 'Logitech Unifying Receiver' },
        { id: 'usb2', kind: 'host', host: '3-1.4' },
        { id: 'usb3', kind: 'storage', file: 'stick,1.img' },
        { id: 'usb4', kind: 'storage', file: '/media/stick.qcow2', format: 'qcow2', readOnly: true },
        { id: 'usb5', kind: 'keyboard' },
        { id: 'usb6', kind: 'mouse' },
      ],
    }),
    ctx: { accel: 'kvm' },
  },
  'cd-drives-boot-order': {
    config: cfg({
      name: 'Install with a driver disc',
      disks: [{ id: 'disk0', file: 'disk0.qcow2', bus: 'virtio' }, { id: 'disk1', file: 'disk1.qcow2', bus: 'scsi' }],
      cdrom: { iso: '/isos/install.iso', bus: 'sata', extra: [{ iso: '/isos/drivers.iso', bus: 'sata' }, { iso: null, bus: 'scsi' }] },
      boot: { order: ['cdrom', 'network', 'disk'] },
    }),
    ctx: { accel: 'tcg' },
  },
  // Disk I/O limits (argv/limits.ts): both disks behind one throttle group; the CPU cap is no argv.
  'disk-limits': {
    config: cfg({
      name: 'Limited neighbour',
      disks: [{ id: 'disk0', file: 'disk0.qcow2', bus: 'virtio' }, { id: 'disk1', file: 'disk1.qcow2', bus: 'sata' }],
      limits: { cpuPercent: 50, diskBytesPerSec: 10_485_760, diskIops: 200 },
    }),
    ctx: { accel: 'kvm' },
  },
  // Express install's first boot (engine/unattended/): the installer booted directly, once.
  'express-install-first-boot': {
    config: cfg({
      name: 'Debian express install',
      os: { id: 'debian12', name: 'Debian 12', family: 'linux' },
      disks: [{ id: 'disk0', file: 'disk0.qcow2', bus: 'virtio' }],
      cdrom: { iso: '/isos/debian-12.8.0-amd64-netinst.iso' },
      unattended: { kernel: 'unattended/vmlinuz', initrd: 'unattended/initrd.gz', append: 'auto=true priority=critical preseed/file=/preseed.cfg console=ttyS0,115200n8' },
    }),
    ctx: { accel: 'tcg' },
  },
};

/** The context the engine would pass, its sockets named as VmPaths names them in runtimeDir. */
export function contextFor(c: Case, base: { vmDir?: string; runtimeDir?: string } = {}): ArgvContext {
  const vmDir = base.vmDir ?? c.vmDir ?? '/vms/test';
  const runtimeDir = base.runtimeDir ?? '/run/vireo/3f2c1b7e';
  const p = /^[A-Za-z]:\\/.test(runtimeDir) ? win32 : posix;
  const { sockets, ...ctx } = c.ctx;
  return {
    vmDir,
    caps: CAPS_7_2,
    platform: 'linux',
    pidFile: `${runtimeDir}/qemu.pid`,
    serialLog: `${vmDir}/logs/serial.log`,
    hotplugPorts: true,
    ...ctx,
    sockets: { qmp: p.join(runtimeDir, 'qmp.sock'), vnc: p.join(runtimeDir, 'vnc.sock'), serial: p.join(runtimeDir, 'serial.sock'), agent: p.join(runtimeDir, 'agent.sock'), ...sockets },
  };
}
