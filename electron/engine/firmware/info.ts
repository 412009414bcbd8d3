// What Vireo knows about one UEFI firmware build (from a QEMU firmware descriptor or found by
// file name): OVMF for x86_64 (ovmf.ts) and AAVMF for aarch64 (aavmf.ts).

export type FlashFormat = 'raw' | 'qcow2';

export interface FirmwareInfo {
  /** descriptor file, or null when found by the file-name fallback */
  descriptor: string | null;
  description: string;
  code: string;
  codeFormat: FlashFormat;
  varsTemplate: string;
  varsFormat: FlashFormat;
  /** machine-type globs from the descriptor, e.g. "pc-q35-*" */
  machines: string[];
  features: string[];
  secureBoot: boolean;
  enrolledKeys: boolean;
  requiresSmm: boolean;
}
