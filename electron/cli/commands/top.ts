import type { HostStats, VmStatsSample } from '../../api/stats-types.ts';
import { formatBytes } from '../../shared/size.ts';
import type { CliKit, Registrar } from '../kit.ts';

// `vireo top`: every running VM's CPU, memory, disk and network, refreshed each second, from
// the engine's sampler. It holds a watch lease on all VMs while it runs (renewed well inside
// the lease) and ends it on the way out, so the sampler stops when the last viewer goes.
// `--once --json` waits for one full interval (rates need two readings) and prints it once.

const dash = '-';
const pct = (v: number | null | undefined) => (v == null ? dash : `${v.toFixed(1)}%`);
const bytes = (v: number | null | undefined) => (v == null ? dash : formatBytes(Math.round(v)));
const rate = (v: number | null | undefined) => (v == null ? dash : `${formatBytes(Math.round(v))}/s`);
const ops = (v: number | null | undefined) => (v == null ? dash : v.toFixed(0));

export function formatTop(h: HostStats): string {
  const mem = h.memTotalBytes ? `${bytes(h.memAvailableBytes)} available of ${bytes(h.memTotalBytes)}` : 'memory unknown';
  const lines = [`host: ${h.cpus} CPU${h.cpus === 1 ? '' : 's'}, ${mem}`];
  if (h.unavailable) lines.push(h.unavailable);
  const running = h.vms.filter((v) => v.state !== 'stopped' && v.state !== 'crashed');
  if (!running.length) return [...lines, 'no VM is running'].join('\n');
  const head = ['NAME', 'STATE', 'CPU', 'VCPUS', 'RSS', 'BALLOON', 'DISK R', 'DISK W', 'IOPS R/W', 'NET RX', 'NET TX'];
  const rows = running.map((v) => {
    const s: Partial<VmStatsSample> = v.latest ?? {};
    const vcpus = s.vcpus?.length ? s.vcpus.map((c) => pct(c.percent)).join(' ') : dash;
    return [v.name, v.state, pct(s.cpuPercent), vcpus, bytes(s.rssBytes), bytes(s.balloonActualBytes), rate(s.diskReadBytesPerSec), rate(s.diskWriteBytesPerSec), `${ops(s.diskReadOpsPerSec)}/${ops(s.diskWriteOpsPerSec)}`, rate(s.netRxBytesPerSec), rate(s.netTxBytesPerSec)];
  });
  const widths = head.map((h0, i) => Math.max(h0.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  lines.push(fmt(head), ...rows.map(fmt));
  // Why a column is blank, once per reason (slirp has no traffic counters, no balloon…).
  const reasons = new Set(running.flatMap((v) => Object.entries(v.unavailable).map(([k, why]) => `${k}: ${why}`)));
  if (reasons.size) lines.push('', ...[...reasons].map((r) => `  ${r}`));
  return lines.join('\n');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const registerTop: Registrar = (kit: CliKit) => {
  kit.program
    .command('top')
    .description("running VMs' CPU, memory, disk and network, refreshed every second (sampled only while watched)")
    .option('--once', 'print one full second of figures and exit')
    .option('--count <n>', 'exit after this many refreshes', kit.intArg)
    .action(kit.action(async (opts: { once?: boolean; count?: number }) => {
      const w = await kit.call('stats.watch', {});
      let stop = false;
      const onSig = () => (stop = true);
      process.once('SIGINT', onSig);
      process.once('SIGTERM', onSig);
      const started = Date.now();
      try {
        const count = opts.once ? 1 : (opts.count ?? Infinity);
        let renewedAt = Date.now();
        for (let shown = 0; shown < count && !stop; ) {
          await sleep(w.intervalMs);
          if (Date.now() - renewedAt > w.leaseMs / 3) {
            await kit.call('stats.watch', { watchId: w.watchId });
            renewedAt = Date.now();
          }
          const h = await kit.call('stats.host', {});
          // The first full sample (with rates) of every running VM comes a second after the
          // watch began; until then a row would show dashes that are only "not yet".
          const ready = h.vms.every((v) => v.state !== 'running' || (v.latest && v.latest.t > started + 500 && (v.latest.cpuPercent ?? v.latest.diskReadBytesPerSec) !== null) || Date.now() - started > 10_000);
          if (!ready) continue;
          shown++;
          if (kit.json()) kit.print(h, () => '');
          else if (process.stdout.isTTY && !opts.once) process.stdout.write(`\x1b[H\x1b[2J${formatTop(h)}\n`);
          else kit.print(h, formatTop as (r: never) => string);
        }
      } finally {
        process.off('SIGINT', onSig);
        process.off('SIGTERM', onSig);
        await kit.call('stats.unwatch', { watchId: w.watchId }).catch(() => {});
      }
    }));
};
