import { useEffect, useMemo, useState, type ReactNode } from 'react';
import type { HostInfo, VmConfig, VmDetails } from '../../../electron/api/types.ts';
import { useClient } from '../api/context.tsx';
import { asWireError, type WireError } from '../api/client.ts';
import { MiB, formatBytes, formatMiB, readSize } from '../../../electron/shared/size.ts';
import { basename } from '../lib/format.ts';
import { fieldIssue, issuesByField } from '../lib/issues.ts';
import { nameProblem } from '../lib/names.ts';
import { diffPatch, parseArgLines } from '../lib/patch.ts';
import { FileBrowser } from './FileBrowser.tsx';
import { Button, Check, Dialog, ErrorAlert, Field, cx, inputClass } from './ui.tsx';

const SECTIONS = ['General', 'System', 'Disks', 'CD-ROM', 'Network', 'Display', 'Serial', 'Advanced'] as const;
type SectionName = (typeof SECTIONS)[number];

const NIC_MODELS = ['virtio-net-pci', 'e1000', 'e1000e', 'rtl8139', 'pcnet', 'ne2k_pci'] as const;
const DISPLAYS = ['virtio-vga', 'virtio-gpu-pci', 'std', 'cirrus', 'qxl', 'none'] as const;

/** Form-only values that are typed as text and converted on save. */
interface Extra {
  memory: string;
  extraArgs: string;
}

const SECTION_OF: Array<[RegExp, SectionName]> = [
  [/^(name|notes)/, 'General'],
  [/^(system|profile|os)/, 'System'],
  [/^disks/, 'Disks'],
  [/^cdrom/, 'CD-ROM'],
  [/^network/, 'Network'],
  [/^display/, 'Display'],
  [/^serial/, 'Serial'],
  [/^advanced/, 'Advanced'],
];

export function SettingsDialog({ vmId, host, otherNames, onClose }: { vmId: string; host: HostInfo | null; otherNames: string[]; onClose: () => void }) {
  const client = useClient();
  const [vm, setVm] = useState<VmDetails | null>(null);
  const [loadError, setLoadError] = useState<WireError | null>(null);
  const [cfg, setCfg] = useState<VmConfig | null>(null);
  const [extra, setExtra] = useState<Extra>({ memory: '', extraArgs: '' });
  const [section, setSection] = useState<SectionName>('General');
  const [saveError, setSaveError] = useState<WireError | null>(null);
  const [saving, setSaving] = useState(false);
  const [browse, setBrowse] = useState(false);

  useEffect(() => {
    let live = true;
    client.call('vms.get', { vm: vmId }).then(
      (d) => {
        if (!live) return;
        setVm(d);
        if (d.config) {
          setCfg(structuredClone(d.config));
          const m = d.config.system.memoryMiB;
          setExtra({ memory: m % 1024 === 0 ? `${m / 1024}G` : `${m}M`, extraArgs: d.config.advanced.extraArgs.join('\n') });
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

  const running = !!vm && vm.state !== 'stopped' && vm.state !== 'crashed';
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

  // Inline checks before anything is sent; the engine re-checks everything anyway.
  const local = useMemo(() => {
    const e = new Map<string, string>();
    if (!cfg) return e;
    const np = nameProblem(cfg.name, otherNames);
    if (np) e.set('name', np);
    if (!Number.isInteger(cfg.system.cpus) || cfg.system.cpus < 1) e.set('system.cpus', 'Give at least 1 CPU.');
    else if (cfg.system.cpus > hostCpus) e.set('system.cpus', `This host has ${hostCpus} CPUs: give at most ${hostCpus}.`);
    const mem = readSize(extra.memory, 'M');
    if ('error' in mem) e.set('system.memoryMiB', `Memory: ${mem.error}`);
    else if (mem.bytes < 16 * MiB) e.set('system.memoryMiB', 'Memory must be at least 16 MiB.');
    else if (mem.bytes > hostMem) e.set('system.memoryMiB', `Memory ${formatBytes(mem.bytes)} is more than this host has (${formatBytes(hostMem)}).`);
    if (cfg.system.secureBoot && cfg.system.firmware !== 'uefi') e.set('system.secureBoot', 'Secure Boot needs UEFI firmware.');
    const seen = new Set<string>();
    cfg.network.portForwards.forEach((p, i) => {
      if (!(p.hostPort >= 1 && p.hostPort <= 65535)) e.set(`network.portForwards.${i}.hostPort`, 'Host port must be 1–65535.');
      if (!(p.guestPort >= 1 && p.guestPort <= 65535)) e.set(`network.portForwards.${i}.guestPort`, 'Guest port must be 1–65535.');
      const key = `${p.protocol}:${p.hostAddress}:${p.hostPort}`;
      if (seen.has(key)) e.set(`network.portForwards.${i}.hostPort`, `Host port ${p.hostPort}/${p.protocol} is already forwarded.`);
      seen.add(key);
    });
    return e;
  }, [cfg, extra.memory, otherNames, hostCpus, hostMem]);

  const server = useMemo(() => {
    // The engine's issue paths name the patch ("patch.system.cpus") or the config ("system.cpus").
    const m = issuesByField(saveError, 'patch.');
    return m;
  }, [saveError]);

  const issue = (path: string) => local.get(path) ?? fieldIssue(server, path);
  const sectionHasIssue = (s: SectionName) =>
    [...local.keys(), ...server.keys()].some((p) => SECTION_OF.find(([re]) => re.test(p))?.[1] === s);

  const edited = useMemo(() => {
    if (!cfg) return null;
    const mem = readSize(extra.memory, 'M');
    const n = structuredClone(cfg);
    if ('bytes' in mem) n.system.memoryMiB = Math.round(mem.bytes / MiB);
    n.advanced.extraArgs = parseArgLines(extra.extraArgs);
    n.name = n.name.trim();
    return n;
  }, [cfg, extra]);
  const patch = vm?.config && edited ? diffPatch(vm.config, edited) : undefined;

  const save = async () => {
    if (local.size) {
      const first = [...local.keys()][0]!;
      setSection(SECTION_OF.find(([re]) => re.test(first))?.[1] ?? section);
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
      const s = first ? SECTION_OF.find(([re]) => re.test(first))?.[1] : undefined;
      if (s) setSection(s);
      setSaving(false);
    }
  };

  const changeMedia = async (iso: string | null) => {
    try {
      const d = await client.call('vms.changeMedia', { vm: vmId, iso });
      setVm(d);
      edit((c) => {
        c.cdrom.iso = iso;
      });
      // The engine saved it: the baseline moves too, so it is not sent again as a change.
      setVm((v) => (v && v.config ? { ...v, config: { ...v.config, cdrom: { ...v.config.cdrom, iso } } } : v));
    } catch (e) {
      setSaveError(asWireError(e));
    }
  };

  let body: ReactNode;
  if (loadError) body = <ErrorAlert error={loadError} />;
  else if (vm && !cfg) body = <ErrorAlert error={{ code: 'BROKEN_CONFIG', message: vm.broken ?? 'The configuration could not be read.' }} />;
  else if (!cfg) body = <p className="text-sm">Loading…</p>;
  else {
    const c = cfg;
    const fwUnavailable = host && host.firmware.length === 0 ? 'No UEFI firmware (OVMF) on this host.' : null;
    body = (
      <div className="flex flex-col gap-4">
        {running && (
          <p className="rounded-md border border-sky-300 bg-sky-50 px-3 py-2 text-sm text-sky-900 dark:border-sky-800 dark:bg-sky-950 dark:text-sky-100">
            The VM is {vm?.state}: hardware settings are locked until it stops. The name, notes and CD-ROM can change now.
          </p>
        )}
        {section === 'General' && (
          <>
            <Field label="Name" error={issue('name')}>
              {(p) => <input {...p} data-autofocus className={inputClass} value={c.name} onChange={(e) => edit((n) => void (n.name = e.target.value))} />}
            </Field>
            <Field label="Notes" error={issue('notes')}>
              {(p) => <textarea {...p} rows={5} className={inputClass} value={c.notes} maxLength={10000} onChange={(e) => edit((n) => void (n.notes = e.target.value))} />}
            </Field>
          </>
        )}
        {section === 'System' && (
          <>
            <div className="grid gap-4 sm:grid-cols-2">
              <Field label={`CPUs (host has ${hostCpus})`} error={issue('system.cpus')} hint={lock ?? undefined}>
                {(p) => <input {...p} type="number" min={1} max={hostCpus} disabled={!!lock} title={lock ?? undefined} className={inputClass} value={c.system.cpus} onChange={(e) => edit((n) => void (n.system.cpus = Number(e.target.value)))} />}
              </Field>
              <Field label={`Memory (host has ${formatBytes(host?.memoryBytes ?? null)})`} error={issue('system.memoryMiB')} hint={lock ?? `Now ${formatMiB(vm?.config?.system.memoryMiB ?? 0)}`}>
                {(p) => <input {...p} disabled={!!lock} title={lock ?? undefined} className={inputClass} value={extra.memory} onChange={(e) => setExtra((x) => ({ ...x, memory: e.target.value }))} />}
              </Field>
              <Field label="Firmware" error={issue('system.firmware')}>
                {(p) => (
                  <select {...p} disabled={!!lock} title={lock ?? undefined} className={inputClass} value={c.system.firmware} onChange={(e) => edit((n) => {
                    n.system.firmware = e.target.value as 'bios' | 'uefi';
                    if (n.system.firmware === 'bios') n.system.secureBoot = false;
                  })}>
                    <option value="bios">BIOS (SeaBIOS)</option>
                    <option value="uefi" disabled={!!fwUnavailable}>UEFI (OVMF){fwUnavailable ? ' — not installed' : ''}</option>
                  </select>
                )}
              </Field>
              <Field label="Accelerator" error={issue('system.accel')} hint={host?.accel ? `Auto picks ${host.accel.chosen.toUpperCase()} here: ${host.accel.reason}` : undefined}>
                {(p) => (
                  <select {...p} disabled={!!lock} title={lock ?? undefined} className={inputClass} value={c.system.accel} onChange={(e) => edit((n) => void (n.system.accel = e.target.value as VmConfig['system']['accel']))}>
                    <option value="auto">Automatic</option>
                    {(['kvm', 'hvf', 'whpx', 'tcg'] as const).map((a) => (
                      <option key={a} value={a}>{a.toUpperCase()}{a === 'tcg' ? ' (emulation)' : ''}</option>
                    ))}
                  </select>
                )}
              </Field>
            </div>
            <Check label="Secure Boot" checked={c.system.secureBoot} disabled={!!lock || c.system.firmware !== 'uefi'} hint={issue('system.secureBoot') ?? lock ?? (c.system.firmware !== 'uefi' ? 'Needs UEFI firmware.' : undefined)} onChange={(v) => edit((n) => void (n.system.secureBoot = v))} />
            <Check label="TPM 2.0" checked={c.system.tpm} disabled={!!lock || (!host?.tpm.available && !c.system.tpm)} hint={issue('system.tpm') ?? lock ?? (host && !host.tpm.available ? `Unavailable: ${host.tpm.reason ?? 'swtpm not found'}` : undefined)} onChange={(v) => edit((n) => void (n.system.tpm = v))} />
            <Check label="Guest clock in local time" checked={c.system.rtcLocalTime} disabled={!!lock} hint={lock ?? 'For Windows and DOS guests.'} onChange={(v) => edit((n) => void (n.system.rtcLocalTime = v))} />
          </>
        )}
        {section === 'Disks' && (
          <ul className="flex flex-col gap-2 text-sm">
            {vm!.disks.length === 0 && <li>No disks.</li>}
            {vm!.disks.map((d) => (
              <li key={d.id} className="rounded-md border border-zinc-200 p-2 dark:border-zinc-700">
                <p className="font-medium">{d.id} <span className="font-normal text-zinc-600 dark:text-zinc-400">· {d.format} · {d.bus}</span></p>
                <p className="font-mono text-xs break-all">{d.path}</p>
                <p className="text-xs text-zinc-600 dark:text-zinc-400">{formatBytes(d.virtualSize)} virtual, {formatBytes(d.actualSize)} on disk</p>
                {d.error && <p className="text-xs text-red-700 dark:text-red-400">{d.error}</p>}
              </li>
            ))}
            <li className="text-xs text-zinc-600 dark:text-zinc-400">Adding and resizing disks comes in a later version; use the CLI (`vireo disk`) meanwhile.</li>
          </ul>
        )}
        {section === 'CD-ROM' && (
          <>
            <Field label="ISO image" error={issue('cdrom.iso')} hint={running ? 'Changes apply to the running VM at once.' : 'Empty means no disc in the drive.'}>
              {(p) => (
                <div className="flex gap-2">
                  <input {...p} readOnly={running} className={cx(inputClass, 'font-mono')} value={c.cdrom.iso ?? ''} placeholder="empty" onChange={(e) => edit((n) => void (n.cdrom.iso = e.target.value.trim() ? e.target.value : null))} />
                  <Button onClick={() => setBrowse((b) => !b)} aria-expanded={browse}>Browse…</Button>
                  <Button disabledReason={c.cdrom.iso ? null : 'The drive is already empty.'} onClick={() => (running ? void changeMedia(null) : edit((n) => void (n.cdrom.iso = null)))}>
                    Eject
                  </Button>
                </div>
              )}
            </Field>
            {browse && (
              <FileBrowser
                filter="iso"
                onCancel={() => setBrowse(false)}
                onPick={(path) => {
                  setBrowse(false);
                  if (running) void changeMedia(path);
                  else edit((n) => void (n.cdrom.iso = path));
                }}
              />
            )}
            {c.cdrom.iso && <p className="text-xs text-zinc-600 dark:text-zinc-400">In the drive: {basename(c.cdrom.iso)}</p>}
          </>
        )}
        {section === 'Network' && (
          <>
            <div className="grid gap-4 sm:grid-cols-2">
              <Field label="Mode" error={issue('network.mode')} hint={lock ?? undefined}>
                {(p) => (
                  <select {...p} disabled={!!lock} className={inputClass} value={c.network.mode} onChange={(e) => edit((n) => void (n.network.mode = e.target.value as 'user' | 'none'))}>
                    <option value="user">NAT (user networking)</option>
                    <option value="none">Not connected</option>
                  </select>
                )}
              </Field>
              <Field label="Adapter model" error={issue('network.model')}>
                {(p) => (
                  <select {...p} disabled={!!lock} className={inputClass} value={c.network.model} onChange={(e) => edit((n) => void (n.network.model = e.target.value as VmConfig['network']['model']))}>
                    {NIC_MODELS.map((m) => <option key={m} value={m}>{m}</option>)}
                  </select>
                )}
              </Field>
            </div>
            <fieldset className="flex flex-col gap-2" disabled={!!lock || c.network.mode !== 'user'}>
              <legend className="mb-1 text-xs font-medium text-zinc-700 dark:text-zinc-300">
                Port forwards {c.network.mode !== 'user' ? '(need NAT mode)' : ''}
              </legend>
              {c.network.portForwards.length === 0 && <p className="text-sm text-zinc-600 dark:text-zinc-400">None. Add one to reach a guest service (e.g. SSH on 22) from this host.</p>}
              {c.network.portForwards.map((pf, i) => (
                <div key={i} className="grid grid-cols-[5rem_1fr_6rem_6rem_auto] items-start gap-2">
                  <select aria-label={`Protocol of forward ${i + 1}`} className={inputClass} value={pf.protocol} onChange={(e) => edit((n) => void (n.network.portForwards[i]!.protocol = e.target.value as 'tcp' | 'udp'))}>
                    <option value="tcp">TCP</option>
                    <option value="udp">UDP</option>
                  </select>
                  <input aria-label={`Host address of forward ${i + 1}`} className={inputClass} value={pf.hostAddress} onChange={(e) => edit((n) => void (n.network.portForwards[i]!.hostAddress = e.target.value))} />
                  <div>
                    <input aria-label={`Host port of forward ${i + 1}`} type="number" min={1} max={65535} aria-invalid={!!issue(`network.portForwards.${i}.hostPort`) || undefined} className={inputClass} value={pf.hostPort || ''} onChange={(e) => edit((n) => void (n.network.portForwards[i]!.hostPort = Number(e.target.value)))} />
                  </div>
                  <div>
                    <input aria-label={`Guest port of forward ${i + 1}`} type="number" min={1} max={65535} aria-invalid={!!issue(`network.portForwards.${i}.guestPort`) || undefined} className={inputClass} value={pf.guestPort || ''} onChange={(e) => edit((n) => void (n.network.portForwards[i]!.guestPort = Number(e.target.value)))} />
                  </div>
                  <Button aria-label={`Remove forward ${i + 1}`} onClick={() => edit((n) => void n.network.portForwards.splice(i, 1))}>Remove</Button>
                  {(issue(`network.portForwards.${i}.hostPort`) ?? issue(`network.portForwards.${i}.guestPort`)) && (
                    <p role="alert" className="col-span-5 text-xs text-red-700 dark:text-red-400">{issue(`network.portForwards.${i}.hostPort`) ?? issue(`network.portForwards.${i}.guestPort`)}</p>
                  )}
                </div>
              ))}
              <div>
                <Button disabledReason={lock ?? (c.network.mode !== 'user' ? 'Port forwards need NAT mode.' : null)} onClick={() => edit((n) => void n.network.portForwards.push({ protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: 0, guestPort: 0 }))}>
                  Add port forward
                </Button>
              </div>
            </fieldset>
          </>
        )}
        {section === 'Display' && (
          <Field label="Display device" error={issue('display.device')} hint={lock ?? 'std works everywhere; virtio-vga is faster with a driver in the guest.'}>
            {(p) => (
              <select {...p} disabled={!!lock} className={inputClass} value={c.display.device} onChange={(e) => edit((n) => void (n.display.device = e.target.value as VmConfig['display']['device']))}>
                {DISPLAYS.map((d) => <option key={d} value={d}>{d}</option>)}
              </select>
            )}
          </Field>
        )}
        {section === 'Serial' && (
          <Check label="Serial console" checked={c.serial.enabled} disabled={!!lock} hint={issue('serial.enabled') ?? lock ?? 'A serial port shown in the Console tab and logged to a file.'} onChange={(v) => edit((n) => void (n.serial.enabled = v))} />
        )}
        {section === 'Advanced' && (
          <Field label="Extra QEMU arguments, one per line" error={issue('advanced.extraArgs')} hint={lock ?? 'Appended last. Each line is one argument: write "-device" and "usb-tablet" on two lines.'}>
            {(p) => <textarea {...p} disabled={!!lock} rows={6} className={cx(inputClass, 'font-mono')} value={extra.extraArgs} onChange={(e) => setExtra((x) => ({ ...x, extraArgs: e.target.value }))} />}
          </Field>
        )}
        {saveError && issuesByField(saveError, 'patch.').size === 0 && <ErrorAlert error={saveError} title="Settings were not saved" />}
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
