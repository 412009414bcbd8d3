// Sizes and times as people read and type them. The renderer may not import values from
// electron/api, so the size grammar is restated here (same as the engine's: "2G", "512M",
// "1.5GiB", unitless numbers in the field's default unit).

const SIZE_RE = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b?|b)?\s*$/i;
const MULT: Record<string, number> = { B: 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** Bytes from a typed size, or an error message saying how to fix it. */
export function parseSize(input: string, defaultUnit: 'M' | 'G'): { bytes: number } | { error: string } {
  if (!input.trim()) return { error: 'enter a size, like 4G or 2048M' };
  const m = SIZE_RE.exec(input);
  if (!m) return { error: `"${input}" is not a size: use a number with a unit, like 512M or 20G` };
  const unit = (m[2] ?? defaultUnit).toUpperCase()[0]!;
  const bytes = Math.round(Number(m[1]) * MULT[unit]!);
  if (bytes <= 0) return { error: 'the size must be larger than zero' };
  return { bytes };
}

export const MiB = 1024 ** 2;
export const GiB = 1024 ** 3;

export function formatBytes(bytes: number | null | undefined): string {
  if (bytes == null || !Number.isFinite(bytes)) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  const shown = Number.isInteger(v) ? String(v) : v.toFixed(v < 10 ? 1 : 0);
  return `${shown} ${units[i]}`;
}

export const formatMiB = (mib: number) => formatBytes(mib * MiB);

/** "3 min ago" style, falling back to the date for anything older than a week. */
export function formatWhen(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '—';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const s = Math.round((now - t) / 1000);
  if (s < 0) return new Date(t).toLocaleString();
  if (s < 45) return 'just now';
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  if (s < 7 * 86400) return `${Math.round(s / 86400)} d ago`;
  return new Date(t).toLocaleDateString();
}

export function basename(p: string): string {
  const parts = p.split(/[\\/]/).filter(Boolean);
  return parts[parts.length - 1] ?? p;
}
