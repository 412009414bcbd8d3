import { stat } from 'node:fs/promises';
import { VireoError } from '../../api/errors.ts';
import { openRegular } from '../policy/files.ts';

// What a file is, from its bytes: the image format by magic number (never by extension, and
// never by letting qemu-img probe, see qemu-img.ts), and whether it is an ISO.

export type DiskFormat = 'qcow2' | 'qcow' | 'vmdk' | 'vdi' | 'vhdx' | 'vpc' | 'qed' | 'raw';

export async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

export async function mustBeFile(p: string): Promise<void> {
  const st = await stat(p).catch(() => null);
  if (!st) throw new VireoError('NOT_FOUND', `${p} does not exist: check the path`, { path: p });
  // Block devices are disks too (a physical disk passed to a VM).
  if (!st.isFile() && !st.isBlockDevice()) throw new VireoError('INVALID_ARGUMENT', `${p} is not a file: give the path of a disk image`, { path: p });
}

async function readAt(file: string, pos: number, len: number): Promise<Buffer> {
  // Through the one FIFO-safe open (policy/files.ts): a plain open(2) of a FIFO never returns.
  const { fh } = await openRegular(file, { allowBlockDevice: true });
  try {
    const buf = Buffer.alloc(len);
    const { bytesRead } = await fh.read(buf, 0, len, pos);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

const VDI_SIGNATURE = Buffer.from([0x7f, 0x10, 0xda, 0xbe]); // 0xbeda107f little-endian, at 0x40
const QCOW_MAGIC = Buffer.from([0x51, 0x46, 0x49, 0xfb]); // "QFI\xfb"
const QED_MAGIC = Buffer.from([0x51, 0x45, 0x44, 0x00]); // "QED\0"

/** Format from the magic bytes, never from the file name: raw is anything else. Null for an empty or missing file. */
export async function detectFormat(file: string): Promise<DiskFormat | null> {
  const st = await stat(file).catch(() => null);
  if (!st?.isFile() || st.size === 0) return null;
  const head = await readAt(file, 0, 512);
  if (head.subarray(0, 4).equals(QCOW_MAGIC)) return head.length >= 8 && head.readUInt32BE(4) === 1 ? 'qcow' : 'qcow2';
  if (head.subarray(0, 4).equals(QED_MAGIC)) return 'qed';
  const text = head.toString('latin1');
  if (text.startsWith('KDMV') || text.startsWith('COWD') || text.startsWith('# Disk DescriptorFile')) return 'vmdk';
  if (head.subarray(0x40, 0x44).equals(VDI_SIGNATURE)) return 'vdi';
  if (text.startsWith('vhdxfile')) return 'vhdx';
  // VHD: dynamic disks start with a copy of the footer; fixed ones have it only at the end.
  if (text.startsWith('conectix')) return 'vpc';
  if (st.size >= 512 && (await readAt(file, st.size - 512, 8)).toString('latin1') === 'conectix') return 'vpc';
  return 'raw';
}

/** ISO 9660: the primary volume descriptor's "CD001" at byte 1 of sector 16 (offset 32769). */
export async function isIso9660(file: string): Promise<boolean> {
  try {
    return (await readAt(file, 32769, 5)).toString('latin1') === 'CD001';
  } catch {
    return false;
  }
}
