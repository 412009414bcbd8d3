import { mkdir, rename, rm, writeFile, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { basename, isAbsolute, join } from 'node:path';
import { VireoError } from '../../api/errors.ts';
import type { LibraryEntry } from '../library/library.ts';
import type { QemuImg } from '../disk/qemu-img.ts';
import { keptRoot, NVRAM_FILES } from '../paths.ts';

// "Keep the disk images" when deleting a VM: its disks, UEFI variables and TPM state move out
// of the VM folder into <home>/kept/<name>-<time>/ before the folder goes. Moves, not copies:
// same file system, instant, and nothing is lost if the move itself fails (the VM stays).
// A disk that is an overlay (a linked clone's, on its source's disk or on a snapshot's shared
// base) is written out whole instead: the kept folder must not depend on a base that goes
// once its last clone is deleted, nor on a relative path that no longer resolves from there.

export interface KeptFiles {
  dir: string;
  /** what is in it, relative to dir */
  files: string[];
  /** disks that lived outside the VM folder: left where they are */
  external: string[];
}

function folderName(name: string, now: Date): string {
  // Keep the name readable but safe as one path segment on every OS.
  const safe = name.replace(/[^\p{L}\p{N} ._-]/gu, '_').trim().slice(0, 60) || 'vm';
  const stamp = now.toISOString().replace(/[:.]/g, '-').replace('T', '_').slice(0, 19);
  return `${safe}-${stamp}`;
}

export async function keepVmFiles(home: string, entry: LibraryEntry, img: QemuImg, now = new Date()): Promise<KeptFiles> {
  const { paths } = entry;
  const config = entry.config;
  const moves: Array<[from: string, to: string]> = [];
  const external: string[] = [];
  for (const d of config?.disks ?? []) {
    if (isAbsolute(d.file)) external.push(d.file);
    else moves.push([join(paths.dir, d.file), d.file]);
  }
  for (const f of NVRAM_FILES) moves.push([join(paths.dir, f), f]);
  moves.push([paths.tpmState, basename(paths.tpmState)]);
  const present = moves.filter(([from]) => existsSync(from));
  const overlays = new Set<string>();
  for (const d of config?.disks ?? []) {
    const from = join(paths.dir, d.file);
    if (!isAbsolute(d.file) && d.format === 'qcow2' && existsSync(from) && (await img.info(from)).backingFile) overlays.add(from);
  }

  const dir = join(keptRoot(home), folderName(config?.name ?? entry.id, now));
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const done: string[] = [];
  const written: string[] = [];
  try {
    // The standalone copies first (they can fail on space): only then is anything moved.
    for (const [from, rel] of present) {
      if (!overlays.has(from)) continue;
      await img.convert(from, join(dir, rel), { fromFormat: 'qcow2', toFormat: 'qcow2' });
      written.push(rel);
    }
    for (const [from, rel] of present) {
      if (overlays.has(from)) continue;
      await rename(from, join(dir, rel));
      done.push(rel);
    }
    done.push(...written);
  } catch (e) {
    // Put back what already moved: the VM is not deleted, so it must stay whole.
    for (const rel of done) await rename(join(dir, rel), join(paths.dir, rel)).catch(() => {});
    for (const [from, rel] of present) if (overlays.has(from)) await rm(join(dir, rel), { force: true });
    throw new VireoError('IO_ERROR', `could not move the disks of "${config?.name ?? entry.id}" to ${dir}: ${(e as Error).message}; the VM was not deleted`, { dir });
  }
  // The old settings beside the disks: which disk was which, the firmware, the MAC addresses.
  if (entry.config) await writeFile(join(dir, 'vm.json'), JSON.stringify(entry.config, null, 2) + '\n', { mode: 0o600 });
  const sizes = await Promise.all(done.map(async (rel) => `${rel}\t${(await stat(join(dir, rel)).catch(() => null))?.size ?? 0}`));
  await writeFile(
    join(dir, 'README.txt'),
    `Kept when the VM "${config?.name ?? entry.id}" was deleted on ${now.toISOString()}.\n` +
      `Import a disk into a new VM: vireo create NAME --import-disk ${join(dir, done.find((f) => f.endsWith('.qcow2') && !f.startsWith('nvram')) ?? 'disk0.qcow2')}\n\n` +
      sizes.join('\n') +
      '\n' +
      (external.length ? `\nDisks outside the VM folder were left where they are:\n${external.join('\n')}\n` : ''),
    { mode: 0o600 },
  );
  return { dir, files: done, external };
}
