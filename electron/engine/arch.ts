import type { ARCHES } from '../shared/config-enums.ts';

// What differs per guest architecture, in one table: the QEMU binary, how its `-cpu help`
// names models, which firmware descriptors fit, the package that provides it. Adding aarch64
// is an entry here (plus its machine types and firmware), not a hunt through the engine.

export type GuestArch = (typeof ARCHES)[number];

export interface ArchInfo {
  /** qemu-system-<name> */
  qemuSystem: string;
  /** the prefix of model lines in `-cpu help` ("x86 qemu64 ...") */
  cpuHelpPrefix: string;
  /** `targets[].architecture` in QEMU firmware descriptors */
  firmwareArch: string;
  /** Debian/Ubuntu package with the system emulator */
  debianPackage: string;
}

export const ARCH_INFO: Record<GuestArch, ArchInfo> = {
  x86_64: { qemuSystem: 'qemu-system-x86_64', cpuHelpPrefix: 'x86', firmwareArch: 'x86_64', debianPackage: 'qemu-system-x86' },
};

export const DEFAULT_ARCH: GuestArch = 'x86_64';
