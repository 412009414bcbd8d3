import type { FileHandle } from 'node:fs/promises';
import { VireoError } from '../../api/errors.ts';
import { openRegular } from '../policy/files.ts';

// ISO 9660 (ECMA-119) reading for OS detection: the volume descriptors at sector 16 onwards and,
// when asked, a walk of the directory tree to locate one file. Everything is read through a file
// handle at known offsets, so a 6 GiB install DVD costs a few kilobytes of I/O.

export const SECTOR = 2048;
const FIRST_DESCRIPTOR_LBA = 16;
// real media have 2–4 descriptors; the bound keeps a garbage file from making us scan far
const MAX_DESCRIPTORS = 64;
const MAX_DIR_BYTES = 4 * 1024 * 1024;
/** the most one read takes: a directory, the WIM XML; everything else is a sector or two */
const MAX_READ_BYTES = 16 * 1024 * 1024;
const MAX_DEPTH = 8;

export interface PrimaryVolume {
  systemId: string;
  volumeId: string;
  volumeSetId: string;
  publisherId: string;
  dataPreparerId: string;
  applicationId: string;
  /** logical blocks in the volume */
  volumeSpaceSize: number;
  logicalBlockSize: number;
  /** ISO 8601 with the recorded UTC offset, or undefined when the field is unset */
  creationDate?: string;
  /** the root directory record: extent LBA and length */
  root: { lba: number; size: number };
}

export interface JolietVolume {
  volumeId: string;
  /** UCS-2 level from the escape sequence: 1, 2 or 3 */
  level: number;
  root: { lba: number; size: number };
}

export interface IsoInfo {
  primary: PrimaryVolume;
  joliet?: JolietVolume;
  /** El Torito boot record present */
  bootable: boolean;
  /** UDF volume recognition sequence present (BEA01 … NSR02/NSR03) — Windows media are UDF-bridge */
  udf: boolean;
  /** volumeSpaceSize × logicalBlockSize */
  volumeBytes: number;
  fileBytes: number;
}

export interface DirEntry {
  name: string;
  lba: number;
  size: number;
  isDir: boolean;
}

/** trims the space/NUL padding of a d-/a-character field */
function ascii(buf: Buffer, off: number, len: number): string {
  return buf.toString('latin1', off, off + len).replace(/[\s\0]+$/, '').replace(/^[\s\0]+/, '');
}

/** Joliet fields are UCS-2 big-endian */
function ucs2be(buf: Buffer, off: number, len: number): string {
  const n = len & ~1;
  const swapped = Buffer.from(buf.subarray(off, off + n));
  swapped.swap16();
  return swapped.toString('utf16le').replace(/[\s\0]+$/, '').replace(/^[\s\0]+/, '');
}

/** 17-byte dec-datetime: "YYYYMMDDHHMMSScc" + offset from GMT in 15-minute steps */
export function parseDecDate(buf: Buffer, off: number): string | undefined {
  const digits = buf.toString('latin1', off, off + 16);
  if (!/^\d{16}$/.test(digits) || /^0+$/.test(digits)) return undefined;
  const [y, mo, d, h, mi, s] = [digits.slice(0, 4), digits.slice(4, 6), digits.slice(6, 8), digits.slice(8, 10), digits.slice(10, 12), digits.slice(12, 14)];
  if (Number(mo) < 1 || Number(mo) > 12 || Number(d) < 1 || Number(d) > 31) return undefined;
  const q = buf.readInt8(off + 16);
  const mins = Math.abs(q) * 15;
  const tz = `${q < 0 ? '-' : '+'}${String(Math.floor(mins / 60)).padStart(2, '0')}:${String(mins % 60).padStart(2, '0')}`;
  return `${y}-${mo}-${d}T${h}:${mi}:${s}${tz}`;
}

function rootRecord(desc: Buffer): { lba: number; size: number } {
  return { lba: desc.readUInt32LE(156 + 2), size: desc.readUInt32LE(156 + 10) };
}

/** Parses a Primary Volume Descriptor sector (type 1, "CD001"). Throws on anything else. */
export function parsePrimaryVolumeDescriptor(desc: Buffer): PrimaryVolume {
  if (desc.length < SECTOR || desc[0] !== 1 || desc.toString('latin1', 1, 6) !== 'CD001') {
    throw new Error('not a primary volume descriptor');
  }
  const blockSize = desc.readUInt16LE(128);
  return {
    systemId: ascii(desc, 8, 32),
    volumeId: ascii(desc, 40, 32),
    volumeSetId: ascii(desc, 190, 128),
    publisherId: ascii(desc, 318, 128),
    dataPreparerId: ascii(desc, 446, 128),
    applicationId: ascii(desc, 574, 128),
    volumeSpaceSize: desc.readUInt32LE(80),
    logicalBlockSize: blockSize,
    creationDate: parseDecDate(desc, 813),
    root: rootRecord(desc),
  };
}

/** Joliet is a supplementary descriptor (type 2) whose escape sequence names UCS-2 level 1–3. */
export function parseJolietDescriptor(desc: Buffer): JolietVolume | undefined {
  if (desc[0] !== 2 || desc.toString('latin1', 1, 6) !== 'CD001') return undefined;
  const esc = desc.toString('latin1', 88, 91);
  const level = esc === '%/@' ? 1 : esc === '%/C' ? 2 : esc === '%/E' ? 3 : 0;
  if (!level) return undefined;
  return { volumeId: ucs2be(desc, 40, 32), level, root: rootRecord(desc) };
}

/** Parses the records of one directory extent (records never straddle a sector). */
export function parseDirectory(data: Buffer, joliet: boolean): DirEntry[] {
  const out: DirEntry[] = [];
  let pos = 0;
  while (pos < data.length) {
    const len = data[pos]!;
    if (len === 0) {
      // padding up to the next sector
      pos = (Math.floor(pos / SECTOR) + 1) * SECTOR;
      continue;
    }
    if (len < 34 || pos + len > data.length) break;
    const nameLen = data[pos + 32]!;
    if (33 + nameLen > len) break;
    const rawName = data.subarray(pos + 33, pos + 33 + nameLen);
    const flags = data[pos + 25]!;
    // 0x00 and 0x01 are "." and ".."
    if (!(nameLen === 1 && (rawName[0] === 0 || rawName[0] === 1))) {
      let name = joliet ? ucs2be(rawName, 0, rawName.length) : rawName.toString('latin1');
      name = name.replace(/;\d+$/, '').replace(/\.$/, '');
      out.push({ name, lba: data.readUInt32LE(pos + 2), size: data.readUInt32LE(pos + 10), isDir: (flags & 0x02) !== 0 });
    }
    pos += len;
  }
  return out;
}

/** An open image; the caller closes it. */
export class IsoReader {
  private constructor(
    readonly file: string,
    private readonly fh: FileHandle,
    readonly fileBytes: number,
  ) {}

  /** Regular files and block devices (a CD drive) only: a FIFO would hang the read forever. */
  static async open(file: string): Promise<IsoReader> {
    const { fh, size } = await openRegular(file, { allowBlockDevice: true, what: 'ISO' });
    return new IsoReader(file, fh, size);
  }

  async close(): Promise<void> {
    await this.fh.close();
  }

  /** Reads exactly `len` bytes at `pos`, or throws a "truncated" error naming what was wanted. */
  async read(pos: number, len: number, what: string): Promise<Buffer> {
    // Lengths come from the image's own tables: a crafted one must not make us allocate GiBs.
    if (!Number.isSafeInteger(len) || len < 0 || len > MAX_READ_BYTES) {
      throw new VireoError('INVALID_ARGUMENT', `${this.file} declares a ${what} of ${len} bytes, more than ${MAX_READ_BYTES} that Vireo reads: the image is damaged or not an install ISO`, {
        file: this.file,
        length: len,
      });
    }
    const buf = Buffer.alloc(len);
    let got = 0;
    try {
      while (got < len) {
        const { bytesRead } = await this.fh.read(buf, got, len - got, pos + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
    } catch (e) {
      throw fsError(this.file, e);
    }
    if (got < len) {
      throw new VireoError(
        'INVALID_ARGUMENT',
        `${this.file} is truncated: it ends at byte ${this.fileBytes}, inside the ${what} (wanted bytes ${pos}–${pos + len}); download the image again`,
        { file: this.file, fileBytes: this.fileBytes, offset: pos, length: len },
      );
    }
    return buf;
  }

  async readInfo(): Promise<IsoInfo> {
    const notIso = () =>
      new VireoError(
        'INVALID_ARGUMENT',
        `${this.file} is not an ISO 9660 image (no CD001 signature at sector 16): choose an install ISO`,
        { file: this.file, fileBytes: this.fileBytes },
      );
    // too short to even hold the system area and one descriptor header
    if (this.fileBytes < FIRST_DESCRIPTOR_LBA * SECTOR + 6) throw notIso();
    const head = await this.read(FIRST_DESCRIPTOR_LBA * SECTOR, 6, 'first volume descriptor');
    if (head.toString('latin1', 1, 6) !== 'CD001') throw notIso();

    let primary: PrimaryVolume | undefined;
    let joliet: JolietVolume | undefined;
    let bootable = false;
    let lba = FIRST_DESCRIPTOR_LBA;
    let terminated = false;
    for (let i = 0; i < MAX_DESCRIPTORS; i++, lba++) {
      const desc = await this.read(lba * SECTOR, SECTOR, 'volume descriptors');
      if (desc.toString('latin1', 1, 6) !== 'CD001') break;
      const type = desc[0];
      if (type === 0 && desc.toString('latin1', 7, 30).startsWith('EL TORITO SPECIFICATION')) bootable = true;
      else if (type === 1 && !primary) primary = parsePrimaryVolumeDescriptor(desc);
      else if (type === 2 && !joliet) joliet = parseJolietDescriptor(desc);
      else if (type === 255) {
        terminated = true;
        break;
      }
    }
    if (!primary) {
      throw new VireoError('INVALID_ARGUMENT', `${this.file} has ISO 9660 descriptors but no primary volume descriptor: the image is damaged; download it again`, { file: this.file });
    }
    if (primary.logicalBlockSize !== SECTOR) {
      throw new VireoError('INVALID_ARGUMENT', `${this.file} uses a logical block size of ${primary.logicalBlockSize} bytes; only ${SECTOR}-byte blocks are supported`, { file: this.file });
    }
    const udf = terminated ? await this.hasUdf(lba + 1) : false;
    return {
      primary,
      joliet,
      bootable,
      udf,
      volumeBytes: primary.volumeSpaceSize * primary.logicalBlockSize,
      fileBytes: this.fileBytes,
    };
  }

  /** The UDF volume recognition sequence follows the ISO 9660 terminator (ECMA-167 2/8.3). */
  private async hasUdf(fromLba: number): Promise<boolean> {
    let seenBea = false;
    for (let lba = fromLba; lba < fromLba + 16; lba++) {
      if ((lba + 1) * SECTOR > this.fileBytes) return false;
      const id = (await this.read(lba * SECTOR + 1, 5, 'UDF recognition sequence')).toString('latin1');
      if (id === 'BEA01') seenBea = true;
      else if (seenBea && (id === 'NSR02' || id === 'NSR03')) return true;
      else if (id === 'TEA01' || !/^[A-Z0-9]{5}$/.test(id)) return false;
    }
    return false;
  }

  async listDirectory(dir: { lba: number; size: number }, joliet: boolean): Promise<DirEntry[]> {
    if (dir.size > MAX_DIR_BYTES) return [];
    const data = await this.read(dir.lba * SECTOR, dir.size, 'directory tree');
    return parseDirectory(data, joliet);
  }

  /**
   * Finds a file by path (case-insensitive, "/"-separated) in the Joliet tree when present —
   * its names are the real ones — else in the primary tree. Undefined when absent.
   */
  async findFile(info: IsoInfo, path: string): Promise<DirEntry | undefined> {
    const parts = path.split('/').filter(Boolean);
    if (parts.length === 0 || parts.length > MAX_DEPTH) return undefined;
    const trees = info.joliet ? [{ root: info.joliet.root, joliet: true }, { root: info.primary.root, joliet: false }] : [{ root: info.primary.root, joliet: false }];
    for (const t of trees) {
      let dir: { lba: number; size: number } = t.root;
      let found: DirEntry | undefined;
      for (let i = 0; i < parts.length; i++) {
        const want = parts[i]!.toUpperCase();
        const entries = await this.listDirectory(dir, t.joliet);
        found = entries.find((e) => e.name.toUpperCase() === want);
        if (!found) break;
        if (i < parts.length - 1) {
          if (!found.isDir) {
            found = undefined;
            break;
          }
          dir = found;
        }
      }
      if (found && !found.isDir) return found;
    }
    return undefined;
  }
}

function fsError(file: string, e: unknown): VireoError {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') {
    return new VireoError('NOT_FOUND', `${file} does not exist: check the path of the install ISO`, { file });
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return new VireoError('IO_ERROR', `${file} cannot be read (permission denied): make the file readable for this user`, { file, errno: code });
  }
  if (code === 'EISDIR') {
    return new VireoError('INVALID_ARGUMENT', `${file} is a directory, not an ISO image: choose an install ISO file`, { file });
  }
  return new VireoError('IO_ERROR', `reading ${file} failed: ${(e as Error)?.message ?? String(e)}`, { file, errno: code });
}
