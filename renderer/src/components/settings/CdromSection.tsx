import { useState } from 'react';
import { basename } from '../../lib/format.ts';
import { FileBrowser } from '../FileBrowser.tsx';
import { Button, Field, cx, inputClass } from '../ui.tsx';
import type { SectionProps } from './types.ts';
import { CdromDrives } from './CdromDrives.tsx';

export function CdromSection({ cfg: c, edit, issue, running, changeMedia, lock }: SectionProps) {
  const [browse, setBrowse] = useState(false);
  // While the VM runs a change goes to its drive at once, so a typed path waits here until
  // Insert (or Enter) rather than being sent key by key.
  const [typed, setTyped] = useState<string | null>(null);
  const put = (iso: string | null) => (running ? void changeMedia(iso) : edit((n) => void (n.cdrom.iso = iso)));
  const pending = running && typed !== null && typed.trim() !== (c.cdrom.iso ?? '');
  const insert = () => {
    setTyped(null);
    put(typed?.trim() || null);
  };
  return (
    <>
      <Field label="ISO image" error={issue('cdrom.iso')} hint={running ? 'Changes apply to the running VM at once: type a path and press Insert, or browse.' : 'Empty means no disc in the drive.'}>
        {(p) => (
          <div className="flex gap-2">
            <input {...p} className={cx(inputClass, 'font-mono')} value={running ? (typed ?? c.cdrom.iso ?? '') : (c.cdrom.iso ?? '')} placeholder="empty"
              onChange={(e) => (running ? setTyped(e.target.value) : edit((n) => void (n.cdrom.iso = e.target.value.trim() ? e.target.value : null)))}
              onKeyDown={(e) => pending && e.key === 'Enter' && (e.preventDefault(), insert())} />
            {pending && <Button variant="primary" onClick={insert}>Insert</Button>}
            <Button onClick={() => setBrowse((b) => !b)} aria-expanded={browse}>Browse…</Button>
            <Button disabledReason={c.cdrom.iso ? null : 'The drive is already empty.'} onClick={() => put(null)}>
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
            put(path);
          }}
        />
      )}
      {c.cdrom.iso && <p className="text-xs text-zinc-600 dark:text-zinc-400">In the drive: {basename(c.cdrom.iso)}</p>}
      <CdromDrives cfg={c} edit={edit} issue={issue} lock={lock} />
    </>
  );
}
