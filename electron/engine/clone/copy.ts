import { existsSync } from 'node:fs';
import { copyFile, cp, stat } from 'node:fs/promises';
import { basename, extname, isAbsolute, join, relative } from 'node:path';
import { VireoError } from '../../api/errors.ts';
import type { Disk } from '../../api/schemas/vm-config.ts';
import type { JobContext } from '../jobs.ts';
import type { LibraryEntry } from '../library/library.ts';
import type { QemuImg } from '../disk/qemu-img.ts';
import { writeJsonAtomic } from '../util/fs-atomic.ts';
import { loadMeta } from '../snapshots/meta.ts';
import type { SnapshotImage } from '../snapshots/images.ts';

// The copies a full clone makes (clone.ts): standalone qcow2 images of the current state or of
// a snapshot, or byte copies that keep the snapshot tree; the UEFI variable store and TPM state.

export interface CopyContext {
  img: QemuImg;
  diskPath(entry: LibraryEntry, file: string): string;
  images(entry: LibraryEntry): SnapshotImage[];
}

/** Standalone qcow2 copies (without snapshots) of the current state, or of snapshot `tag`. */
export async function copyDisks(x: CopyContext, src: LibraryEntry, staging: string, tag: string | null, active: boolean, job: JobContext): Promise<Disk[]> {
  const c = src.config!;
  const inSnapshot = new Set(x.images(src).map((i) => i.node));
  const sizes = await Promise.all(c.disks.map(async (d) => (await stat(x.diskPath(src, d.file)).catch(() => null))?.size ?? 1));
  const total = sizes.reduce((a, b) => a + b, 0) || 1;
  // Bytes shown beside the percent: the images' sizes on disk, which the weights below follow.
  job.bytes(total);
  let done = 0;
  const out: Disk[] = [];
  for (const [i, d] of c.disks.entries()) {
    const path = x.diskPath(src, d.file);
    if (d.readOnly && isAbsolute(d.file)) {
      // A shared read-only image elsewhere (an installer, a data set) is referenced, not copied.
      out.push({ ...d });
      continue;
    }
    const file = `${d.id}.qcow2`;
    const fromSnap = tag !== null && inSnapshot.has(d.id);
    await x.img.convert(path, join(staging, file), {
      fromFormat: d.format,
      toFormat: 'qcow2',
      snapshot: fromSnap ? tag! : undefined,
      forceShare: active,
      signal: job.signal,
      onProgress: (f) => job.progress(((done + f * sizes[i]!) / total) * 0.95),
    });
    done += sizes[i]!;
    out.push({ ...d, file, format: 'qcow2' });
  }
  return out;
}

/** Byte copies of the (stopped) source's standalone images, internal snapshots included, with the tree's metadata. */
export async function copyWithTree(x: CopyContext, src: LibraryEntry, staging: string, job: JobContext): Promise<Disk[]> {
  const c = src.config!;
  const meta = await loadMeta(src.paths.snapshotsMeta);
  if (meta.pending) throw new VireoError('BUSY', `a snapshot operation on "${c.name}" did not finish: open its snapshots once (which completes or undoes it), then clone again`);
  const out: Disk[] = [];
  const sizes = await Promise.all(c.disks.map(async (d) => (d.readOnly && isAbsolute(d.file) ? 0 : ((await stat(x.diskPath(src, d.file)).catch(() => null))?.size ?? 0))));
  job.bytes(sizes.reduce((a, b) => a + b, 0) || null);
  for (const [i, d] of c.disks.entries()) {
    const path = x.diskPath(src, d.file);
    if (d.readOnly && isAbsolute(d.file)) {
      out.push({ ...d });
      continue;
    }
    if (!d.readOnly && (await x.img.info(path)).backingFile) {
      throw new VireoError('UNSUPPORTED', `disk ${d.id} of "${c.name}" is built on a base image, so a copy with its snapshots would still need that base: make a full clone without the snapshot tree`, { disk: d.id });
    }
    const file = `${d.id}${extname(d.file) || (d.format === 'qcow2' ? '.qcow2' : '.img')}`;
    await copyFile(path, join(staging, file));
    job.progress(((i + 1) / c.disks.length) * 0.9);
    out.push({ ...d, file });
  }
  await writeJsonAtomic(join(staging, basename(src.paths.snapshotsMeta)), meta);
  for (const sub of [src.paths.thumbnails, join(src.paths.dir, 'snapshots')]) {
    if (existsSync(sub)) await cp(sub, join(staging, relative(src.paths.dir, sub)), { recursive: true });
  }
  return out;
}


/** `keepSnapshots`: the variable store copied as it is, with its internal snapshots (a copy with the tree). */
export async function copyNvramAndTpm(x: CopyContext, src: LibraryEntry, staging: string, tag: string | null, active: boolean, keepSnapshots = false) {
  const nq = join(src.paths.dir, 'nvram.qcow2');
  const nf = join(src.paths.dir, 'nvram.fd');
  if (existsSync(nq)) {
    if (keepSnapshots) await copyFile(nq, join(staging, 'nvram.qcow2'));
    else await x.img.convert(nq, join(staging, 'nvram.qcow2'), { fromFormat: 'qcow2', toFormat: 'qcow2', snapshot: tag ?? undefined, forceShare: active });
  } else if (existsSync(nf)) {
    await copyFile(nf, join(staging, 'nvram.fd'));
  }
  const tpmSrc = tag ? join(src.paths.dir, 'snapshots', tag, 'tpm') : src.paths.tpmState;
  if (existsSync(tpmSrc)) await cp(tpmSrc, join(staging, relative(src.paths.dir, src.paths.tpmState)), { recursive: true });
}
