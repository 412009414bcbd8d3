import { describe, expect, it } from 'vitest';
import { Ring, toSample, type RawReading } from '../../../../electron/engine/stats/compute.ts';
import { parseMeminfo, parseRssBytes, parseStatTicks, USER_HZ } from '../../../../electron/engine/stats/proc.ts';
import { formatTop } from '../../../../electron/cli/commands/top.ts';
import type { HostStats } from '../../../../electron/api/stats-types.ts';

const reading = (over: Partial<RawReading> = {}): RawReading => ({
  t: 1_000_000,
  mono: 5000,
  procTicks: 1000,
  threads: [{ index: 0, tid: 42, ticks: 500 }],
  rssBytes: 100 * 1024 ** 2,
  balloonActualBytes: null,
  guestFreeBytes: null,
  guestTotalBytes: null,
  disk: { rdBytes: 1000, wrBytes: 2000, rdOps: 10, wrOps: 20 },
  net: null,
  ...over,
});

describe('stats arithmetic', () => {
  it('the first reading has no rates (null, not 0) but keeps levels and totals', () => {
    const s = toSample(null, reading());
    expect(s.cpuPercent).toBeNull();
    expect(s.vcpus).toEqual([{ index: 0, threadId: 42, percent: null }]);
    expect(s.diskWriteBytesPerSec).toBeNull();
    expect(s.rssBytes).toBe(100 * 1024 ** 2);
    expect(s.diskWriteBytes).toBe(2000);
  });

  it('rates over the monotonic interval: ticks become % of one core, counters per second', () => {
    const prev = reading();
    // 2 s later: 150 ticks of process CPU = 0.75 core; the vCPU thread 100 ticks = 50 %.
    const cur = reading({ mono: 7000, t: 1_002_000, procTicks: 1150, threads: [{ index: 0, tid: 42, ticks: 600 }], disk: { rdBytes: 5000, wrBytes: 2_002_000, rdOps: 14, wrOps: 220 }, net: { rx: 10, tx: 20 } });
    const s = toSample(prev, cur);
    expect(USER_HZ).toBe(100);
    expect(s.cpuPercent).toBeCloseTo(75);
    expect(s.vcpus[0]!.percent).toBeCloseTo(50);
    expect(s.diskReadBytesPerSec).toBe(2000);
    expect(s.diskWriteBytesPerSec).toBe(1_000_000);
    expect(s.diskReadOpsPerSec).toBe(2);
    expect(s.diskWriteOpsPerSec).toBe(100);
    // no previous net reading: no rate
    expect(s.netRxBytesPerSec).toBeNull();
  });

  it('a counter that went back (a new thread id, a reset) gives null, never a negative rate', () => {
    const s = toSample(reading(), reading({ mono: 6000, procTicks: 10, threads: [{ index: 0, tid: 43, ticks: 5 }], disk: { rdBytes: 0, wrBytes: 0, rdOps: 0, wrOps: 0 } }));
    expect(s.cpuPercent).toBeNull();
    expect(s.vcpus[0]!.percent).toBeNull();
    expect(s.diskWriteBytesPerSec).toBeNull();
  });

  it('the ring keeps the newest N, oldest first', () => {
    const r = new Ring<number>(3);
    expect(r.toArray()).toEqual([]);
    expect(r.last()).toBeNull();
    for (let i = 1; i <= 5; i++) r.push(i);
    expect(r.toArray()).toEqual([3, 4, 5]);
    expect(r.size).toBe(3);
    expect(r.last()).toBe(5);
  });
});

describe('/proc parsing', () => {
  it('stat: utime+stime after the last ")" of a name with spaces and parentheses', () => {
    const fields = ['S', ...Array.from({ length: 10 }, (_, i) => String(i)), '700', '34', '0', '0'];
    expect(parseStatTicks(`1234 (qemu (x) y) ${fields.join(' ')}`)).toBe(734);
    expect(parseStatTicks('garbage')).toBeNull();
  });

  it('status VmRSS and meminfo in kB become bytes', () => {
    expect(parseRssBytes('Name:\tqemu\nVmRSS:\t  204800 kB\n')).toBe(204800 * 1024);
    expect(parseRssBytes('Name:\tzombie\n')).toBeNull();
    expect(parseMeminfo('MemTotal:       16000 kB\nMemFree: 1 kB\nMemAvailable:    8000 kB\n')).toEqual({ total: 16000 * 1024, available: 8000 * 1024 });
  });
});

describe('vireo top table', () => {
  const host = (vms: HostStats['vms']): HostStats => ({ cpus: 2, memTotalBytes: 8 * 1024 ** 3, memAvailableBytes: 4 * 1024 ** 3, unavailable: null, vms, sampler: { watchers: 1, sampling: [], ticks: 0, qmpCommands: 0 } });
  it('one row per running VM with its figures, dashes and the reason for what is missing', () => {
    const latest = toSample(reading(), reading({ mono: 6000, procTicks: 1050, disk: { rdBytes: 1000, wrBytes: 1_050_576, rdOps: 10, wrOps: 30 } }));
    const out = formatTop(host([
      { id: 'a', name: 'web', state: 'running', latest, unavailable: { net: 'not reported by slirp' } },
      { id: 'b', name: 'idle', state: 'stopped', latest: null, unavailable: {} },
    ]));
    expect(out).toMatch(/^host: 2 CPUs/);
    expect(out).toMatch(/web\s+running\s+50\.0%\s+0\.0%\s+100(\.0)? MiB/);
    expect(out).not.toMatch(/idle/);
    expect(out).toMatch(/net: not reported by slirp/);
    expect(formatTop(host([]))).toMatch(/no VM is running/);
  });
});
