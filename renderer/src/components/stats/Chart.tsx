import { useEffect, useRef, useState } from 'react';
import type uPlot from 'uplot';

// A uPlot time-series chart. uPlot is loaded on first use (its own chunk), so the library
// view does not pay for it until someone opens a graph.

export interface ChartSeries {
  label: string;
  color: string;
  values: (number | null)[];
  /** fill under the line (stacked host overview) */
  fill?: boolean;
  /** what the legend shows instead of the drawn value (a stacked series' own share) */
  own?: (number | null)[];
}

type UPlotCtor = typeof uPlot;
let loading: Promise<UPlotCtor> | null = null;
function loadUPlot(): Promise<UPlotCtor> {
  loading ??= import('./uplot-chunk.ts').then((m) => m.default);
  return loading;
}

export function Chart({ title, times, series, format, height = 140, max }: {
  title: string;
  /** seconds since the epoch, one per sample */
  times: number[];
  series: ChartSeries[];
  format: (v: number) => string;
  height?: number;
  /** a fixed top of the y axis (100 % for CPU); else fitted to the data */
  max?: number;
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const [ctor, setCtor] = useState<UPlotCtor | null>(null);
  const shape = series.map((s) => s.label + s.color).join('|');

  useEffect(() => {
    let live = true;
    void loadUPlot().then((c) => live && setCtor(() => c));
    return () => {
      live = false;
    };
  }, []);

  // Built anew only when the set of series changes; new samples go through setData.
  useEffect(() => {
    if (!ctor || !box.current) return;
    const el = box.current;
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: max ? { range: [0, max] } : { range: (_u, _min, hi) => [0, Math.max(hi, 1) * 1.1] } },
      axes: [{ stroke: '#71717a' }, { stroke: '#71717a', size: 84, values: (_u, vals) => vals.map((v) => format(v)) }],
      series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 1.5, ...(s.fill ? { fill: `${s.color}55` } : {}), value: (_u: uPlot, v: number | null, _si: number, idx: number | null) => { const shown = s.own && idx != null ? (s.own[idx] ?? null) : v; return shown == null ? '—' : format(shown); } }))],
    };
    const u = new ctor(opts, [times, ...series.map((s) => s.values)] as uPlot.AlignedData, el);
    plot.current = u;
    const ro = new ResizeObserver(() => u.setSize({ width: Math.max(200, el.clientWidth), height }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [ctor, shape, height, max]);

  useEffect(() => {
    plot.current?.setData([times, ...series.map((s) => s.values)] as uPlot.AlignedData);
  }, [times, series]);

  return (
    <figure className="min-w-0" aria-label={`${title} chart`}>
      <figcaption className="mb-1 text-sm font-medium">{title}</figcaption>
      <div ref={box} data-chart={title} className="w-full" />
      {!ctor && <p className="text-sm text-zinc-600 dark:text-zinc-400">Loading the chart…</p>}
    </figure>
  );
}
