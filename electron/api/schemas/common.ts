import { z } from 'zod';
import { ACCELERATORS } from '../../shared/config-enums.ts';

/** VM name: what a person types. Also a folder-name-safe label, so no path separators. */
export const VmName = z
  .string()
  .trim()
  .min(1, 'name is empty: give the VM a name of 1 to 64 characters')
  .max(64, 'name is longer than 64 characters: shorten it')
  .refine((s) => !/[/\\]/.test(s), 'name contains a path separator (/ or \\): remove it')
  .refine((s) => s !== '.' && s !== '..', 'name cannot be "." or ".."')
  // eslint-disable-next-line no-control-regex
  .refine((s) => !/[\u0000-\u001f\u007f]/.test(s), 'name contains control characters: remove them');

export const VmId = z.string().uuid('not a VM id (a UUID)');

/** A VM reference from a person or a script: its id or its name. */
export const VmRef = z.string().min(1, 'VM is empty: give a VM name or id');

export const Accel = z.enum(ACCELERATORS);
export type Accel = z.infer<typeof Accel>;

/** Sizes accepted from people: "2G", "512M", "1.5GiB", "20480" (MiB when unitless). */
export const SIZE_RE = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b?|b)?\s*$/i;

export function parseSize(input: string | number, defaultUnit: 'M' | 'G' = 'M'): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input <= 0) throw new Error(`size ${input} must be a positive number`);
    return Math.round(input * (defaultUnit === 'G' ? 1024 ** 3 : 1024 ** 2));
  }
  const m = SIZE_RE.exec(input);
  if (!m) throw new Error(`size "${input}" is not understood: use a number with a unit, like 512M or 20G`);
  const n = Number(m[1]);
  const unit = (m[2] ?? defaultUnit).toUpperCase()[0]!;
  const mult = { B: 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 }[unit];
  if (mult === undefined) throw new Error(`size "${input}" has an unknown unit`);
  const bytes = Math.round(n * mult);
  if (bytes <= 0) throw new Error(`size "${input}" must be larger than zero`);
  return bytes;
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[i]}`;
}
