import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { VireoError } from '../../api/errors.ts';
import type { Caller } from '../../api/define.ts';
import type { FileEntry } from '../../api/types.ts';
import { isWeb, within, type Confinement } from './confine.ts';

// files.list: the web UI's file picker (it has no native dialog). A local caller browses from
// the home folder anywhere; a web caller starts at its roots (the library and the media
// folders) and never above them: "Up" from a root leads back to the list of roots.

const ISO_EXT = /\.iso$/i;
const DISK_EXT = /\.(qcow2|img|raw|vmdk|vdi|vhdx|vhd)$/i;

export interface Listing {
  dir: string;
  parent: string | null;
  entries: FileEntry[];
}

export async function listFiles(confine: Confinement, caller: Caller, dir: string | undefined, filter: 'iso' | 'disk' | 'any'): Promise<Listing> {
  if (isWeb(caller) && !dir) {
    const roots = await confine.roots(caller);
    return { dir: '', parent: null, entries: roots.map((r) => ({ name: r, path: r, kind: 'dir', size: 0 })) };
  }
  const target = await confine.folder(caller, dir ?? homedir(), 'dir');
  let names: string[];
  try {
    names = await readdir(target);
  } catch (e) {
    throw new VireoError('NOT_FOUND', `cannot open folder ${target}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { path: target });
  }
  const entries: FileEntry[] = [];
  const roots = isWeb(caller) ? await confine.roots(caller) : [];
  for (const name of names) {
    if (name.startsWith('.')) continue;
    const path = join(target, name);
    // A web caller does not see what a link outside the roots points at (not even its size).
    if (isWeb(caller) && (await lstat(path).catch(() => null))?.isSymbolicLink()) {
      const real = await realpath(path).catch(() => null);
      if (!real || !roots.some((r) => within(r, real))) continue;
    }
    const st = await stat(path).catch(() => null);
    if (!st) continue;
    if (st.isDirectory()) entries.push({ name, path, kind: 'dir', size: 0 });
    else if (st.isFile() && (filter === 'any' || (filter === 'iso' ? ISO_EXT : DISK_EXT).test(name))) entries.push({ name, path, kind: 'file', size: st.size });
  }
  entries.sort((a, b) => (a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === 'dir' ? -1 : 1));
  let parent: string | null = dirname(target);
  if (parent === target) parent = null;
  else if (isWeb(caller)) {
    // A root's parent is outside; a link inside a root may lead to another root's subfolder,
    // whose parent is still allowed: ask the policy rather than compare strings.
    if (roots.includes(target)) parent = null;
    else parent = await confine.folder(caller, parent, 'dir').catch(() => null);
  }
  return { dir: target, parent, entries };
}
