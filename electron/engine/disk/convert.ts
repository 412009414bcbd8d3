import { rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { VireoError } from '../../api/errors.ts';
import { run, tail } from '../util/proc.ts';
import { mapNoSpace } from '../util/space.ts';
import { detectFormat, exists, mustBeFile } from './format.ts';
import { explain } from './qemu-img-output.ts';

// qemu-img convert with progress and cancel, into a hidden temp file renamed at the end.

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
  /**
   * told the temp file's path before anything is written to it, and awaited: a caller that
   * may be killed mid-way records it (the jobs file), so the next engine can remove it
   */
  onTempFile?: (path: string) => void | Promise<void>;
}

/** The hidden name a conversion to `dst` writes first; the sweep of a later engine knows it by this shape. */
export function partialName(dst: string): string {
  return join(dirname(dst), `.${basename(dst)}.${randomBytes(4).toString('hex')}.partial`);
}

/**
 * Convert (vmdk/vdi/vhdx/vpc/raw/qcow2 → qcow2 or raw). `dst` never exists half written; a
 * failed or cancelled run removes the temp file. The progress -p prints is read as it comes.
 */
export async function convertImage(binary: string, src: string, dst: string, opts: ConvertOptions): Promise<void> {
  await mustBeFile(src);
  if (opts.signal?.aborted) throw new VireoError('CANCELLED', `conversion of ${src} was cancelled`, { src, dst });
  if (await exists(dst)) throw new VireoError('ALREADY_EXISTS', `${dst} already exists: choose another output file (Vireo never overwrites a disk)`, { path: dst });
  const fromFormat = opts.fromFormat ?? (await detectFormat(src));
  if (!fromFormat) {
    throw new VireoError('INVALID_ARGUMENT', `${src} is empty, not a disk image: check the path`, { path: src });
  }
  const tmp = partialName(dst);
  const args = ['convert', '-p', '-f', fromFormat, '-O', opts.toFormat];
  if (opts.forceShare) args.push('-U');
  if (opts.snapshot) args.push('-l', `snapshot.name=${opts.snapshot}`);
  args.push(src, tmp);
  // What the copy takes at most: the source's allocated bytes (a sparse source copies sparse).
  const srcStat = await stat(src);
  const needed = srcStat.blocks ? srcStat.blocks * 512 : srcStat.size;
  try {
    await opts.onTempFile?.(tmp);
    await mapNoSpace(dirname(dst), `convert ${basename(src)} into ${basename(dst)}`, needed, () => runConvert(binary, args, src, dst, fromFormat, opts));
    if (await exists(dst)) throw new VireoError('ALREADY_EXISTS', `${dst} appeared while converting: choose another output file`, { path: dst });
    await rename(tmp, dst);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

async function runConvert(binary: string, args: string[], src: string, dst: string, fromFormat: string, opts: ConvertOptions): Promise<void> {
  let pending = '';
  let lastFraction = -1;
  // -p redraws one line with \r: "    (12.34/100%)"; a chunk may end mid-number.
  const onStdout = (d: string) => {
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
  };
  try {
    // The progress lines are read as they come and not kept: a long copy prints many.
    await run(binary, args, { onStdout, signal: opts.signal, maxOutputBytes: 4096 });
  } catch (e) {
    if (e instanceof VireoError && e.code === 'CANCELLED') throw new VireoError('CANCELLED', `conversion of ${src} was cancelled`, { src, dst });
    if (e instanceof VireoError && e.code === 'TOOL_FAILED') {
      const d = (e.details ?? {}) as { stderr?: string };
      throw explain(new VireoError('TOOL_FAILED', `${binary} convert failed: ${tail(d.stderr ?? '', 3) || e.message}`, e.details), src, fromFormat);
    }
    throw e;
  }
}
