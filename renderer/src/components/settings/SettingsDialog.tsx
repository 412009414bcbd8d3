import { useEffect, useMemo, useState, type ComponentType, type ReactNode } from 'react';
import type { HostInfo, VmConfig, VmDetails } from '../../../../electron/api/types.ts';
import { isInactive } from '../../../../electron/shared/states.ts';
import { useClient } from '../../api/context.tsx';
import { asWireError, type WireError } from '../../api/client.ts';
import { fieldIssue, issuesByField } from '../../lib/issues.ts';
import { diffPatch, parseArgLines } from '../../lib/patch.ts';
import { SECTIONS, applyExtra, checkSettings, extraFor, sectionOf, type SectionName, type SettingsExtra } from '../../lib/settings.ts';
import { Button, Dialog, ErrorAlert, cx } from '../ui.tsx';
import { AdvancedSection } from './AdvancedSection.tsx';
import { BootSection } from './BootSection.tsx';
import { CdromSection } from './CdromSection.tsx';
import { DevicesSection } from './DevicesSection.tsx';
import { DisksSection } from './DisksSection.tsx';
import { DisplaySection } from './DisplaySection.tsx';
import { GeneralSection } from './GeneralSection.tsx';
import { NetworkSection } from './NetworkSection.tsx';
import { SerialSection } from './SerialSection.tsx';
import { SharesSection } from './SharesSection.tsx';
import { SoundSection } from './SoundSection.tsx';
import { SystemSection } from './SystemSection.tsx';
import { UsbSection } from './UsbSection.tsx';
import { LimitsSection } from './LimitsSection.tsx';
import type { SectionProps } from './types.ts';

// The settings dialog owns the edited copy of the config, the checks and the save; each
// section (one component per file here) only shows and edits its part.

const VIEW: Record<SectionName, ComponentType<SectionProps>> = {
  General: GeneralSection,
  System: SystemSection,
  Disks: DisksSection,
  'CD-ROM': CdromSection,
  Boot: BootSection,
  Network: NetworkSection,
  Display: DisplaySection,
  Sound: SoundSection,
  Devices: DevicesSection,
  USB: UsbSection,
  'Shared folders': SharesSection,
  Serial: SerialSection,
  Resources: LimitsSection,
  Advanced: AdvancedSection,
};

export function SettingsDialog({ vmId, host, otherNames, onClose }: { vmId: string; host: HostInfo | null; otherNames: string[]; onClose: () => void }) {
  const client = useClient();
  const [vm, setVm] = useState<VmDetails | null>(null);
  const [loadError, setLoadError] = useState<WireError | null>(null);
  const [cfg, setCfg] = useState<VmConfig | null>(null);
  const [extra, setExtra] = useState<SettingsExtra>({ memory: '', extraArgs: '' });
  const [section, setSection] = useState<SectionName>('General');
  const [saveError, setSaveError] = useState<WireError | null>(null);
  const [saving, setSaving] = useState(false);

  useEffect(() => {
    let live = true;
    client.call('vms.get', { vm: vmId }).then(
      (d) => {
        if (!live) return;
        setVm(d);
        if (d.config) {
          setCfg(structuredClone(d.config));
          setExtra(extraFor(d.config));
        }
      },
      (e) => live && setLoadError(asWireError(e)),
    );
    // Keep the running state current so locked fields lock and unlock live.
    const off = client.on('vm.state', (p) => p.id === vmId && setVm((v) => (v ? { ...v, state: p.state } : v)));
    return () => {
      live = false;
      off();
    };
  }, [client, vmId]);

  const running = !!vm && !isInactive(vm.state);
  const lock = running ? `Stop the VM to change this (it is ${vm?.state}).` : null;
  const hostMem = host?.memoryBytes ?? Infinity;
  const hostCpus = host?.cpus ?? 512;

  const edit = (f: (c: VmConfig) => void) =>
    setCfg((c) => {
      if (!c) return c;
      const n = structuredClone(c);
      f(n);
      return n;
    });

  const local = useMemo(
    () => (cfg ? checkSettings(cfg, extra, { otherNames, hostCpus, hostMemoryBytes: hostMem }) : new Map<string, string>()),
    [cfg, extra, otherNames, hostCpus, hostMem],
  );
  // The engine's issue paths name the patch ("patch.system.cpus") or the config ("system.cpus").
  const server = useMemo(() => issuesByField(saveError, 'patch.'), [saveError]);
  const issue = (path: string) => local.get(path) ?? fieldIssue(server, path);
  const sectionHasIssue = (s: SectionName) => [...local.keys(), ...server.keys()].some((p) => sectionOf(p) === s);

  const edited = useMemo(() => (cfg ? applyExtra(cfg, extra, parseArgLines) : null), [cfg, extra]);
  const patch = vm?.config && edited ? diffPatch(vm.config, edited) : undefined;

  const save = async () => {
    if (local.size) {
      setSection(sectionOf([...local.keys()][0]!) ?? section);
      return;
    }
    if (!patch) return onClose();
    setSaving(true);
    setSaveError(null);
    try {
      await client.call('vms.update', { vm: vmId, patch });
      onClose();
    } catch (e) {
      const w = asWireError(e);
      setSaveError(w);
      const first = [...issuesByField(w, 'patch.').keys()][0];
      const s = first ? sectionOf(first) : undefined;
      if (s) setSection(s);
      setSaving(false);
    }
  };

  const changeMedia = async (iso: string | null) => {
    try {
      const d = await client.call('vms.changeMedia', { vm: vmId, iso });
      setVm(d);
      edit((c) => void (c.cdrom.iso = iso));
      // The engine saved it: the baseline moves too, so it is not sent again as a change.
      setVm((v) => (v && v.config ? { ...v, config: { ...v.config, cdrom: { ...v.config.cdrom, iso } } } : v));
    } catch (e) {
      setSaveError(asWireError(e));
    }
  };

  let body: ReactNode;
  if (loadError) body = <ErrorAlert error={loadError} />;
  else if (vm && !cfg) body = <ErrorAlert error={{ code: 'BROKEN_CONFIG', message: vm.broken ?? 'The configuration could not be read.' }} />;
  else if (!cfg || !vm) body = <p className="text-sm">Loading…</p>;
  else {
    const View = VIEW[section];
    body = (
      <div className="flex flex-col gap-4">
        {running && (
          <p className="rounded-md border border-sky-300 bg-sky-50 px-3 py-2 text-sm text-sky-900 dark:border-sky-800 dark:bg-sky-950 dark:text-sky-100">
            The VM is {vm.state}: hardware settings are locked until it stops. The name, notes and CD-ROM can change now.
          </p>
        )}
        <View cfg={cfg} edit={edit} extra={extra} setExtra={setExtra} issue={issue} lock={lock} running={running} host={host} vm={vm} changeMedia={changeMedia} />
        {saveError && server.size === 0 && <ErrorAlert error={saveError} title="Settings were not saved" />}
      </div>
    );
  }

  return (
    <Dialog
      title={`Settings — ${vm?.name ?? ''}`}
      onClose={onClose}
      wide
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button variant="primary" disabledReason={saving ? 'Saving…' : !cfg ? 'Nothing to save.' : null} onClick={() => void save()}>
            {patch ? 'Save' : 'Close'}
          </Button>
        </>
      }
    >
      <div className="grid gap-4 sm:grid-cols-[10rem_1fr]">
        <nav aria-label="Settings sections">
          <ul className="flex flex-row flex-wrap gap-1 sm:flex-col">
            {SECTIONS.map((s) => (
              <li key={s}>
                <button
                  type="button"
                  aria-current={section === s ? 'page' : undefined}
                  onClick={() => setSection(s)}
                  className={cx(
                    'flex w-full items-center justify-between rounded px-2 py-1 text-left text-sm',
                    section === s ? 'bg-accent-100 font-medium dark:bg-accent-900' : 'hover:bg-zinc-100 dark:hover:bg-zinc-800',
                  )}
                >
                  {s}
                  {sectionHasIssue(s) && <span className="text-red-700 dark:text-red-400" aria-label="has problems">●</span>}
                </button>
              </li>
            ))}
          </ul>
        </nav>
        <form noValidate onSubmit={(e) => (e.preventDefault(), void save())} aria-label={`${section} settings`}>
          {body}
        </form>
      </div>
    </Dialog>
  );
}
