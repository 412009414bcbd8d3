import { spawn } from 'node:child_process';
import { open, rm, stat } from 'node:fs/promises';
import { VireoError } from '../../api/errors.ts';
import { run, tail } from '../util/proc.ts';

// qemu-img, typed: every call is an argv array, JSON output is parsed into types, and a
// failure carries argv, exit code and stderr with a sentence saying what to do.

export interface SnapshotInfo {
  id: string;
  name: string;
  vmStateSize: number;
  dateSec: number;
}

export interface ImageInfo {
  filename: string;
  format: string;
  virtualSize: number;
  actualSize?: number;
  backingFile?: string;
  backingFormat?: string;
  snapshots: SnapshotInfo[];
  dirty?: boolean;
  encrypted?: boolean;
}

export interface CheckReport {
  ok: boolean;
  corruptions: number;
  leaks: number;
  raw: unknown;
}

const HINT = 'check the path, or run `vireo disk check FILE`';

export class QemuImg {
  constructor(readonly binary = 'qemu-img') {}

  private run(args: string[], opts: { okCodes?: number[]; timeoutMs?: number; hint?: string } = {}) {
    return run(this.binary, args, { hint: opts.hint ?? HINT, okCodes: opts.okCodes, timeoutMs: opts.timeoutMs ?? 120_000 });
  }

  /**
   * `-U` (force share) lets us read an image a running QEMU holds open; the answer may be a
   * moment stale, which is fine for display and snapshot listing, never for writes.
   */
  async info(file: string, opts: { forceShare?: boolean } = { forceShare: true }): Promise<ImageInfo> {
    await mustExist(file);
    const r = await this.run(['info', '--output=json', ...(opts.forceShare ? ['-U'] : []), file], {
      hint: `${file} may not be a valid disk image: check the path or run \`vireo disk check\``,
    });
    const j = JSON.parse(r.stdout) as Record<string, unknown>;
    const snaps = (j.snapshots as Array<Record<string, unknown>> | undefined) ?? [];
    return {
      filename: String(j.filename),
      format: String(j.format),
      virtualSize: Number(j['virtual-size']),
      actualSize: j['actual-size'] === undefined ? undefined : Number(j['actual-size']),
      backingFile: j['backing-filename'] as string | undefined,
      backingFormat: j['backing-filename-format'] as string | undefined,
      snapshots: snaps.map((s) => ({ id: String(s.id), name: String(s.name), vmStateSize: Number(s['vm-state-size'] ?? 0), dateSec: Number(s['date-sec'] ?? 0) })),
      dirty: (j['dirty-flag'] as boolean | undefined) ?? undefined,
      encrypted: (j.encrypted as boolean | undefined) ?? undefined,
    };
  }

  async create(file: string, opts: { format: 'qcow2' | 'raw'; sizeBytes?: number; backingFile?: string; backingFormat?: string }): Promise<void> {
    if (await exists(file)) throw new VireoError('ALREADY_EXISTS', `${file} already exists: choose another file name (Vireo never overwrites a disk)`, { path: file });
    if (!opts.backingFile) checkSize(opts.sizeBytes);
    const args = ['create', '-q', '-f', opts.format];
    if (opts.backingFile) args.push('-b', opts.backingFile, '-F', opts.backingFormat ?? 'qcow2');
    if (opts.format === 'qcow2') args.push('-o', 'lazy_refcounts=on');
    args.push(file);
    if (opts.sizeBytes !== undefined) args.push(String(opts.sizeBytes));
    try {
      await this.run(args);
    } catch (e) {
      await rm(file, { force: true });
      throw e;
    }
  }

  async resize(file: string, newSizeBytes: number, opts: { shrink?: boolean } = {}): Promise<void> {
    checkSize(newSizeBytes);
    const cur = await this.info(file, { forceShare: false });
    if (newSizeBytes < cur.virtualSize && !opts.shrink) {
      throw new VireoError('INVALID_ARGUMENT', `${file} is ${cur.virtualSize} bytes; shrinking it to ${newSizeBytes} would lose data past the end: pass --shrink if you really mean it`, { path: file });
    }
    await this.run(['resize', '-q', ...(opts.shrink ? ['--shrink'] : []), '-f', cur.format, file, String(newSizeBytes)]);
  }

  /** Convert (vmdk/vdi/vhdx/raw/qcow2 → qcow2) with progress and cancel; a partial output is removed. */
  async convert(
    src: string,
    dst: string,
    opts: { fromFormat?: string; toFormat: 'qcow2' | 'raw'; onProgress?: (fraction: number) => void; signal?: AbortSignal; snapshot?: string },
  ): Promise<void> {
    await mustExist(src);
    if (await exists(dst)) throw new VireoError('ALREADY_EXISTS', `${dst} already exists: choose another output file`, { path: dst });
    const fromFormat = opts.fromFormat ?? (await detectFormat(src));
    if (!fromFormat) throw new VireoError('INVALID_ARGUMENT', `${src} is not a disk image Vireo can read (qcow2, raw, vmdk, vdi, vhdx, vhd): check the file`, { path: src });
    const args = ['convert', '-p', '-f', fromFormat, '-O', opts.toFormat];
    if (opts.snapshot) args.push('-l', `snapshot.name=${opts.snapshot}`);
    args.push(src, dst);
    await new Promise<void>((resolve, reject) => {
      const child = spawn(this.binary, args, { shell: false, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      let aborted = false;
      const onAbort = () => {
        aborted = true;
        child.kill('SIGKILL');
      };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (d: string) => {
        const all = [...d.matchAll(/\((\d+(?:\.\d+)?)\/100%\)/g)];
        const last = all.at(-1);
        if (last) opts.onProgress?.(Number(last[1]) / 100);
      });
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', (e) => reject(new VireoError('TOOL_FAILED', `could not run ${this.binary}: ${e.message}`, { argv: [this.binary, ...args] })));
      child.on('close', async (code) => {
        opts.signal?.removeEventListener('abort', onAbort);
        if (aborted || code !== 0) await rm(dst, { force: true });
        if (aborted) return reject(new VireoError('CANCELLED', `conversion of ${src} was cancelled`));
        if (code !== 0) {
          return reject(new VireoError('TOOL_FAILED', `qemu-img could not convert ${src}: ${tail(stderr, 3)} — ${HINT}`, { argv: [this.binary, ...args], exitCode: code, stderr: tail(stderr) }));
        }
        resolve();
      });
    });
  }

  /** Exit codes per qemu-img(1): 0 clean, 1 check not completed, 2 corruptions, 3 leaks only. */
  async check(file: string): Promise<CheckReport> {
    await mustExist(file);
    const fmt = (await detectFormat(file)) ?? 'raw';
    if (fmt !== 'qcow2') return { ok: true, corruptions: 0, leaks: 0, raw: { note: `${fmt} images have no metadata to check` } };
    const r = await this.run(['check', '--output=json', '-f', 'qcow2', file], { okCodes: [0, 1, 2, 3] }).catch((e: VireoError) => {
      throw new VireoError('TOOL_FAILED', `${file} could not be checked, it is badly damaged or not a qcow2 image: ${e.message}`, e.details);
    });
    if (r.code === 1 && !r.stdout.trim()) {
      throw new VireoError('TOOL_FAILED', `${file} could not be checked: ${tail(r.stderr, 3)}`, { stderr: tail(r.stderr) });
    }
    let j: Record<string, unknown> = {};
    try {
      j = JSON.parse(r.stdout) as Record<string, unknown>;
    } catch {
      throw new VireoError('TOOL_FAILED', `${file}: qemu-img check gave no report (${tail(r.stderr, 3)})`);
    }
    const corruptions = Number(j.corruptions ?? 0);
    const leaks = Number(j.leaks ?? 0);
    return { ok: r.code === 0 && corruptions === 0 && leaks === 0, corruptions, leaks, raw: j };
  }

  async snapshotList(file: string): Promise<SnapshotInfo[]> {
    return (await this.info(file)).snapshots;
  }
  async snapshotCreate(file: string, tag: string) {
    await this.run(['snapshot', '-c', tag, file]);
  }
  async snapshotApply(file: string, tag: string) {
    await this.run(['snapshot', '-a', tag, file]);
  }
  async snapshotDelete(file: string, tag: string) {
    await this.run(['snapshot', '-d', tag, file]);
  }
  async rebase(file: string, backingFile: string, backingFormat = 'qcow2', unsafe = false) {
    await this.run(['rebase', ...(unsafe ? ['-u'] : []), '-F', backingFormat, '-b', backingFile, file]);
  }
}

function checkSize(bytes: number | undefined) {
  if (bytes === undefined || !Number.isFinite(bytes) || bytes <= 0) {
    throw new VireoError('INVALID_ARGUMENT', `disk size must be larger than zero (got ${bytes}): give a size like 20G`, { field: 'size' });
  }
  if (bytes > 64 * 1024 ** 4) throw new VireoError('INVALID_ARGUMENT', `disk size ${bytes} bytes is too large (at most 64 TiB)`, { field: 'size' });
  if (bytes % 512 !== 0) throw new VireoError('INVALID_ARGUMENT', `disk size ${bytes} bytes is not a multiple of 512`, { field: 'size' });
}

async function exists(p: string) {
  return stat(p).then(() => true, () => false);
}

async function mustExist(p: string) {
  const st = await stat(p).catch(() => null);
  if (!st) throw new VireoError('NOT_FOUND', `${p} does not exist: check the path`, { path: p });
  if (!st.isFile()) throw new VireoError('INVALID_ARGUMENT', `${p} is not a file`, { path: p });
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

/** The image format from magic bytes, never from the file name. Raw is anything else. */
export async function detectFormat(file: string): Promise<'qcow2' | 'vmdk' | 'vdi' | 'vhdx' | 'vpc' | 'raw' | null> {
  const st = await stat(file).catch(() => null);
  if (!st?.isFile() || st.size === 0) return null;
  const head = await readAt(file, 0, 512);
  if (head.subarray(0, 4).equals(Buffer.from([0x51, 0x46, 0x49, 0xfb]))) return 'qcow2';
  if (head.subarray(0, 4).toString('latin1') === 'KDMV' || head.toString('latin1').startsWith('# Disk DescriptorFile')) return 'vmdk';
  if (head.subarray(64, 68).equals(Buffer.from([0x7f, 0x10, 0xda, 0xbe]))) return 'vdi';
  if (head.subarray(0, 8).toString('latin1') === 'vhdxfile') return 'vhdx';
  if (head.subarray(0, 8).toString('latin1') === 'conectix') return 'vpc';
  if (st.size >= 512) {
    const footer = await readAt(file, st.size - 512, 8);
    if (footer.toString('latin1') === 'conectix') return 'vpc';
  }
  return 'raw';
}

/** ISO 9660: "CD001" at byte 1 of sector 16 (32769). */
export async function isIso9660(file: string): Promise<boolean> {
  try {
    return (await readAt(file, 32769, 5)).toString('latin1') === 'CD001';
  } catch {
    return false;
  }
}
