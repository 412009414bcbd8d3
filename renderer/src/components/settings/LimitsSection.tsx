import { useEffect, useState } from 'react';
import type { LimitsInfo } from '../../../../electron/api/limits-types.ts';
import { useClient } from '../../api/context.tsx';
import { asWireError, type WireError } from '../../api/client.ts';
import { Button, ErrorAlert, Field, inputClass } from '../ui.tsx';
import type { SectionProps } from './types.ts';

// Settings → Resources: the CPU cap and disk limits (applied at once through limits.set, to a
// running VM too, not with Save), what this host cannot do and why, the network rate for the
// cards that can have one (bridged, private) and each backend's reason, and for a running VM a memory slider that sets
// the balloon's target.

const MB = 1_000_000;
const num = (s: string): number | null | 'bad' => (s.trim() === '' ? null : /^\d+(\.\d+)?$/.test(s.trim()) ? Number(s) : 'bad');

export function LimitsSection({ cfg, vm, running }: SectionProps) {
  const client = useClient();
  const [info, setInfo] = useState<LimitsInfo | null>(null);
  const [cpu, setCpu] = useState('');
  const [rate, setRate] = useState('');
  const [iops, setIops] = useState('');
  const [net, setNet] = useState('');
  const [error, setError] = useState<WireError | null>(null);
  const [busy, setBusy] = useState(false);
  const [balloon, setBalloon] = useState(cfg.system.memoryMiB);
  const [actual, setActual] = useState<number | null>(null);

  const show = (r: LimitsInfo) => {
    setInfo(r);
    setCpu(r.limits.cpuPercent === null ? '' : String(r.limits.cpuPercent));
    setRate(r.limits.diskBytesPerSec === null ? '' : String(r.limits.diskBytesPerSec / MB));
    setIops(r.limits.diskIops === null ? '' : String(r.limits.diskIops));
    setNet(r.limits.netBytesPerSec === null ? '' : String(r.limits.netBytesPerSec / MB));
  };
  useEffect(() => {
    client.call('limits.get', { vm: vm.id }).then(show, (e) => setError(asWireError(e)));
  }, [client, vm.id, running]);

  const c = num(cpu);
  const r = num(rate);
  const i = num(iops);
  const n = num(net);
  const bad = c === 'bad' || r === 'bad' || i === 'bad' || n === 'bad';
  // Only bridged and private cards can be limited, and bridged ones only where tc may run.
  const netBackends = (info?.network ?? []).filter((b) => b.available).map((b) => b.backend);
  const limitable = cfg.networks.some((x) => (x.mode === 'private' && netBackends.includes('private')) || (x.mode === 'bridged' && netBackends.includes('bridged')));
  const apply = async () => {
    if (bad) return;
    setBusy(true);
    setError(null);
    try {
      show(await client.call('limits.set', { vm: vm.id, cpuPercent: c === null ? null : Math.round(c), diskBytesPerSec: r === null ? null : Math.round(r * MB), diskIops: i === null ? null : Math.round(i), ...(limitable || n === null ? { netBytesPerSec: n === null ? null : Math.round(n * MB) } : {}) }));
    } catch (e) {
      setError(asWireError(e));
    } finally {
      setBusy(false);
    }
  };
  const setMemory = async () => {
    setError(null);
    try {
      setActual((await client.call('vms.setMemory', { vm: vm.id, memoryMiB: balloon })).actualMiB);
    } catch (e) {
      setError(asWireError(e));
    }
  };

  const cpuNote = info && !info.cpu.available ? `Not available here: ${info.cpu.reason}` : info?.cpu.cgroup ? `Applied through ${info.cpu.mechanism} (${info.cpu.cgroup}).` : 'Percent of one host CPU, as top counts it: 100 = one whole CPU. Empty = no cap.';
  return (
    <div className="flex flex-col gap-4">
      <div className="grid grid-cols-3 gap-3">
        <Field label="CPU cap (% of one host CPU)" error={c === 'bad' ? 'a number, or empty for no cap' : undefined} warning={info && !info.cpu.available ? cpuNote : undefined} hint={cpuNote}>
          {(p) => <input {...p} className={inputClass} inputMode="numeric" placeholder="no cap" value={cpu} onChange={(e) => setCpu(e.target.value)} />}
        </Field>
        <Field label="Disk rate (MB/s, all disks)" error={r === 'bad' ? 'a number, or empty for unlimited' : undefined} hint="Empty = unlimited.">
          {(p) => <input {...p} className={inputClass} inputMode="decimal" placeholder="unlimited" value={rate} onChange={(e) => setRate(e.target.value)} />}
        </Field>
        <Field label="Disk IOPS (all disks)" error={i === 'bad' ? 'a number, or empty for unlimited' : undefined} hint="Empty = unlimited.">
          {(p) => <input {...p} className={inputClass} inputMode="numeric" placeholder="unlimited" value={iops} onChange={(e) => setIops(e.target.value)} />}
        </Field>
      </div>
      <div className="flex items-center gap-3">
        <Button size="sm" onClick={apply} disabledReason={bad ? 'fix the fields first' : busy ? 'applying…' : null}>Apply limits{running ? ' now' : ''}</Button>
        <span className="text-xs text-zinc-600 dark:text-zinc-400">Limits are saved at once{running ? ' and applied to the running VM' : ''}; Save is not needed.</span>
      </div>
      {info?.pending.map((p) => (
        <p key={p} className="text-xs text-amber-800 dark:text-amber-300">{p}</p>
      ))}
      <section aria-label="Network bandwidth" className="flex flex-col gap-1">
        <h3 className="text-xs font-medium text-zinc-700 dark:text-zinc-300">Network bandwidth</h3>
        {limitable ? (
          <Field label="Network rate (MB/s, each card and direction)" error={n === 'bad' ? 'a number, or empty for unlimited' : undefined} hint="Empty = unlimited. Applies to bridged and private-network cards; Apply limits sets it.">
            {(p) => <input {...p} className={inputClass} inputMode="decimal" placeholder="unlimited" value={net} onChange={(e) => setNet(e.target.value)} />}
          </Field>
        ) : (
          <p className="text-xs text-zinc-600 dark:text-zinc-400">None of this VM's cards can be limited here: only bridged and private-network cards can.</p>
        )}
        <ul className="text-xs text-zinc-600 dark:text-zinc-400">
          {info?.network.map((n) => <li key={n.backend}>{n.reason}</li>)}
        </ul>
      </section>
      <section aria-label="Memory balloon" className="flex flex-col gap-1">
        <h3 className="text-xs font-medium text-zinc-700 dark:text-zinc-300">Memory of the running guest (balloon)</h3>
        {!cfg.devices.balloon ? (
          <p className="text-xs text-zinc-600 dark:text-zinc-400">No memory balloon: enable it in Settings → Devices and restart.</p>
        ) : !running ? (
          <p className="text-xs text-zinc-600 dark:text-zinc-400">Start the VM to lend memory back to the host; free-page reporting returns an idle guest's free memory by itself.</p>
        ) : (
          <div className="flex items-center gap-3">
            <input aria-label="Guest memory (MiB)" type="range" min={64} max={cfg.system.memoryMiB} step={16} value={balloon} onChange={(e) => setBalloon(Number(e.target.value))} />
            <span className="w-24 text-sm tabular-nums">{balloon} MiB</span>
            <Button size="sm" onClick={setMemory}>Set</Button>
            {actual !== null && <span className="text-xs">guest has {actual} MiB now</span>}
          </div>
        )}
      </section>
      {error && <ErrorAlert error={error} title="Limits were not changed" />}
    </div>
  );
}
