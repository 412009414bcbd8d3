import { dirname } from 'node:path';
import { VireoError } from '../../api/errors.ts';
import { freeBytes, isNoSpace, noSpaceError } from '../util/space.ts';

// Room for a live snapshot. QEMU writes the guest's RAM into a qcow2 image; when the disk
// fills up mid-way it reports only "Error while writing VM state: Input/output error", and
// the part already written stays allocated inside the image (qcow2 keeps it beyond the end
// of the virtual disk until the next successful live snapshot). So: refuse up front when the
// RAM cannot fit, and name an EIO for what it is when the disk is what ran out.

/** Device state (video RAM, virtio rings, ...) on top of guest RAM, with room for metadata. */
const DEVICE_STATE_BYTES = 16 * 1024 ** 2;

export interface LiveRoom {
  /** the folder of the image that takes the RAM state */
  folder: string;
  /** the most the state can take: all of guest RAM plus device state */
  neededBytes: number;
  vm: string;
}

export function liveRoom(vm: string, vmstateImage: string, memoryMiB: number): LiveRoom {
  return { folder: dirname(vmstateImage), neededBytes: memoryMiB * 1024 ** 2 + DEVICE_STATE_BYTES, vm };
}

const what = (r: LiveRoom) => `take a live snapshot of "${r.vm}" (it saves the guest's RAM)`;

/** NO_SPACE before anything is written, when the RAM state would not fit. */
export async function assertRoomForLive(r: LiveRoom): Promise<void> {
  const free = await freeBytes(r.folder);
  if (free !== null && free < r.neededBytes) throw await noSpaceError(r.folder, what(r), r.neededBytes);
}

/** A live snapshot's failure as the user should read it: NO_SPACE when the disk filled up. */
export async function explainLiveFailure(err: unknown, r: LiveRoom): Promise<unknown> {
  if (isNoSpace(err)) return noSpaceError(r.folder, what(r), r.neededBytes, err);
  const text = err instanceof VireoError ? `${err.message} ${String((err.details as { desc?: string } | undefined)?.desc ?? '')}` : String(err);
  if (!/Input\/output error|EIO/.test(text)) return err;
  // EIO is also what a failing disk says: only a disk without room for the state is NO_SPACE.
  const free = await freeBytes(r.folder);
  if (free !== null && free < r.neededBytes) return noSpaceError(r.folder, what(r), r.neededBytes, err);
  return err;
}
