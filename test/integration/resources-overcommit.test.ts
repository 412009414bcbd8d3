import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runVireo } from './cli-helpers.ts';
import { qemuPidsFor } from './helpers.ts';

// Issue 18, acceptance 4, and the limits CLI, with no guest booted: a VM whose memory exceeds
// the host's MemAvailable is refused at start (OVERCOMMIT, with the numbers and what to do;
// no QEMU is started, the VM stays stopped) by the engine and by `vireo start`, which also
// warns; `vireo limits` saves the CPU cap and disk limits of a stopped VM; `vireo host-meter`.

let home: string;
const availMiB = () => Math.floor(Number(/^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'))![1]) / 1024);
const json = async (args: string[]) => {
  const r = await runVireo(home, ['--json', ...args]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
};

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'vireo-overcommit-'));
  // More memory than the host has available (MemAvailable is below MemTotal by what the host
  // uses), yet not more than it has at all, which create refuses outright.
  const totalMiB = Math.floor(Number(/^MemTotal:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'))![1]) / 1024);
  const big = totalMiB - 32;
  expect(big, 'the host must use more than 32 MiB itself').toBeGreaterThan(availMiB());
  const r = await runVireo(home, ['create', 'hungry', '--disk', '16M', '--memory', `${big}M`]);
  expect(r.code, r.stderr).toBe(0);
}, 120_000);
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe('overcommit', () => {
  it('vireo host-meter counts no running VM, and the VM asks for more than MemAvailable', async () => {
    const r = await json(['show', 'hungry']);
    const report = await runVireo(home, ['--json', 'host-meter']);
    expect(report.code).toBe(0);
    expect(JSON.parse(report.stdout)).toMatchObject({ running: 0, vmsMemoryMiB: 0 });
    expect(r.config.system.memoryMiB).toBeGreaterThan(availMiB());
  });

  it('vireo start refuses it (exit 1) with the numbers and the way on, and starts no QEMU', async () => {
    const r = await runVireo(home, ['start', 'hungry']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/"hungry" needs \d+ MiB.*the host has \d+ MiB available \(of \d+ MiB\): lower its memory to at most \d+ MiB/);
    expect(r.stderr).toMatch(/vireo start --force/);
    const j = await runVireo(home, ['--json', 'start', 'hungry']);
    expect(j.code).toBe(1);
    expect(JSON.parse(j.stderr.trim().split('\n').at(-1)!)).toMatchObject({ code: 'OVERCOMMIT' });
    const vm = await json(['show', 'hungry']);
    expect(vm.state).toBe('stopped');
    expect(qemuPidsFor([vm.id])).toEqual([]);
  }, 60_000);
});

describe('vireo limits', () => {
  it('saves a CPU cap and disk limits on a stopped VM, shows them, and removes one', async () => {
    const r = await json(['limits', 'hungry', '--cpu', '50', '--disk-rate', '10M', '--disk-iops', '300']);
    expect(r.limits).toEqual({ cpuPercent: 50, diskBytesPerSec: 10 * 1024 ** 2, diskIops: 300, netBytesPerSec: null });
    const net = Object.fromEntries(r.network.map((n: { backend: string; available: boolean; reason: string }) => [n.backend, n]));
    for (const b of ['slirp', 'passt', 'hostonly']) expect(net[b]).toMatchObject({ available: false, reason: expect.stringMatching(/^not possible/) });
    expect(net.private).toMatchObject({ available: true, reason: expect.stringContaining("Vireo's switch") });
    const human = await runVireo(home, ['limits', 'hungry', '--disk-iops', 'none']);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/CPU cap: +50% of one host CPU/);
    expect(human.stdout).toMatch(/Disk IOPS: +unlimited/);
    const vm = await json(['show', 'hungry']);
    expect(vm.config.limits).toEqual({ cpuPercent: 50, diskBytesPerSec: 10 * 1024 ** 2, diskIops: null, netBytesPerSec: null });
    const bad = await runVireo(home, ['limits', 'hungry', '--cpu', 'lots']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--cpu "lots" is not a positive whole number/);
  }, 60_000);

  it('a network rate: refused for a VM with only NAT cards (nothing saved), saved once it has a private card', async () => {
    const nat = await runVireo(home, ['limits', 'hungry', '--net-rate', '1M']);
    expect(nat.code).toBe(1);
    expect(nat.stderr).toMatch(/only bridged and private-network cards can be limited/);
    expect((await json(['show', 'hungry'])).config.limits.netBytesPerSec).toBeNull();
    expect((await runVireo(home, ['net', 'add', 'hungry', '--mode', 'private', '--network', 'lab'])).code).toBe(0);
    const r = await json(['limits', 'hungry', '--net-rate', '2M']);
    expect(r.limits.netBytesPerSec).toBe(2 * 1024 ** 2);
    expect(r.pending.join('\n')).toMatch(/card net0 is not limited: NAT/);
    const human = await runVireo(home, ['limits', 'hungry', '--net-rate', 'none']);
    expect(human.stdout).toMatch(/Network: +unlimited/);
    expect((await runVireo(home, ['limits', 'hungry', '--net-rate', 'fast'])).code).toBe(2);
  }, 60_000);
});
