import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { VireoError } from '../../api/errors.ts';
import { run, tail } from '../util/proc.ts';

// The qemu-img calls snapshots and clones need, with the flags they depend on (internal
// snapshot tags, `-l snapshot.name=`, `-U`, backing files). Kept here rather than in the
// general wrapper because each call's safety argument is about snapshots.

export interface ImgSnapshot {
  name: string;
  vmStateSize: number;
  dateSec: number;
}

const HINT = 'check that the VM is stopped and the image is not used by another program, then run `vireo disk check` on it';

/**
 * Internal snapshots of one qcow2 image. `forceShare` (-U) skips QEMU's image lock: only for
 * reading while a QEMU has the image open, where the snapshot table is written once per
 * snapshot operation and never rewritten in place, so a read sees the old or the new table.
 */
export async function listImageSnapshots(bin: string, file: string, opts: { forceShare?: boolean } = {}): Promise<ImgSnapshot[]> {
  const args = ['info', '--output=json', '-f', 'qcow2', ...(opts.forceShare ? ['-U'] : []), file];
  const { stdout } = await run(bin, args, { timeoutMs: 30_000, hint: HINT });
  const info = JSON.parse(stdout) as { snapshots?: Array<{ name: string; 'vm-state-size'?: number; 'date-sec'?: number }> };
  return (info.snapshots ?? []).map((s) => ({ name: s.name, vmStateSize: s['vm-state-size'] ?? 0, dateSec: s['date-sec'] ?? 0 }));
}

export async function imageSnapshot(bin: string, op: 'create' | 'apply' | 'delete', file: string, tag: string): Promise<void> {
  const flag = op === 'create' ? '-c' : op === 'apply' ? '-a' : '-d';
  await run(bin, ['snapshot', flag, tag, file], { timeoutMs: 10 * 60_000, hint: HINT });
}

/**
 * Frees clusters a killed writer allocated but never referenced (QEMU or qemu-img dying
 * mid-snapshot). Leaks are harmless but waste space and make `qemu-img check` complain.
 * Only for an image nobody has open.
 */
export async function repairLeaks(bin: string, file: string): Promise<void> {
  await run(bin, ['check', '-q', '-f', 'qcow2', '-r', 'leaks', file], { okCodes: [0, 3], timeoutMs: 10 * 60_000, hint: HINT });
}

/** A qcow2 overlay on `backing`; `backingRef` is what gets written into the overlay's header. */
export async function createOverlay(bin: string, file: string, backingRef: string): Promise<void> {
  await run(bin, ['create', '-q', '-f', 'qcow2', '-b', backingRef, '-F', 'qcow2', file], { timeoutMs: 60_000, hint: HINT });
}

export interface ConvertOptions {
  srcFormat: string;
  /** copy the image as it was in this internal snapshot */
  snapshot?: string;
  /** read an image a running QEMU holds (only for a snapshot, whose clusters never change) */
  forceShare?: boolean;
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
}

/**
 * A standalone qcow2 copy (backing chain flattened). Spawned rather than run(): the progress
 * printed with -p is read as it comes. Cancel kills qemu-img and removes the partial output.
 */
export function convertToQcow2(bin: string, src: string, dst: string, o: ConvertOptions): Promise<void> {
  const args = ['convert', '-p', '-f', o.srcFormat, '-O', 'qcow2'];
  if (o.forceShare) args.push('-U');
  if (o.snapshot) args.push('-l', `snapshot.name=${o.snapshot}`);
  args.push(src, dst);
  return new Promise((resolve, reject) => {
    if (o.signal?.aborted) return reject(new VireoError('CANCELLED', `copy of ${src} was cancelled`));
    const child = spawn(bin, args, { shell: false, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
    let stderr = '';
    let aborted = false;
    const onAbort = () => {
      aborted = true;
      child.kill('SIGKILL');
    };
    o.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      const all = [...chunk.matchAll(/\((\d+(?:\.\d+)?)\/100%\)/g)];
      const last = all.at(-1);
      if (last) o.onProgress?.(Number(last[1]) / 100);
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (c: string) => (stderr += c));
    child.on('error', (e) => {
      o.signal?.removeEventListener('abort', onAbort);
      reject(new VireoError('TOOL_FAILED', `could not run ${bin}: ${e.message}`, { argv: [bin, ...args] }));
    });
    child.on('close', async (code, signal) => {
      o.signal?.removeEventListener('abort', onAbort);
      if (aborted || code !== 0) await rm(dst, { force: true }).catch(() => {});
      if (aborted) return reject(new VireoError('CANCELLED', `copy of ${src} was cancelled`, { argv: [bin, ...args] }));
      if (code !== 0) {
        return reject(
          new VireoError('TOOL_FAILED', `qemu-img could not copy ${src}${o.snapshot ? ` (snapshot ${o.snapshot})` : ''}: ${tail(stderr, 3) || signal || `exit code ${code}`}`, {
            argv: [bin, ...args],
            exitCode: code,
            stderr: tail(stderr),
          }),
        );
      }
      resolve();
    });
  });
}
