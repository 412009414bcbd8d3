// Sizes as people type and read them, one grammar for the engine, the CLI and the renderer.
// Dependency-free (no imports at all): the renderer bundles this file as it is.

/** "2G", "512M", "1.5GiB", "20480" (a bare number is in the field's default unit). */
export const SIZE_RE = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b?|b)?\s*$/i;

export const KiB = 1024;
export const MiB = 1024 ** 2;
export const GiB = 1024 ** 3;
export const TiB = 1024 ** 4;

const MULT: Record<string, number> = { B: 1, K: KiB, M: MiB, G: GiB, T: TiB };

export type SizeUnit = 'M' | 'G';
export type SizeReading = { bytes: number } | { error: string };

/**
 * Bytes from a typed size, or a message saying what is wrong and how to fix it. Never throws:
 * forms show the message at the field while the user types.
 */
export function readSize(input: string | number, defaultUnit: SizeUnit = 'M'): SizeReading {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input <= 0) return { error: `size ${input} must be a positive number` };
    return { bytes: Math.round(input * MULT[defaultUnit]!) };
  }
  if (!input.trim()) return { error: 'enter a size, like 4G or 2048M' };
  const m = SIZE_RE.exec(input);
  // Both phrasings are kept: people read "not a size", scripts have matched "not understood".
  if (!m) return { error: `size "${input}" is not understood (not a size): use a number with a unit, like 512M or 20G` };
  const unit = (m[2] ?? defaultUnit).toUpperCase()[0]!;
  const bytes = Math.round(Number(m[1]) * MULT[unit]!);
  if (bytes <= 0) return { error: `size "${input}" must be larger than zero` };
  return { bytes };
}

/** Bytes from a typed size; throws an Error carrying readSize's message when it is not one. */
export function parseSize(input: string | number, defaultUnit: SizeUnit = 'M'): number {
  const r = readSize(input, defaultUnit);
  if ('error' in r) throw new Error(r.error);
  return r.bytes;
}

/** "1.5 GiB", "20 GiB", "15.5 GiB", "512 MiB"; "—" for an unknown size. */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes == null || !Number.isFinite(bytes)) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  // One decimal always (not rounded to whole units above 10): "16 GiB is more than this host
  // has (15.5 GiB)" must not read "(16 GiB)".
  const shown = Number.isInteger(v) ? String(v) : v.toFixed(1).replace(/\.0$/, '');
  return `${shown} ${units[i]}`;
}

export const formatMiB = (mib: number | null | undefined): string => formatBytes(mib == null ? mib : mib * MiB);
