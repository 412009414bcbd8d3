import { useState } from 'react';
import type { ApplianceExport } from '../../../../electron/api/appliance-types.ts';
import type { VmSummary } from '../../../../electron/api/types.ts';
import { useClient } from '../../api/context.tsx';
import { asWireError, type WireError } from '../../api/client.ts';
import { formatBytes } from '../../../../electron/shared/size.ts';
import { Button, Dialog, ErrorAlert, Field, Progress, cx, inputClass } from '../ui.tsx';
import { useJobProgress } from './useJobProgress.ts';

// Export a stopped VM: an OVA other tools import (VirtualBox, VMware), or Vireo's own bundle
// that moves it to another Vireo host whole (snapshots, NVRAM, TPM).

export function ExportDialog({ vm, onClose }: { vm: VmSummary; onClose: () => void }) {
  const client = useClient();
  const [format, setFormat] = useState<'ova' | 'bundle'>('ova');
  const [output, setOutput] = useState('');
  const [error, setError] = useState<WireError | null>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<ApplianceExport | null>(null);
  const progress = useJobProgress('export', `Export "${vm.name}"`);
  const ext = format === 'ova' ? '.ova' : '.vireo';
  const problem = !output.trim() ? 'Give the file to write.' : !output.trim().toLowerCase().endsWith(ext) ? `The file name must end in ${ext}.` : null;
  const submit = async () => {
    if (problem) return;
    setBusy(true);
    setError(null);
    progress.begin();
    try {
      setDone(await client.call('appliance.export', { vm: vm.id, format, output: output.trim() }));
    } catch (e) {
      setError(asWireError(e));
    } finally {
      setBusy(false);
    }
  };
  const job = progress.job;
  return (
    <Dialog
      title={`Export ${vm.name}`}
      onClose={onClose}
      footer={
        <>
          {busy ? <Button onClick={() => void progress.cancel()}>Cancel export</Button> : <Button onClick={onClose}>{done ? 'Close' : 'Cancel'}</Button>}
          {!done && (
            <Button variant="primary" disabledReason={busy ? 'Exporting…' : problem} onClick={() => void submit()}>
              Export
            </Button>
          )}
        </>
      }
    >
      <form className="flex flex-col gap-3" onSubmit={(e) => (e.preventDefault(), void submit())}>
        <fieldset className="flex flex-col gap-1.5">
          <legend className="mb-1 text-xs font-medium text-zinc-700 dark:text-zinc-300">Format</legend>
          <label className="flex items-center gap-2 text-sm">
            <input type="radio" name="format" className="accent-accent-700" checked={format === 'ova'} onChange={() => setFormat('ova')} />
            OVA (OVF 1.0 with VMDK disks): for VirtualBox, VMware and other tools
          </label>
          <label className="flex items-center gap-2 text-sm">
            <input type="radio" name="format" className="accent-accent-700" checked={format === 'bundle'} onChange={() => setFormat('bundle')} />
            Vireo bundle: the whole VM with its snapshots, NVRAM and TPM, for another Vireo host
          </label>
        </fieldset>
        <Field label="File to write" hint={`A new ${ext} file on this host; an existing file is never overwritten.`}>
          {(p) => <input {...p} data-autofocus className={cx(inputClass, 'font-mono')} value={output} placeholder={`/path/to/${vm.name.replace(/[^A-Za-z0-9_.-]+/g, '-')}${ext}`} onChange={(e) => setOutput(e.target.value)} />}
        </Field>
        {error && <ErrorAlert error={error} />}
        {busy && (
          <div className="flex flex-col gap-1">
            <span className="text-sm">Exporting{job?.progress != null ? ` ${Math.round(job.progress * 100)}%` : '…'}</span>
            <Progress value={job?.progress ?? null} label="Export progress" />
          </div>
        )}
        {done && (
          <p role="status" className="text-sm">
            Wrote {done.path} ({formatBytes(done.sizeBytes)}).
          </p>
        )}
      </form>
    </Dialog>
  );
}
