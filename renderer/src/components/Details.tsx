import { useEffect, useState } from 'react';
import type { VmDetails, VmSummary } from '../../../electron/api/types.ts';
import { useClient } from '../api/context.tsx';
import { asWireError, type WireError } from '../api/client.ts';
import { formatBytes, formatMiB } from '../../../electron/shared/size.ts';
import { basename, formatWhen } from '../lib/format.ts';
import { OsIcon, StateBadge } from './OsIcon.tsx';
import { SnapshotsView } from './Snapshots.tsx';
import { AgentCard } from './agent/AgentCard.tsx';
import { BackupsView, Deferred, DisplayView, PerformanceView, SerialConsole } from './lazy.tsx';
import { NetworkCard } from './NetworkCard.tsx';
import { ClonesCard } from './clones/ClonesCard.tsx';
import { ErrorAlert, KV, Section, Tabs } from './ui.tsx';
import { useLastTab } from './useLastView.ts';
import { isGuestUp } from '../../../electron/shared/states.ts';

const TABS = ['overview', 'screen', 'console', 'snapshots', 'performance', 'backups'] as const;
type Tab = (typeof TABS)[number];

/** One vms.get per selection, re-read only when an event says this VM changed. */
function useVmDetails(vmId: string, summary: VmSummary) {
  const client = useClient();
  const [details, setDetails] = useState<VmDetails | null>(null);
  const [error, setError] = useState<WireError | null>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const offs = [
      client.on('vm.changed', (p) => p.id === vmId && !p.removed && setTick((t) => t + 1)),
      client.on('vm.state', (p) => p.id === vmId && setTick((t) => t + 1)),
    ];
    return () => offs.forEach((o) => o());
  }, [client, vmId]);
  useEffect(() => {
    let live = true;
    client.call('vms.get', { vm: vmId }).then(
      (d) => live && (setDetails(d), setError(null)),
      (e) => live && setError(asWireError(e)),
    );
    return () => {
      live = false;
    };
  }, [client, vmId, tick]);
  // The summary's state arrives first (from the event); show it rather than a stale one.
  const merged = details && details.id === vmId ? { ...details, state: summary.state } : null;
  return { details: merged, error };
}

/** Screen thumbnail, refreshed on a slow timer while the VM runs and the page is visible. */
function Thumbnail({ vmId, running }: { vmId: string; running: boolean }) {
  const client = useClient();
  const [png, setPng] = useState<string | null>(null);
  useEffect(() => {
    setPng(null);
    if (!running) return;
    let live = true;
    const grab = () => {
      if (document.hidden) return;
      client.call('vms.screenshot', { vm: vmId }).then(
        (r) => live && setPng(r.png),
        () => undefined, // a thumbnail that fails once (guest still booting) is not an error
      );
    };
    grab();
    const t = setInterval(grab, 5000);
    return () => {
      live = false;
      clearInterval(t);
    };
  }, [client, vmId, running]);
  if (!running) return <p className="text-sm text-zinc-600 dark:text-zinc-400">The VM is not running.</p>;
  if (!png) return <p className="text-sm text-zinc-600 dark:text-zinc-400">Waiting for the screen…</p>;
  return <img src={`data:image/png;base64,${png}`} alt="Current screen of the VM" className="max-h-64 w-auto rounded border border-zinc-200 dark:border-zinc-700" />;
}

function Overview({ d }: { d: VmDetails }) {
  const c = d.config;
  const running = isGuestUp(d.state);
  return (
    <div className="grid gap-4 p-4 lg:grid-cols-2">
      {d.crash && d.state === 'crashed' && (
        <div className="lg:col-span-2">
          <ErrorAlert
            title={`QEMU stopped unexpectedly ${formatWhen(d.crash.at)}`}
            error={{ code: 'QEMU_FAILED', message: `${d.crash.reason}${d.crash.stderrTail ? ` — ${d.crash.stderrTail.split('\n').slice(-3).join(' ')}` : ''}` }}
          />
        </div>
      )}
      {d.warnings.length > 0 && (
        <ul className="rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900 lg:col-span-2 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-100" aria-label="Warnings">
          {d.warnings.map((w) => (
            <li key={w}>{w}</li>
          ))}
        </ul>
      )}
      <Section title="System">
        <KV
          rows={[
            ['OS', d.os.name],
            ['CPUs', String(d.cpus)],
            ['Memory', formatMiB(d.memoryMiB)],
            ['Firmware', c ? `${c.system.firmware === 'uefi' ? 'UEFI' : 'BIOS'}${c.system.secureBoot ? ', Secure Boot' : ''}${c.system.tpm ? ', TPM 2.0' : ''}` : '—'],
            ['Machine', c ? `${c.system.machine} (${c.profile})` : '—'],
            ['Accelerator', d.runtime.accel ? `${d.runtime.accel.toUpperCase()}${d.runtime.accelReason ? ` — ${d.runtime.accelReason}` : ''}` : c ? `${c.system.accel} (when started)` : '—'],
            ['Display', c?.display.device ?? '—'],
            ['Created', formatWhen(d.createdAt)],
            ...(d.runtime.startedAt ? ([['Started', formatWhen(d.runtime.startedAt)]] as Array<[string, string]>) : []),
          ]}
        />
      </Section>
      <Section title="Screen">
        <Thumbnail vmId={d.id} running={running} />
      </Section>
      <Section title="Storage">
        {d.disks.length === 0 ? (
          <p className="text-sm text-zinc-600 dark:text-zinc-400">No disks.</p>
        ) : (
          <ul className="flex flex-col gap-1.5 text-sm">
            {d.disks.map((disk) => (
              <li key={disk.id} className="flex flex-wrap items-baseline gap-x-2">
                <span className="font-medium">{disk.id}</span>
                <span className="truncate font-mono text-xs" title={disk.path}>{basename(disk.path)}</span>
                <span className="text-zinc-600 dark:text-zinc-400">
                  {disk.format} · {disk.bus} · {formatBytes(disk.virtualSize)} ({formatBytes(disk.actualSize)} used)
                </span>
                {disk.error && <span className="w-full text-xs text-red-700 dark:text-red-400">{disk.error}</span>}
              </li>
            ))}
          </ul>
        )}
        <p className="mt-2 text-sm">
          <span className="text-zinc-600 dark:text-zinc-400">CD-ROM: </span>
          {c?.cdrom.iso ? <span className="font-mono text-xs" title={c.cdrom.iso}>{basename(c.cdrom.iso)}</span> : 'empty'}
        </p>
      </Section>
      <NetworkCard d={d} />
      <ClonesCard d={d} />
      <AgentCard d={d} />
      {c?.notes && (
        <Section title="Notes">
          <p className="text-sm whitespace-pre-wrap">{c.notes}</p>
        </Section>
      )}
    </div>
  );
}

export function DetailsPane({ vm, home }: { vm: VmSummary; /** the library, whose last tab is restored */ home: string | null }) {
  const client = useClient();
  const { details, error } = useVmDetails(vm.id, vm);
  const [tab, setTab] = useLastTab<Tab>(home, TABS, 'overview');
  const idBase = `details-${vm.id}`;

  return (
    <div className="flex min-h-0 flex-1 flex-col">
      <header className="flex items-center gap-3 px-4 pt-4 pb-3">
        <OsIcon family={vm.os.family} size={40} title={vm.os.name} />
        <div className="min-w-0">
          <h1 className="truncate text-lg font-semibold">{vm.name}</h1>
          <p className="flex items-center gap-2 text-sm text-zinc-600 dark:text-zinc-400">
            <StateBadge state={vm.state} broken={!!vm.broken} />
            {vm.os.name}
          </p>
        </div>
      </header>
      {vm.broken ? (
        <div className="p-4">
          <ErrorAlert title="This VM cannot be loaded" error={{ code: 'BROKEN_CONFIG', message: vm.broken }} />
        </div>
      ) : (
        <>
          <Tabs
            idBase={idBase}
            label="VM views"
            value={tab}
            onChange={setTab}
            tabs={[
              { id: 'overview', label: 'Overview' },
              { id: 'screen', label: 'Screen' },
              { id: 'console', label: 'Console' },
              { id: 'snapshots', label: 'Snapshots' },
              { id: 'performance', label: 'Performance' },
              { id: 'backups', label: 'Backups' },
            ]}
          />
          <div
            role="tabpanel"
            id={`${idBase}-panel-${tab}`}
            aria-labelledby={`${idBase}-tab-${tab}`}
            tabIndex={0}
            className="min-h-0 flex-1 overflow-y-auto"
          >
            {error && (
              <div className="p-4">
                <ErrorAlert error={error} />
              </div>
            )}
            {tab === 'overview' && details && <Overview d={details} />}
            {tab === 'snapshots' && <SnapshotsView vm={vm} config={details?.config} />}
            <Deferred>
              {tab === 'screen' && <DisplayView vmId={vm.id} client={client} vmName={vm.name} />}
              {tab === 'console' && <SerialConsole vmId={vm.id} client={client} />}
              {tab === 'performance' && <PerformanceView vmId={vm.id} running={isGuestUp(vm.state)} />}
              {tab === 'backups' && <BackupsView vm={vm} />}
            </Deferred>
          </div>
        </>
      )}
    </div>
  );
}
