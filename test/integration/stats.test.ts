import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../electron/engine/index.ts';
import type { HostStats, VmDetails, VmStatsEvent } from '../../electron/api/types.ts';
import { SerialShell, directBootArgs } from '../fixtures/guest.ts';
import { createGuestVm, disposeEngine, qemuPidsFor, serialSocketOf, tempEngine, waitForReady } from './helpers.ts';
import { runVireo } from './cli-helpers.ts';

// The live-stats sampler against one real guest (direct-kernel boot, shared by the file in
// order): nothing is sampled without a watch, a watch streams real figures at 1 Hz, a busy
// loop and a disk write show up in them, `vireo top --once --json` prints them, and ending
// (or not renewing) the watch stops the sampler.

let engine: Engine;
let vm: VmDetails;
let sh: SerialShell;

const status = async () => (await engine.client.call('stats.host', {})).sampler;
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The next `n` stats.sample events of our VM (events, not polling). */
function samples(n: number, timeoutMs = 30_000, ok: (e: VmStatsEvent) => boolean = () => true): Promise<VmStatsEvent[]> {
  const got: VmStatsEvent[] = [];
  let seen: VmStatsEvent | null = null;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`only ${got.length} of ${n} wanted samples in ${timeoutMs} ms; last seen: ${JSON.stringify(seen)}`));
    }, timeoutMs);
    const off = engine.bus.on('stats.sample', (e) => {
      if (e.vmId !== vm.id) return;
      seen = e;
      if (!ok(e)) return;
      got.push(e);
      if (got.length >= n) {
        clearTimeout(timer);
        off();
        resolve(got);
      }
    });
  });
}

beforeAll(async () => {
  engine = await tempEngine();
  const created = await createGuestVm(engine, 'stats', { iso: null, disk: '64M', memory: '256M' });
  // With a memory balloon (the guest's virtio_balloon driver reports its free memory through it).
  await engine.client.call('vms.update', { vm: created.id, patch: { devices: { balloon: true }, advanced: { extraArgs: await directBootArgs() } } });
  vm = await engine.client.call('vms.start', { vm: created.id });
  await waitForReady(vm, 120_000);
  sh = await SerialShell.connect(serialSocketOf(engine, vm));
}, 180_000);

afterAll(async () => {
  sh?.close();
  await disposeEngine(engine);
  expect(qemuPidsFor([vm.id])).toEqual([]);
}, 60_000);

describe('live stats', () => {
  it('samples nothing while nobody watches: no tick, no QMP command, no event, for 3 s with a VM running', async () => {
    const before = await status();
    expect(before.watchers).toBe(0);
    let events = 0;
    const off = engine.bus.on('stats.sample', () => events++);
    // Proving an absence needs a span of time: three would-be ticks.
    await wait(3200);
    off();
    const after = await status();
    expect(after).toEqual({ ...before, sampling: [] });
    expect(events).toBe(0);
    // The host overview itself reads no VM: still nothing sampled.
    const h: HostStats = await engine.client.call('stats.host', {});
    expect(h.vms.find((v) => v.id === vm.id)).toEqual(expect.objectContaining({ state: 'running', latest: null }));
    expect(h.cpus).toBeGreaterThan(0);
    expect(h.memAvailableBytes).toBeGreaterThan(0);
  }, 30_000);

  it('a watch streams samples at 1 Hz: process and vCPU CPU, RSS, disk counters, and the balloon figures or why they are missing', async () => {
    const w = await engine.client.call('stats.watch', { vm: vm.id });
    try {
      const got = await samples(3);
      const s = got.at(-1)!.sample;
      expect(got[2]!.sample.t - got[1]!.sample.t).toBeGreaterThan(500);
      expect(got[2]!.sample.t - got[1]!.sample.t).toBeLessThan(3000);
      expect(s.cpuPercent).toBeGreaterThanOrEqual(0);
      expect(s.vcpus).toHaveLength(1);
      expect(s.vcpus[0]!.threadId).toBeGreaterThan(0);
      expect(s.vcpus[0]!.percent).toBeGreaterThanOrEqual(0);
      expect(s.rssBytes).toBeGreaterThan(32 * 1024 ** 2);
      expect(s.diskReadBytes).toBeGreaterThanOrEqual(0);
      expect(s.diskWriteOpsPerSec).toBeGreaterThanOrEqual(0);
      // This VM has no balloon device: absent, with the reason, not zero.
      expect(s.balloonActualBytes === null || s.balloonActualBytes > 0).toBe(true);
      if (s.balloonActualBytes === null) expect(got.at(-1)!.unavailable.balloon).toMatch(/no memory balloon/);
      expect(s.guestFreeBytes === null || s.guestFreeBytes > 0).toBe(true);
      const st = await status();
      expect(st.watchers).toBe(1);
      expect(st.sampling).toEqual([vm.id]);
      expect(st.qmpCommands).toBeGreaterThan(0);
      const hist = await engine.client.call('stats.history', { vm: vm.id });
      expect(hist.samples.length).toBeGreaterThanOrEqual(3);
      expect(hist.capacity).toBe(600);
      expect(hist.samples.at(-1)!.t).toBeGreaterThanOrEqual(s.t);
    } finally {
      await engine.client.call('stats.unwatch', { watchId: w.watchId });
    }
  }, 60_000);

  it('with a balloon: its actual size and the free memory the guest reports through it', async () => {
    const w = await engine.client.call('stats.watch', { vm: vm.id });
    try {
      const [e] = await samples(1, 60_000, (x) => (x.sample.guestFreeBytes ?? 0) > 0);
      // 256 MiB given, the balloon not inflated: all of it is the guest's.
      expect(e!.sample.balloonActualBytes).toBe(256 * 1024 ** 2);
      expect(e!.sample.guestFreeBytes).toBeLessThan(256 * 1024 ** 2);
      expect(e!.sample.guestTotalBytes).toBeGreaterThan(e!.sample.guestFreeBytes!);
      expect(e!.unavailable.balloon).toBeUndefined();
      expect(e!.unavailable.guestMemory).toBeUndefined();
    } finally {
      await engine.client.call('stats.unwatch', { watchId: w.watchId });
    }
  }, 90_000);

  it('the samples move: a busy loop raises CPU % of the vCPU thread, a disk write grows the write counter', async () => {
    const w = await engine.client.call('stats.watch', { vm: vm.id });
    try {
      const idle = (await samples(4)).slice(1);
      const base = idle.at(-1)!;
      const idleCpu = idle.reduce((t, e) => t + (e.sample.vcpus[0]?.percent ?? 0), 0) / idle.length;
      const pid = /BG (\d+)/.exec(await sh.run('while :; do :; done & echo BG $!'))![1];
      // On an idle host the busy vCPU takes ~100 % of a core; on a host shared with other
      // work it gets only its share, so the bar is relative to the idle guest, not absolute.
      const bar = Math.max(3 * idleCpu, idleCpu + 10);
      const hot = await samples(1, 60_000, (e) => (e.sample.vcpus[0]?.percent ?? 0) > bar);
      expect(hot[0]!.sample.cpuPercent).toBeGreaterThan(bar);
      await sh.run(`kill ${pid}`);
      const wrote0 = base.sample.diskWriteBytes!;
      // The first disk is /dev/sda or /dev/vda by the OS profile's bus (as diskwrite picks it).
      await sh.run('D=/dev/vda; [ -b $D ] || D=/dev/sda; dd if=/dev/urandom of=$D bs=1M count=8 conv=fsync 2>/dev/null; echo done', 60_000);
      const grown = await samples(1, 30_000, (e) => (e.sample.diskWriteBytes ?? 0) >= wrote0 + 8 * 1024 ** 2);
      expect(grown[0]!.sample.diskWriteBytes).toBeGreaterThanOrEqual(wrote0 + 8 * 1024 ** 2);
      const hist = await engine.client.call('stats.history', { vm: vm.id });
      expect(Math.max(...hist.samples.map((x) => x.diskWriteBytesPerSec ?? 0))).toBeGreaterThan(1024 ** 2);
    } finally {
      await engine.client.call('stats.unwatch', { watchId: w.watchId });
    }
  }, 120_000);

  it('network rx/tx come from the guest agent once it answers (slirp reports none to QEMU), and say why before', async () => {
    const w = await engine.client.call('stats.watch', { vm: vm.id });
    try {
      // The guest's card has no address yet: qemu-ga reports no counters for it, and says so.
      const [before] = await samples(1);
      expect(before!.sample.netTxBytesPerSec).toBeNull();
      expect(before!.unavailable.net).toMatch(/guest agent|qemu-ga/);
      await sh.run('ifconfig eth0 10.0.2.15 netmask 255.255.255.0 up; ping -c 3 -W 1 10.0.2.2 >/dev/null; echo pinged', 30_000);
      const [e] = await samples(1, 90_000, (x) => x.netSource === 'guest agent' && (x.sample.netTxBytesPerSec ?? 0) > 0);
      expect(e!.sample.netRxBytesPerSec).toBeGreaterThanOrEqual(0);
      expect(e!.unavailable.net).toBeUndefined();
    } finally {
      await engine.client.call('stats.unwatch', { watchId: w.watchId });
    }
  }, 120_000);

  it('vireo top --once --json prints the running VM with full-second figures, and ends its watch', async () => {
    const r = await runVireo(engine.home, ['top', '--once', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const h = JSON.parse(r.stdout) as HostStats;
    const row = h.vms.find((v) => v.id === vm.id)!;
    expect(row.latest!.cpuPercent).toBeGreaterThanOrEqual(0);
    expect(row.latest!.rssBytes).toBeGreaterThan(0);
    expect((await status()).watchers).toBe(0);
    const human = await runVireo(engine.home, ['top', '--once']);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/NAME\s+STATE\s+CPU/);
    expect(human.stdout).toMatch(/stats\s+running\s+\d+\.\d%/);
  }, 60_000);

  it('after the last unwatch the sampler stops; a watch not renewed lapses on its own', async () => {
    const w = await engine.client.call('stats.watch', {});
    await samples(1);
    await engine.client.call('stats.unwatch', { watchId: w.watchId });
    const a = await status();
    await wait(2500);
    expect(await status()).toEqual(a);
    expect(a.watchers).toBe(0);

    const lapsing = await engine.client.call('stats.watch', {});
    await samples(1);
    const deadline = Date.now() + lapsing.leaseMs + 5000;
    while ((await status()).watchers > 0 && Date.now() < deadline) await wait(500);
    const lapsed = await status();
    expect(lapsed.watchers).toBe(0);
    await wait(2000);
    expect((await status()).ticks).toBe(lapsed.ticks);
    await expect(engine.client.call('stats.watch', { watchId: lapsing.watchId })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  }, 60_000);
});
