import { z } from 'zod';
import {
  ARCHES, AUDIO_BACKENDS, BACKENDS, BOOT_DEVICES, CACHE_MODES, CDROM_BUSES, DISK_BUSES, DISK_FORMATS, DISPLAY_DEVICES, FIRMWARES,
  MACHINE_TYPES, MAX_HOSTONLY_PORTS, MAX_NICS, NAT_BACKENDS, NIC_MODELS, NIC_MODES, OS_FAMILIES, PORT_PROTOCOLS, PRIORITIES, PRIVATE_NET_NAME_RE, PROFILES, SOUND_DEVICES,
  USB_CONTROLLERS, USB_DEVICE_KINDS, MAX_USB_DEVICES, MAX_EXTRA_CDROMS,
  MAX_SHARES, SHARE_TYPES,
} from '../../shared/config-enums.ts';
import { archIssues } from '../../shared/arch-rules.ts';
import { v86Issues } from '../../shared/v86-rules.ts';
import { RESOLUTION_MAX, RESOLUTION_MIN, resolutionAvailability } from '../../shared/display-caps.ts';
import { Accel, StoredVmName } from './common.ts';
import { CloudInitConfig } from './cloud-init.ts';

// vm.json, version 2. Pure data: QEMU's argv is a pure function of this plus the host's
// capabilities (electron/engine/qemu/argv/). Every leaf here must either reach argv or be
// listed as argv-neutral in test/unit/engine/argv-coverage.test.ts. Older versions are
// migrated on read (electron/engine/library/config-store.ts); the enum value lists live in
// electron/shared/config-enums.ts so the renderer shares them.

export const CONFIG_SCHEMA_VERSION = 2;

export const Arch = z.enum(ARCHES);
export type Arch = z.infer<typeof Arch>;
export const Backend = z.enum(BACKENDS);
export type Backend = z.infer<typeof Backend>;

export const OsFamily = z.enum(OS_FAMILIES);
export type OsFamily = z.infer<typeof OsFamily>;

export const OsInfo = z.object({
  /** short id from the OS table (e.g. "win11", "debian12", "ubuntu24.04", "msdos6.22") or "unknown" */
  id: z.string().min(1).default('unknown'),
  name: z.string().default('Unknown OS'),
  family: OsFamily.default('other'),
});

export const DiskFormat = z.enum(DISK_FORMATS);
export type DiskFormat = z.infer<typeof DiskFormat>;
export const DiskBus = z.enum(DISK_BUSES);
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
  cache: z.enum(CACHE_MODES).default('writeback'),
  discard: z.boolean().default(true),
});
export type Disk = z.infer<typeof Disk>;

export const PortForward = z.object({
  protocol: z.enum(PORT_PROTOCOLS).default('tcp'),
  hostAddress: z.string().default('127.0.0.1'),
  hostPort: z.number().int().min(1).max(65535),
  guestPort: z.number().int().min(1).max(65535),
});
export type PortForward = z.infer<typeof PortForward>;

export const NicModel = z.enum(NIC_MODELS);
export type NicModel = z.infer<typeof NicModel>;
export const MAC_RE = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/;

/** One network card. Its id is QEMU's netdev id; the guest device is "nic" + the same number. */
export const Nic = z.object({
  id: z.string().regex(/^net[0-9]{1,2}$/, 'NIC id must be "net" and a number (net0, net1, ...)'),
  mode: z.enum(NIC_MODES).default('user'),
  model: NicModel.default('virtio-net-pci'),
  mac: z.string().regex(MAC_RE, 'MAC address must be six lower-case hex pairs like 52:54:00:12:34:56'),
  portForwards: z.array(PortForward).default([]),
  /** mode "user": which user-mode stack; auto (also when absent) = slirp for now, passt only when chosen (engine/net/nat/plan.ts says why) */
  natBackend: z.enum(NAT_BACKENDS).optional(),
  /** mode "private": the network's name; VMs on the same name reach each other and nothing else */
  network: z.string().regex(PRIVATE_NET_NAME_RE, 'network name: 1-32 letters, digits, ".", "_" or "-", starting with a letter or digit').optional(),
  /** mode "bridged": the host bridge (Linux), interface (macOS vmnet, e.g. en0) or TAP adapter (Windows) */
  bridge: z.string().max(64).refine((b) => ![...b].some((c) => c < ' ' || c === '\x7f'), 'bridge name: no control characters').optional(),
  /**
   * mode "hostonly" without a host-only bridge (Linux, Windows): the host's 127.0.0.1 ports the
   * guest may open, at 10.0.2.100; everything else the guest sends is dropped
   */
  hostPorts: z.array(z.number().int().min(1).max(65535)).max(MAX_HOSTONLY_PORTS, `at most ${MAX_HOSTONLY_PORTS} host ports`).optional(),
}).superRefine((n, ctx) => {
  // Set only where the mode uses them, so a NAT card's config stays as it was.
  if (n.mode === 'private' && !n.network) {
    ctx.addIssue({ code: 'custom', path: ['network'], message: `NIC ${n.id} is on a private network but names none: give the network's name (VMs on the same name reach each other), e.g. "intnet"` });
  }
  if (n.mode === 'bridged' && !n.bridge?.trim()) {
    ctx.addIssue({ code: 'custom', path: ['bridge'], message: `NIC ${n.id} is bridged but names no bridge: give the host bridge (Linux, e.g. br0), interface (macOS, e.g. en0) or TAP adapter (Windows)` });
  }
});
export type Nic = z.infer<typeof Nic>;

export const DisplayDevice = z.enum(DISPLAY_DEVICES);
/** An initial guest screen size; the limits live with the display facts (shared/display-caps.ts). */
export const Resolution = z.object({
  width: z.number().int().min(RESOLUTION_MIN.width).max(RESOLUTION_MAX.width),
  height: z.number().int().min(RESOLUTION_MIN.height).max(RESOLUTION_MAX.height),
});
export const SoundDevice = z.enum(SOUND_DEVICES);
export const UsbController = z.enum(USB_CONTROLLERS);

/** "vendor:product" in lower-case hex ("046d:c52b") or "bus-port" as sysfs names it ("1-2.3"). */
export const USB_HOST_RE = /^([0-9a-f]{4}:[0-9a-f]{4}|[0-9]{1,3}-[0-9]{1,2}(\.[0-9]{1,2}){0,6})$/;

/**
 * One USB device on the VM's controller. host: a host device passed through, matched by
 * `host`; storage: an emulated stick backed by `file`; keyboard/mouse: emulated HID devices.
 */
export const UsbDevice = z
  .object({
    /** QEMU device id; also its blockdev node for storage */
    id: z.string().regex(/^usb[0-9]{1,2}$/, 'USB device id must be "usb" and a number (usb1, usb2, ...)'),
    kind: z.enum(USB_DEVICE_KINDS),
    host: z.string().regex(USB_HOST_RE, 'a host USB device is "vendor:product" (046d:c52b) or "bus-port" (1-2.3)').nullable().default(null),
    /** storage: image file, relative to the VM folder or absolute */
    file: z.string().min(1).nullable().default(null),
    format: DiskFormat.default('raw'),
    readOnly: z.boolean().default(false),
    /** what the person saw when choosing it ("Logitech USB Receiver"): shown in the UI */
    label: z.string().max(200).default(''),
  })
  .superRefine((u, ctx) => {
    if (u.kind === 'host' && !u.host) ctx.addIssue({ code: 'custom', path: ['host'], message: 'a host USB device needs "host": vendor:product or bus-port' });
    if (u.kind !== 'host' && u.host) ctx.addIssue({ code: 'custom', path: ['host'], message: `"host" belongs to host devices, not to a ${u.kind}` });
    if (u.kind === 'storage' && !u.file) ctx.addIssue({ code: 'custom', path: ['file'], message: 'a USB storage stick needs an image file' });
    if (u.kind !== 'storage' && u.file) ctx.addIssue({ code: 'custom', path: ['file'], message: `"file" belongs to USB storage, not to a ${u.kind}` });
  });
export type UsbDevice = z.infer<typeof UsbDevice>;

const UsbDevices = z
  .array(UsbDevice)
  .max(MAX_USB_DEVICES, `at most ${MAX_USB_DEVICES} USB devices: remove one`)
  .superRefine((list, ctx) => {
    const seen = new Set<string>();
    list.forEach((u, i) => {
      if (seen.has(u.id)) ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `USB device id ${u.id} is used twice: give each its own` });
      seen.add(u.id);
    });
  });

export const CdromDrive = z.object({
  /** absolute path of an ISO, or null for an empty drive */
  iso: z.string().nullable().default(null),
  bus: z.enum(CDROM_BUSES).default('sata'),
});

/** Two NICs with one id would collide in QEMU; two with one MAC collide on the guest's network. */
const Nics = z
  .array(Nic)
  .max(MAX_NICS, `at most ${MAX_NICS} network cards: remove one`)
  .superRefine((nics, ctx) => {
    for (const key of ['id', 'mac'] as const) {
      const seen = new Set<string>();
      nics.forEach((n, i) => {
        if (seen.has(n[key])) ctx.addIssue({ code: 'custom', path: [i, key], message: `${key} ${n[key]} is used by two network cards: give each its own` });
        seen.add(n[key]);
      });
    }
  });

/**
 * A host folder shared with the guest (electron/engine/shares/). The tag is what the guest
 * mounts by (`mount -t 9p <tag> …`): 31 characters keeps it inside 9p's and virtiofs's
 * limits and makes it a safe word in the mount command shown to the user.
 */
export const SHARE_TAG_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,30}$/;
export const Share = z.object({
  tag: z.string().regex(SHARE_TAG_RE, 'share tag must be 1-31 letters, digits, "_", "." or "-", starting with a letter or digit'),
  /** absolute host folder; a web caller's is confined (policy/confine.ts) */
  path: z.string().regex(/^(\/|[A-Za-z]:[\\/])/, 'share path must be an absolute folder path').refine((p) => !p.includes('\0'), 'share path contains a NUL character'),
  readOnly: z.boolean().default(false),
  type: z.enum(SHARE_TYPES).default('9p'),
});
export type Share = z.infer<typeof Share>;

/** The guest tells shares apart by tag alone: two with one tag would be one mount. */
const Shares = z
  .array(Share)
  .max(MAX_SHARES, `at most ${MAX_SHARES} shared folders: remove one`)
  .superRefine((shares, ctx) => {
    const seen = new Set<string>();
    shares.forEach((s, i) => {
      if (seen.has(s.tag)) ctx.addIssue({ code: 'custom', path: [i, 'tag'], message: `tag ${s.tag} is used by two shared folders: give each its own` });
      seen.add(s.tag);
    });
  });

/**
 * A throwaway VM (`vireo run --rm`, a VM file's disposable entries): made from `base`, owned by
 * a process while one holds it. An engine removes a disposable whose owner process is gone
 * (electron/engine/vm/disposable.ts); owner null = kept until removed explicitly.
 */
export const Disposable = z.object({
  owner: z.object({
    pid: z.number().int().positive(),
    /** the process's start time (Linux /proc stat field 22), so a reused pid is not mistaken for it */
    startTime: z.string().nullable().default(null),
  }).nullable().default(null),
  /** the id of the VM it was made from */
  base: z.string().nullable().default(null),
  /** its disks are overlays on the base's (the base may then not start or go while it exists); false: a copy */
  linked: z.boolean().default(false),
  createdAt: z.string(),
});
export type Disposable = z.infer<typeof Disposable>;

export const VmConfigSchema = z.object({
  schemaVersion: z.literal(CONFIG_SCHEMA_VERSION),
  id: z.string().uuid(),
  name: StoredVmName,
  createdAt: z.string(),
  notes: z.string().max(10_000).default(''),
  disposable: Disposable.nullable().default(null),
  /** a template is never started; "new from template" makes a linked clone of it (engine/clone/) */
  template: z.boolean().default(false),
  /** guest architecture: chooses the QEMU binary, machine types and firmware */
  arch: Arch.default('x86_64'),
  /** which emulator runs this VM */
  backend: Backend.default('qemu'),
  os: OsInfo.default({ id: 'unknown', name: 'Unknown OS', family: 'other' }),
  profile: z.enum(PROFILES).default('modern'),
  system: z.object({
    machine: z.enum(MACHINE_TYPES).default('q35'),
    cpus: z.number().int().min(1).max(512).default(2),
    /** "auto" → "host" under a hardware accelerator, "max" under TCG */
    cpuModel: z.string().regex(/^[A-Za-z0-9_.+-]+(,[A-Za-z0-9_.=+-]+)*$/).default('auto'),
    memoryMiB: z.number().int().min(16).max(4 * 1024 * 1024).default(2048),
    firmware: z.enum(FIRMWARES).default('bios'),
    secureBoot: z.boolean().default(false),
    tpm: z.boolean().default(false),
    accel: Accel.default('auto'),
    /** Hyper-V enlightenments for Windows guests; applied only under KVM/WHPX */
    hyperv: z.boolean().default(false),
    /** guest RTC in local time (Windows, DOS) instead of UTC */
    rtcLocalTime: z.boolean().default(false),
    /** host CPUs to pin QEMU to (Linux: sched_setaffinity via taskset-free spawn) */
    pinCpus: z.array(z.number().int().min(0)).default([]),
    priority: z.enum(PRIORITIES).default('normal'),
  }).prefault({}),
  disks: z.array(Disk).default([]),
  cdrom: z.object({
    /** absolute path of an ISO, or null for an empty drive */
    iso: z.string().nullable().default(null),
    bus: z.enum(CDROM_BUSES).default('sata'),
    /** more CD drives (cdrom1, cdrom2, ...), each with its own ISO */
    extra: z.array(CdromDrive).max(MAX_EXTRA_CDROMS, `at most ${MAX_EXTRA_CDROMS + 1} CD drives: remove one`).default([]),
  }).prefault({}),
  boot: z.object({
    /** "network" boots from the first NIC */
    order: z.array(z.enum(BOOT_DEVICES)).min(1).default(['disk', 'cdrom']),
    menu: z.boolean().default(false),
  }).prefault({}),
  /**
   * an express install's first boot (engine/unattended/): the installer's kernel and initrd
   * (answers inside; files in the VM folder) and its command line, booted directly with
   * -no-reboot; the engine sets it back to null once that boot started
   */
  unattended: z.object({ kernel: z.string().min(1), initrd: z.string().min(1), append: z.string().max(4096) }).nullable().default(null),
  /** no entry = no network; required so a vm.json that lost it is broken, not silently offline */
  networks: Nics,
  display: z.object({
    device: DisplayDevice.default('std'),
    /** the screen size the guest starts with (QEMU xres/yres); null leaves it to the device (virtio-gpu: 1280×800) */
    resolution: Resolution.nullable().default(null),
  }).superRefine((d, ctx) => {
    const a = resolutionAvailability(d.device);
    if (d.resolution && !a.ok) ctx.addIssue({ code: 'custom', path: ['resolution'], message: `no initial resolution with this device: ${a.reason}` });
  }).prefault({}),
  input: z.object({
    tablet: z.boolean().default(true),
  }).prefault({}),
  sound: z.object({
    device: SoundDevice.default('none'),
    /** the host side; what this QEMU build offers is probed (`-audiodev help`) */
    backend: z.enum(AUDIO_BACKENDS).default('auto'),
  }).prefault({}),
  devices: z.object({
    usb: UsbController.default('xhci'),
    rng: z.boolean().default(true),
    balloon: z.boolean().default(true),
    /** clipboard sharing via QEMU's qemu-vdagent chardev (guest needs spice-vdagent) */
    clipboard: z.boolean().default(false),
  }).prefault({}),
  /** USB devices on the controller: passed-through host devices and emulated ones */
  usb: UsbDevices.default([]),
  serial: z.object({ enabled: z.boolean().default(true) }).prefault({}),
  /** resource limits (electron/engine/resources/), changeable while the VM runs; null = none */
  limits: z.object({
    /** percent of ONE host CPU the whole VM may use, as top counts it (100 = one CPU, 250 = two and a half); a cgroup CPU quota */
    cpuPercent: z.number().int().min(1).max(100 * 1024).nullable().default(null),
    /** all of the VM's disks together, bytes per second (a QEMU throttle group) */
    diskBytesPerSec: z.number().int().min(4096).max(2 ** 50).nullable().default(null),
    /** all of the VM's disks together, I/O operations per second */
    diskIops: z.number().int().min(1).max(10_000_000).nullable().default(null),
    /** each network card, each direction, bytes per second: bridged cards through tc on their tap, private ones in Vireo's switch (NAT and host-only cannot) */
    netBytesPerSec: z.number().int().min(1000).max(2 ** 40).nullable().default(null),
  }).prefault({}),
  shares: Shares.default([]),
  /** a floppy image (absolute path, or relative to the VM folder); run only by the wasm/v86 backend for now */
  floppy: z.string().min(1).nullable().default(null),
  /** a cloud image's NoCloud seed (schemas/cloud-init.ts), attached as a CD on every start; null = none */
  cloudInit: CloudInitConfig.nullable().default(null),
  advanced: z.object({
    /** appended last to QEMU's argv, one element per argument (never a shell string) */
    extraArgs: z.array(z.string()).default([]),
  }).prefault({}),
}).superRefine((c, ctx) => {
  // The machine, buses and devices must exist for the guest architecture (virt has no IDE, VGA or BIOS).
  for (const i of archIssues(c)) ctx.addIssue({ code: 'custom', path: i.path, message: i.message });
  // The wasm/v86 backend emulates one 32-bit PC: its limits (shared/v86-rules.ts).
  for (const i of v86Issues(c)) ctx.addIssue({ code: 'custom', path: i.path, message: i.message });
});

export type VmConfig = z.infer<typeof VmConfigSchema>;

/**
 * A settings change from a client: a partial tree merged onto the current config, then the
 * whole result is parsed again, so a patch can never produce an invalid vm.json.
 */
export const VmConfigPatch = z.record(z.string(), z.unknown());
