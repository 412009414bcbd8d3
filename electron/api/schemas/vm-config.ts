import { z } from 'zod';
import { Accel, VmName } from './common.ts';

// vm.json, version 1. Pure data: QEMU's argv is a pure function of this plus the host's
// capabilities (electron/engine/qemu/argv.ts). Every leaf here must either reach argv or be
// listed as argv-neutral in test/unit/engine/argv-coverage.test.ts.

export const CONFIG_SCHEMA_VERSION = 1;

export const OsFamily = z.enum(['linux', 'windows', 'bsd', 'dos', 'macos', 'solaris', 'other']);
export type OsFamily = z.infer<typeof OsFamily>;

export const OsInfo = z.object({
  /** short id from the OS table (e.g. "win11", "debian12", "ubuntu24.04", "msdos6.22") or "unknown" */
  id: z.string().min(1).default('unknown'),
  name: z.string().default('Unknown OS'),
  family: OsFamily.default('other'),
});

export const DiskFormat = z.enum(['qcow2', 'raw', 'vmdk', 'vdi', 'vhdx', 'vpc']);
export type DiskFormat = z.infer<typeof DiskFormat>;
export const DiskBus = z.enum(['virtio', 'ide', 'sata', 'scsi']);
export type DiskBus = z.infer<typeof DiskBus>;

export const Disk = z.object({
  /** stable id inside the VM: "disk0", "disk1"... used for QEMU node names */
  id: z.string().regex(/^[a-z][a-z0-9_-]{0,30}$/),
  /** relative to the VM folder, or absolute for an image kept elsewhere */
  file: z.string().min(1),
  format: DiskFormat.default('qcow2'),
  bus: DiskBus.default('virtio'),
  readOnly: z.boolean().default(false),
  /** host page-cache use; "none" where the host supports O_DIRECT is safest for data */
  cache: z.enum(['writeback', 'none', 'unsafe']).default('writeback'),
  discard: z.boolean().default(true),
});
export type Disk = z.infer<typeof Disk>;

export const PortForward = z.object({
  protocol: z.enum(['tcp', 'udp']).default('tcp'),
  hostAddress: z.string().default('127.0.0.1'),
  hostPort: z.number().int().min(1).max(65535),
  guestPort: z.number().int().min(1).max(65535),
});
export type PortForward = z.infer<typeof PortForward>;

export const NicModel = z.enum(['virtio-net-pci', 'e1000', 'e1000e', 'rtl8139', 'pcnet', 'ne2k_pci']);
export const DisplayDevice = z.enum(['virtio-vga', 'virtio-gpu-pci', 'std', 'cirrus', 'qxl', 'none']);
export const SoundDevice = z.enum(['none', 'hda', 'ac97', 'sb16']);
export const UsbController = z.enum(['none', 'xhci', 'ehci', 'uhci']);

export const VmConfigV1 = z.object({
  schemaVersion: z.literal(1),
  id: z.string().uuid(),
  name: VmName,
  createdAt: z.string(),
  notes: z.string().max(10_000).default(''),
  os: OsInfo.default({ id: 'unknown', name: 'Unknown OS', family: 'other' }),
  /** modern: q35 + virtio; legacy: i440fx + IDE + e1000/rtl8139 + cirrus/std for old OSes */
  profile: z.enum(['modern', 'legacy']).default('modern'),
  system: z.object({
    machine: z.enum(['q35', 'pc']).default('q35'),
    cpus: z.number().int().min(1).max(512).default(2),
    /** "auto" → "host" under a hardware accelerator, "max" under TCG */
    cpuModel: z.string().regex(/^[A-Za-z0-9_.+-]+(,[A-Za-z0-9_.=+-]+)*$/).default('auto'),
    memoryMiB: z.number().int().min(16).max(4 * 1024 * 1024).default(2048),
    firmware: z.enum(['bios', 'uefi']).default('bios'),
    secureBoot: z.boolean().default(false),
    tpm: z.boolean().default(false),
    accel: Accel.default('auto'),
    /** Hyper-V enlightenments for Windows guests; applied only under KVM/WHPX */
    hyperv: z.boolean().default(false),
    /** guest RTC in local time (Windows, DOS) instead of UTC */
    rtcLocalTime: z.boolean().default(false),
    /** host CPUs to pin QEMU to (Linux: sched_setaffinity via taskset-free spawn) */
    pinCpus: z.array(z.number().int().min(0)).default([]),
    priority: z.enum(['low', 'normal', 'high']).default('normal'),
  }).prefault({}),
  disks: z.array(Disk).default([]),
  cdrom: z.object({
    /** absolute path of an ISO, or null for an empty drive */
    iso: z.string().nullable().default(null),
    bus: z.enum(['ide', 'sata', 'scsi']).default('sata'),
  }).prefault({}),
  boot: z.object({
    order: z.array(z.enum(['cdrom', 'disk', 'network'])).min(1).default(['disk', 'cdrom']),
    menu: z.boolean().default(false),
  }).prefault({}),
  network: z.object({
    mode: z.enum(['user', 'none']).default('user'),
    model: NicModel.default('virtio-net-pci'),
    mac: z.string().regex(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/),
    portForwards: z.array(PortForward).default([]),
  }),
  display: z.object({
    device: DisplayDevice.default('std'),
  }).prefault({}),
  input: z.object({
    tablet: z.boolean().default(true),
  }).prefault({}),
  sound: z.object({ device: SoundDevice.default('none') }).prefault({}),
  devices: z.object({
    usb: UsbController.default('xhci'),
    rng: z.boolean().default(true),
    balloon: z.boolean().default(true),
    /** clipboard sharing via QEMU's qemu-vdagent chardev (guest needs spice-vdagent) */
    clipboard: z.boolean().default(false),
  }).prefault({}),
  serial: z.object({ enabled: z.boolean().default(true) }).prefault({}),
  advanced: z.object({
    /** appended last to QEMU's argv, one element per argument (never a shell string) */
    extraArgs: z.array(z.string()).default([]),
  }).prefault({}),
});

export type VmConfig = z.infer<typeof VmConfigV1>;
export const VmConfigSchema = VmConfigV1;

/**
 * A settings change from a client: a partial tree merged onto the current config, then the
 * whole result is parsed again, so a patch can never produce an invalid vm.json.
 */
export const VmConfigPatch = z.record(z.string(), z.unknown());
