// Which config values go with which guest architecture, as plain data plus one pure check, so
// the config schema (electron/api/schemas/vm-config.ts), the engine and the renderer's choices
// agree. x86_64 guests run on q35/pc with PC devices; aarch64 guests run on QEMU's `virt`
// machine, which has no IDE, no VGA, no ISA bus and no BIOS: PCI devices, UEFI only.
// electron/shared imports nothing, so the value types are spelled out here; a unit test
// (test/unit/shared/arch-rules-aarch64.test.ts) checks them against config-enums.ts.

type Arch = 'x86_64' | 'aarch64';
type Machine = 'q35' | 'pc' | 'virt';
type Display = 'virtio-vga' | 'virtio-gpu-pci' | 'std' | 'cirrus' | 'qxl' | 'ramfb' | 'none';
type DiskBus = 'virtio' | 'ide' | 'sata' | 'scsi';
type CdromBus = 'ide' | 'sata' | 'scsi';
type Sound = 'none' | 'hda' | 'ac97' | 'sb16';

export interface ArchRules {
  /** machine types for this arch, the default first */
  machines: readonly Machine[];
  /** graphics devices the arch's QEMU has and its firmware can show a console on */
  displays: readonly Display[];
  /** disk buses the machine has controllers for */
  diskBuses: readonly DiskBus[];
  cdromBuses: readonly CdromBus[];
  sound: readonly Sound[];
  /** firmware choices: the virt machine boots only through UEFI */
  firmwares: readonly ('bios' | 'uefi')[];
}

export const ARCH_RULES: Record<Arch, ArchRules> = {
  x86_64: {
    machines: ['q35', 'pc'],
    displays: ['virtio-vga', 'virtio-gpu-pci', 'std', 'cirrus', 'qxl', 'none'],
    diskBuses: ['virtio', 'ide', 'sata', 'scsi'],
    cdromBuses: ['ide', 'sata', 'scsi'],
    sound: ['none', 'hda', 'ac97', 'sb16'],
    firmwares: ['bios', 'uefi'],
  },
  aarch64: {
    machines: ['virt'],
    // ramfb: AAVMF's GOP over it is a linear framebuffer, so Linux's EFI framebuffer shows the
    // console with no driver; virtio-gpu-pci's GOP is blit-only and needs the guest's virtio-gpu.
    displays: ['ramfb', 'virtio-gpu-pci', 'none'],
    // SATA through a PCI AHCI controller (ich9-ahci) works on virt; IDE needs the PC's PIIX.
    diskBuses: ['virtio', 'sata', 'scsi'],
    cdromBuses: ['scsi', 'sata'],
    // sb16 is an ISA card; virt has no ISA bus.
    sound: ['none', 'hda', 'ac97'],
    firmwares: ['uefi'],
  },
};

export const ARCH_LABEL: Record<Arch, string> = { x86_64: 'x86_64 (Intel/AMD)', aarch64: 'aarch64 (ARM64)' };

/** The arch a machine type belongs to (each machine type belongs to exactly one). */
export function archOfMachine(machine: Machine): Arch {
  return machine === 'virt' ? 'aarch64' : 'x86_64';
}

interface ArchCheckInput {
  arch: Arch;
  system: { machine: Machine; firmware: 'bios' | 'uefi' };
  disks: readonly { id: string; bus: DiskBus }[];
  cdrom: { bus: CdromBus; extra?: readonly { bus?: CdromBus }[] };
  display: { device: Display };
  sound: { device: Sound };
}

export interface ArchIssue {
  path: (string | number)[];
  message: string;
}

/** Every value of the config that the guest architecture's machine cannot have, with what to pick instead. */
export function archIssues(c: ArchCheckInput): ArchIssue[] {
  const r = ARCH_RULES[c.arch];
  const out: ArchIssue[] = [];
  const list = (xs: readonly string[]) => xs.map((x) => `"${x}"`).join(', ');
  if (!r.machines.includes(c.system.machine)) {
    out.push({ path: ['system', 'machine'], message: `machine "${c.system.machine}" is for ${archOfMachine(c.system.machine)} guests, not ${c.arch}: choose ${list(r.machines)} (or change the VM's architecture)` });
  }
  if (!r.firmwares.includes(c.system.firmware)) {
    out.push({ path: ['system', 'firmware'], message: `${c.arch} guests boot only through UEFI: set the firmware to "uefi"` });
  }
  c.disks.forEach((d, i) => {
    if (!r.diskBuses.includes(d.bus)) out.push({ path: ['disks', i, 'bus'], message: `disk ${d.id}: ${c.arch} guests have no ${d.bus.toUpperCase()} controller: choose bus ${list(r.diskBuses)}` });
  });
  if (!r.cdromBuses.includes(c.cdrom.bus)) out.push({ path: ['cdrom', 'bus'], message: `the CD-ROM: ${c.arch} guests have no ${c.cdrom.bus.toUpperCase()} controller: choose bus ${list(r.cdromBuses)}` });
  c.cdrom.extra?.forEach((d, i) => {
    if (d.bus && !r.cdromBuses.includes(d.bus)) out.push({ path: ['cdrom', 'extra', i, 'bus'], message: `CD drive ${i + 1}: ${c.arch} guests have no ${d.bus.toUpperCase()} controller: choose bus ${list(r.cdromBuses)}` });
  });
  if (!r.displays.includes(c.display.device)) out.push({ path: ['display', 'device'], message: `display "${c.display.device}" does not exist for ${c.arch} guests: choose ${list(r.displays)}` });
  if (!r.sound.includes(c.sound.device)) out.push({ path: ['sound', 'device'], message: `sound card "${c.sound.device}" does not exist for ${c.arch} guests: choose ${list(r.sound)}` });
  return out;
}
