import { describe, expect, it } from 'vitest';
import type { VmStatsSample } from '../../../electron/api/stats-types.ts';
import { stacked } from '../../../renderer/src/components/stats/HostOverview.tsx';
import { charts } from '../../../renderer/src/components/stats/PerformanceView.tsx';

const sample = (t: number, cpu: number | null, rss: number | null, over: Partial<VmStatsSample> = {}): VmStatsSample => ({
  t, cpuPercent: cpu, vcpus: [], rssBytes: rss, balloonActualBytes: null, guestFreeBytes: null, guestTotalBytes: null,
  diskReadBytesPerSec: null, diskWriteBytesPerSec: null, diskReadOpsPerSec: null, diskWriteOpsPerSec: null, diskReadBytes: null, diskWriteBytes: null,
  netRxBytesPerSec: null, netTxBytesPerSec: null, ...over,
});

describe('host overview stacking', () => {
  it('each VM is drawn as the running total up to it, the legend keeps its own share, a gap counts as 0 in the total', () => {
    const seen = new Map([
      ['a', new Map([[10, sample(10_000, 20, 1)], [11, sample(11_000, 30, 1)]])],
      ['b', new Map([[11, sample(11_000, 50, 2)]])],
    ]);
    const { times, series } = stacked(seen, new Map([['a', 'web'], ['b', 'db']]), (s) => s.cpuPercent);
    expect(times).toEqual([10, 11]);
    // drawn top-down: the last VM (the biggest total) first, so each fill shows one VM's band
    expect(series.map((s) => s.label)).toEqual(['db', 'web']);
    expect(series[0]!.values).toEqual([20, 80]);
    expect(series[0]!.own).toEqual([null, 50]);
    expect(series[1]!.values).toEqual([20, 30]);
  });
});

describe('performance charts', () => {
  it('one CPU series per vCPU, memory series only for figures that exist, reasons kept', () => {
    const s = [sample(1, 10, 5, { vcpus: [{ index: 0, threadId: 1, percent: 5 }, { index: 1, threadId: 2, percent: 7 }] })];
    const c = charts(s, { balloon: 'no balloon device', net: 'not reported by slirp' }, null);
    expect(c.cpu.series.map((x) => x.label)).toEqual(['QEMU process', 'vCPU 0', 'vCPU 1']);
    expect(c.cpu.series[2]!.values).toEqual([7]);
    expect(c.mem.series.map((x) => x.label)).toEqual(['RSS']);
    expect(c.mem.missing).toContain('no balloon device');
    expect(c.net.missing).toContain('not reported by slirp');
  });
});
