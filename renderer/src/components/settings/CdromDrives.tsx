import { useState } from 'react';
import type { VmConfig } from '../../../../electron/api/types.ts';
import { CDROM_BUSES, MAX_EXTRA_CDROMS } from '../../../../electron/shared/config-enums.ts';
import { FileBrowser } from '../FileBrowser.tsx';
import { Button, cx, inputClass } from '../ui.tsx';
import type { SectionProps } from './types.ts';

type Bus = VmConfig['cdrom']['bus'];

/** More CD drives after the first (cdrom.extra): each with its own ISO and bus; added and removed with the VM stopped. */
export function CdromDrives({ cfg: c, edit, issue, lock }: Pick<SectionProps, 'cfg' | 'edit' | 'issue' | 'lock'>) {
  const [browse, setBrowse] = useState<number | null>(null);
  const extra = c.cdrom.extra;
  return (
    <fieldset className="flex flex-col gap-2" disabled={!!lock}>
      <legend className="mb-1 text-xs font-medium text-zinc-700 dark:text-zinc-300">More CD drives {lock ? `(${lock})` : ''}</legend>
      <ol className="flex flex-col gap-1.5" aria-label="More CD drives">
        {extra.map((d, i) => (
          <li key={i} className="flex items-center gap-2">
            <span className="w-14 text-xs text-zinc-600 dark:text-zinc-400">Drive {i + 2}</span>
            <input aria-label={`ISO of drive ${i + 2}`} className={cx(inputClass, 'font-mono')} value={d.iso ?? ''} placeholder="empty" onChange={(e) => edit((n) => void (n.cdrom.extra[i]!.iso = e.target.value.trim() ? e.target.value : null))} />
            <select aria-label={`Bus of drive ${i + 2}`} className={inputClass} value={d.bus} onChange={(e) => edit((n) => void (n.cdrom.extra[i]!.bus = e.target.value as Bus))}>
              {CDROM_BUSES.map((b) => <option key={b} value={b}>{b.toUpperCase()}</option>)}
            </select>
            <Button size="sm" type="button" onClick={() => setBrowse(browse === i ? null : i)} aria-expanded={browse === i}>Browse…</Button>
            <Button size="sm" type="button" aria-label={`Remove drive ${i + 2}`} disabledReason={lock} onClick={() => edit((n) => void n.cdrom.extra.splice(i, 1))}>Remove</Button>
          </li>
        ))}
      </ol>
      {issue('cdrom.extra') && <p role="alert" className="text-xs text-red-700 dark:text-red-400">{issue('cdrom.extra')}</p>}
      <div>
        <Button
          size="sm"
          type="button"
          disabledReason={lock ?? (extra.length >= MAX_EXTRA_CDROMS ? `At most ${MAX_EXTRA_CDROMS + 1} CD drives.` : null)}
          onClick={() => edit((n) => void n.cdrom.extra.push({ iso: null, bus: n.cdrom.bus }))}
        >
          Add a CD drive
        </Button>
      </div>
      {browse !== null && (
        <FileBrowser
          filter="iso"
          onCancel={() => setBrowse(null)}
          onPick={(path) => {
            const i = browse;
            setBrowse(null);
            edit((n) => void (n.cdrom.extra[i]!.iso = path));
          }}
        />
      )}
    </fieldset>
  );
}
