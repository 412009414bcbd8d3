import type { DetectResult, Job, OsEntry } from '../../../electron/api/types.ts';
import type { WireError } from '../../../electron/api/errors.ts';
import { nameFromPath, suggestName } from './names.ts';
import { defaultsFor, type Field, type WizardForm } from './wizard.ts';
import { isV86Form, v86Form } from './wizard-v86.ts';

// The New-VM wizard's state as one reducer (instead of a dozen useState): every transition is
// a named action, pure, and unit-tested; components/wizard/useWizard.ts adds the API calls.

export const STEPS = ['Source', 'System', 'Hardware', 'Summary'] as const;
export type Step = 0 | 1 | 2 | 3;
export const LAST_STEP: Step = 3;

/** Fields shown on each step: "Next" reveals and checks these. */
export const STEP_FIELDS: Record<Step, Field[]> = {
  0: ['iso', 'importDisk'],
  1: ['name'],
  2: ['cpus', 'memory', 'disk', 'firmware', 'secureBoot', 'tpm', 'arch'],
  3: [],
};
export const ALL_FIELDS: Field[] = Object.values(STEP_FIELDS).flat();

export const fieldStep = (f: string): Step =>
  (Number((Object.entries(STEP_FIELDS) as Array<[string, Field[]]>).find(([, fs]) => fs.includes(f as Field))?.[0] ?? LAST_STEP)) as Step;

export interface WizardHost {
  cpus: number;
  memoryBytes: number;
  taken: string[];
}

export interface WizardState {
  step: Step;
  form: WizardForm;
  /** the user typed a name: choosing an OS no longer renames the VM */
  nameEdited: boolean;
  os: OsEntry | null;
  oses: OsEntry[];
  detect: DetectResult | null;
  detecting: boolean;
  browse: boolean;
  /** fields whose problems are shown (typed in, or revealed by Next/Create) */
  touched: Field[];
  /** the engine's messages by field, until that field changes */
  serverErrors: Record<string, string>;
  createError: WireError | null;
  creating: boolean;
  job: Job | null;
}

export type WizardAction =
  | { type: 'set'; key: keyof WizardForm; value: WizardForm[keyof WizardForm] }
  | { type: 'chooseOs'; os: OsEntry | null }
  | { type: 'oses'; list: OsEntry[] }
  | { type: 'touch'; fields: Field[] }
  | { type: 'goto'; step: Step }
  | { type: 'browse'; open: boolean }
  | { type: 'detectStart' }
  | { type: 'detected'; result: DetectResult }
  | { type: 'detectFailed'; message: string }
  | { type: 'createStart' }
  | { type: 'createFailed'; fieldErrors: Record<string, string>; error: WireError | null }
  | { type: 'job'; job: Job };

export function initialWizard(host: WizardHost): WizardState {
  return {
    step: 0,
    form: { source: 'iso', iso: '', importDisk: '', name: suggestName('New VM', host.taken), start: false, arch: 'x86_64', ...defaultsFor(null, host.cpus, host.memoryBytes) },
    nameEdited: false, os: null, oses: [], detect: null, detecting: false, browse: false,
    touched: [], serverErrors: {}, createError: null, creating: false, job: null,
  };
}

const without = (m: Record<string, string>, k: string) => {
  if (!(k in m)) return m;
  const { [k]: _gone, ...rest } = m;
  return rest;
};

function withOs(s: WizardState, os: OsEntry | null, host: WizardHost): WizardState {
  const form = { ...s.form, ...defaultsFor(os, host.cpus, host.memoryBytes), name: s.nameEdited ? s.form.name : suggestName(os?.name ?? isoName(s.form) ?? 'New VM', host.taken) };
  return { ...s, os, form: isV86Form(form) ? v86Form(form, os) : form.arch === 'aarch64' ? aarch64Form(form) : form };
}

/** An unknown OS's VM is named after its ISO ("New VM" told the user nothing). */
const isoName = (f: WizardForm) => (f.source === 'iso' ? nameFromPath(f.iso) : null);

/** aarch64 guests boot only through UEFI (the engine refuses BIOS for them). */
const aarch64Form = (f: WizardForm): WizardForm => ({ ...f, arch: 'aarch64', firmware: 'uefi' });

/** The reducer, given the host it bounds defaults by (a closure: the host may load later). */
export function wizardReducer(host: WizardHost) {
  return (s: WizardState, a: WizardAction): WizardState => {
    switch (a.type) {
      case 'set': {
        let form = { ...s.form, [a.key]: a.value } as WizardForm;
        // Taking the wasm/v86 proposal fits the form to its one PC; leaving it brings the OS's defaults back.
        if (a.key === 'backend') form = a.value === 'wasm/v86' ? v86Form(form, s.os) : { ...form, ...defaultsFor(s.os, host.cpus, host.memoryBytes) };
        // Secure Boot exists only under UEFI.
        if (a.key === 'firmware' && a.value !== 'uefi') form.secureBoot = false;
        return {
          ...s,
          form: a.key === 'arch' && a.value === 'aarch64' ? aarch64Form(form) : form,
          nameEdited: s.nameEdited || a.key === 'name',
          // A new source closes the file browser of the old one.
          browse: a.key === 'source' ? false : s.browse,
          touched: s.touched.includes(a.key as Field) ? s.touched : [...s.touched, a.key as Field],
          serverErrors: without(s.serverErrors, a.key),
        };
      }
      case 'chooseOs':
        return withOs(s, a.os, host);
      case 'oses':
        return { ...s, oses: a.list };
      case 'touch':
        return { ...s, touched: [...new Set([...s.touched, ...a.fields])] };
      case 'goto':
        return { ...s, step: a.step, detect: a.step === 1 && s.form.source !== 'iso' ? null : s.detect };
      case 'browse':
        return { ...s, browse: a.open };
      case 'detectStart':
        return { ...s, detecting: true };
      case 'detected': {
        const r = a.result;
        let os: OsEntry | null = null;
        if (r.status === 'detected') {
          const { status: _s, arch: _a, archEvidence: _e, build: _b, iso: _i, ...entry } = r;
          os = entry;
        }
        // The media's architecture picks the guest's (known even when the OS is not).
        const arch = r.arch === 'aarch64' ? 'aarch64' : 'x86_64';
        const next = withOs({ ...s, form: { ...s.form, arch } }, os, host);
        // an unknown OS still gets the firmware its disc can start (El Torito)
        if (r.status === 'unknown' && r.firmware && arch !== 'aarch64') next.form = { ...next.form, firmware: r.firmware };
        return { ...next, detect: r, detecting: false, step: 1 };
      }
      case 'detectFailed':
        // A file that is not an ISO (or is missing) is an inline error on the path field.
        return { ...s, detecting: false, serverErrors: { ...s.serverErrors, iso: a.message } };
      case 'createStart':
        return { ...s, creating: true, createError: null };
      case 'createFailed': {
        const fields = Object.keys(a.fieldErrors);
        return {
          ...s,
          creating: false,
          job: null,
          serverErrors: fields.length ? a.fieldErrors : s.serverErrors,
          createError: fields.length ? null : a.error,
          step: fields.length ? fieldStep(fields[0]!) : s.step,
        };
      }
      case 'job':
        // Our create/import job is the first one seen; later ones belong to someone else.
        return s.job && s.job.id !== a.job.id ? s : { ...s, job: a.job };
    }
  };
}
