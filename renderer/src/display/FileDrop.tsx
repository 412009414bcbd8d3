import { useEffect, useRef, useState } from 'react';
import type { ApiClient } from '../../../electron/api/contract.ts';
import { asWireError } from '../api/client.ts';

// A file dropped on the VM's screen goes into the guest through its agent (agent.upload, in
// chunks: the browser has the bytes, the engine only the guest). It lands in a guest folder
// the user can change (remembered per browser), with progress, and the agent's refusal or
// absence said plainly. Mounted inside the screen area; it listens on its parent element.

const CHUNK = 512 * 1024;
const FOLDER_KEY = 'vireo.dropFolder';

type Status = { kind: 'idle' } | { kind: 'over' } | { kind: 'copying'; name: string; done: number; total: number } | { kind: 'done'; path: string; bytes: number } | { kind: 'error'; message: string };

function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function FileDrop({ client, vmId, enabled }: { client: ApiClient; vmId: string; enabled: boolean }) {
  const anchor = useRef<HTMLSpanElement>(null);
  const [status, setStatus] = useState<Status>({ kind: 'idle' });
  const [folder, setFolder] = useState(() => localStorage.getItem(FOLDER_KEY) || '/tmp');
  const folderRef = useRef(folder);
  folderRef.current = folder;

  useEffect(() => {
    const area = anchor.current?.parentElement;
    if (!area || !enabled) return;
    const hasFiles = (e: DragEvent) => !!e.dataTransfer && [...e.dataTransfer.types].includes('Files');
    const over = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      e.dataTransfer!.dropEffect = 'copy';
      setStatus((s) => (s.kind === 'copying' ? s : { kind: 'over' }));
    };
    const leave = () => setStatus((s) => (s.kind === 'over' ? { kind: 'idle' } : s));
    const drop = async (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      const file = e.dataTransfer!.files[0];
      if (!file) return setStatus({ kind: 'idle' });
      // Only the name, never a path the browser might pass along.
      const name = file.name.replace(/[/\\]/g, '_') || 'dropped-file';
      const path = `${folderRef.current.replace(/\/+$/, '') || ''}/${name}`;
      try {
        const bytes = new Uint8Array(await file.arrayBuffer());
        let off = 0;
        do {
          setStatus({ kind: 'copying', name, done: off, total: bytes.length });
          const part = bytes.subarray(off, off + CHUNK);
          await client.call('agent.upload', { vm: vmId, guestPath: path, offset: off, data: toBase64(part) });
          off += part.length;
        } while (off < bytes.length);
        setStatus({ kind: 'done', path, bytes: bytes.length });
      } catch (err) {
        setStatus({ kind: 'error', message: asWireError(err).message });
      }
    };
    area.addEventListener('dragover', over);
    area.addEventListener('dragleave', leave);
    area.addEventListener('drop', drop);
    return () => {
      area.removeEventListener('dragover', over);
      area.removeEventListener('dragleave', leave);
      area.removeEventListener('drop', drop);
    };
  }, [client, vmId, enabled]);

  const pct = status.kind === 'copying' && status.total ? Math.floor((status.done / status.total) * 100) : 0;
  return (
    <span ref={anchor}>
      {status.kind !== 'idle' && (
        <div role="status" data-testid="file-drop" data-kind={status.kind}
          className="absolute right-2 bottom-2 z-10 flex max-w-sm flex-col gap-1 rounded-md border border-zinc-300 bg-white/95 p-2 text-xs shadow dark:border-zinc-600 dark:bg-zinc-900/95">
          {status.kind === 'over' && <p>Drop to copy the file into the guest's {folder}</p>}
          {status.kind === 'copying' && (
            <>
              <p>Copying {status.name} into the guest: {pct}%</p>
              <progress max={100} value={pct} aria-label="Copy progress" className="w-full" />
            </>
          )}
          {status.kind === 'done' && <p>Copied {status.bytes} bytes to {status.path}</p>}
          {status.kind === 'error' && <p className="text-red-700 dark:text-red-400">Could not copy the file: {status.message}</p>}
          {(status.kind === 'done' || status.kind === 'error') && (
            <div className="flex items-center gap-1">
              <label className="flex items-center gap-1">
                Guest folder
                <input value={folder} onChange={(e) => (setFolder(e.target.value), localStorage.setItem(FOLDER_KEY, e.target.value))}
                  className="w-32 rounded border border-zinc-300 px-1 font-mono dark:border-zinc-600 dark:bg-zinc-800" />
              </label>
              <button type="button" className="ml-auto underline" onClick={() => setStatus({ kind: 'idle' })}>Close</button>
            </div>
          )}
        </div>
      )}
    </span>
  );
}
