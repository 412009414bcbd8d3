import { useEffect, useState } from 'react';
import type { GuestToolsInfo, ShareTypeAvailability } from '../../../../electron/api/types.ts';
import { SHARE_TYPES, MAX_SHARES } from '../../../../electron/shared/config-enums.ts';
import { useClient } from '../../api/context.tsx';
import { asWireError, type WireError } from '../../api/client.ts';
import { FileBrowser } from '../FileBrowser.tsx';
import { Button, Check, ErrorAlert, Field, cx, inputClass } from '../ui.tsx';
import type { SectionProps } from './types.ts';

// Settings → Shared folders: host folders the guest mounts by tag (9p or virtiofs), each
// type with why it is unavailable here, the mount command for the guest, and for Windows
// guests the virtio-win ISO found on the host. Changes land on Save, like every section.

const TAG_OK = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,30}$/;
const tagOf = (path: string, taken: string[]) => {
  const base = (path.split(/[\\/]/).filter(Boolean).pop() ?? '').replace(/[^A-Za-z0-9_.-]+/g, '_').replace(/^[^A-Za-z0-9]+/, '').slice(0, 28) || 'share';
  let t = base;
  for (let n = 2; taken.includes(t); n++) t = `${base}-${n}`;
  return t;
};

export function SharesSection({ cfg: c, edit, issue, lock, host, vm }: SectionProps) {
  const [browse, setBrowse] = useState(false);
  const avail = vm.shares?.availability ?? host?.shares ?? null;
  const typeNote = (a: ShareTypeAvailability | undefined) => (a ? (a.available ? null : a.reason) : 'checking…');
  const saved = new Map((vm.shares?.shares ?? []).map((s) => [s.tag, s]));
  const add = (path: string) =>
    edit((n) => void n.shares.push({ tag: tagOf(path, n.shares.map((s) => s.tag)), path, readOnly: false, type: avail?.['9p'].available === false && avail.virtiofs.available ? 'virtiofs' : '9p' }));

  return (
    <div className="flex flex-col gap-4">
      {lock && <p className="text-xs text-amber-800 dark:text-amber-300">{lock}</p>}
      {c.shares.length === 0 && <p className="text-sm text-zinc-600 dark:text-zinc-400">No shared folders. Add a host folder the guest can mount.</p>}
      <ul className="flex flex-col gap-3" aria-label="Shared folders">
        {c.shares.map((s, i) => {
          const info = saved.get(s.tag);
          const unsaved = !info || info.path !== s.path || info.type !== s.type || info.readOnly !== s.readOnly;
          const why = typeNote(avail?.[s.type]);
          return (
            <li key={i} className="flex flex-col gap-2 rounded-md border border-zinc-200 p-3 dark:border-zinc-700" aria-label={`Shared folder ${s.tag}`}>
              <div className="flex items-center gap-2">
                <span className="min-w-0 flex-1 truncate font-mono text-sm" title={s.path}>{s.path}</span>
                <Button size="sm" variant="danger" disabledReason={lock} onClick={() => edit((n) => void n.shares.splice(i, 1))}>Remove</Button>
              </div>
              <div className="grid grid-cols-2 gap-3">
                <Field label="Tag (what the guest mounts)" error={issue(`shares.${i}.tag`) ?? (TAG_OK.test(s.tag) ? undefined : '1-31 letters, digits, "_", "." or "-", starting with a letter or digit')}>
                  {(p) => <input {...p} disabled={!!lock} className={cx(inputClass, 'font-mono')} value={s.tag} onChange={(e) => edit((n) => void (n.shares[i]!.tag = e.target.value))} />}
                </Field>
                <Field label="Type" error={issue(`shares.${i}.type`)} warning={why ?? undefined} hint={avail?.[s.type]?.liveSnapshot}>
                  {(p) => (
                    <select {...p} disabled={!!lock} className={inputClass} value={s.type} onChange={(e) => edit((n) => void (n.shares[i]!.type = e.target.value as (typeof SHARE_TYPES)[number]))}>
                      {SHARE_TYPES.map((t) => (
                        <option key={t} value={t}>{t}{avail && !avail[t].available ? ' (not available here)' : ''}</option>
                      ))}
                    </select>
                  )}
                </Field>
              </div>
              <Check
                label="Read-only"
                checked={s.readOnly}
                disabled={!!lock}
                hint={s.type === 'virtiofs' && avail && !avail.virtiofs.readOnly ? "This host's virtiofsd has no read-only mode: use 9p for a read-only share." : undefined}
                onChange={(v) => edit((n) => void (n.shares[i]!.readOnly = v))}
              />
              {info && !unsaved ? (
                <div className="text-xs">
                  {!info.available && <p className="text-red-700 dark:text-red-400">{info.reason}</p>}
                  {info.mount.commands.length > 0 && (
                    <pre className="overflow-x-auto rounded bg-zinc-100 p-2 font-mono dark:bg-zinc-900" aria-label={`Mount command for ${s.tag}`}>{info.mount.commands.join('\n')}</pre>
                  )}
                  {info.mount.note && <p className="text-zinc-600 dark:text-zinc-400">{info.mount.note}</p>}
                </div>
              ) : (
                <p className="text-xs text-zinc-600 dark:text-zinc-400">Save to see the mount command for the guest.</p>
              )}
            </li>
          );
        })}
      </ul>
      <div>
        <Button disabledReason={lock ?? (c.shares.length >= MAX_SHARES ? `At most ${MAX_SHARES} shared folders.` : null)} onClick={() => setBrowse((b) => !b)} aria-expanded={browse}>
          Add folder…
        </Button>
      </div>
      {browse && (
        <FileBrowser
          filter="iso"
          onCancel={() => setBrowse(false)}
          onPick={() => {}}
          onPickDir={(dir) => {
            setBrowse(false);
            add(dir);
          }}
        />
      )}
      {c.os.family === 'windows' && <GuestTools vmId={vm.id} />}
    </div>
  );
}

/** The virtio-win / SPICE tools for a Windows guest, when the host has them; else where to get them. */
function GuestTools({ vmId }: { vmId: string }) {
  const client = useClient();
  const [info, setInfo] = useState<GuestToolsInfo | null>(null);
  const [error, setError] = useState<WireError | null>(null);
  const [done, setDone] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    client.call('guestTools.list', {}).then((i) => live && setInfo(i), (e) => live && setError(asWireError(e)));
    return () => {
      live = false;
    };
  }, [client]);
  return (
    <section aria-label="Windows guest tools" className="flex flex-col gap-2 border-t border-zinc-200 pt-3 dark:border-zinc-700">
      <h3 className="text-sm font-medium">Windows guest tools</h3>
      {error && <ErrorAlert error={error} onDismiss={() => setError(null)} />}
      {info?.guidance && <p className="text-xs text-zinc-600 dark:text-zinc-400">{info.guidance}</p>}
      {info?.found.map((t) => (
        <div key={t.path} className="flex items-center gap-2 text-sm">
          <span className="min-w-0 flex-1 truncate font-mono" title={t.path}>{t.name}</span>
          <Button
            size="sm"
            disabledReason={t.attachable ? null : t.note}
            onClick={() => client.call('guestTools.attach', { vm: vmId, path: t.path }).then(() => setDone(t.name), (e) => setError(asWireError(e)))}
          >
            Insert as CD
          </Button>
        </div>
      ))}
      {done && <p role="status" className="text-xs">{done} is in the CD drive.</p>}
    </section>
  );
}
