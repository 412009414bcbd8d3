import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { VireoError } from '../../api/errors.ts';
import { run } from '../util/proc.ts';

// The answers CD for the installers that read their answers from a volume (Windows Setup's
// autounattend.xml, subiquity's cidata). Written with xorriso for now: the engine's own ISO 9660
// writer (electron/engine/cloud/, issue 17's cloud-image half) is not in the tree yet; when it is,
// this module should use it and drop the tool. Without xorriso the express install of these OSes
// is unavailable, with this reason.

export const XORRISO_HINT = 'install xorriso (Debian/Ubuntu: apt install xorriso; Fedora: dnf install xorriso; macOS: brew install xorriso)';

export type MediumAvailability = { available: true; version: string } | { available: false; reason: string };

export async function mediumAvailability(binary = 'xorriso'): Promise<MediumAvailability> {
  try {
    const r = await run(binary, ['-version'], { timeoutMs: 10_000 });
    return { available: true, version: (r.stdout.split('\n')[0] ?? '').trim() };
  } catch (e) {
    const missing = ((e as VireoError).details as { errno?: string } | undefined)?.errno === 'ENOENT';
    return { available: false, reason: missing ? `the answers CD is written with xorriso, which is not installed: ${XORRISO_HINT}` : `xorriso does not run: ${(e as Error).message}` };
  }
}

/** An ISO 9660 + Joliet + Rock Ridge image holding `files` at its root, labelled `label`. */
export async function writeAnswerIso(dest: string, label: string, files: Record<string, string | Buffer>, binary = 'xorriso'): Promise<void> {
  const a = await mediumAvailability(binary);
  if (!a.available) throw new VireoError('UNSUPPORTED', a.reason, { binary });
  const dir = await mkdtemp(join(tmpdir(), 'vireo-answers-'));
  try {
    for (const [name, data] of Object.entries(files)) await writeFile(join(dir, name), data, { mode: 0o600 });
    await run(binary, ['-as', 'mkisofs', '-quiet', '-o', dest, '-V', label, '-J', '-R', '-input-charset', 'utf-8', dir], {
      timeoutMs: 60_000,
      hint: 'the answers CD could not be written: check the free space in the VM folder',
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
