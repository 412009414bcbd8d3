import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { LibraryEntry } from '../library/library.ts';
import type { Machine } from '../vm/machine.ts';
import { screendumpToPng } from './png.ts';

// The VM's screen as a PNG, from QEMU's screendump (PPM) in the VM's private runtime folder.
// vms.screenshot and snapshot thumbnails both use it.

export async function screendump(entry: LibraryEntry, m: Machine): Promise<Buffer> {
  const qmp = m.monitor('take a screenshot of');
  const file = join(entry.paths.runtime, `screen-${Date.now()}.ppm`);
  try {
    await qmp.execute('screendump', { filename: file });
    return screendumpToPng(await readFile(file));
  } finally {
    await rm(file, { force: true });
  }
}
