import { formatBytes, readSize } from '../../../../electron/shared/size.ts';
import { plural } from '../../../../electron/shared/plural.ts';
import { hasErrors } from '../../lib/wizard.ts';
import { Check, ErrorAlert, Progress } from '../ui.tsx';
import type { Wizard } from './useWizard.ts';
import { ExpressInstall } from './ExpressInstall.tsx';

export function SummaryStep({ w }: { w: Wizard }) {
  const { form, os, creating, job, createError } = w.state;
  const mem = readSize(form.memory, 'M');
  const disk = readSize(form.disk, 'G');
  const v86 = form.backend === 'wasm/v86';
  return (
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
          {plural(form.cpus, 'CPU')} · {'bytes' in mem ? formatBytes(mem.bytes) : form.memory}
        </dd>
        {form.source !== 'import' && (
          <>
            <dt className="text-zinc-600 dark:text-zinc-400">Disk</dt>
            <dd>{'bytes' in disk ? formatBytes(disk.bytes) : form.disk} ({v86 ? 'raw image on IDE' : 'qcow2, grows as used'})</dd>
          </>
        )}
        <dt className="text-zinc-600 dark:text-zinc-400">Firmware</dt>
        <dd>
          {form.firmware === 'uefi' ? 'UEFI' : 'BIOS'}
          {form.secureBoot ? ', Secure Boot' : ''}
          {form.tpm ? ', TPM 2.0' : ''}
        </dd>
        <dt className="text-zinc-600 dark:text-zinc-400">Architecture</dt>
        <dd>{form.arch}{w.warn('arch') ? ' (emulated: slow)' : ''}</dd>
        <dt className="text-zinc-600 dark:text-zinc-400">Backend</dt>
        <dd>{v86 ? 'wasm/v86, in this window (32-bit PC)' : 'QEMU'}</dd>
      </dl>
      {hasErrors(w.check) && (
        <ul className="rounded-md border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-900 dark:border-red-800 dark:bg-red-950 dark:text-red-100" aria-label="Problems to fix">
          {Object.entries(w.check.errors).map(([f, m]) => (
            <li key={f}>{m}</li>
          ))}
        </ul>
      )}
      <ExpressInstall x={w.express} />
      <Check
        label="Start the VM after creating it"
        checked={form.start}
        disabled={v86}
        hint={v86 ? 'A wasm/v86 VM starts in this window: open its Screen tab and choose Start in this window.' : undefined}
        onChange={(v) => w.set('start', v)}
      />
      {creating && (
        <div className="flex flex-col gap-1" aria-live="polite">
          <p className="text-sm">{job ? job.title : 'Creating…'}{job?.progress != null ? ` ${Math.round(job.progress * 100)}%` : ''}</p>
          <Progress value={job?.progress ?? null} label="Creating the VM" />
        </div>
      )}
      {createError && <ErrorAlert title="The VM was not created" error={createError} />}
    </>
  );
}
