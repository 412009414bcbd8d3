import { open, rename, mkdir, unlink } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { mapNoSpace } from './space.ts';

/** Room a small file takes on disk at least: one file-system block. */
const BLOCK = 4096;

/**
 * Replace `file` with `data` so that a crash leaves either the old or the new content, never
 * a torn file: write a temp file beside it, fsync it, rename over, fsync the folder. On a full
 * disk the old content stays, the temp file goes, and the error is NO_SPACE for the folder.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  const dir = dirname(file);
  const size = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
  await mapNoSpace(dir, `save ${basename(file)}`, Math.ceil(Math.max(size, 1) / BLOCK) * BLOCK, () => writeAndRename(file, dir, data, mode));
}

async function writeAndRename(file: string, dir: string, data: string | Uint8Array, mode: number): Promise<void> {
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, 'w', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    throw e;
  }
  // close() can be where a delayed write reports ENOSPC (network file systems).
  try {
    await fh.close();
    await rename(tmp, file);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw e;
  }
  // The rename is durable only once the folder entry is on disk.
  const dh = await open(dir, 'r').catch(() => null);
  if (dh) {
    await dh.sync().catch(() => {});
    await dh.close();
  }
}

export const writeJsonAtomic = (file: string, value: unknown, mode?: number) =>
  writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n', mode);
