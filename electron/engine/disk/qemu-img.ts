import { spawn } from 'node:child_process';
import { open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { VireoError } from '../../api/errors.ts';
import { run, tail, type RunResult } from '../util/proc.ts';

// qemu-img, typed: every call is an argv array, JSON output is parsed into types, and a
// failure carries argv, exit code and stderr with a sentence saying what to do. The format is
// passed with -f wherever we know it: letting qemu-img probe a raw image is how a guest that
// writes a qcow2 header into its own disk gets the host to open a file of its choosing.

export type DiskFormat = 'qcow2' | 'qcow' | 'vmdk' | 'vdi' | 'vhdx' | 'vpc' | 'qed' | 'raw';

export interface SnapshotInfo {
  id: string;
  name: string;
  /** bytes of saved RAM/device state; 0 for a disk-only (offline) snapshot */
  vmStateSize: number;
  dateSec: number;
  dateNsec: number;
  /** guest clock at the snapshot, ns */
  vmClockNs: number;
}

export interface ImageInfo {
  filename: string;
  format: string;
  virtualSize: number;
  actualSize?: number;
  clusterSize?: number;
  backingFile?: string;
  /** the backing file resolved against the image's folder */
  fullBackingFile?: string;
  backingFormat?: string;
  snapshots: SnapshotInfo[];
  dirty?: boolean;
  encrypted?: boolean;
  /** qcow2's own "corrupt" bit: QEMU found inconsistent metadata and refuses to write */
  corrupt?: boolean;
}

export interface CheckReport {
  ok: boolean;
  corruptions: number;
  leaks: number;
  /** errors that stopped the check itself (exit code 1) */
  checkErrors: number;
  /** false when the format has no consistency checks (raw, vpc, ...): nothing could be wrong */
  supported: boolean;
  raw: unknown;
}

export interface CreateOptions {
  format: 'qcow2' | 'raw';
  /** required unless backingFile is given (then the backing file's size is inherited) */
  sizeBytes?: number;
  backingFile?: string;
  /** detected from the backing file's magic bytes when omitted */
  backingFormat?: string;
}

export interface ConvertOptions {
  /** detected from magic bytes when omitted, never from the extension */
  fromFormat?: string;
  toFormat: 'qcow2' | 'raw';
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
  /** copy the image as it was in this internal snapshot */
  snapshot?: string;
  /**
   * read an image a running QEMU holds open (-U): only safe with `snapshot`, whose clusters
   * never change while the VM runs
   */
  forceShare?: boolean;
}

/** 64 TiB: beyond anything a desktop VM needs, and a unit mistake (bytes vs KiB) shows up. */
export const MAX_DISK_BYTES = 64 * 1024 ** 4;
const CHECK_HINT = 'check the path or run `vireo disk check`';
const SNAPSHOT_NAME_MAX = 200;

const num = (x: unknown): number | undefined => (typeof x === 'number' && Number.isFinite(x) ? x : undefined);
const str = (x: unknown): string | undefined => (typeof x === 'string' ? x : undefined);

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
    // Claim the name atomically: qemu-img create would silently truncate an existing disk.
    await claim(file);
    try {
      await this.exec(args, file, opts.format, { timeoutMs: 120_000 });
    } catch (e) {
      await rm(file, { force: true });
      throw e;
    }
  }

  /** Grow (or, with shrink, shrink) the virtual disk. Shrinking loses the data past the end. */
  async resize(file: string, newSizeBytes: number, opts: { shrink?: boolean } = {}): Promise<void> {
    checkSize(newSizeBytes);
    const cur = await this.info(file, { forceShare: false });
    if (newSizeBytes === cur.virtualSize) return;
    if (newSizeBytes < cur.virtualSize && !opts.shrink) {
      throw new VireoError(
        'INVALID_ARGUMENT',
        `${file} is ${cur.virtualSize} bytes; shrinking it to ${newSizeBytes} would lose the data past the new end: pass --shrink if you really mean it (shrink the guest's partitions first)`,
        { path: file, virtualSize: cur.virtualSize, newSizeBytes },
      );
    }
    const args = ['resize', '-q', '-f', cur.format, ...(opts.shrink ? ['--shrink'] : []), file, String(newSizeBytes)];
    await this.exec(args, file, cur.format, { timeoutMs: 120_000 });
  }

  /**
   * Convert (vmdk/vdi/vhdx/vpc/raw/qcow2 → qcow2 or raw) with progress and cancel. Written to a
   * hidden temp file beside `dst` and renamed at the end, so `dst` never exists half written;
   * a failed or cancelled run removes the temp file. Spawned rather than run(): the progress
   * that -p prints has to be read while qemu-img works.
   */
  async convert(src: string, dst: string, opts: ConvertOptions): Promise<void> {
    await mustBeFile(src);
    if (opts.signal?.aborted) throw new VireoError('CANCELLED', `conversion of ${src} was cancelled`, { src, dst });
    if (await exists(dst)) throw new VireoError('ALREADY_EXISTS', `${dst} already exists: choose another output file (Vireo never overwrites a disk)`, { path: dst });
    const fromFormat = opts.fromFormat ?? (await detectFormat(src));
    if (!fromFormat) {
      throw new VireoError('INVALID_ARGUMENT', `${src} is empty, not a disk image: check the path`, { path: src });
    }
    const tmp = join(dirname(dst), `.${basename(dst)}.${randomBytes(4).toString('hex')}.partial`);
    const args = ['convert', '-p', '-f', fromFormat, '-O', opts.toFormat];
    if (opts.forceShare) args.push('-U');
    if (opts.snapshot) args.push('-l', `snapshot.name=${opts.snapshot}`);
    args.push(src, tmp);
    const argv = [this.binary, ...args];
    try {
      await new Promise<void>((resolve, reject) => {
        const child = spawn(this.binary, args, { shell: false, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
        let stderr = '';
        let aborted = false;
        let lastFraction = -1;
        const onAbort = () => {
          aborted = true;
          child.kill('SIGKILL');
        };
        opts.signal?.addEventListener('abort', onAbort, { once: true });
        child.stdout.setEncoding('utf8');
        let pending = '';
        child.stdout.on('data', (d: string) => {
          // -p redraws one line with \r: "    (12.34/100%)"; a chunk may end mid-number.
          pending += d;
          const parts = pending.split(/[\r\n]/);
          pending = parts.pop() ?? '';
          for (const part of parts) {
            const m = /\((\d+(?:\.\d+)?)\/100%\)/.exec(part);
            if (!m) continue;
            const f = Math.min(1, Number(m[1]) / 100);
            if (f !== lastFraction) {
              lastFraction = f;
              opts.onProgress?.(f);
            }
          }
        });
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
        child.on('error', (e: NodeJS.ErrnoException) => {
          opts.signal?.removeEventListener('abort', onAbort);
          reject(new VireoError('TOOL_FAILED', `could not run ${this.binary}: ${e.message}`, { argv, errno: e.code }));
        });
        child.on('close', (code, signal) => {
          opts.signal?.removeEventListener('abort', onAbort);
          if (aborted) return reject(new VireoError('CANCELLED', `conversion of ${src} was cancelled`, { src, dst }));
          if (code !== 0) {
            const failure = new VireoError('TOOL_FAILED', `${this.binary} convert failed: ${tail(stderr, 3)}`, {
              argv,
              exitCode: code ?? -1,
              signal,
              stderr: tail(stderr),
            });
            return reject(explain(failure, src, fromFormat));
          }
          resolve();
        });
      });
      if (await exists(dst)) throw new VireoError('ALREADY_EXISTS', `${dst} appeared while converting: choose another output file`, { path: dst });
      await rename(tmp, dst);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
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
    const r = await this.exec(args, file, format, { okCodes: [0, 1, 2, 3, 63], timeoutMs: 30 * 60_000 });
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
    const corruptions = num(j.corruptions) ?? 0;
    const leaks = num(j.leaks) ?? 0;
    const checkErrors = num(j['check-errors']) ?? 0;
    return { ok: r.code === 0 && corruptions === 0 && leaks === 0 && checkErrors === 0, corruptions, leaks, checkErrors, supported: true, raw: j };
  }

  /** Internal snapshots; -U as in info(): listing only reads the snapshot table. */
  async snapshotList(file: string, opts: { forceShare?: boolean } = {}): Promise<SnapshotInfo[]> {
    return (await this.info(file, { format: 'qcow2', forceShare: opts.forceShare ?? true })).snapshots;
  }

  /** Offline internal snapshot; the VM must be stopped (QEMU's lock refuses otherwise: IN_USE). */
  async snapshotCreate(file: string, name: string): Promise<void> {
    checkSnapshotName(name);
    const snaps = await this.snapshotList(file, { forceShare: false });
    // qemu-img would happily add a second snapshot with the same name; apply/delete by name
    // would then pick one of them.
    if (snaps.some((s) => s.name === name)) {
      throw new VireoError('ALREADY_EXISTS', `${file} already has a snapshot named "${name}": choose another name`, { path: file, name });
    }
    await this.exec(['snapshot', '--image-opts', '-c', name, qcow2Opts(file)], file, 'qcow2', { timeoutMs: 10 * 60_000 });
  }

  async snapshotApply(file: string, name: string): Promise<void> {
    await this.requireSnapshot(file, name);
    await this.exec(['snapshot', '--image-opts', '-a', name, qcow2Opts(file)], file, 'qcow2', { timeoutMs: 10 * 60_000 });
  }

  async snapshotDelete(file: string, name: string): Promise<void> {
    await this.requireSnapshot(file, name);
    await this.exec(['snapshot', '--image-opts', '-d', name, qcow2Opts(file)], file, 'qcow2', { timeoutMs: 10 * 60_000 });
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
    await this.exec(args, file, 'qcow2', { timeoutMs: 60 * 60_000 });
  }

  /** Merge `file`'s changes into its backing file (the overlay stays, now empty). */
  async commit(file: string): Promise<void> {
    await mustBeFile(file);
    await this.exec(['commit', '-q', '-f', 'qcow2', file], file, 'qcow2', { timeoutMs: 60 * 60_000 });
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

  private async exec(args: string[], file: string, format: string | undefined, opts: { okCodes?: number[]; timeoutMs?: number }): Promise<RunResult> {
    try {
      return await run(this.binary, args, { okCodes: opts.okCodes, timeoutMs: opts.timeoutMs });
    } catch (e) {
      throw e instanceof VireoError ? explain(e, file, format) : e;
    }
  }
}

/** Rewrite a raw qemu-img failure into what the user needs to know about `file`. */
function explain(err: VireoError, file: string, format: string | undefined): VireoError {
  if (err.code !== 'TOOL_FAILED') return err;
  const d = (err.details ?? {}) as { stderr?: string; argv?: string[]; exitCode?: number };
  const stderr = d.stderr ?? '';
  const reason = (tail(stderr, 1) || err.message).replace(/^qemu-img: /, '').trim();
  if ((err.details as { errno?: string } | undefined)?.errno === 'ENOENT') {
    return new VireoError('TOOL_FAILED', `${d.argv?.[0] ?? 'qemu-img'} was not found: install qemu-utils (qemu-img) or set the QEMU path in Settings`, d);
  }
  if (/Failed to get (shared )?"(write|consistent read)" lock/.test(stderr)) {
    return new VireoError('IN_USE', `${file} is in use by a running VM (QEMU holds its lock): stop that VM first`, { ...d, path: file });
  }
  if (/No such file or directory/.test(stderr) && /backing/i.test(stderr)) {
    return new VireoError('NOT_FOUND', `the backing file of ${file} is missing: ${reason}; restore it or rebase the disk`, { ...d, path: file });
  }
  if (/Could not open|Image is not in|not in .* format|Unsupported|[Cc]orrupt|Invalid|bad magic|too large/.test(stderr)) {
    const kind = format ?? 'disk';
    return new VireoError('TOOL_FAILED', `${file} is not a valid ${kind} image: ${reason}; ${CHECK_HINT}`, { ...d, path: file });
  }
  return new VireoError('TOOL_FAILED', `${err.message}; ${CHECK_HINT}`, { ...d, path: file });
}

/**
 * `qemu-img snapshot` has no -f; --image-opts pins the qcow2 driver instead of letting it
 * probe. Commas inside an option value are escaped by doubling them.
 */
function qcow2Opts(file: string): string {
  return `driver=qcow2,file.driver=file,file.filename=${file.replaceAll(',', ',,')}`;
}

function parseJson(stdout: string, args: string[], binary: string): Record<string, unknown> {
  try {
    const j = JSON.parse(stdout) as unknown;
    if (j && typeof j === 'object' && !Array.isArray(j)) return j as Record<string, unknown>;
  } catch {
    /* reported below */
  }
  throw new VireoError('TOOL_FAILED', `${binary} printed no JSON report; update qemu-utils`, { argv: [binary, ...args], stdout: tail(stdout, 5) });
}

function parseInfo(j: Record<string, unknown>): ImageInfo {
  const snaps = Array.isArray(j.snapshots) ? (j.snapshots as Array<Record<string, unknown>>) : [];
  const specific = (j['format-specific'] as { data?: Record<string, unknown> } | undefined)?.data;
  return {
    filename: str(j.filename) ?? '',
    format: str(j.format) ?? 'raw',
    virtualSize: num(j['virtual-size']) ?? 0,
    actualSize: num(j['actual-size']),
    clusterSize: num(j['cluster-size']),
    backingFile: str(j['backing-filename']),
    fullBackingFile: str(j['full-backing-filename']),
    backingFormat: str(j['backing-filename-format']),
    snapshots: snaps.map((s) => ({
      id: String(s.id ?? ''),
      name: String(s.name ?? ''),
      vmStateSize: num(s['vm-state-size']) ?? 0,
      dateSec: num(s['date-sec']) ?? 0,
      dateNsec: num(s['date-nsec']) ?? 0,
      vmClockNs: (num(s['vm-clock-sec']) ?? 0) * 1e9 + (num(s['vm-clock-nsec']) ?? 0),
    })),
    dirty: typeof j['dirty-flag'] === 'boolean' ? j['dirty-flag'] : undefined,
    encrypted: typeof j.encrypted === 'boolean' ? j.encrypted : undefined,
    corrupt: typeof specific?.corrupt === 'boolean' ? specific.corrupt : undefined,
  };
}

function checkSize(bytes: number | undefined): void {
  if (bytes === undefined || !Number.isSafeInteger(bytes) || bytes <= 0) {
    throw new VireoError('INVALID_ARGUMENT', `disk size must be a whole number of bytes larger than zero (got ${bytes}): give a size like 20G`, { field: 'size', value: bytes });
  }
  if (bytes > MAX_DISK_BYTES) {
    throw new VireoError('INVALID_ARGUMENT', `disk size ${bytes} bytes is too large (at most 64 TiB): check the unit`, { field: 'size', value: bytes });
  }
  if (bytes % 512 !== 0) {
    throw new VireoError('INVALID_ARGUMENT', `disk size ${bytes} bytes is not a multiple of 512 (the sector size): round it`, { field: 'size', value: bytes });
  }
}

function checkSnapshotName(name: string): void {
  // Control characters break `qemu-img snapshot -l` output; an all-digit name is ambiguous
  // because QEMU matches snapshot ids (1, 2, ...) as well as names.
  if (!name || name.length > SNAPSHOT_NAME_MAX || [...name].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f) || /^\d+$/.test(name)) {
    throw new VireoError(
      'INVALID_ARGUMENT',
      `snapshot name "${name}" is not allowed: use 1-${SNAPSHOT_NAME_MAX} printable characters, not only digits`,
      { field: 'name', value: name },
    );
  }
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
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
    throw new VireoError('IO_ERROR', `cannot create ${file}: ${(e as Error).message}; check that the folder exists and is writable`, { path: file, errno: code });
  }
}

async function mustBeFile(p: string): Promise<void> {
  const st = await stat(p).catch(() => null);
  if (!st) throw new VireoError('NOT_FOUND', `${p} does not exist: check the path`, { path: p });
  // Block devices are disks too (a physical disk passed to a VM).
  if (!st.isFile() && !st.isBlockDevice()) throw new VireoError('INVALID_ARGUMENT', `${p} is not a file: give the path of a disk image`, { path: p });
}

async function readAt(file: string, pos: number, len: number): Promise<Buffer> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(len);
    const { bytesRead } = await fh.read(buf, 0, len, pos);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

const VDI_SIGNATURE = Buffer.from([0x7f, 0x10, 0xda, 0xbe]); // 0xbeda107f little-endian, at 0x40
const QCOW_MAGIC = Buffer.from([0x51, 0x46, 0x49, 0xfb]); // "QFI\xfb"
const QED_MAGIC = Buffer.from([0x51, 0x45, 0x44, 0x00]); // "QED\0"

/** Format from the magic bytes, never from the file name: raw is anything else. Null for an empty or missing file. */
export async function detectFormat(file: string): Promise<DiskFormat | null> {
  const st = await stat(file).catch(() => null);
  if (!st?.isFile() || st.size === 0) return null;
  const head = await readAt(file, 0, 512);
  if (head.subarray(0, 4).equals(QCOW_MAGIC)) return head.length >= 8 && head.readUInt32BE(4) === 1 ? 'qcow' : 'qcow2';
  if (head.subarray(0, 4).equals(QED_MAGIC)) return 'qed';
  const text = head.toString('latin1');
  if (text.startsWith('KDMV') || text.startsWith('COWD') || text.startsWith('# Disk DescriptorFile')) return 'vmdk';
  if (head.subarray(0x40, 0x44).equals(VDI_SIGNATURE)) return 'vdi';
  if (text.startsWith('vhdxfile')) return 'vhdx';
  // VHD: dynamic disks start with a copy of the footer; fixed ones have it only at the end.
  if (text.startsWith('conectix')) return 'vpc';
  if (st.size >= 512 && (await readAt(file, st.size - 512, 8)).toString('latin1') === 'conectix') return 'vpc';
  return 'raw';
}

/** ISO 9660: the primary volume descriptor's "CD001" at byte 1 of sector 16 (offset 32769). */
export async function isIso9660(file: string): Promise<boolean> {
  try {
    return (await readAt(file, 32769, 5)).toString('latin1') === 'CD001';
  } catch {
    return false;
  }
}
