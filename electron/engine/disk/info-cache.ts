import { stat } from 'node:fs/promises';
import type { ImageInfo } from './qemu-img-output.ts';

// `qemu-img info` answers, kept while the image file is unchanged. A VM's details ask for
// every disk's sizes, and a qemu-img process per disk was most of what `vireo show` waited for
// (about 12 of its 60 ms here). An answer is reused only while the file's identity and stat
// (device, inode, size, mtime and ctime, to the nanosecond) are those it was read at: a running
// guest's writes, a resize, a snapshot saved into the image or a file put in its place all
// change one of them, and the next call asks qemu-img again.

interface Entry {
  key: string;
  info: ImageInfo;
}

const MAX = 2048;
const cache = new Map<string, Entry>();

async function statKey(path: string): Promise<string | null> {
  try {
    const s = await stat(path, { bigint: true });
    return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
  } catch {
    return null;
  }
}

/** read(path) (QemuImg.info), from the cache while the file has not changed (QemuImg.infoCached). */
export async function cachedImageInfo(path: string, read: (path: string) => Promise<ImageInfo>): Promise<ImageInfo> {
  const key = await statKey(path);
  const hit = cache.get(path);
  if (key && hit && hit.key === key) return hit.info;
  const info = await read(path);
  // Keyed by the stat from before the call: a write during it makes the next call ask again.
  if (key) {
    cache.delete(path);
    cache.set(path, { key, info });
    if (cache.size > MAX) cache.delete(cache.keys().next().value!);
  }
  return info;
}
