import { useEffect, useId, useMemo, useRef, useState } from 'react';
import type { DetectResult, HostInfo, Job, OsEntry } from '../../../electron/api/types.ts';
import { useClient } from '../api/context.tsx';
import { asWireError, type WireError } from '../api/client.ts';
import { formatBytes, formatMiB, readSize } from '../../../electron/shared/size.ts';
import { issuesByField } from '../lib/issues.ts';
import { suggestName } from '../lib/names.ts';
import { checkWizard, createArgs, defaultsFor, hasErrors, type Field as WField, type Source, type WizardForm } from '../lib/wizard.ts';
import { FileBrowser } from './FileBrowser.tsx';
import { OsIcon } from './OsIcon.tsx';
import { Button, Check, Dialog, ErrorAlert, Field, Progress, cx, inputClass } from './ui.tsx';

const STEPS = ['Source', 'System', 'Hardware', 'Summary'] as const;
type Step = 0 | 1 | 2 | 3;

const STEP_FIELDS: Record<Step, WField[]> = {
  0: ['iso', 'importDisk'],
  1: ['name'],
  2: ['cpus', 'memory', 'disk', 'firmware', 'secureBoot', 'tpm'],
  3: [],
};

const fieldStep = (f: string): Step => (Object.entries(STEP_FIELDS).find(([, fs]) => fs.includes(f as WField))?.[0] ?? 3) as unknown as Step;

/** A searchable select over os.list (combobox + listbox pattern). */
function OsPicker({ oses, value, onChange }: { oses: OsEntry[]; value: OsEntry | null; onChange: (o: OsEntry | null) => void }) {
  const [query, setQuery] = useState('');
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const id = useId();
  const shown = useMemo(() => {
    const words = query.toLowerCase().split(/\s+/).filter(Boolean);
    const hits = oses.filter((o) => {
      const hay = `${o.name} ${o.id} ${o.family} ${o.vendor ?? ''}`.toLowerCase();
      return words.every((w) => hay.includes(w));
    });
    return hits.slice(0, 50);
  }, [oses, query]);
  const pick = (o: OsEntry | null) => {
    onChange(o);
    setOpen(false);
    setQuery('');
  };
  return (
    <div className="relative">
      <label htmlFor={`${id}-in`} className="text-xs font-medium text-zinc-700 dark:text-zinc-300">
        Operating system
      </label>
      <input
        id={`${id}-in`}
        role="combobox"
        aria-expanded={open}
        aria-controls={`${id}-list`}
        aria-autocomplete="list"
        aria-activedescendant={open && shown[active] ? `${id}-opt-${active}` : undefined}
        className={cx(inputClass, 'mt-1')}
        placeholder={value ? value.name : 'Search, e.g. "debian" or "windows 11"'}
        value={query}
        onChange={(e) => {
          setQuery(e.target.value);
          setOpen(true);
          setActive(0);
        }}
        onFocus={() => setOpen(true)}
        onBlur={() => setTimeout(() => setOpen(false), 150)}
        onKeyDown={(e) => {
          if (e.key === 'ArrowDown') {
            e.preventDefault();
            setOpen(true);
            setActive((a) => Math.min(shown.length - 1, a + 1));
          } else if (e.key === 'ArrowUp') {
            e.preventDefault();
            setActive((a) => Math.max(0, a - 1));
          } else if (e.key === 'Enter' && open && shown[active]) {
            e.preventDefault();
            pick(shown[active]!);
          } else if (e.key === 'Escape' && open) {
            e.stopPropagation();
            e.nativeEvent.stopImmediatePropagation();
            setOpen(false);
          }
        }}
      />
      {open && (
        <ul
          id={`${id}-list`}
          role="listbox"
          aria-label="Operating systems"
          className="absolute z-50 mt-1 max-h-60 w-full overflow-y-auto rounded-md border border-zinc-200 bg-white py-1 shadow-lg dark:border-zinc-700 dark:bg-zinc-800"
        >
          {shown.length === 0 && <li className="px-3 py-1.5 text-sm text-zinc-600 dark:text-zinc-400">No OS matches.</li>}
          {shown.map((o, i) => (
            <li
              key={o.id}
              id={`${id}-opt-${i}`}
              role="option"
              aria-selected={i === active}
              onMouseDown={(e) => (e.preventDefault(), pick(o))}
              className={cx('flex cursor-default items-center gap-2 px-3 py-1.5 text-sm', i === active && 'bg-zinc-100 dark:bg-zinc-700')}
            >
              <OsIcon family={o.family} size={18} />
              {o.name}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function NewVmWizard({ host, takenNames, onClose, onCreated }: {
  host: HostInfo | null;
  takenNames: string[];
  onClose: () => void;
  onCreated: (id: string) => void;
}) {
  const client = useClient();
  const hostCpus = host?.cpus ?? 1;
  const hostMem = host?.memoryBytes ?? 1024 ** 3;
  const [step, setStep] = useState<Step>(0);
  const [form, setForm] = useState<WizardForm>(() => ({
    source: 'iso', iso: '', importDisk: '', name: suggestName('New VM', takenNames), start: false,
    ...defaultsFor(null, hostCpus, hostMem),
  }));
  const [nameEdited, setNameEdited] = useState(false);
  const [os, setOs] = useState<OsEntry | null>(null);
  const [detect, setDetect] = useState<DetectResult | null>(null);
  const [detecting, setDetecting] = useState(false);
  const [browse, setBrowse] = useState(false);
  const [oses, setOses] = useState<OsEntry[]>([]);
  const [touched, setTouched] = useState<Set<WField>>(new Set());
  const [serverErrors, setServerErrors] = useState<Map<string, string>>(new Map());
  const [createError, setCreateError] = useState<WireError | null>(null);
  const [creating, setCreating] = useState(false);
  const [job, setJob] = useState<Job | null>(null);
  const submittedAt = useRef<string | null>(null);

  useEffect(() => {
    client.call('os.list', {}).then(setOses, () => undefined);
  }, [client]);

  // Progress of our create/import job: the first such job that starts after we submitted.
  useEffect(
    () =>
      client.on('job.update', (j) => {
        if (!submittedAt.current || !['create', 'import', 'convert'].includes(j.kind)) return;
        if (j.startedAt < submittedAt.current) return;
        setJob((cur) => (cur && cur.id !== j.id ? cur : j));
      }),
    [client],
  );

  const check = useMemo(
    () => checkWizard(form, { hostCpus, hostMemoryBytes: hostMem, taken: takenNames, os, tpmAvailable: host?.tpm.available ?? false }),
    [form, hostCpus, hostMem, takenNames, os, host],
  );

  const set = <K extends keyof WizardForm>(k: K, v: WizardForm[K]) => {
    setForm((f) => ({ ...f, [k]: v }));
    setTouched((t) => new Set(t).add(k as WField));
    setServerErrors((m) => {
      if (!m.has(k as string)) return m;
      const n = new Map(m);
      n.delete(k as string);
      return n;
    });
  };

  const chooseOs = (o: OsEntry | null) => {
    setOs(o);
    const d = defaultsFor(o, hostCpus, hostMem);
    setForm((f) => ({
      ...f,
      ...d,
      name: nameEdited ? f.name : suggestName(o?.name ?? 'New VM', takenNames),
    }));
  };

  const err = (f: WField) => serverErrors.get(f) ?? (touched.has(f) ? check.errors[f] : undefined);
  const warn = (f: WField) => check.warnings[f];

  // An engine message about the ISO path stops counting once the user picks another source.
  const relevant = (f: WField) => (f !== 'iso' || form.source === 'iso') && (f !== 'importDisk' || form.source === 'import');
  const stepHasErrors = (s: Step) => STEP_FIELDS[s].some((f) => relevant(f) && (check.errors[f] || serverErrors.has(f)));

  const next = async () => {
    // Reveal every message on this step; stay here while any is an error.
    setTouched((t) => new Set([...t, ...STEP_FIELDS[step]]));
    if (stepHasErrors(step)) return;
    if (step === 0 && form.source === 'iso') {
      setDetecting(true);
      try {
        const r = await client.call('os.detect', { path: form.iso.trim() });
        setDetect(r);
        if (r.status === 'detected') {
          const { status: _s, arch: _a, build: _b, iso: _i, ...entry } = r;
          chooseOs(entry);
        } else {
          chooseOs(null);
        }
      } catch (e) {
        // A file that is not an ISO (or is missing) is an inline error on the path field.
        setServerErrors((m) => new Map(m).set('iso', asWireError(e).message));
        setDetecting(false);
        return;
      }
      setDetecting(false);
    }
    if (step === 0 && form.source !== 'iso') setDetect(null);
    setStep((s) => Math.min(3, s + 1) as Step);
  };

  const create = async () => {
    setTouched(new Set(Object.values(STEP_FIELDS).flat()));
    if (hasErrors(check)) {
      const first = Object.keys(check.errors)[0]!;
      setStep(fieldStep(first));
      return;
    }
    setCreating(true);
    setCreateError(null);
    submittedAt.current = new Date(Date.now() - 2000).toISOString();
    try {
      const vm = await client.call('vms.create', createArgs(form, os?.id ?? null));
      onCreated(vm.id);
      onClose();
    } catch (e) {
      const w = asWireError(e);
      const byField = issuesByField(w);
      const mapped = new Map<string, string>();
      for (const [p, m] of byField) if (p in check.errors || STEP_FIELDS[0].concat(STEP_FIELDS[1], STEP_FIELDS[2]).includes(p as WField)) mapped.set(p, m);
      if (w.code === 'ALREADY_EXISTS') mapped.set('name', w.message);
      if (mapped.size) {
        setServerErrors(mapped);
        setStep(fieldStep([...mapped.keys()][0]!));
      } else {
        setCreateError(w);
      }
      setCreating(false);
      setJob(null);
      submittedAt.current = null;
    }
  };

  const mem = readSize(form.memory, 'M');
  const disk = readSize(form.disk, 'G');
  const sourceLabel: Record<Source, string> = { iso: 'Install from an ISO image', empty: 'No ISO (empty disk)', import: 'Import an existing disk' };

  return (
    <Dialog
      title="New virtual machine"
      onClose={creating ? () => undefined : onClose}
      wide
      footer={
        <>
          <span className="mr-auto text-xs text-zinc-600 dark:text-zinc-400">
            Step {step + 1} of {STEPS.length}
          </span>
          <Button onClick={onClose} disabledReason={creating ? 'Creating the VM…' : null}>Cancel</Button>
          <Button disabledReason={step === 0 ? 'This is the first step.' : creating ? 'Creating the VM…' : null} onClick={() => setStep((s) => Math.max(0, s - 1) as Step)}>
            Back
          </Button>
          {step < 3 ? (
            <Button variant="primary" disabledReason={detecting ? 'Detecting the OS…' : null} onClick={() => void next()}>
              {detecting ? 'Detecting…' : 'Next'}
            </Button>
          ) : (
            <Button variant="primary" disabledReason={creating ? 'Creating the VM…' : null} onClick={() => void create()}>
              {creating ? 'Creating…' : 'Create'}
            </Button>
          )}
        </>
      }
    >
      <ol className="mb-4 flex gap-2 text-xs" aria-label="Steps">
        {STEPS.map((s, i) => (
          <li
            key={s}
            aria-current={i === step ? 'step' : undefined}
            className={cx(
              'flex-1 border-t-2 pt-1',
              i === step ? 'border-accent-600 font-semibold' : i < step ? 'border-accent-300 text-zinc-700 dark:text-zinc-300' : 'border-zinc-200 text-zinc-600 dark:border-zinc-700 dark:text-zinc-400',
            )}
          >
            {i + 1}. {s}
          </li>
        ))}
      </ol>

      <form
        className="flex flex-col gap-4"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void (step < 3 ? next() : create());
        }}
      >
        {step === 0 && (
          <>
            <fieldset className="flex flex-col gap-1.5">
              <legend className="mb-1 text-xs font-medium text-zinc-700 dark:text-zinc-300">Start from</legend>
              {(['iso', 'empty', 'import'] as const).map((s) => (
                <label key={s} className="flex items-center gap-2 text-sm">
                  <input type="radio" name="source" className="accent-accent-700" checked={form.source === s} onChange={() => (set('source', s), setBrowse(false))} />
                  {sourceLabel[s]}
                </label>
              ))}
            </fieldset>
            {form.source === 'iso' && (
              <Field label="Installer ISO" error={err('iso')} hint="The path of a .iso file on this host.">
                {(p) => (
                  <div className="flex gap-2">
                    <input {...p} data-autofocus className={cx(inputClass, 'font-mono')} value={form.iso} onChange={(e) => set('iso', e.target.value)} placeholder="/path/to/installer.iso" />
                    <Button onClick={() => setBrowse((b) => !b)} aria-expanded={browse}>Browse…</Button>
                  </div>
                )}
              </Field>
            )}
            {form.source === 'import' && (
              <Field label="Disk image" error={err('importDisk')} hint="qcow2, raw, vmdk, vdi or vhdx; it is converted to qcow2 inside the VM's folder.">
                {(p) => (
                  <div className="flex gap-2">
                    <input {...p} className={cx(inputClass, 'font-mono')} value={form.importDisk} onChange={(e) => set('importDisk', e.target.value)} placeholder="/path/to/disk.qcow2" />
                    <Button onClick={() => setBrowse((b) => !b)} aria-expanded={browse}>Browse…</Button>
                  </div>
                )}
              </Field>
            )}
            {form.source === 'empty' && (
              <p className="text-sm text-zinc-700 dark:text-zinc-300">The VM gets an empty disk; attach an ISO later in Settings → CD-ROM, or boot from the network.</p>
            )}
            {browse && form.source !== 'empty' && (
              <FileBrowser
                filter={form.source === 'iso' ? 'iso' : 'disk'}
                onCancel={() => setBrowse(false)}
                onPick={(path) => {
                  set(form.source === 'iso' ? 'iso' : 'importDisk', path);
                  setBrowse(false);
                }}
              />
            )}
          </>
        )}

        {step === 1 && (
          <>
            {form.source === 'iso' && detect && (
              <div className="flex items-center gap-3 rounded-md border border-zinc-200 p-3 dark:border-zinc-700" aria-live="polite">
                {detect.status === 'detected' ? (
                  <>
                    <OsIcon family={detect.family} size={36} />
                    <div>
                      <p className="text-sm font-medium">Detected: {detect.name}</p>
                      <p className="text-xs text-zinc-600 dark:text-zinc-400">{detect.arch}{detect.build ? ` · build ${detect.build}` : ''}</p>
                    </div>
                  </>
                ) : (
                  <>
                    <OsIcon family="other" size={36} />
                    <div>
                      <p className="text-sm font-medium">Operating system not recognised</p>
                      <p className="text-xs text-zinc-600 dark:text-zinc-400">{/[.!?]$/.test(detect.reason) ? detect.reason : `${detect.reason}.`} Choose it below for the best defaults.</p>
                    </div>
                  </>
                )}
              </div>
            )}
            <OsPicker oses={oses} value={os} onChange={chooseOs} />
            <p className="-mt-2 text-xs text-zinc-600 dark:text-zinc-400">
              Selected: {os ? os.name : 'Unknown OS (generic defaults)'}
              {os && (
                <button type="button" className="ml-2 underline" onClick={() => chooseOs(null)}>
                  Clear
                </button>
              )}
            </p>
            <Field label="Name" error={err('name')}>
              {(p) => (
                <input
                  {...p}
                  className={inputClass}
                  value={form.name}
                  maxLength={80}
                  onChange={(e) => {
                    setNameEdited(true);
                    set('name', e.target.value);
                  }}
                />
              )}
            </Field>
          </>
        )}

        {step === 2 && (
          <>
            <div className="grid gap-4 sm:grid-cols-3">
              <Field label={`CPUs (host has ${hostCpus})`} error={err('cpus')} warning={warn('cpus')}>
                {(p) => <input {...p} data-autofocus type="number" min={1} max={hostCpus} className={inputClass} value={form.cpus} onChange={(e) => set('cpus', Number(e.target.value))} />}
              </Field>
              <Field label={`Memory (host has ${formatBytes(hostMem)})`} error={err('memory')} warning={warn('memory')} hint={os ? `Recommended ${formatMiB(os.recommended.memoryMiB)}` : 'e.g. 2G or 2048M'}>
                {(p) => <input {...p} className={inputClass} value={form.memory} onChange={(e) => set('memory', e.target.value)} />}
              </Field>
              {form.source !== 'import' && (
                <Field label="Disk size" error={err('disk')} hint={os?.minimum ? `At least ${os.minimum.diskGiB} GiB for ${os.name}` : 'Grows as used (qcow2)'}>
                  {(p) => <input {...p} className={inputClass} value={form.disk} onChange={(e) => set('disk', e.target.value)} />}
                </Field>
              )}
            </div>
            <fieldset className="flex flex-col gap-2">
              <legend className="mb-1 text-xs font-medium text-zinc-700 dark:text-zinc-300">Firmware</legend>
              <div className="flex gap-4">
                {(['bios', 'uefi'] as const).map((fw) => (
                  <label key={fw} className="flex items-center gap-2 text-sm">
                    <input type="radio" name="firmware" className="accent-accent-700" checked={form.firmware === fw} onChange={() => (set('firmware', fw), fw === 'bios' && set('secureBoot', false))} />
                    {fw === 'bios' ? 'BIOS (SeaBIOS)' : 'UEFI (OVMF)'}
                  </label>
                ))}
              </div>
              {warn('firmware') && <p className="text-xs text-amber-800 dark:text-amber-300">{warn('firmware')}</p>}
              <Check label="Secure Boot" checked={form.secureBoot} disabled={form.firmware !== 'uefi'} hint={form.firmware !== 'uefi' ? 'Needs UEFI firmware.' : err('secureBoot')} onChange={(v) => set('secureBoot', v)} />
              <Check
                label="TPM 2.0"
                checked={form.tpm}
                onChange={(v) => set('tpm', v)}
                hint={err('tpm') ?? warn('tpm') ?? (host?.tpm.available ? 'Emulated with swtpm.' : `Unavailable: ${host?.tpm.reason ?? 'swtpm not found'}`)}
              />
            </fieldset>
          </>
        )}

        {step === 3 && (
          <>
            <dl className="grid grid-cols-[max-content_1fr] gap-x-6 gap-y-1.5 text-sm">
              <dt className="text-zinc-600 dark:text-zinc-400">Name</dt>
              <dd>{form.name.trim()}</dd>
              <dt className="text-zinc-600 dark:text-zinc-400">Operating system</dt>
              <dd>{os?.name ?? 'Unknown OS'}</dd>
              <dt className="text-zinc-600 dark:text-zinc-400">Source</dt>
              <dd className="break-all">
                {form.source === 'iso' ? form.iso : form.source === 'import' ? `Import ${form.importDisk}` : 'Empty disk, no ISO'}
              </dd>
              <dt className="text-zinc-600 dark:text-zinc-400">CPUs / memory</dt>
              <dd>
                {form.cpus} CPU · {'bytes' in mem ? formatBytes(mem.bytes) : form.memory}
              </dd>
              {form.source !== 'import' && (
                <>
                  <dt className="text-zinc-600 dark:text-zinc-400">Disk</dt>
                  <dd>{'bytes' in disk ? formatBytes(disk.bytes) : form.disk} (qcow2, grows as used)</dd>
                </>
              )}
              <dt className="text-zinc-600 dark:text-zinc-400">Firmware</dt>
              <dd>
                {form.firmware === 'uefi' ? 'UEFI' : 'BIOS'}
                {form.secureBoot ? ', Secure Boot' : ''}
                {form.tpm ? ', TPM 2.0' : ''}
              </dd>
            </dl>
            {hasErrors(check) && (
              <ul className="rounded-md border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-900 dark:border-red-800 dark:bg-red-950 dark:text-red-100" aria-label="Problems to fix">
                {Object.entries(check.errors).map(([f, m]) => (
                  <li key={f}>{m}</li>
                ))}
              </ul>
            )}
            <Check label="Start the VM after creating it" checked={form.start} onChange={(v) => set('start', v)} />
            {creating && (
              <div className="flex flex-col gap-1" aria-live="polite">
                <p className="text-sm">{job ? job.title : 'Creating…'}{job?.progress != null ? ` ${Math.round(job.progress * 100)}%` : ''}</p>
                <Progress value={job?.progress ?? null} label="Creating the VM" />
              </div>
            )}
            {createError && <ErrorAlert title="The VM was not created" error={createError} />}
          </>
        )}
        {/* lets Enter submit the form from any text field */}
        <button type="submit" hidden tabIndex={-1} aria-hidden="true" />
      </form>
    </Dialog>
  );
}
