import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Engine } from '../../electron/engine/index.ts';
import type { Job } from '../../electron/api/types.ts';
import { disposeEngine, tempEngine } from './helpers.ts';

// Issue 23, progress everywhere a job runs: a real qemu-img convert of a disk full of data
// reports rising percent and bytes (of the image's size) with time left, and cancelling it
// leaves neither the output nor its hidden temp file; a full clone reports the bytes of its
// disks too.

const MiB = 1024 ** 2;
let SIZE = 384 * MiB;
let engine: Engine;
let dir: string;
let src: string;

function makeSource(bytes: number) {
  // Random data: nothing for qemu-img to skip, so the copy takes a while and reports as it goes.
  const dd = spawnSync('dd', ['if=/dev/urandom', `of=${src}`, 'bs=4M', `count=${bytes / (4 * MiB)}`, 'status=none'], { stdio: 'ignore' });
  expect(dd.status).toBe(0);
}

beforeAll(async () => {
  engine = await tempEngine();
  dir = mkdtempSync(join(tmpdir(), 'vireo-h4-jobs-'));
  src = join(dir, 'data.raw');
  makeSource(SIZE);
  // Jobs send at most one progress event per 100 ms: on a fast, idle disk (a fresh CI machine
  // copied 384 MiB in 0.2 s) the copy must be made big enough to last about two seconds.
  const t0 = Date.now();
  expect(spawnSync('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', src, join(dir, 'probe.qcow2')]).status).toBe(0);
  const took = Date.now() - t0;
  rmSync(join(dir, 'probe.qcow2'), { force: true });
  if (took < 2000) {
    SIZE = Math.min(2048 * MiB, Math.ceil((SIZE * (2000 / Math.max(took, 50))) / (64 * MiB)) * 64 * MiB);
    makeSource(SIZE);
  }
}, 240_000);

afterAll(async () => {
  await disposeEngine(engine);
  rmSync(dir, { recursive: true, force: true });
});

function updatesOf(kind: Job['kind']): Job[] {
  const seen: Job[] = [];
  engine.bus.on('job.update', (j) => j.kind === kind && seen.push({ ...j }));
  return seen;
}

describe('job progress', () => {
  it('a conversion reports rising percent and bytes of the image size, ends done with all bytes', async () => {
    const seen = updatesOf('convert');
    const t0 = Date.now();
    await engine.client.call('disks.convert', { path: src, output: join(dir, 'out.qcow2') });
    const took = Date.now() - t0;
    const running = seen.filter((j) => j.state === 'running' && (j.progress ?? 0) > 0);
    expect(running.length, 'no progress was reported while it ran').toBeGreaterThan(1);
    for (const j of running) expect(j.bytesTotal).toBe(SIZE);
    for (let i = 1; i < running.length; i++) {
      expect(running[i]!.progress!).toBeGreaterThanOrEqual(running[i - 1]!.progress!);
      expect(running[i]!.bytesDone!).toBeGreaterThanOrEqual(running[i - 1]!.bytesDone!);
    }
    expect(running.at(-1)!.bytesDone!).toBeGreaterThan(running[0]!.bytesDone!);
    for (const j of running) expect(j.bytesDone).toBe(Math.round(j.progress! * SIZE));
    // Time left needs a second of progress to go on; a copy that took longer said it.
    if (took > 3000) expect(running.some((j) => typeof j.etaSec === 'number' && j.etaSec >= 0)).toBe(true);
    const last = seen.at(-1)!;
    expect(last).toEqual(expect.objectContaining({ state: 'done', progress: 1, bytesDone: SIZE, bytesTotal: SIZE, etaSec: null }));
  }, 120_000);

  it('cancel mid-copy: the job says cancelled, and neither the output nor its temp file is left', async () => {
    const out = join(dir, 'cancelled.qcow2');
    let cancelled: Promise<unknown> | null = null;
    const off = engine.bus.on('job.update', (j) => {
      if (j.kind === 'convert' && j.state === 'running' && (j.progress ?? 0) > 0 && !cancelled) cancelled = engine.client.call('jobs.cancel', { id: j.id });
    });
    const r = await engine.client.call('disks.convert', { path: src, output: out }).then(() => null, (e: unknown) => e);
    off();
    expect(cancelled, 'the conversion ended before it reported progress').not.toBeNull();
    expect(r).toEqual(expect.objectContaining({ code: 'CANCELLED' }));
    const job = (await engine.client.call('jobs.list', {})).find((j) => j.kind === 'convert' && j.title.includes(src) && j.state === 'cancelled');
    expect(job).toBeDefined();
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes('cancelled'))).toEqual([]);
  }, 120_000);

  it('a full clone reports bytes of the disks it copies, ending with all of them', async () => {
    const disk = join(dir, 'vmdisk.qcow2');
    expect(spawnSync('qemu-img', ['convert', '-q', '-f', 'raw', '-O', 'qcow2', src, disk]).status).toBe(0);
    const vm = await engine.client.call('vms.create', { name: 'h4-clone-src', importDisk: disk, memory: '64M' });
    const seen = updatesOf('clone');
    await engine.client.call('vms.clone', { vm: vm.id, name: 'h4-clone-copy', linked: false });
    const total = seen.find((j) => typeof j.bytesTotal === 'number')?.bytesTotal;
    expect(total, 'the clone job never said how many bytes it copies').toBeGreaterThan(SIZE * 0.9);
    expect(seen.at(-1)).toEqual(expect.objectContaining({ state: 'done', bytesDone: total, bytesTotal: total }));
  }, 180_000);
});
