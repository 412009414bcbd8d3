import { open, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { VireoError } from '../../api/errors.ts';
import { run, tail, type RunResult } from '../util/proc.ts';
import { mapNoSpace } from '../util/space.ts';
import { detectFormat, mustBeFile } from './format.ts';
import { MAX_DISK_BYTES, checkSize, checkSnapshotName, qcow2Opts } from './qemu-img-args.ts';
import { explain, parseCheck, parseInfo, parseJson, type CheckReport, type ImageInfo, type SnapshotInfo } from './qemu-img-output.ts';
import { convertImage, type ConvertOptions } from './convert.ts';
import { cachedImageInfo } from './info-cache.ts';

// qemu-img, typed: every call is an argv array, JSON output is parsed into types, and a
// failure carries argv, exit code and stderr with a sentence saying what to do. The format is
// passed with -f wherever we know it: letting qemu-img probe a raw image is how a guest that
// writes a qcow2 header into its own disk gets the host to open a file of its choosing.
// The pieces live beside this class: format.ts (magic bytes), qemu-img-args.ts (what may be
// asked), qemu-img-output.ts (reports and failures), convert.ts (the long copy with progress).

export type { DiskFormat } from './format.ts';
export { detectFormat, isIso9660 } from './format.ts';
export { MAX_DISK_BYTES } from './qemu-img-args.ts';
export type { CheckReport, ImageInfo, SnapshotInfo } from './qemu-img-output.ts';
export type { ConvertOptions } from './convert.ts';

export interface CreateOptions {
  format: 'qcow2' | 'raw';
  /** required unless backingFile is given (then the backing file's size is inherited) */
  sizeBytes?: number;
  backingFile?: string;
  /** detected from the backing file's magic bytes when omitted */
  backingFormat?: string;
}

interface ExecOptions {
  okCodes?: number[];
  timeoutMs?: number;
  /** cancels the call (a job's) */
  signal?: AbortSignal;
  /** what the call does, for a NO_SPACE message ("take a snapshot of disk0.qcow2") */
  what?: string;
  /** bytes the call needs in the image's folder, when it can be estimated */
  needed?: number | null;
}

/** qcow2 metadata a new disk or an internal snapshot writes: header, L1/refcount tables, a few clusters. */
const METADATA_BYTES = 4 * 65536;

export class QemuImg {
  constructor(readonly binary = 'qemu-img') {}

  /**
   * Image facts from `qemu-img info --output=json`. `forceShare` (-U, default on) skips the
   * image lock so a disk a running QEMU holds can be shown: info only reads, and what it may
   * see is metadata a moment stale, never a write from us. Off where the answer gates a write
   * (resize), so a running VM's lock makes that fail instead of acting on stale facts.
   */
  async info(file: string, opts: { forceShare?: boolean; format?: string } = {}): Promise<ImageInfo> {
    await mustBeFile(file);
    const forceShare = opts.forceShare ?? true;
    const args = ['info', '--output=json', ...(opts.format ? ['-f', opts.format] : []), ...(forceShare ? ['-U'] : []), file];
    const r = await this.exec(args, file, opts.format, { timeoutMs: 60_000 });
    return parseInfo(parseJson(r.stdout, args, this.binary));
  }

  /** info() with its defaults, reused while the file is unchanged (info-cache.ts): for views that ask often. */
  infoCached(file: string): Promise<ImageInfo> {
    return cachedImageInfo(file, (f) => this.info(f));
  }

  async create(file: string, opts: CreateOptions): Promise<void> {
    if (opts.format !== 'qcow2' && opts.format !== 'raw') {
      throw new VireoError('INVALID_ARGUMENT', `disk format ${String(opts.format)} is not supported for new disks: use qcow2 or raw`, { field: 'format' });
    }
    if (opts.sizeBytes !== undefined || !opts.backingFile) checkSize(opts.sizeBytes);
    if (opts.backingFile && opts.format !== 'qcow2') {
      throw new VireoError('INVALID_ARGUMENT', `only qcow2 disks can have a backing file (asked for ${opts.format})`, { field: 'backingFile' });
    }
    const args = ['create', '-q', '-f', opts.format];
    if (opts.backingFile) {
      // A relative backing path is resolved by QEMU against the new image's folder.
      const backingPath = opts.backingFile.startsWith('/') ? opts.backingFile : join(dirname(file), opts.backingFile);
      await mustBeFile(backingPath);
      const backingFormat = opts.backingFormat ?? (await detectFormat(backingPath)) ?? 'raw';
      args.push('-b', opts.backingFile, '-F', backingFormat);
    }
    args.push(file);
    if (opts.sizeBytes !== undefined) args.push(String(opts.sizeBytes));
    const what = `create ${basename(file)}`;
    // Claim the name atomically: qemu-img create would silently truncate an existing disk.
    await mapNoSpace(dirname(file), what, METADATA_BYTES, () => claim(file));
    try {
      await this.exec(args, file, opts.format, { timeoutMs: 120_000, what, needed: METADATA_BYTES });
    } catch (e) {
      await rm(file, { force: true });
      throw e;
    }
  }

  /**
   * Grow (or, with shrink, shrink) the virtual disk. Shrinking loses the data past the end.
   * Shrinking a huge qcow2 takes minutes (64 TiB to 1 GiB: over ten), so with a `signal` (a
   * job the user can cancel) there is no time limit; without one, 120 s.
   */
  async resize(file: string, newSizeBytes: number, opts: { shrink?: boolean; signal?: AbortSignal } = {}): Promise<void> {
    checkSize(newSizeBytes);
    const cur = await this.info(file, { forceShare: false });
    if (newSizeBytes === cur.virtualSize) return;
    if (cur.virtualSize > MAX_DISK_BYTES) {
      throw new VireoError('INVALID_ARGUMENT', `${file} is ${cur.virtualSize} bytes, larger than the 64 TiB Vireo handles: resize it with qemu-img directly`, { path: file, virtualSize: cur.virtualSize });
    }
    if (newSizeBytes < cur.virtualSize && !opts.shrink) {
      throw new VireoError(
        'INVALID_ARGUMENT',
        `${file} is ${cur.virtualSize} bytes; shrinking it to ${newSizeBytes} would lose the data past the new end: pass --shrink if you really mean it (shrink the guest's partitions first)`,
        { path: file, virtualSize: cur.virtualSize, newSizeBytes },
      );
    }
    const args = ['resize', '-q', '-f', cur.format, ...(opts.shrink ? ['--shrink'] : []), file, String(newSizeBytes)];
    await this.exec(args, file, cur.format, { timeoutMs: opts.signal ? undefined : 120_000, signal: opts.signal, what: `resize ${basename(file)}`, needed: METADATA_BYTES });
  }

  /** See convert.ts: progress, cancel, a hidden temp file renamed at the end. */
  convert(src: string, dst: string, opts: ConvertOptions): Promise<void> {
    return convertImage(this.binary, src, dst, opts);
  }

  /**
   * Consistency check. Exit codes (qemu-img(1)): 0 clean, 1 check not completed (internal
   * errors), 2 corruptions, 3 leaked clusters only, 63 format has no checks. `repair` fixes
   * leaks (safe) or everything ('all', may lose data in corrupt clusters); never on a disk a
   * running VM uses, which the image lock enforces.
   */
  async check(file: string, opts: { format?: string; repair?: 'leaks' | 'all' } = {}): Promise<CheckReport> {
    await mustBeFile(file);
    const format = opts.format ?? (await detectFormat(file)) ?? 'raw';
    const args = ['check', '--output=json', '-f', format, ...(opts.repair ? ['-r', opts.repair] : []), file];
    const r = await this.exec(args, file, format, { okCodes: [0, 1, 2, 3, 63], timeoutMs: 30 * 60_000, what: `repair ${basename(file)}` });
    if (r.code === 63) {
      return { ok: true, corruptions: 0, leaks: 0, checkErrors: 0, supported: false, raw: { format, note: `${format} images have no metadata to check` } };
    }
    let j: Record<string, unknown>;
    try {
      j = JSON.parse(r.stdout) as Record<string, unknown>;
    } catch {
      // Exit 1 without a report: qemu-img could not even open the image.
      throw explain(
        new VireoError('TOOL_FAILED', `${this.binary} check failed: ${tail(r.stderr, 3)}`, { argv: [this.binary, ...args], exitCode: r.code, stderr: tail(r.stderr) }),
        file,
        format,
      );
    }
    return parseCheck(j, r.code);
  }

  /** Internal snapshots; -U as in info(): listing only reads the snapshot table. */
  async snapshotList(file: string, opts: { forceShare?: boolean } = {}): Promise<SnapshotInfo[]> {
    return (await this.info(file, { format: 'qcow2', forceShare: opts.forceShare ?? true })).snapshots;
  }

  /** Offline internal snapshot; the VM must be stopped (QEMU's lock refuses otherwise: IN_USE). */
  async snapshotCreate(file: string, name: string): Promise<void> {
    checkSnapshotName(name);
    const info = await this.info(file, { format: 'qcow2', forceShare: false });
    // qemu-img would happily add a second snapshot with the same name; apply/delete by name
    // would then pick one of them.
    if (info.snapshots.some((s) => s.name === name)) {
      throw new VireoError('ALREADY_EXISTS', `${file} already has a snapshot named "${name}": choose another name`, { path: file, name });
    }
    await this.exec(['snapshot', '--image-opts', '-c', name, qcow2Opts(file)], file, 'qcow2', {
      timeoutMs: 10 * 60_000,
      what: `take a snapshot of ${basename(file)}`,
      needed: snapshotMetadataBytes(info),
    });
  }

  async snapshotApply(file: string, name: string): Promise<void> {
    await this.requireSnapshot(file, name);
    await this.exec(['snapshot', '--image-opts', '-a', name, qcow2Opts(file)], file, 'qcow2', { timeoutMs: 10 * 60_000, what: `restore a snapshot of ${basename(file)}`, needed: METADATA_BYTES });
  }

  async snapshotDelete(file: string, name: string): Promise<void> {
    await this.requireSnapshot(file, name);
    await this.exec(['snapshot', '--image-opts', '-d', name, qcow2Opts(file)], file, 'qcow2', { timeoutMs: 10 * 60_000, what: `delete a snapshot of ${basename(file)}`, needed: METADATA_BYTES });
  }

  /**
   * Point `file` at another backing file. Safe mode (default) copies whatever differs so the
   * guest sees the same data; `unsafe` only rewrites the header (for a moved backing file).
   * `backingFile` null makes the image standalone (safe mode copies the backing data in).
   */
  async rebase(file: string, backingFile: string | null, opts: { backingFormat?: string; unsafe?: boolean } = {}): Promise<void> {
    const args = ['rebase', '-q', '-f', 'qcow2', ...(opts.unsafe ? ['-u'] : [])];
    if (backingFile === null) args.push('-b', '');
    else {
      const backingPath = backingFile.startsWith('/') ? backingFile : join(dirname(file), backingFile);
      const fmt = opts.backingFormat ?? (await detectFormat(backingPath)) ?? 'raw';
      args.push('-b', backingFile, '-F', fmt);
    }
    args.push(file);
    await mustBeFile(file);
    await this.exec(args, file, 'qcow2', { timeoutMs: 60 * 60_000, what: `rebase ${basename(file)}` });
  }

  /** Merge `file`'s changes into its backing file (the overlay stays, now empty). */
  async commit(file: string): Promise<void> {
    await mustBeFile(file);
    await this.exec(['commit', '-q', '-f', 'qcow2', file], file, 'qcow2', { timeoutMs: 60 * 60_000, what: `commit ${basename(file)} into its backing file` });
  }

  private async requireSnapshot(file: string, name: string): Promise<void> {
    checkSnapshotName(name);
    const snaps = await this.snapshotList(file, { forceShare: false });
    if (!snaps.some((s) => s.name === name)) {
      throw new VireoError('NOT_FOUND', `${file} has no snapshot named "${name}": list them with \`vireo snapshot list\``, {
        path: file,
        name,
        snapshots: snaps.map((s) => s.name),
      });
    }
  }

  private async exec(args: string[], file: string, format: string | undefined, opts: ExecOptions): Promise<RunResult> {
    // A full disk shows up as qemu-img's "No space left on device" on stderr: NO_SPACE for
    // the image's folder, with what the call needed, instead of a tool failure.
    return mapNoSpace(dirname(file), opts.what ?? `use ${basename(file)}`, opts.needed, async () => {
      try {
        return await run(this.binary, args, { okCodes: opts.okCodes, timeoutMs: opts.timeoutMs, signal: opts.signal });
      } catch (e) {
        throw e instanceof VireoError ? explain(e, file, format) : e;
      }
    });
  }
}

/** What an internal snapshot adds to a qcow2 file: a copy of its L1 table plus refcount and table updates. */
function snapshotMetadataBytes(info: ImageInfo): number {
  const cluster = info.clusterSize ?? 65536;
  const l1Entries = Math.ceil(info.virtualSize / (cluster * (cluster / 8)));
  const l1Bytes = Math.ceil((l1Entries * 8) / cluster) * cluster;
  return l1Bytes + METADATA_BYTES;
}

async function claim(file: string): Promise<void> {
  try {
    const fh = await open(file, 'wx');
    await fh.close();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      throw new VireoError('ALREADY_EXISTS', `${file} already exists: choose another file name (Vireo never overwrites a disk)`, { path: file });
    }
    if (code === 'ENOSPC' || code === 'EDQUOT') throw e;
    throw new VireoError('IO_ERROR', `cannot create ${file}: ${(e as Error).message}; check that the folder exists and is writable`, { path: file, errno: code });
  }
}
