import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Engine } from '../../electron/engine/index.ts';
import type { LimitsInfo } from '../../electron/api/limits-types.ts';
import type { VmDetails } from '../../electron/api/types.ts';
import { createGuestVm, disposeEngine, serialSocketOf, tempEngine, waitForReady, waitForState } from './helpers.ts';
import { directBootArgs, SerialShell } from '../fixtures/guest.ts';

// Issue 18, acceptance 2, 3 and 5 on one real guest (direct-kernel boot, TCG): a CPU cap holds
// and changes live (measured from /proc/<qemu pid>/stat, and the cgroup's own throttling count
// shows the cap is what held it), a disk limit holds for a sequential direct write and changes
// live, the balloon takes memory from the guest and gives it back. The cgroup goes with the VM.

let engine: Engine;
let vm: VmDetails;
let shell: SerialShell;
let limits: LimitsInfo;

const ticks = (pid: number) => {
  const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime, in USER_HZ (100) ticks
};
/** The group's quota per 100 ms period in µs, from cgroup v2's cpu.max or v1's cfs_quota_us; null = unlimited. */
const quotaOf = (cg: string) => {
  const v = existsSync(join(cg, 'cpu.max')) ? readFileSync(join(cg, 'cpu.max'), 'utf8').split(' ')[0]! : readFileSync(join(cg, 'cpu.cfs_quota_us'), 'utf8').trim();
  return v === 'max' || v === '-1' ? null : Number(v);
};

/** Percent of one CPU the process used over `ms` (as top counts it). */
async function cpuPercentOver(pid: number, ms: number): Promise<number> {
  const t0 = ticks(pid);
  const a = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  const used = (ticks(pid) - t0) / 100;
  return (used / ((performance.now() - a) / 1000)) * 100;
}

/** Seconds the guest takes for a sequential direct write of `mib` MiB to its disk. */
async function timedWrite(mib: number): Promise<number> {
  const a = performance.now();
  // oflag=direct: every block goes through to the disk (so through the throttle), no page cache.
  const out = await shell.run(`[ -b /dev/vda ] && dd if=/dev/zero of=/dev/vda bs=1M count=${mib} oflag=direct 2>&1; echo "rc=$?"`, 120_000);
  const s = (performance.now() - a) / 1000;
  expect(out).toMatch(/rc=0/);
  return s;
}

const meminfo = async (key: string) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(await shell.run(`grep ${key} /proc/meminfo`))?.[1]) / 1024;

beforeAll(async () => {
  engine = await tempEngine();
  vm = await createGuestVm(engine, 'limits guest');
  await engine.client.call('vms.update', { vm: vm.id, patch: { system: { firmware: 'bios' }, devices: { balloon: true }, disks: vm.config!.disks.map((d) => ({ ...d, bus: 'virtio' })), advanced: { extraArgs: await directBootArgs() } } });
  // Both limits set before the start: the disks go behind the throttle group, QEMU into its
  // cgroup (at one whole CPU, so the boot is not slowed; the test lowers it live).
  limits = await engine.client.call('limits.set', { vm: vm.id, cpuPercent: 100, diskBytesPerSec: 10_000_000 });
  vm = await engine.client.call('vms.start', { vm: vm.id });
  await waitForReady(vm, 240_000);
  shell = await SerialShell.connect(serialSocketOf(engine, vm));
}, 400_000);

afterAll(async () => {
  shell?.close();
  await disposeEngine(engine);
});

describe('CPU cap (cgroup)', () => {
  it('QEMU runs in its cgroup from the start; a cap of 50% set live holds for a busy guest over 20 s, then 25%', async (ctx) => {
    if (!limits.cpu.available) {
      // Not root on a cgroup v1 host, or no delegated cpu controller: the reason says which.
      expect(limits.cpu.reason).toMatch(/root|delegate|cgroup/);
      ctx.skip();
    }
    const info = await engine.client.call('limits.get', { vm: vm.id });
    const cg = info.cpu.cgroup!;
    expect(cg, 'QEMU is in its cgroup').toMatch(new RegExp(`vm-${vm.id}$`));
    expect(readFileSync(join(cg, 'cgroup.procs'), 'utf8').split('\n')).toContain(String(vm.runtime.pid));
    const burner = /burner=(\d+)/.exec(await shell.run('sh -c "while :; do :; done" >/dev/null 2>&1 & echo burner=$!'))![1];
    const pid = vm.runtime.pid!;
    await engine.client.call('limits.set', { vm: vm.id, cpuPercent: 50 });
    // The kernel holds the group to this quota (on a loaded host the measured share may be
    // lower still, so the quota itself is checked too).
    expect(quotaOf(cg)).toBe(50_000);
    const at50 = await cpuPercentOver(pid, 20_000);
    expect(at50).toBeLessThanOrEqual(55);

    await engine.client.call('limits.set', { vm: vm.id, cpuPercent: 25 });
    await new Promise((r) => setTimeout(r, 1000));
    expect(quotaOf(cg)).toBe(25_000);
    const at25 = await cpuPercentOver(pid, 10_000);
    expect(at25).toBeLessThanOrEqual(28);
    expect(JSON.parse(readFileSync(engine.vms.resolve(vm.id).paths.config, 'utf8')).limits.cpuPercent).toBe(25);

    // Removed live: QEMU stays in its group, unlimited, and the burner stops.
    await engine.client.call('limits.set', { vm: vm.id, cpuPercent: null });
    expect(quotaOf(cg)).toBeNull();
    expect(readFileSync(join(cg, 'cgroup.procs'), 'utf8').split('\n')).toContain(String(pid));
    await shell.run(`kill ${burner}; echo stopped`);
  }, 120_000);
});

describe('disk I/O limit (throttle group)', () => {
  it('10 MB/s holds within 15% for a sequential direct write, and changes live to 20 MB/s', async () => {
    const argv = (await engine.client.call('vms.get', { vm: vm.id })).runtime.argv!;
    expect(argv).toContain('throttle-group,id=vireo-io,x-bps-total=10000000,x-iops-total=0');
    const mib = 40;
    const rate10 = (mib * 1024 ** 2) / (await timedWrite(mib)) / 1e6;
    expect(rate10).toBeGreaterThan(10 * 0.85);
    expect(rate10).toBeLessThan(10 * 1.15);

    const r = await engine.client.call('limits.set', { vm: vm.id, diskBytesPerSec: 20_000_000 });
    expect(r.disk.live).toBe(true);
    expect(r.pending).toEqual([]);
    const rate20 = (mib * 1024 ** 2) / (await timedWrite(mib)) / 1e6;
    expect(rate20).toBeGreaterThan(20 * 0.85);
    expect(rate20).toBeLessThan(20 * 1.15);
  }, 180_000);
});

describe('balloon', () => {
  it("a balloon target lowers the guest's available memory, and back", async () => {
    expect(vm.runtime.argv).toContain('virtio-balloon-pci,id=balloon0,free-page-reporting=on,deflate-on-oom=on');
    const full = await meminfo('MemAvailable');
    const r = await engine.client.call('vms.setMemory', { vm: vm.id, memoryMiB: 128 });
    // The guest inflates the balloon at its own pace: wait for it to get there.
    let low = full;
    for (let i = 0; i < 60 && low > full - 48; i++) {
      await new Promise((res) => setTimeout(res, 500));
      low = await meminfo('MemAvailable');
    }
    expect(r.actualMiB).toBeLessThanOrEqual(192);
    expect(low).toBeLessThan(full - 48); // 64 MiB taken by the balloon (deflate-on-oom: MemTotal stays)
    await engine.client.call('vms.setMemory', { vm: vm.id, memoryMiB: 192 });
    let back = low;
    for (let i = 0; i < 60 && back < full - 16; i++) {
      await new Promise((res) => setTimeout(res, 500));
      back = await meminfo('MemAvailable');
    }
    expect(back).toBeGreaterThan(full - 16);
  }, 90_000);
});

describe('host meter', () => {
  it('counts the running VM: its memory, resident memory and vCPU against the host', async () => {
    const h = await engine.client.call('host.resources', {});
    expect(h).toMatchObject({ running: 1, vmsMemoryMiB: 192, vmsVcpus: 1 });
    expect(h.vmsResidentMiB).toBeGreaterThan(16);
    expect(h.memAvailableMiB).toBeLessThanOrEqual(h.memTotalMiB);
  });
});

describe('cleanup', () => {
  it("the VM's cgroup is removed when it stops", async () => {
    const cg = (await engine.client.call('limits.get', { vm: vm.id })).cpu.cgroup;
    shell.close();
    await engine.client.call('vms.stop', { vm: vm.id, force: true });
    await waitForState(engine, vm.id, 'stopped');
    if (cg) expect(existsSync(cg)).toBe(false);
  }, 60_000);
});
