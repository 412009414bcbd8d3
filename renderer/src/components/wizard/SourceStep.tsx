import type { Source } from '../../lib/wizard.ts';
import { FileBrowser } from '../FileBrowser.tsx';
import { Button, Field, cx, inputClass } from '../ui.tsx';
import type { Wizard } from './useWizard.ts';
import { CloudImageSource } from './CloudImageSource.tsx';

const SOURCE_LABEL: Record<Source, string> = { iso: 'Install from an ISO image', empty: 'No ISO (empty disk)', import: 'Import an existing disk' };

export function SourceStep({ w }: { w: Wizard }) {
  const { form, browse } = w.state;
  return (
    <>
      <fieldset className="flex flex-col gap-1.5">
        <legend className="mb-1 text-xs font-medium text-zinc-700 dark:text-zinc-300">Start from</legend>
        {(Object.keys(SOURCE_LABEL) as Source[]).map((s) => (
          <label key={s} className="flex items-center gap-2 text-sm">
            <input type="radio" name="source" className="accent-accent-700" checked={form.source === s} onChange={() => w.set('source', s)} />
            {SOURCE_LABEL[s]}
          </label>
        ))}
      </fieldset>
      {form.source === 'iso' && (
        <PathField w={w} field="iso" label="Installer ISO" hint="The path of a .iso file on this host." placeholder="/path/to/installer.iso" />
      )}
      {form.source === 'import' && (
        <PathField w={w} field="importDisk" label="Disk image" hint="qcow2, raw, vmdk, vdi or vhdx; it is converted to qcow2 inside the VM's folder." placeholder="/path/to/disk.qcow2" />
      )}
      {form.source === 'import' && <CloudImageSource c={w.cloud} />}
      {form.source === 'empty' && (
        <p className="text-sm text-zinc-700 dark:text-zinc-300">The VM gets an empty disk; attach an ISO later in Settings → CD-ROM, or boot from the network.</p>
      )}
      {browse && form.source !== 'empty' && (
        <FileBrowser
          filter={form.source === 'iso' ? 'iso' : 'disk'}
          onCancel={() => w.setBrowse(false)}
          onPick={(path) => {
            w.set(form.source === 'iso' ? 'iso' : 'importDisk', path);
            w.setBrowse(false);
          }}
        />
      )}
    </>
  );
}

/** A host path typed or picked with the file browser (the ISO, or the disk to import). */
function PathField({ w, field, label, hint, placeholder }: { w: Wizard; field: 'iso' | 'importDisk'; label: string; hint: string; placeholder: string }) {
  return (
    <Field label={label} error={w.err(field)} hint={hint}>
      {(p) => (
        <div className="flex gap-2">
          <input {...p} data-autofocus={field === 'iso' || undefined} className={cx(inputClass, 'font-mono')} value={w.state.form[field]} onChange={(e) => w.set(field, e.target.value)} placeholder={placeholder} />
          <Button onClick={() => w.setBrowse(!w.state.browse)} aria-expanded={w.state.browse}>Browse…</Button>
        </div>
      )}
    </Field>
  );
}
