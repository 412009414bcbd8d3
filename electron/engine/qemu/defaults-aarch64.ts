import type { OsFamily } from '../../api/schemas/vm-config.ts';
import type { VmDefaults } from './defaults.ts';

// Device defaults for a new aarch64 VM, merged over defaults.ts's per-OS choices (which are
// PC devices). The virt machine has PCI and UEFI only; every aarch64 OS that runs on it (Linux,
// the BSDs, Windows on ARM with its virtio drivers) has drivers for virtio, so the choice per OS
// is small. ramfb shows a console from firmware to login with no guest driver at all.

export function aarch64Defaults(family: OsFamily): VmDefaults {
  return {
    // "legacy" means PC-era devices, which an aarch64 guest never has.
    profile: 'modern',
    system: { machine: 'virt', firmware: 'uefi', hyperv: false, rtcLocalTime: family === 'windows' },
    disks: [{ id: 'disk0', bus: 'virtio' }],
    cdrom: { bus: 'scsi' },
    networks: [{ id: 'net0', model: 'virtio-net-pci' }],
    display: { device: 'ramfb' },
    input: { tablet: true },
    // intel-hda is a PCI card and works on virt; the ISA cards do not exist there.
    sound: { device: family === 'windows' ? 'hda' : 'none' },
    devices: { usb: 'xhci', rng: true, balloon: true },
  };
}
