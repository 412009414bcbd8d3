import { useState } from 'react';
import type { AppliancePreview, ApplianceItem, VirtualBoxLibrary } from '../../../../electron/api/appliance-types.ts';
import { useClient } from '../../api/context.tsx';
import { asWireError, type WireError } from '../../api/client.ts';
import { nameProblem } from '../../lib/names.ts';
import { formatBytes } from '../../../../electron/shared/size.ts';
import { FileBrowser } from '../FileBrowser.tsx';
import { Button, Dialog, ErrorAlert, Field, Progress, cx, inputClass } from '../ui.tsx';
import { useJobProgress } from './useJobProgress.ts';

// Import an appliance (OVA/OVF, a VirtualBox .vbox machine, a Vireo bundle): the file first,
// then the engine's preview (what it maps, from where, and what it drops, with why), then the
// import as a job with progress and cancel.

const baseName = (p: string) => p.split(/[\\/]/).pop() ?? p;

function ItemTable({ caption, items }: { caption: string; items: ApplianceItem[] }) {
  return (
    <table className="w-full text-left text-sm">
      <caption className="mb-1 text-left text-xs font-medium text-zinc-700 dark:text-zinc-300">{caption}</caption>
      <tbody>
        {items.map((m, i) => (
          <tr key={`${m.item}-${i}`} className="border-t border-zinc-100 align-top dark:border-zinc-800">
            <th scope="row" className="py-1 pr-2 font-medium">{m.item}</th>
            <td className="py-1 pr-2">{m.value}</td>
            <td className="py-1 text-xs text-zinc-600 dark:text-zinc-400">{m.note}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function ImportApplianceDialog({ allNames, onClose, onImported }: { allNames: string[]; onClose: () => void; onImported?: (id: string) => void }) {
  const client = useClient();
  const [path, setPath] = useState('');
  const [browse, setBrowse] = useState(false);
  const [preview, setPreview] = useState<AppliancePreview | null>(null);
  const [name, setName] = useState('');
  const [error, setError] = useState<WireError | null>(null);
  const [busy, setBusy] = useState<null | 'reading' | 'importing'>(null);
  const [vbox, setVbox] = useState<VirtualBoxLibrary | null>(null);
  const listVirtualBox = async () => {
    setError(null);
    try {
      setVbox(await client.call('appliance.virtualbox', {}));
    } catch (e) {
      setError(asWireError(e));
    }
  };
  const progress = useJobProgress('import', `Import ${baseName(path)}`);
  const problem = preview ? nameProblem(name, allNames) : null;

  const read = async (p = path) => {
    setBusy('reading');
    setError(null);
    setPreview(null);
    try {
      const r = await client.call('appliance.preview', { path: p.trim() });
      setPreview(r);
      setName(r.name);
    } catch (e) {
      setError(asWireError(e));
    } finally {
      setBusy(null);
    }
  };
  const doImport = async () => {
    if (!preview || problem) return;
    setBusy('importing');
    setError(null);
    progress.begin();
    try {
      const vm = await client.call('appliance.import', { path: preview.path, name: name.trim() });
      onImported?.(vm.id);
      onClose();
    } catch (e) {
      setError(asWireError(e));
      setBusy(null);
    }
  };
  const job = progress.job;
  return (
    <Dialog
      title="Import appliance"
      wide
      onClose={onClose}
      footer={
        <>
          {busy === 'importing' ? (
            <Button disabledReason={job?.cancellable === false ? 'This step cannot be interrupted safely.' : null} onClick={() => void progress.cancel()}>Cancel import</Button>
          ) : (
            <Button onClick={onClose}>Close</Button>
          )}
          <Button
            variant="primary"
            disabledReason={busy === 'importing' ? 'Importing…' : !preview ? 'Read the appliance first (Show what is imported).' : problem}
            onClick={() => void doImport()}
          >
            Import
          </Button>
        </>
      }
    >
      <div className="flex flex-col gap-3">
        <Field label="Appliance file" hint="An .ova or .ovf (VirtualBox, VMware), a VirtualBox machine's .vbox file (in ~/VirtualBox VMs/), a UTM .utm folder (type its path), or a Vireo bundle (.vireo).">
          {(p) => (
            <div className="flex gap-2">
              <input {...p} data-autofocus className={cx(inputClass, 'font-mono')} value={path} placeholder="/path/to/appliance.ova" onChange={(e) => (setPath(e.target.value), setPreview(null))} />
              <Button onClick={() => setBrowse(!browse)} aria-expanded={browse}>Browse…</Button>
              <Button disabledReason={!path.trim() ? 'Give the appliance file first.' : busy ? 'Working…' : null} onClick={() => void read()}>Show what is imported</Button>
            </div>
          )}
        </Field>
        {browse && (
          <FileBrowser
            filter="any"
            onCancel={() => setBrowse(false)}
            onPick={(p) => {
              setPath(p);
              setBrowse(false);
              void read(p);
            }}
          />
        )}
        <div>
          <Button size="sm" onClick={() => void listVirtualBox()}>VirtualBox machines on this host…</Button>
        </div>
        {vbox && (
          <section aria-label="VirtualBox machines" className="flex flex-col gap-1 text-sm">
            {vbox.note && <p>{vbox.note}</p>}
            <ul className="flex flex-col gap-1">
              {vbox.machines.map((m) => (
                <li key={m.path} className="flex items-center gap-2">
                  <Button
                    size="sm"
                    disabledReason={m.error ? `Unreadable: ${m.error}` : null}
                    onClick={() => {
                      setPath(m.path);
                      setVbox(null);
                      void read(m.path);
                    }}
                  >
                    {m.name}
                  </Button>
                  <span className="text-xs text-zinc-600 dark:text-zinc-400">{m.error ? m.path : `${m.os ?? 'unknown OS'}, ${m.cpus ?? '?'} CPU, ${m.memoryMiB ?? '?'} MiB, ${m.disks} disk${m.disks === 1 ? '' : 's'}`}</span>
                </li>
              ))}
            </ul>
          </section>
        )}
        {error && <ErrorAlert error={error} />}
        {busy === 'reading' && <p className="text-sm text-zinc-600 dark:text-zinc-400">Reading the appliance…</p>}
        {preview && (
          <section aria-label="What is imported" className="flex flex-col gap-3">
            <p className="text-sm">
              {preview.kind.toUpperCase()}: {preview.cpus ?? '?'} CPU, {preview.memoryMiB ?? '?'} MiB, {preview.firmware === 'uefi' ? 'UEFI' : 'BIOS'}, {preview.disks.length} disk{preview.disks.length === 1 ? '' : 's'}
              {preview.disks.some((d) => d.capacityBytes) ? ` (${preview.disks.map((d) => formatBytes(d.capacityBytes)).join(', ')})` : ''}.{' '}
              {preview.manifest ? `Every file is checked against ${preview.manifest} before anything is imported.` : preview.kind === 'vbox' ? '' : 'No manifest: the files cannot be verified.'}
            </p>
            <Field label="Name of the new VM" error={problem ?? undefined}>
              {(p) => <input {...p} className={inputClass} value={name} onChange={(e) => setName(e.target.value)} />}
            </Field>
            <ItemTable caption="Mapped" items={preview.mapped} />
            {preview.dropped.length > 0 ? <ItemTable caption="Dropped" items={preview.dropped} /> : <p className="text-sm">Nothing is dropped.</p>}
          </section>
        )}
        {busy === 'importing' && (
          <div className="flex flex-col gap-1">
            <span className="text-sm">Importing{job?.progress != null ? ` ${Math.round(job.progress * 100)}%` : '…'}</span>
            <Progress value={job?.progress ?? null} label="Import progress" />
          </div>
        )}
      </div>
    </Dialog>
  );
}
