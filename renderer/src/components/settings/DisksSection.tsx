import { useState } from 'react';
import type { DiskDetails, VmDetails } from '../../../../electron/api/types.ts';
import { CACHE_MODES, DISK_BUSES } from '../../../../electron/shared/config-enums.ts';
import { formatBytes } from '../../../../electron/shared/size.ts';
import { useClient } from '../../api/context.tsx';
import { asWireError, type WireError } from '../../api/client.ts';
import { FileBrowser } from '../FileBrowser.tsx';
import { Button, ErrorAlert, cx, inputClass } from '../ui.tsx';
import type { SectionProps } from './types.ts';

type Bus = (typeof DISK_BUSES)[number];
type Cache = (typeof CACHE_MODES)[number];
// Live where QEMU can: virtio and SCSI disks hot-plug into a running VM, IDE/SATA do not.
const HOT: ReadonlySet<string> = new Set(['virtio', 'scsi']);

/**
 * The VM's disks. Changes here go to the engine at once (drives.*), not with Save: adding,
 * removing and resizing act on image files, which Save's settings patch cannot undo.
 */
export function DisksSection({ vm, running }: SectionProps) {
  const client = useClient();
  const [disks, setDisks] = useState<DiskDetails[]>(vm.disks);
  const [error, setError] = useState<WireError | null>(null);
  const [busy, setBusy] = useState(false);
  const [size, setSize] = useState('8G');
  const [bus, setBus] = useState<Bus>(running ? 'virtio' : ((vm.config?.disks[0]?.bus as Bus | undefined) ?? 'virtio'));
  const [cache, setCache] = useState<Cache>('writeback');
  // A new image in the VM's folder, or an existing one used where it is (not copied).
  const [source, setSource] = useState<'new' | 'existing'>('new');
  const [file, setFile] = useState<string | null>(null);
  const [browse, setBrowse] = useState(false);
  const [removing, setRemoving] = useState<string | null>(null);
  const [resizing, setResizing] = useState<{ id: string; size: string; shrink: boolean } | null>(null);

  const act = async (f: () => Promise<VmDetails>) => {
    setBusy(true);
    setError(null);
    try {
      setDisks((await f()).disks);
      return true;
    } catch (e) {
      setError(asWireError(e));
      return false;
    } finally {
      setBusy(false);
    }
  };
  const why = busy ? 'Working…' : null;

  return (
    <div className="flex flex-col gap-3 text-sm">
      <ul className="flex flex-col gap-2" aria-label="Disks">
        {disks.length === 0 && <li>No disks.</li>}
        {disks.map((d) => (
          <li key={d.id} className="rounded-md border border-zinc-200 p-2 dark:border-zinc-700">
            <p className="font-medium">{d.id} <span className="font-normal text-zinc-600 dark:text-zinc-400">· {d.format} · {d.bus}</span></p>
            <p className="font-mono text-xs break-all">{d.path}</p>
            <p className="text-xs text-zinc-600 dark:text-zinc-400">{formatBytes(d.virtualSize)} virtual, {formatBytes(d.actualSize)} on disk</p>
            {d.error && <p className="text-xs text-red-700 dark:text-red-400">{d.error}</p>}
            <div className="mt-1 flex flex-wrap gap-2">
              <Button size="sm" type="button" disabledReason={why} onClick={() => setResizing({ id: d.id, size: formatBytes(d.virtualSize), shrink: false })}>Resize…</Button>
              <Button size="sm" type="button" disabledReason={why ?? (running && !HOT.has(d.bus) ? `A ${d.bus.toUpperCase()} disk cannot be removed while the VM runs: stop it first.` : null)} onClick={() => setRemoving(d.id)}>Remove…</Button>
            </div>
            {removing === d.id && (
              <div role="group" aria-label={`Remove ${d.id}`} className="mt-2 flex flex-wrap items-center gap-2 rounded bg-zinc-100 p-2 dark:bg-zinc-800">
                <span>Remove {d.id}{running ? ' from the running VM' : ''}. Its image file:</span>
                <Button size="sm" type="button" onClick={() => void act(() => client.call('drives.remove', { vm: vm.id, disk: d.id, deleteFile: false })).then(() => setRemoving(null))}>Keep the file</Button>
                <Button size="sm" type="button" variant="danger" onClick={() => void act(() => client.call('drives.remove', { vm: vm.id, disk: d.id, deleteFile: true })).then(() => setRemoving(null))}>Delete the file</Button>
                <Button size="sm" type="button" onClick={() => setRemoving(null)}>Cancel</Button>
              </div>
            )}
            {resizing?.id === d.id && (
              <div role="group" aria-label={`Resize ${d.id}`} className="mt-2 flex flex-wrap items-center gap-2 rounded bg-zinc-100 p-2 dark:bg-zinc-800">
                <label className="flex items-center gap-1">New size <input className={cx(inputClass, 'w-24')} value={resizing.size} onChange={(e) => setResizing({ ...resizing, size: e.target.value })} /></label>
                <label className="flex items-center gap-1 text-xs">
                  <input type="checkbox" checked={resizing.shrink} disabled={running} onChange={(e) => setResizing({ ...resizing, shrink: e.target.checked })} />
                  {running ? 'Shrinking needs the VM stopped.' : 'Allow shrinking: data past the new end is lost (shrink the guest’s partitions first).'}
                </label>
                <Button size="sm" type="button" disabledReason={why} onClick={() => void act(() => client.call('drives.resize', { vm: vm.id, disk: d.id, size: resizing.size, shrink: resizing.shrink })).then((ok) => ok && setResizing(null))}>Resize</Button>
                <Button size="sm" type="button" onClick={() => setResizing(null)}>Cancel</Button>
              </div>
            )}
          </li>
        ))}
      </ul>
      {/* No <form>: the section sits inside the dialog's form, whose submit is Save. */}
      <div role="group" aria-label="Add a disk" className="flex flex-col gap-2">
        <div role="radiogroup" aria-label="Disk image" className="flex flex-wrap items-center gap-3">
          <label className="flex items-center gap-1"><input type="radio" name="disk-source" checked={source === 'new'} onChange={() => setSource('new')} /> A new image</label>
          <label className="flex items-center gap-1"><input type="radio" name="disk-source" checked={source === 'existing'} onChange={() => setSource('existing')} /> An existing image</label>
        </div>
        <div className="flex flex-wrap items-center gap-2">
          {source === 'new' ? (
            <label className="flex items-center gap-1">New disk of <input className={cx(inputClass, 'w-24')} value={size} onChange={(e) => setSize(e.target.value)} /></label>
          ) : (
            <>
              <span className="min-w-0 max-w-xs truncate font-mono text-xs" title={file ?? undefined} aria-label="Chosen image">{file ?? 'No image chosen.'}</span>
              <Button size="sm" type="button" aria-expanded={browse} onClick={() => setBrowse((b) => !b)}>Choose image…</Button>
            </>
          )}
          <label className="flex items-center gap-1">on
            <select className={inputClass} aria-label="Bus" value={bus} onChange={(e) => setBus(e.target.value as Bus)}>
              {DISK_BUSES.map((b) => <option key={b} value={b} disabled={running && !HOT.has(b)}>{b}{running && !HOT.has(b) ? ' (not while running)' : ''}</option>)}
            </select>
          </label>
          <label className="flex items-center gap-1">cache
            <select className={inputClass} aria-label="Cache mode" value={cache} onChange={(e) => setCache(e.target.value as Cache)}>
              {CACHE_MODES.map((m) => <option key={m} value={m}>{m}</option>)}
            </select>
          </label>
          <Button
            size="sm"
            type="button"
            disabledReason={why ?? (source === 'existing' && !file ? 'Choose an image first.' : null)}
            onClick={() => void act(() => client.call('drives.add', { vm: vm.id, ...(source === 'new' ? { size } : { file: file! }), bus, cache })).then((ok) => ok && setFile(null))}
          >
            Add disk
          </Button>
        </div>
        {browse && source === 'existing' && (
          <FileBrowser
            filter="disk"
            onCancel={() => setBrowse(false)}
            onPick={(p) => {
              setBrowse(false);
              setFile(p);
            }}
          />
        )}
        <p className="text-xs text-zinc-600 dark:text-zinc-400">Cache: writeback is the default; none bypasses the host’s page cache (safer on power loss); unsafe ignores flushes (fast, for throwaway guests).</p>
      </div>
      <p className="text-xs text-zinc-600 dark:text-zinc-400">{running ? 'The VM runs: virtio and SCSI disks are added and removed live, and grow at once.' : 'Changes here apply at once, not with Save.'}</p>
      {error && <ErrorAlert error={error} />}
    </div>
  );
}
