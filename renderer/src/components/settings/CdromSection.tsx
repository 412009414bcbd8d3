import { useState } from 'react';
import { basename } from '../../lib/format.ts';
import { FileBrowser } from '../FileBrowser.tsx';
import { Button, Field, cx, inputClass } from '../ui.tsx';
import type { SectionProps } from './types.ts';
import { CdromDrives } from './CdromDrives.tsx';

export function CdromSection({ cfg: c, edit, issue, running, changeMedia, lock }: SectionProps) {
  const [browse, setBrowse] = useState(false);
  const put = (iso: string | null) => (running ? void changeMedia(iso) : edit((n) => void (n.cdrom.iso = iso)));
  return (
    <>
      <Field label="ISO image" error={issue('cdrom.iso')} hint={running ? 'Changes apply to the running VM at once.' : 'Empty means no disc in the drive.'}>
        {(p) => (
          <div className="flex gap-2">
            <input {...p} readOnly={running} className={cx(inputClass, 'font-mono')} value={c.cdrom.iso ?? ''} placeholder="empty" onChange={(e) => edit((n) => void (n.cdrom.iso = e.target.value.trim() ? e.target.value : null))} />
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
