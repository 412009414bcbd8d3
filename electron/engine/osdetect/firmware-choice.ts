import type { BootPlatforms } from './eltorito.ts';

// Firmware from what the disc can start: a BIOS-only installer under UEFI lands in the UEFI
// shell, an EFI-only one under BIOS finds nothing to boot. UEFI when the disc offers both
// (the modern default), unless the OS itself needs one of them. The reason is said in plain
// words so the wizard and `vireo detect-os` can show it.

export type Firmware = 'bios' | 'uefi';

export interface FirmwareNeeds {
  name: string;
  /** the OS table's default (from osinfo's firmware list and the OS's age) */
  firmware: Firmware;
  /** the OS cannot run without UEFI (Windows 11) */
  needsUefi: boolean;
  /** the OS predates UEFI (DOS, Windows 9x, old systems) */
  needsBios: boolean;
}

export interface FirmwareChoice {
  firmware: Firmware;
  reason: string;
}

/**
 * boot: the El Torito catalog's bootable platforms, or undefined when the disc has no boot
 * record. os: undefined when the OS is not known.
 */
export function chooseFirmwareFor(boot: BootPlatforms | undefined, os: FirmwareNeeds | undefined): FirmwareChoice {
  const both = boot?.bios && boot.efi;
  const onlyBios = boot?.bios && !boot.efi;
  const onlyEfi = boot?.efi && !boot.bios;
  if (os?.needsUefi) {
    return {
      firmware: 'uefi',
      reason: onlyBios ? `${os.name} needs UEFI, so the VM uses UEFI — but this disc can only start with BIOS and may not boot` : `${os.name} needs UEFI, so the VM uses UEFI`,
    };
  }
  if (os?.needsBios && !onlyEfi) {
    return { firmware: 'bios', reason: `${os.name} predates UEFI, so the VM uses BIOS` };
  }
  if (both) return { firmware: 'uefi', reason: 'This disc can start with BIOS and with UEFI, so the VM uses UEFI' };
  if (onlyBios) return { firmware: 'bios', reason: 'This disc can only start with BIOS, so the VM uses BIOS' };
  if (onlyEfi) return { firmware: 'uefi', reason: 'This disc can only start with UEFI, so the VM uses UEFI' };
  if (os) return { firmware: os.firmware, reason: `This disc has no boot record to tell; ${os.firmware === 'uefi' ? 'UEFI' : 'BIOS'} is the usual for ${os.name}` };
  return { firmware: 'bios', reason: 'This disc has no boot record to tell, so the VM uses BIOS' };
}
