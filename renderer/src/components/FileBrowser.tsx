import { useEffect, useState } from 'react';
import type { FileEntry } from '../../../electron/api/types.ts';
import { useClient } from '../api/context.tsx';
import { asWireError, type WireError } from '../api/client.ts';
import { formatBytes } from '../../../electron/shared/size.ts';
import { Button, ErrorAlert } from './ui.tsx';
import { DiscIcon, FolderIcon } from './icons.tsx';

// A host file picker over files.list, for the web UI which has no native dialog.

export function FileBrowser({
  filter, start, onPick, onCancel, onPickDir,
}: { filter: 'iso' | 'disk' | 'any'; start?: string; onPick: (path: string) => void; onCancel: () => void; /** offers "Use this folder" (shared folders) */ onPickDir?: (dir: string) => void }) {
  const client = useClient();
  const [dir, setDir] = useState<string | undefined>(start);
  const [listing, setListing] = useState<{ dir: string; parent: string | null; entries: FileEntry[] } | null>(null);
  const [error, setError] = useState<WireError | null>(null);

  useEffect(() => {
    let live = true;
    client.call('files.list', { ...(dir ? { dir } : {}), filter }).then(
      (l) => live && (setListing(l), setError(null)),
      (e) => live && setError(asWireError(e)),
    );
    return () => {
      live = false;
    };
  }, [client, dir, filter]);

  return (
    <div className="flex flex-col gap-2 rounded-md border border-zinc-200 p-2 dark:border-zinc-700" role="group" aria-label="Browse host files">
      <div className="flex items-center gap-2">
        <Button size="sm" disabledReason={listing?.parent ? null : 'This is the top folder.'} onClick={() => listing?.parent && setDir(listing.parent)}>
          <span aria-hidden="true">↑</span> Up
        </Button>
        <span className="min-w-0 flex-1 truncate font-mono text-xs" title={listing?.dir}>{listing?.dir ?? '…'}</span>
        {/* a web caller's list of roots (dir "") is no folder: nothing to share there */}
        {onPickDir && listing?.dir && <Button size="sm" onClick={() => onPickDir(listing.dir)}>Use this folder</Button>}
        <Button size="sm" variant="ghost" onClick={onCancel}>Close</Button>
      </div>
      {error && <ErrorAlert error={error} />}
      <ul className="max-h-56 overflow-y-auto" aria-label={`Contents of ${listing?.dir ?? 'folder'}`}>
        {listing?.entries.length === 0 && (
          <li className="px-2 py-1 text-sm text-zinc-600 dark:text-zinc-400">No {filter === 'iso' ? 'ISO images' : filter === 'disk' ? 'disk images' : 'files'} or folders here.</li>
        )}
        {listing?.entries.map((e) => (
          <li key={e.path}>
            <button
              type="button"
              className="flex w-full items-center gap-2 rounded px-2 py-1 text-left text-sm hover:bg-zinc-100 dark:hover:bg-zinc-800"
              onClick={() => (e.kind === 'dir' ? setDir(e.path) : onPick(e.path))}
            >
              {e.kind === 'dir' ? <FolderIcon className="shrink-0 text-amber-600 dark:text-amber-400" /> : <DiscIcon className="shrink-0 text-zinc-500 dark:text-zinc-400" />}
              <span className="min-w-0 flex-1 truncate">{e.name}{e.kind === 'dir' ? '/' : ''}</span>
              {e.kind === 'file' && <span className="text-xs text-zinc-600 dark:text-zinc-400">{formatBytes(e.size)}</span>}
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}
