import { statfs } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { VireoError } from '../../api/errors.ts';
import { formatBytes } from '../../api/schemas/common.ts';

// A full disk, said once and the same way everywhere: whether an error is "out of space"
// (an ENOSPC errno, or a tool's or QEMU's text for it), how much room a folder has, and the
// NO_SPACE error that names the folder and the space the operation needed.

const NO_SPACE_ERRNOS = new Set(['ENOSPC', 'EDQUOT']);
const NO_SPACE_TEXT = /No space left on device|Disk quota exceeded/i;

/** True for an out-of-space failure, whatever shape it arrived in. */
export function isNoSpace(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as { code?: unknown; errno?: unknown; message?: unknown; details?: unknown };
  if (e.code === 'NO_SPACE') return true;
  if (typeof e.code === 'string' && NO_SPACE_ERRNOS.has(e.code)) return true;
  const d = e.details as { errno?: unknown; stderr?: unknown; desc?: unknown } | undefined;
  if (d && typeof d === 'object') {
    if (typeof d.errno === 'string' && NO_SPACE_ERRNOS.has(d.errno)) return true;
    if (typeof d.stderr === 'string' && NO_SPACE_TEXT.test(d.stderr)) return true;
    if (typeof d.desc === 'string' && NO_SPACE_TEXT.test(d.desc)) return true;
  }
  return typeof e.message === 'string' && NO_SPACE_TEXT.test(e.message);
}

/** Bytes an unprivileged writer may still use on the file system holding `path` (or its nearest existing parent). */
export async function freeBytes(path: string): Promise<number | null> {
  let p = path;
  for (let i = 0; i < 64; i++) {
    try {
      const s = await statfs(p);
      return Number(s.bavail) * Number(s.bsize);
    } catch (e) {
      const parent = dirname(p);
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || parent === p) return null;
      p = parent;
    }
  }
  return null;
}

/**
 * The typed error for "`what` did not fit in `folder`". `neededBytes` is what the operation
 * needs (an estimate where only the tool knows exactly: then "about").
 */
export async function noSpaceError(at: string, what: string, neededBytes?: number | null, cause?: unknown): Promise<VireoError> {
  // A VM being created or deleted lives in a hidden staging folder: name the folder the user knows.
  const folder = /^\.(creating|deleting)-/.test(basename(at)) ? dirname(at) : at;
  const free = await freeBytes(folder);
  const need = neededBytes && neededBytes > 0 ? `about ${formatBytes(neededBytes)} needed` : 'more space needed';
  const have = free === null ? '' : `, ${formatBytes(free)} free`;
  const why = cause instanceof Error ? cause.message : cause === undefined ? undefined : String(cause);
  return new VireoError(
    'NO_SPACE',
    `not enough free space in ${folder} to ${what} (${need}${have}): free some space on that disk, or move the library to a larger one, then try again`,
    { folder, neededBytes: neededBytes ?? null, freeBytes: free, ...(why ? { cause: why } : {}) },
  );
}

/** Run `fn`; an out-of-space failure comes out as NO_SPACE for `folder`, anything else unchanged. */
export async function mapNoSpace<T>(folder: string, what: string, neededBytes: number | null | undefined, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof VireoError && e.code === 'NO_SPACE') throw e;
    if (isNoSpace(e)) throw await noSpaceError(folder, what, neededBytes, e);
    throw e;
  }
}
