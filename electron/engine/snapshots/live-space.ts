import { statSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { VireoError } from '../../api/errors.ts';
import { formatBytes } from '../../api/schemas/common.ts';
import { freeBytes, isNoSpace, noSpaceError } from '../util/space.ts';

// Room for a live snapshot. QEMU writes the guest's RAM into a qcow2 image; when the disk
// fills up mid-way it reports only "Error while writing VM state: Input/output error", and
// the part already written stays allocated inside the image (qcow2 keeps it beyond the end
// of the virtual disk until the next successful live snapshot). So: refuse up front when the
// RAM cannot fit, and name an EIO for what it is when the disk is what ran out.

/** Device state (video RAM, virtio rings, ...) on top of guest RAM, with room for metadata. */
const DEVICE_STATE_BYTES = 16 * 1024 ** 2;

export interface LiveRoom {
  /** the image that takes the RAM state, and its folder */
  image: string;
  folder: string;
  /** bytes the image had allocated before the snapshot began */
  allocatedBefore: number | null;
  /** the most the state can take: all of guest RAM plus device state */
  neededBytes: number;
  vm: string;
}

export function liveRoom(vm: string, vmstateImage: string, memoryMiB: number): LiveRoom {
  return { image: vmstateImage, folder: dirname(vmstateImage), allocatedBefore: allocated(vmstateImage), neededBytes: memoryMiB * 1024 ** 2 + DEVICE_STATE_BYTES, vm };
}

function allocated(file: string): number | null {
  const st = statSync(file, { throwIfNoEntry: false });
  return st ? st.blocks * 512 : null;
}

const what = (r: LiveRoom) => `take a live snapshot of "${r.vm}" (it saves the guest's RAM)`;

/** NO_SPACE before anything is written, when the RAM state would not fit. */
export async function assertRoomForLive(r: LiveRoom): Promise<void> {
  const free = await freeBytes(r.folder);
  if (free !== null && free < r.neededBytes) throw await noSpaceError(r.folder, what(r), r.neededBytes);
}

/** A live snapshot's failure as the user should read it: NO_SPACE when the disk filled up. */
export async function explainLiveFailure(err: unknown, r: LiveRoom): Promise<unknown> {
  const text = err instanceof VireoError ? `${err.message} ${String((err.details as { desc?: string } | undefined)?.desc ?? '')}` : String(err);
  // EIO is also what a failing disk says: only a disk without room for the state is NO_SPACE.
  const eio = /Input\/output error|EIO/.test(text);
  if (!isNoSpace(err) && !eio) return err;
  const free = await freeBytes(r.folder);
  if (!isNoSpace(err) && !(free !== null && free < r.neededBytes)) return err;
  const base = await noSpaceError(r.folder, what(r), r.neededBytes, err);
  // Say where the part QEMU already wrote went: it is not lost, but not free either.
  const now = allocated(r.image);
  const kept = now !== null && r.allocatedBefore !== null ? Math.max(0, now - r.allocatedBefore) : null;
  const keptNote = kept ? ` QEMU keeps the ${formatBytes(kept)} it had written inside ${basename(r.image)} and reuses them for the next live snapshot.` : '';
  return new VireoError('NO_SPACE', `${base.message}.${keptNote}`, { ...(base.details as object), keptBytes: kept });
}
