import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFile, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { discoverQemu } from '../../electron/engine/qemu/discover.ts';
import { clearAccelMemoryCache, resolveAccel, selfTestAccelerators, type AccelReport } from '../../electron/engine/qemu/accel.ts';

// The real self-test on this machine, where /dev/kvm opens but KVM runs ~1000x slower than TCG
// (nested virtualization without hardware help). The engine must notice and choose TCG.

const committedProbe = resolve(import.meta.dirname, '../../resources/probe/probe.img');
let dir: string;
let probeImage: string;
let binary: string;

/** QEMU processes whose argv mentions our private copy of the probe image. */
async function probeProcesses(): Promise<number[]> {
  const found: number[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'latin1').catch(() => '');
    if (cmd.includes(probeImage)) found.push(Number(pid));
  }
  return found;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vireo-accel-'));
  // A private copy makes the image path unique, so leftover probe processes can be spotted.
  probeImage = join(dir, 'probe.img');
  await copyFile(committedProbe, probeImage);
  binary = (await discoverQemu()).binary;
});

afterAll(async () => {
  for (const pid of await probeProcesses()) process.kill(pid, 'SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

describe('accelerator self-test on this host', () => {
  let first: AccelReport;
  const cacheFile = () => join(dir, 'accel-cache.json');

  it('finds KVM present but failing, chooses TCG with a reason, within 10 s', async () => {
    const progress: string[] = [];
    const t0 = performance.now();
    first = await selfTestAccelerators({ binary, probeImage, cacheFile: cacheFile(), force: true, onProgress: (p) => progress.push(p.message) });
    const took = performance.now() - t0;
    expect(took).toBeLessThan(10_000);

    expect(first.cached).toBe(false);
    expect(first.chosen).toBe('tcg');
    const tcg = first.candidates.find((c) => c.accel === 'tcg')!;
    expect(tcg).toMatchObject({ present: true, ok: true });
    expect(tcg.workMs).toBeGreaterThan(0);
    expect(tcg.bootMs).toBeGreaterThan(0);
    const kvm = first.candidates.find((c) => c.accel === 'kvm')!;
    expect(kvm).toMatchObject({ present: true, ok: false });
    expect(kvm.verdict).toMatch(/^(failed|too slow):/);
    expect(first.reason).toMatch(/^KVM is present \(\/dev\/kvm\) but failed its self-test: .* under KVM.*; using TCG$/);
    expect(progress.some((m) => /under KVM/.test(m))).toBe(true);
    // The KVM probe was killed at its deadline and nothing was left behind.
    expect(await probeProcesses()).toEqual([]);
  });

  it('answers from the cache the second time, fast', async () => {
    const t0 = performance.now();
    const again = await selfTestAccelerators({ binary, probeImage, cacheFile: cacheFile() });
    expect(performance.now() - t0).toBeLessThan(1_000);
    expect(again).toEqual({ ...first, cached: true });
    const disk = JSON.parse(await readFile(cacheFile(), 'utf8'));
    expect(disk.entries[binary].key.bootId).toBe((await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim());
  });

  it('does not cache a verdict reached without testing every present accelerator', async () => {
    const file = join(dir, 'short-budget.json');
    clearAccelMemoryCache(); // the full verdict above would otherwise answer from memory
    // 1 s is TCG's minimum: nothing is left for KVM, so it is reported untested...
    const rushed = await selfTestAccelerators({ binary, probeImage, cacheFile: file, deadlineMs: 1_000, force: true });
    expect(rushed.chosen).toBe('tcg');
    expect(rushed.candidates.find((c) => c.accel === 'kvm')!.ok).toBe(false);
    // ...and the next call tests again instead of trusting it.
    const next = await selfTestAccelerators({ binary, probeImage, cacheFile: file, deadlineMs: 1_000 });
    expect(next.cached).toBe(false);
    expect(await probeProcesses()).toEqual([]);
  });

  it('lets a VM insist on KVM only with a warning', () => {
    expect(resolveAccel('auto', first).accel).toBe('tcg');
    const kvm = resolveAccel('kvm', first);
    expect(kvm.accel).toBe('kvm');
    expect(kvm.warning).toMatch(/failed its self-test/);
  });
});
