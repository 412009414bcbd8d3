import type { ARCHES } from '../shared/config-enums.ts';

// What differs per guest architecture, in one table: the QEMU binary, how its `-cpu help`
// names models, which firmware descriptors fit, the package that provides it, the accelerator
// probe guest. The value rules (machine types, buses, displays) are in shared/arch-rules.ts.

export type GuestArch = (typeof ARCHES)[number];

export interface ArchInfo {
  /** qemu-system-<name> */
  qemuSystem: string;
  /** the prefix of model lines in `-cpu help` ("x86 qemu64 ..."); aarch64 lists bare indented names */
  cpuHelpPrefix: string;
  /** `targets[].architecture` in QEMU firmware descriptors */
  firmwareArch: string;
  /** Debian/Ubuntu package with the system emulator */
  debianPackage: string;
  /** Node's process.arch for a host of this architecture (hardware accelerators run only these guests) */
  nodeArch: NodeJS.Architecture;
  /** the accelerator self-test guest, relative to the resources folder */
  probeImage: string;
}

export const ARCH_INFO: Record<GuestArch, ArchInfo> = {
  x86_64: { qemuSystem: 'qemu-system-x86_64', cpuHelpPrefix: 'x86', firmwareArch: 'x86_64', debianPackage: 'qemu-system-x86', nodeArch: 'x64', probeImage: 'probe/probe.img' },
  aarch64: { qemuSystem: 'qemu-system-aarch64', cpuHelpPrefix: '', firmwareArch: 'aarch64', debianPackage: 'qemu-system-arm', nodeArch: 'arm64', probeImage: 'probe-aarch64/probe.elf' },
};

export const DEFAULT_ARCH: GuestArch = 'x86_64';

/** The guest architecture a host of this Node arch runs natively, if any. */
export function nativeGuestArch(hostArch: string = process.arch): GuestArch | undefined {
  return (Object.keys(ARCH_INFO) as GuestArch[]).find((a) => ARCH_INFO[a].nodeArch === hostArch);
}
