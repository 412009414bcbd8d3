import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

// Where node_modules/electron would run from, WITHOUT require('electron'): requiring it when
// the binary is missing starts a download, which these machines cannot do.
export function electronBinary(repo = resolve(import.meta.dirname, '..', '..')): string | null {
  const pkgDir = join(repo, 'node_modules', 'electron');
  let rel: string;
  try {
    rel = readFileSync(join(pkgDir, 'path.txt'), 'utf8').trim();
  } catch {
    rel = ''; // no path.txt: the binary was never downloaded
  }
  const override = process.env.ELECTRON_OVERRIDE_DIST_PATH;
  const bin = override ? join(override, rel || 'electron') : rel ? join(pkgDir, 'dist', rel) : null;
  return bin && existsSync(bin) ? bin : null;
}

export const NO_ELECTRON_REASON = 'skipped: no Electron binary';
