import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { VmFace } from '../../api/library-types.ts';
import { screendumpToPng } from '../display/png.ts';
import type { LibraryEntry } from './library.ts';
import type { Machine } from '../vm/machine.ts';
import { writeFileAtomic } from '../util/fs-atomic.ts';
import { rm } from 'node:fs/promises';

// A VM's face in the library: a small thumbnail of its screen, taken on request while it runs
// (the library asks every few seconds, only while it is visible) and kept beside the VM as
// face.png, so a stopped VM shows its last screen. The stop path takes one more as it begins.

/** Width of a face: a card in the library's grid is at most this wide on a 2x screen. */
export const FACE_WIDTH = 320;

export const facePath = (entry: LibraryEntry) => join(entry.paths.dir, 'face.png');

/** A new face from the running VM's screen, written beside it; null when it has no screen to take. */
export async function takeFace(entry: LibraryEntry, m: Machine): Promise<VmFace | null> {
  if (!m.isActive || !entry.config) return null;
  const qmp = m.monitor('take a thumbnail of');
  const ppm = join(entry.paths.runtime, `face-${process.pid}-${Date.now()}.ppm`);
  try {
    await qmp.execute('screendump', { filename: ppm });
    const png = screendumpToPng(await readFile(ppm), { maxWidth: FACE_WIDTH });
    const takenAt = new Date().toISOString();
    // A VM deleted meanwhile has no folder to keep it in; the face is still returned.
    await writeFileAtomic(facePath(entry), png).catch(() => {});
    return { png: png.toString('base64'), takenAt, live: true };
  } finally {
    await rm(ppm, { force: true });
  }
}

/** The face kept from the VM's last run, or none. */
export async function keptFace(entry: LibraryEntry): Promise<VmFace> {
  try {
    const [png, st] = await Promise.all([readFile(facePath(entry)), stat(facePath(entry))]);
    return { png: png.toString('base64'), takenAt: st.mtime.toISOString(), live: false };
  } catch {
    return { png: null, takenAt: null, live: false };
  }
}

/** When a stopped VM last ran: its QEMU log is appended at every start and by QEMU while it runs; its face at its stop. */
export async function lastRan(entry: LibraryEntry): Promise<string | null> {
  const times = await Promise.all([entry.paths.qemuLog, facePath(entry)].map((f) => stat(f).then((s) => s.mtimeMs, () => 0)));
  const t = Math.max(...times);
  return t > 0 ? new Date(t).toISOString() : null;
}
