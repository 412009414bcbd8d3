import { useCallback, useEffect, useMemo, useState } from 'react';
import type { ConnectionStatus } from '../api/client.ts';
import { useClient, useErrors } from '../api/context.tsx';
import { useHost, useJobs, useLibrary } from '../state/library.ts';
import { plural } from '../../../electron/shared/plural.ts';
import { countsAsRunning } from '../../../electron/shared/states.ts';
import { applyTheme, loadTheme, nextTheme, type ThemePref } from '../lib/theme.ts';
import { DetailsPane } from './Details.tsx';
import { HostPanel } from './HostPanel.tsx';
import { HostMeter } from './HostMeter.tsx';
import { JobsPanel } from './JobsPanel.tsx';
import { Sidebar } from './Sidebar.tsx';
import { Toolbar } from './Toolbar.tsx';
import { ImportApplianceDialog } from './appliance/ImportApplianceDialog.tsx';
import { useLastVm } from './useLastView.ts';
import { AutoThemeIcon, MoonIcon, SunIcon } from './icons.tsx';
import { Deferred, NewVmWizard, SettingsDialog } from './lazy.tsx';
import { Button, Dialog, ErrorAlert, cx } from './ui.tsx';

type Panel = null | 'host' | 'jobs';

const THEME_LABEL: Record<ThemePref, string> = { system: 'Theme: system', light: 'Theme: light', dark: 'Theme: dark' };

export function App({ status, epoch }: { status: ConnectionStatus; epoch: number }) {
  const client = useClient();
  const { errors, dismiss } = useErrors();
  const { vms, byId, loaded, loadError } = useLibrary(client, epoch);
  const jobs = useJobs(client, epoch);
  const { host, error: hostError, setHost } = useHost(client, epoch);
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [wizard, setWizard] = useState(false);
  const [settings, setSettings] = useState(false);
  const [importing, setImporting] = useState(false);
  const [panel, setPanel] = useState<Panel>(null);
  const [theme, setTheme] = useState<ThemePref>(loadTheme);

  useEffect(() => {
    applyTheme(theme);
    if (theme !== 'system') return;
    const mq = matchMedia('(prefers-color-scheme: dark)');
    const on = () => applyTheme('system');
    mq.addEventListener('change', on);
    return () => mq.removeEventListener('change', on);
  }, [theme]);

  const selected = selectedId ? (byId.get(selectedId) ?? null) : null;
  // A deleted VM's id may linger as the selection; it simply matches nothing. Clearing it
  // eagerly would also drop a just-created VM whose vm.changed event has not arrived yet.

  const names = useMemo(() => vms.map((v) => v.name), [vms]);
  const otherNames = useMemo(() => vms.filter((v) => v.id !== selectedId).map((v) => v.name), [vms, selectedId]);
  const running = jobs.filter((j) => j.state === 'running').length;
  const openNew = useCallback(() => setWizard(true), []);
  const vmExists = useCallback((id: string) => byId.has(id), [byId]);
  useLastVm(host?.home ?? null, loaded, vmExists, selectedId, setSelectedId);

  // Global shortcuts a desktop VM manager is expected to have.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (document.querySelector('[data-vireo-dialog]')) return;
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'n') {
        e.preventDefault();
        setWizard(true);
      }
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);

  const q = host?.qemu;
  return (
    <div className="flex h-full flex-col">
      <header className="flex items-center gap-3 border-b border-zinc-200 bg-zinc-50 px-4 py-2 dark:border-zinc-800 dark:bg-zinc-950">
        <span className="flex items-center gap-2 font-semibold">
          <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" className="text-accent-600">
            <path fill="currentColor" d="M3 5l9 15 9-15h-4l-5 8.5L7 5z" />
          </svg>
          Vireo
        </span>
        <span className="ml-auto" />
        {/* Import is a library action (an OVA, a VirtualBox machine, a Vireo bundle): beside Jobs, not among the VM's actions. */}
        <Button variant="ghost" onClick={() => setImporting(true)}>
          Import…
        </Button>
        <Button variant="ghost" aria-pressed={panel === 'jobs'} onClick={() => setPanel(panel === 'jobs' ? null : 'jobs')}>
          Jobs
          {running > 0 && <span className="rounded-full bg-accent-700 px-1.5 text-xs text-white" aria-label={`${running} running`}>{running}</span>}
        </Button>
        <Button variant="ghost" aria-pressed={panel === 'host'} onClick={() => setPanel(panel === 'host' ? null : 'host')}>
          Host
        </Button>
        <Button variant="ghost" onClick={() => setTheme(nextTheme(theme))} aria-label={`${THEME_LABEL[theme]}. Switch theme`} title={THEME_LABEL[theme]}>
          {theme === 'dark' ? <MoonIcon /> : theme === 'light' ? <SunIcon /> : <AutoThemeIcon />}
        </Button>
      </header>

      {status !== 'open' && (
        <div role="status" className="bg-amber-100 px-4 py-1.5 text-sm text-amber-900 dark:bg-amber-900 dark:text-amber-100">
          {status === 'connecting'
            ? 'Connecting to Vireo…'
            : status === 'refused'
              ? 'The Vireo server has changed: it was restarted with a new access token, so this page’s link no longer works. Open the new link that `vireo serve` printed when it started.'
              : 'Connection to Vireo lost; reconnecting…'}
        </div>
      )}
      {(errors.length > 0 || loadError) && (
        <div className="flex flex-col gap-2 px-4 pt-2" aria-label="Errors">
          {loadError && <ErrorAlert title="Could not load the VM library" error={loadError} />}
          {errors.map((e) => (
            <ErrorAlert key={e.key} title={e.title} error={e.error} onDismiss={() => dismiss(e.key)} />
          ))}
        </div>
      )}

      <div className="grid min-h-0 flex-1 grid-cols-[minmax(14rem,16rem)_1fr] xl:grid-cols-[minmax(16rem,20rem)_1fr]">
        <Sidebar vms={vms} loaded={loaded} selectedId={selectedId} onSelect={setSelectedId} onNew={openNew} home={host?.home ?? null} epoch={epoch} />
        <main className="flex min-h-0 min-w-0 flex-col" aria-label={selected ? `Details of ${selected.name}` : 'Overview'}>
          <Toolbar vm={selected} allNames={names} onNew={openNew} onSettings={() => setSettings(true)} />
          {selected ? (
            <DetailsPane key={selected.id} vm={selected} home={host?.home ?? null} />
          ) : (
            <div className="min-h-0 flex-1 overflow-y-auto p-4">
              <h1 className="mb-1 text-lg font-semibold">{vms.length ? 'Select a virtual machine' : 'Welcome to Vireo'}</h1>
              <p className="mb-4 text-sm text-zinc-600 dark:text-zinc-400">
                {vms.length ? 'Pick a VM in the library to see its details, screen and snapshots.' : 'Create your first VM from an installer ISO, an empty disk or an existing disk image.'}
              </p>
              {/* shown once: the Host dialog holds the same panel (and its landmarks) */}
              {panel !== 'host' && <HostPanel host={host} error={hostError} onHost={setHost} />}
            </div>
          )}
        </main>
      </div>

      <footer className="flex items-center gap-4 border-t border-zinc-200 bg-zinc-50 px-4 py-1 text-xs text-zinc-600 dark:border-zinc-800 dark:bg-zinc-950 dark:text-zinc-400" aria-label="Status">
        <span>{plural(vms.length, 'VM')} · {vms.filter((v) => countsAsRunning(v.state)).length} running</span>
        <HostMeter vms={vms} />
        <span className="ml-auto" data-testid="status-qemu">
          {q ? (q.found ? `QEMU ${q.version}` : 'QEMU not found') : ''}
        </span>
        <span data-testid="status-accel" title={host?.accel?.reason}>
          {host?.accel ? `Accelerator: ${host.accel.chosen.toUpperCase()}` : ''}
        </span>
      </footer>

      {panel && (
        <Dialog title={panel === 'host' ? 'Host' : 'Jobs'} onClose={() => setPanel(null)} wide={panel === 'host'}>
          {panel === 'host' ? <HostPanel host={host} error={hostError} onHost={setHost} /> : <JobsPanel jobs={jobs} />}
        </Dialog>
      )}
      <Deferred>
        {wizard && <NewVmWizard host={host} takenNames={names} onClose={() => setWizard(false)} onCreated={setSelectedId} />}
        {importing && <ImportApplianceDialog allNames={names} onClose={() => setImporting(false)} />}
        {settings && selected && <SettingsDialog vmId={selected.id} host={host} otherNames={otherNames} onClose={() => setSettings(false)} />}
      </Deferred>
      <span className={cx('sr-only')} aria-live="polite">{selected ? `${selected.name}: ${selected.state}` : ''}</span>
    </div>
  );
}
