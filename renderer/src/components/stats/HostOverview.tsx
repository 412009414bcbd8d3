import { useCallback, useEffect, useMemo, useState } from 'react';
import type { HostStats, VmStatsSample } from '../../../../electron/api/types.ts';
import { formatBytes } from '../../../../electron/shared/size.ts';
import { useClient } from '../../api/context.tsx';
import type { WireError } from '../../api/client.ts';
import { ErrorAlert, Section } from '../ui.tsx';
import { Chart, type ChartSeries } from './Chart.tsx';
import { bytesFmt, pctFmt } from './PerformanceView.tsx';
import { useStatsWatch } from './useStats.ts';

// The host overview: every running VM's CPU and memory stacked, so the total is what the VMs
// take of the host together. Watches all VMs while shown (the sampler stops when it closes).

const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#ca8a04', '#db2777'];
const WINDOW_S = 600;

type Seen = Map<string, Map<number, VmStatsSample>>;

/** Cumulative series (VM 1, VM 1+2, …), drawn top-down so each fill shows one VM's share. */
export function stacked(seen: Seen, names: Map<string, string>, pick: (s: VmStatsSample) => number | null) {
  const times = [...new Set([...seen.values()].flatMap((m) => [...m.keys()]))].sort((a, b) => a - b).slice(-WINDOW_S);
  const total = times.map(() => 0);
  const series: ChartSeries[] = [...seen.entries()].map(([id, m], i) => {
    const own = times.map((t) => {
      const s = m.get(t);
      return s ? pick(s) : null;
    });
    own.forEach((v, k) => (total[k]! += v ?? 0));
    return { label: names.get(id) ?? id, color: COLORS[i % COLORS.length]!, fill: true, values: [...total], own };
  });
  return { times, series: series.reverse() };
}

export function HostOverview() {
  const client = useClient();
  const [error, setError] = useState<WireError | null>(null);
  const [seen, setSeen] = useState<Seen>(new Map());
  const [host, setHost] = useState<HostStats | null>(null);
  const onError = useCallback((e: WireError) => setError(e), []);
  useStatsWatch(client, null, onError);
  useEffect(() => {
    const off = client.on('stats.sample', (e) =>
      setSeen((prev) => {
        const next = new Map(prev);
        const m = new Map(next.get(e.vmId) ?? []);
        m.set(Math.round(e.sample.t / 1000), e.sample);
        for (const k of m.keys()) if (k < e.sample.t / 1000 - WINDOW_S) m.delete(k);
        next.set(e.vmId, m);
        return next;
      }),
    );
    // Names and host memory: a slow refresh is enough, they change rarely.
    const read = () => client.call('stats.host', {}).then(setHost, () => undefined);
    // What the engine kept of each running VM, so the overview opens with its past minutes.
    void client.call('stats.host', {}).then(async (h) => {
      setHost(h);
      for (const v of h.vms.filter((x) => x.state === 'running')) {
        const hist = await client.call('stats.history', { vm: v.id }).catch(() => null);
        if (!hist) continue;
        setSeen((prev) => {
          const next = new Map(prev);
          const m = new Map(next.get(v.id) ?? []);
          for (const x of hist.samples) if (!m.has(Math.round(x.t / 1000))) m.set(Math.round(x.t / 1000), x);
          next.set(v.id, new Map([...m.entries()].sort((p, q) => p[0] - q[0])));
          return next;
        });
      }
    }, () => undefined);
    const t = setInterval(read, 5000);
    return () => {
      off();
      clearInterval(t);
    };
  }, [client]);
  const names = useMemo(() => new Map(host?.vms.map((v) => [v.id, v.name]) ?? []), [host]);
  const cpu = useMemo(() => stacked(seen, names, (s) => s.cpuPercent), [seen, names]);
  const mem = useMemo(() => stacked(seen, names, (s) => s.rssBytes), [seen, names]);
  const cores = host?.cpus ?? 1;
  return (
    <Section title="VMs on this host">
      {error && <ErrorAlert title="Live statistics are unavailable" error={error} />}
      {host?.unavailable && <p className="text-sm text-zinc-600 dark:text-zinc-400">{host.unavailable}</p>}
      {!cpu.series.length ? (
        <p className="text-sm text-zinc-600 dark:text-zinc-400">{host?.vms.some((v) => v.state === 'running') ? 'Waiting for the first sample…' : 'No VM is running.'}</p>
      ) : (
        <div className="grid gap-3">
          <Chart title={`CPU of all VMs (% of one core; the host has ${cores})`} times={cpu.times} series={cpu.series} format={pctFmt} max={cores * 100} />
          <Chart title="Memory of all VMs (RSS)" times={mem.times} series={mem.series} format={bytesFmt} />
        </div>
      )}
      {host?.memTotalBytes != null && (
        <p className="mt-1 text-xs text-zinc-600 dark:text-zinc-400">
          Host memory: {formatBytes(host.memAvailableBytes ?? 0)} available of {formatBytes(host.memTotalBytes)}
        </p>
      )}
    </Section>
  );
}
