import type { DiskBus, NicModel, OsFamily, VmConfig } from '../../api/schemas/vm-config.ts';

// Device defaults for a new VM, by guest OS. The rule behind every choice: a guest must be
// able to install with the drivers on its own install media. Virtio only where the installer
// has virtio drivers (Linux, BSD); Windows gets SATA + Intel NIC + std VGA; old OSes get the
// i440fx-era devices they were written for.

export type DeepPartial<T> = T extends (infer U)[] ? DeepPartial<U>[] : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

export type VmDefaults = DeepPartial<VmConfig>;

export interface DefaultsInput {
  family: OsFamily;
  /** OS table id ("win11", "debian12", "msdos6.22") or "unknown" */
  id: string;
  profile: 'modern' | 'legacy';
  firmware: 'bios' | 'uefi';
  secureBoot: boolean;
  tpm: boolean;
}

/** Windows generations that differ in the drivers their install media carry. */
type WinClass = 'win11' | 'nt6+' | 'nt6.0' | 'nt5' | 'win9x' | 'ancient';

export function windowsClass(id: string): WinClass {
  if (id === 'win11' || id === 'win2k22' || id === 'win2k25') return 'win11';
  if (/^win(8|8\.1|10|2k12|2k12r2|2k16|2k19)$/.test(id)) return 'nt6+';
  if (/^win(7|vista|2k8|2k8r2)$/.test(id)) return 'nt6.0';
  if (/^win(xp|2k|2k3|2k3r2)$/.test(id)) return 'nt5';
  if (/^win(95|98|me)$/.test(id)) return 'win9x';
  if (/^win(1\.0|2\.0|2\.1|3\.1)$|^winnt/.test(id)) return 'ancient';
  return 'nt6+';
}

interface Shape {
  machine: 'q35' | 'pc';
  cpus: number;
  memoryMiB: number;
  bus: DiskBus;
  cdromBus: VmConfig['cdrom']['bus'];
  nic: NicModel;
  display: VmConfig['display']['device'];
  usb: VmConfig['devices']['usb'];
  tablet: boolean;
  sound: VmConfig['sound']['device'];
  rng: boolean;
  balloon: boolean;
  hyperv: boolean;
  rtcLocalTime: boolean;
}

const MODERN_LINUX: Shape = {
  machine: 'q35', cpus: 2, memoryMiB: 2048, bus: 'virtio', cdromBus: 'sata', nic: 'virtio-net-pci',
  display: 'virtio-vga', usb: 'xhci', tablet: true, sound: 'none', rng: true, balloon: true,
  hyperv: false, rtcLocalTime: false,
};

const LEGACY_GENERIC: Shape = {
  machine: 'pc', cpus: 1, memoryMiB: 512, bus: 'ide', cdromBus: 'ide', nic: 'e1000',
  display: 'cirrus', usb: 'uhci', tablet: true, sound: 'none', rng: false, balloon: false,
  hyperv: false, rtcLocalTime: false,
};

// Modern Windows: no virtio drivers at install time, so emulated devices it ships drivers for.
const MODERN_WINDOWS: Shape = {
  machine: 'q35', cpus: 2, memoryMiB: 4096, bus: 'sata', cdromBus: 'sata', nic: 'e1000e',
  display: 'std', usb: 'xhci', tablet: true, sound: 'hda', rng: false, balloon: false,
  hyperv: true, rtcLocalTime: true,
};

function shapeFor(input: DefaultsInput): Shape {
  if (input.family === 'windows') {
    switch (windowsClass(input.id)) {
      case 'win11':
      case 'nt6+':
        return MODERN_WINDOWS;
      case 'nt6.0':
        // Windows 7 has no xHCI or e1000e driver on its media.
        return { ...MODERN_WINDOWS, memoryMiB: 2048, nic: 'e1000', usb: 'ehci' };
      case 'nt5':
        // XP ships an RTL8139 driver and an AC97 one; std VGA gives it higher resolutions.
        return { ...LEGACY_GENERIC, nic: 'rtl8139', display: 'std', sound: 'ac97', rtcLocalTime: true };
      case 'win9x':
        // Win9x ships AMD PCnet and Sound Blaster drivers; its USB HID support is unreliable.
        return { ...LEGACY_GENERIC, memoryMiB: 256, nic: 'pcnet', usb: 'none', tablet: false, sound: 'sb16', rtcLocalTime: true };
      case 'ancient':
        return { ...LEGACY_GENERIC, memoryMiB: 64, nic: 'ne2k_pci', usb: 'none', tablet: false, sound: 'sb16', rtcLocalTime: true };
    }
  }
  if (input.family === 'dos') {
    // DOS drives the PS/2 mouse itself; no USB stack, packet drivers exist for the RTL8139.
    return { ...LEGACY_GENERIC, memoryMiB: 64, nic: 'rtl8139', usb: 'none', tablet: false, sound: 'sb16', rtcLocalTime: true };
  }
  if (input.profile === 'legacy') return LEGACY_GENERIC;
  if (input.family === 'linux' || input.family === 'bsd') return MODERN_LINUX;
  // Unknown, macOS, Solaris: devices every x86 OS of the last 15 years has drivers for.
  return { ...MODERN_LINUX, bus: 'sata', nic: 'e1000', display: 'std', rng: false, balloon: false };
}

/** Partial config to merge under the wizard's choices (which win over these). */
export function defaultsForOs(input: DefaultsInput): VmDefaults {
  const s = shapeFor(input);
  // Secure Boot firmware needs SMM, which Vireo only enables on q35.
  const machine = input.secureBoot ? 'q35' : s.machine;
  return {
    profile: input.profile,
    system: {
      machine,
      cpus: s.cpus,
      memoryMiB: s.memoryMiB,
      firmware: input.firmware,
      secureBoot: input.firmware === 'uefi' && input.secureBoot,
      tpm: input.tpm,
      hyperv: s.hyperv,
      rtcLocalTime: s.rtcLocalTime,
    },
    disks: [{ id: 'disk0', file: 'disk0.qcow2', format: 'qcow2', bus: s.bus }],
    cdrom: { bus: s.cdromBus },
    // Merged by id onto the NIC the library gave the new VM (mergePatch), so its MAC stays.
    networks: [{ id: 'net0', model: s.nic }],
    display: { device: s.display },
    input: { tablet: s.tablet && s.usb !== 'none' },
    sound: { device: s.sound },
    devices: { usb: s.usb, rng: s.rng, balloon: s.balloon },
  };
}

/** Defaults for a profile alone, when the OS is unknown. */
export function defaultConfigFor(profile: 'modern' | 'legacy', family: OsFamily = 'other'): VmDefaults {
  return defaultsForOs({ family, id: 'unknown', profile, firmware: 'bios', secureBoot: false, tpm: false });
}
