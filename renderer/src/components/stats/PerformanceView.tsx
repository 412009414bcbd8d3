import { useMemo } from 'react';
import type { StatsUnavailable, VmStatsSample } from '../../../../electron/api/types.ts';
import { formatBytes } from '../../../../electron/shared/size.ts';
import { useClient } from '../../api/context.tsx';
import { ErrorAlert, Section } from '../ui.tsx';
import { Chart, type ChartSeries } from './Chart.tsx';
import { useVmStats } from './useStats.ts';

// Settings-free Performance tab of a VM: CPU (QEMU process and each vCPU thread), memory,
// disk and network over the last minutes, streamed by the engine while this tab is open.
// A figure the engine cannot get is not drawn as zero: its reason is shown under the chart.

const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#ca8a04', '#db2777'];
export const pctFmt = (v: number) => `${Math.round(v)} %`;
export const bytesFmt = (v: number) => formatBytes(Math.max(0, Math.round(v)));
export const rateFmt = (v: number) => `${formatBytes(Math.max(0, Math.round(v)))}/s`;
const opsFmt = (v: number) => `${v.toFixed(v < 10 ? 1 : 0)}/s`;

const col = (samples: VmStatsSample[], f: (s: VmStatsSample) => number | null) => samples.map(f);
const any = (vals: (number | null)[]) => vals.some((v) => v != null);
/** a chart none of whose series has a value yet would be an empty grid: its reasons say why */
const drawn = (series: ChartSeries[]) => series.some((x) => any(x.values));

function Missing({ reasons }: { reasons: (string | undefined)[] }) {
  const shown = [...new Set(reasons.filter((r): r is string => !!r))];
  if (!shown.length) return null;
  return (
    <ul className="mt-1 text-xs text-zinc-600 dark:text-zinc-400">
      {shown.map((r) => (
        <li key={r}>{r}</li>
      ))}
    </ul>
  );
}

export function charts(samples: VmStatsSample[], un: StatsUnavailable, netSource: string | null) {
  const vcpus = Math.max(0, ...samples.map((s) => s.vcpus.length));
  const cpu: ChartSeries[] = [
    { label: 'QEMU process', color: COLORS[0]!, values: col(samples, (s) => s.cpuPercent) },
    ...Array.from({ length: vcpus }, (_, i) => ({ label: `vCPU ${i}`, color: COLORS[(i + 1) % COLORS.length]!, values: col(samples, (s) => s.vcpus[i]?.percent ?? null) })),
  ];
  const mem: ChartSeries[] = [
    { label: 'RSS', color: COLORS[0]!, values: col(samples, (s) => s.rssBytes) },
    { label: 'Balloon actual', color: COLORS[3]!, values: col(samples, (s) => s.balloonActualBytes) },
    { label: 'Guest free', color: COLORS[2]!, values: col(samples, (s) => s.guestFreeBytes) },
  ].filter((s, i) => i === 0 || any(s.values));
  const disk: ChartSeries[] = [
    { label: 'Read', color: COLORS[2]!, values: col(samples, (s) => s.diskReadBytesPerSec) },
    { label: 'Write', color: COLORS[1]!, values: col(samples, (s) => s.diskWriteBytesPerSec) },
  ];
  const iops: ChartSeries[] = [
    { label: 'Read ops', color: COLORS[2]!, values: col(samples, (s) => s.diskReadOpsPerSec) },
    { label: 'Write ops', color: COLORS[1]!, values: col(samples, (s) => s.diskWriteOpsPerSec) },
  ];
  const net: ChartSeries[] = [
    { label: 'Received', color: COLORS[5]!, values: col(samples, (s) => s.netRxBytesPerSec) },
    { label: 'Sent', color: COLORS[4]!, values: col(samples, (s) => s.netTxBytesPerSec) },
  ];
  return {
    cpu: { series: cpu, missing: [un.cpu, un.vcpus] },
    mem: { series: mem, missing: [un.rss, un.balloon, un.guestMemory] },
    disk: { series: disk, missing: [un.disk] },
    iops: { series: iops, missing: [] },
    net: { series: net, missing: [un.net, netSource ? `from the ${netSource}` : undefined] },
  };
}

export function PerformanceView({ vmId, running }: { vmId: string; running: boolean }) {
  const client = useClient();
  const { samples, unavailable, netSource, error } = useVmStats(client, vmId);
  const times = useMemo(() => samples.map((s) => s.t / 1000), [samples]);
  const c = useMemo(() => charts(samples, unavailable, netSource), [samples, unavailable, netSource]);
  const last = samples.at(-1);
  return (
    <div className="flex flex-col gap-4 p-4" data-testid="stats-panel">
      {error && <ErrorAlert title="Live statistics are unavailable" error={error} />}
      {!running && <p className="text-sm text-zinc-600 dark:text-zinc-400">The VM is not running: the graphs show what was kept from its last watched minutes and move again once it starts.</p>}
      {running && !samples.length && <p className="text-sm text-zinc-600 dark:text-zinc-400">Waiting for the first sample…</p>}
      {last && (
        <p className="text-sm" aria-live="off" data-testid="stats-now">
          CPU {last.cpuPercent == null ? '—' : pctFmt(last.cpuPercent)} · RSS {last.rssBytes == null ? '—' : bytesFmt(last.rssBytes)} · disk write {last.diskWriteBytesPerSec == null ? '—' : rateFmt(last.diskWriteBytesPerSec)}
        </p>
      )}
      <div className="grid gap-4 xl:grid-cols-2">
        <Section title="CPU">
          <Chart title="CPU" times={times} series={c.cpu.series} format={pctFmt} />
          <Missing reasons={c.cpu.missing} />
        </Section>
        <Section title="Memory">
          <Chart title="Memory" times={times} series={c.mem.series} format={bytesFmt} />
          <Missing reasons={c.mem.missing} />
        </Section>
        <Section title="Disk">
          <Chart title="Disk throughput" times={times} series={c.disk.series} format={rateFmt} />
          <Chart title="Disk operations" times={times} series={c.iops.series} format={opsFmt} height={100} />
          <Missing reasons={c.disk.missing} />
        </Section>
        <Section title="Network">
          {drawn(c.net.series) && <Chart title="Network" times={times} series={c.net.series} format={rateFmt} />}
          <Missing reasons={c.net.missing} />
        </Section>
      </div>
    </div>
  );
}
