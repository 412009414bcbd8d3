import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OsTable } from './os-table.ts';
import { generate } from '../../../scripts/gen-os-table.ts';

// A newer osinfo-db on the host knows releases the bundled table (generated from Debian's
// osinfo-db at build time) does not. Where one is installed — the distribution's package, a
// local install, the user's own, Homebrew on macOS — and its VERSION (osinfo-db releases are
// dated YYYYMMDD) is newer than the bundled table's, its data is used instead, with Vireo's own
// additions (resources/os/extra) on top as at build time.

/** Where osinfo-db lives, in osinfo's own search order (OSINFO_SYSTEM_DIR first when set). */
export function hostOsinfoDirs(env: NodeJS.ProcessEnv = process.env, home = homedir()): string[] {
  return [
    ...(env.OSINFO_SYSTEM_DIR ? [env.OSINFO_SYSTEM_DIR] : []),
    '/usr/share/osinfo',
    '/usr/local/share/osinfo',
    join(home, '.local/share/osinfo'),
    '/opt/homebrew/share/osinfo',
    '/usr/local/opt/osinfo-db/share/osinfo',
  ];
}

/** The database's release (YYYYMMDD), or undefined when the folder holds none. */
export function osinfoVersion(root: string): string | undefined {
  const f = join(root, 'VERSION');
  if (!existsSync(f) || !existsSync(join(root, 'os'))) return undefined;
  const v = readFileSync(f, 'utf8').trim();
  return /^\d{8}$/.test(v) ? v : undefined;
}

export function bundledVersion(table: OsTable): string {
  return /osinfo-db (\d{8})/.exec(table.source)?.[1] ?? '00000000';
}

export interface HostTableChoice {
  table: OsTable;
  /** the host database used, or undefined: the bundled table */
  root?: string;
}

/** The newest host osinfo-db when it is newer than the bundled table; else the bundled one. */
export function chooseOsTable(bundled: OsTable, dirs: string[], extraDir: string | undefined): HostTableChoice {
  let best: { root: string; version: string } | undefined;
  for (const root of dirs) {
    const version = osinfoVersion(root);
    if (version && version > bundledVersion(bundled) && (!best || version > best.version)) best = { root, version };
  }
  if (!best) return { table: bundled };
  try {
    return { table: JSON.parse(generate(best.root, extraDir).json) as OsTable, root: best.root };
  } catch {
    // a damaged host database must not cost the user the bundled one
    return { table: bundled };
  }
}

/** resources/os/extra beside the source tree or the packaged app's resources, when present. */
export function extraOsDir(): string | undefined {
  const here = dirname(fileURLToPath(import.meta.url));
  return [join(here, '..', '..', '..', 'resources', 'os', 'extra'), join(here, '..', '..', 'resources', 'os', 'extra'), join(process.cwd(), 'resources', 'os', 'extra')].find((d) => existsSync(d));
}
