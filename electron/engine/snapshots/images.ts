import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { VmConfig } from '../../api/schemas/vm-config.ts';
import type { LibraryEntry } from '../library/library.ts';
import { QEMU_IDS } from '../qemu/argv/index.ts';

// Which images take part in a VM's snapshots, and whether snapshots can work for it at all
// (said before anyone tries). Snapshots and clones both read this.

/** One image that takes part in snapshots: its QEMU node name and its file. */
export interface SnapshotImage {
  node: string;
  path: string;
}

/** A disk's file: relative ones live in the VM folder (VmService.diskPath). */
export type DiskPath = (entry: LibraryEntry, file: string) => string;

/** Writable images in snapshot order: disks first (the first holds the RAM state), then NVRAM. */
export function snapshotImages(entry: LibraryEntry, diskPath: DiskPath): SnapshotImage[] {
  const c = entry.config;
  if (!c) return [];
  const out: SnapshotImage[] = c.disks.filter((d) => !d.readOnly).map((d) => ({ node: QEMU_IDS.diskNode(d), path: diskPath(entry, d.file) }));
  const nvram = join(entry.paths.dir, 'nvram.qcow2');
  if (c.system.firmware === 'uefi' && existsSync(nvram)) out.push({ node: QEMU_IDS.pflashVars, path: nvram });
  return out;
}

/** Why snapshots cannot work for this VM (null when they can), said before anyone tries. */
export function snapshotAvailability(entry: LibraryEntry, diskPath: DiskPath): { available: boolean; reason: string | null } {
  const no = (reason: string) => ({ available: false, reason });
  const c: VmConfig | null = entry.config;
  if (!c) return no(`the VM configuration is broken: ${entry.broken ?? 'unreadable vm.json'}`);
  // a wasm/v86 VM's snapshots are v86 states with drive copies (snapshots/v86-source.ts), taken in the page running it
  if (c.backend === 'wasm/v86') return { available: true, reason: null };
  const nonQcow = c.disks.filter((d) => !d.readOnly && d.format !== 'qcow2');
  if (nonQcow.length) {
    return no(`disk ${nonQcow.map((d) => `${d.id} (${d.format})`).join(', ')} is not qcow2, and only qcow2 images can hold snapshots: convert it to qcow2 (Settings → Disks) to use snapshots`);
  }
  if (c.system.firmware === 'uefi' && existsSync(join(entry.paths.dir, 'nvram.fd')) && !existsSync(join(entry.paths.dir, 'nvram.qcow2'))) {
    return no(
      'the UEFI variable store is a raw file (nvram.fd) and cannot be part of a snapshot: with the VM stopped, run `qemu-img convert -O qcow2 nvram.fd nvram.qcow2` in its folder and delete nvram.fd',
    );
  }
  const imgs = snapshotImages(entry, diskPath);
  if (imgs.length === 0) return no('the VM has no writable disk to hold snapshots: add a qcow2 disk in Settings → Disks');
  const missing = imgs.find((i) => !existsSync(i.path));
  if (missing) return no(`image ${missing.path} (${missing.node}) is missing: restore the file or remove the disk in Settings → Disks`);
  return { available: true, reason: null };
}
