import { VireoError } from '../../api/errors.ts';
import { qemuOptEscape } from '../qemu/argv/escape.ts';

// What qemu-img is allowed to be asked: sizes, snapshot names, and how a path is spelled
// inside --image-opts. Checked before qemu-img runs, so the message names the field.

/** 64 TiB: beyond anything a desktop VM needs, and a unit mistake (bytes vs KiB) shows up. */
export const MAX_DISK_BYTES = 64 * 1024 ** 4;
const SNAPSHOT_NAME_MAX = 200;

export function checkSize(bytes: number | undefined): void {
  if (bytes === undefined || !Number.isSafeInteger(bytes) || bytes <= 0) {
    throw new VireoError('INVALID_ARGUMENT', `disk size must be a whole number of bytes larger than zero (got ${bytes}): give a size like 20G`, { field: 'size', value: bytes });
  }
  if (bytes > MAX_DISK_BYTES) {
    throw new VireoError('INVALID_ARGUMENT', `disk size ${bytes} bytes is too large (at most 64 TiB): check the unit`, { field: 'size', value: bytes });
  }
  if (bytes % 512 !== 0) {
    throw new VireoError('INVALID_ARGUMENT', `disk size ${bytes} bytes is not a multiple of 512 (the sector size): round it`, { field: 'size', value: bytes });
  }
}

export function checkSnapshotName(name: string): void {
  // Control characters break `qemu-img snapshot -l` output; an all-digit name is ambiguous
  // because QEMU matches snapshot ids (1, 2, ...) as well as names.
  if (!name || name.length > SNAPSHOT_NAME_MAX || [...name].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f) || /^\d+$/.test(name)) {
    throw new VireoError(
      'INVALID_ARGUMENT',
      `snapshot name "${name}" is not allowed: use 1-${SNAPSHOT_NAME_MAX} printable characters, not only digits`,
      { field: 'name', value: name },
    );
  }
}

/**
 * `qemu-img snapshot` has no -f; --image-opts pins the qcow2 driver instead of letting it
 * probe. Commas inside an option value are escaped by doubling them (qemuOptEscape).
 */
export function qcow2Opts(file: string): string {
  return `driver=qcow2,file.driver=file,file.filename=${qemuOptEscape(file)}`;
}
