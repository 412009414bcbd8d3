import { OsIcon } from '../OsIcon.tsx';
import { Field, inputClass } from '../ui.tsx';
import { OsPicker } from './OsPicker.tsx';
import { MediaNotes } from './MediaNotes.tsx';
import { BackendProposal } from './BackendProposal.tsx';
import type { Wizard } from './useWizard.ts';

/** Which OS (detected, or picked) and the VM's name. */
export function SystemStep({ w }: { w: Wizard }) {
  const { form, detect, os, oses } = w.state;
  return (
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
                <p className="text-xs text-zinc-600 dark:text-zinc-400">{/[.!?]$/.test(detect.reason) ? detect.reason : `${detect.reason}.`} Choose it below for the best defaults.{detect.arch ? ` The media is for ${detect.arch}.` : ''}</p>
              </div>
            </>
          )}
        </div>
      )}
      <MediaNotes w={w} />
      <OsPicker oses={oses} value={os} onChange={w.chooseOs} autoFocus={detect?.status !== 'detected'} />
      <p className="-mt-2 text-xs text-zinc-600 dark:text-zinc-400">
        Selected: {os ? os.name : 'Unknown OS (generic defaults)'}
        {os && (
          <button type="button" className="ml-2 underline" onClick={() => w.chooseOs(null)}>
            Clear
          </button>
        )}
      </p>
      <BackendProposal w={w} />
      <Field label="Name" error={w.err('name')}>
        {(p) => <input {...p} data-autofocus={detect?.status === 'detected' || undefined} className={inputClass} value={form.name} maxLength={80} onChange={(e) => w.set('name', e.target.value)} />}
      </Field>
    </>
  );
}
