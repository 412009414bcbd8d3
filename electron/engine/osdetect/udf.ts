import type { IsoReader } from './iso9660.ts';

// Just enough UDF (ECMA-167 + OSTA UDF 1.02–2.01) to locate one file: Windows setup media keep
// only a README in their ISO 9660 tree and the real files, sources/install.wim included, in
// UDF. Path: anchor at sector 256 → volume descriptor sequence (partition start, file set
// location) → file set descriptor → root directory's file entry → file identifiers per level.
// Metadata partitions (UDF 2.50+, type 2 maps) are not handled: such media yield undefined.

const SECTOR = 2048;
const ANCHOR_LBA = 256;
const TAG = { partition: 5, logicalVolume: 6, terminator: 8, fileSet: 256, fileId: 257, fileEntry: 261, extFileEntry: 266 } as const;
const MAX_VDS_SECTORS = 64;
const MAX_DIR_BYTES = 4 * 1024 * 1024;
const MAX_EXTENTS = 4096;

/** A file's data as extents: byte ranges of the file mapped to byte offsets in the image. */
export interface UdfFile {
  size: number;
  extents: Array<{ fileOffset: number; imageOffset: number; length: number }>;
  /** data embedded in the file entry itself (small files) */
  embedded?: Buffer;
}

interface Volume {
  partitionStart: number;
  blockSize: number;
  fileSet: number;
}

function tagId(b: Buffer, off = 0): number {
  return b.length >= off + 16 ? b.readUInt16LE(off) : -1;
}

async function sector(reader: IsoReader, lba: number): Promise<Buffer | undefined> {
  if ((lba + 1) * SECTOR > reader.fileBytes) return undefined;
  return reader.read(lba * SECTOR, SECTOR, 'UDF descriptors');
}

async function readVolume(reader: IsoReader): Promise<Volume | undefined> {
  const anchor = await sector(reader, ANCHOR_LBA);
  if (!anchor || tagId(anchor) !== 2) return undefined;
  const vdsLen = anchor.readUInt32LE(16);
  const vdsLoc = anchor.readUInt32LE(20);
  let partitionStart: number | undefined;
  let partitionNumber: number | undefined;
  let blockSize = SECTOR;
  let fileSet: number | undefined;
  let fileSetPartRef: number;
  let mapPartition: number | undefined;
  for (let i = 0; i < Math.min(Math.ceil(vdsLen / SECTOR), MAX_VDS_SECTORS); i++) {
    const d = await sector(reader, vdsLoc + i);
    if (!d) return undefined;
    const id = tagId(d);
    if (id === TAG.partition && partitionStart === undefined) {
      partitionNumber = d.readUInt16LE(22);
      partitionStart = d.readUInt32LE(188);
    } else if (id === TAG.logicalVolume && fileSet === undefined) {
      blockSize = d.readUInt32LE(212);
      fileSet = d.readUInt32LE(252);
      fileSetPartRef = d.readUInt16LE(256);
      const mapCount = d.readUInt32LE(268);
      // walk the partition maps to the one the file set refers to; only type 1 is plain
      let off = 440;
      for (let m = 0; m < mapCount && off + 2 <= SECTOR; m++) {
        const type = d[off]!;
        const len = d[off + 1]!;
        if (len === 0) break;
        if (m === fileSetPartRef) mapPartition = type === 1 && off + 6 <= SECTOR ? d.readUInt16LE(off + 4) : -1;
        off += len;
      }
    } else if (id === TAG.terminator) break;
  }
  if (partitionStart === undefined || fileSet === undefined || blockSize !== SECTOR) return undefined;
  if (mapPartition !== undefined && mapPartition !== partitionNumber) return undefined;
  return { partitionStart, blockSize, fileSet };
}

async function readFileEntry(reader: IsoReader, vol: Volume, lbn: number): Promise<UdfFile | undefined> {
  const d = await sector(reader, vol.partitionStart + lbn);
  if (!d) return undefined;
  const id = tagId(d);
  if (id !== TAG.fileEntry && id !== TAG.extFileEntry) return undefined;
  const adType = d.readUInt16LE(16 + 18) & 7;
  const size = Number(d.readBigUInt64LE(56));
  const [eaLenOff, base] = id === TAG.fileEntry ? [168, 176] : [208, 216];
  const lEA = d.readUInt32LE(eaLenOff);
  const lAD = d.readUInt32LE(eaLenOff + 4);
  const adStart = base + lEA;
  if (adStart + lAD > SECTOR) return undefined;
  if (adType === 3) return { size, extents: [], embedded: Buffer.from(d.subarray(adStart, adStart + Math.min(lAD, size))) };
  const adSize = adType === 0 ? 8 : adType === 1 ? 16 : 0;
  if (!adSize) return undefined;
  const extents: UdfFile['extents'] = [];
  let fileOffset = 0;
  for (let p = adStart; p + adSize <= adStart + lAD && extents.length < MAX_EXTENTS; p += adSize) {
    const raw = d.readUInt32LE(p);
    const length = raw & 0x3fffffff;
    const kind = raw >>> 30;
    if (length === 0) break;
    // kind 3 continues the descriptor list elsewhere; multi-gigabyte files may need it, but
    // the WIM header and XML offsets are then validated against what we did map
    if (kind === 3) break;
    const lb = d.readUInt32LE(p + 4);
    if (kind === 0) extents.push({ fileOffset, imageOffset: (vol.partitionStart + lb) * SECTOR, length });
    fileOffset += length;
  }
  return { size, extents };
}

/** Reads `len` bytes at `offset` of a UDF file; undefined when the range is not mapped. */
export async function readUdfFile(reader: IsoReader, f: UdfFile, offset: number, len: number): Promise<Buffer | undefined> {
  if (offset + len > f.size) return undefined;
  if (f.embedded) return f.embedded.subarray(offset, offset + len);
  const out = Buffer.alloc(len);
  let done = 0;
  while (done < len) {
    const at = offset + done;
    const ext = f.extents.find((e) => at >= e.fileOffset && at < e.fileOffset + e.length);
    if (!ext) return undefined;
    const n = Math.min(len - done, ext.fileOffset + ext.length - at);
    (await reader.read(ext.imageOffset + (at - ext.fileOffset), n, 'UDF file data')).copy(out, done);
    done += n;
  }
  return out;
}

function dstring(b: Buffer): string {
  if (b.length === 0) return '';
  const comp = b[0];
  const body = b.subarray(1);
  if (comp === 16) {
    const s = Buffer.from(body.subarray(0, body.length & ~1));
    s.swap16();
    return s.toString('utf16le');
  }
  return body.toString('latin1');
}

async function listDir(reader: IsoReader, vol: Volume, dir: UdfFile): Promise<Array<{ name: string; lbn: number; isDir: boolean }>> {
  if (dir.size > MAX_DIR_BYTES) return [];
  const data = await readUdfFile(reader, dir, 0, dir.size);
  if (!data) return [];
  const out: Array<{ name: string; lbn: number; isDir: boolean }> = [];
  let p = 0;
  while (p + 38 <= data.length) {
    if (tagId(data, p) !== TAG.fileId) break;
    const chars = data[p + 18]!;
    const lFI = data[p + 19]!;
    const lbn = data.readUInt32LE(p + 24);
    const lIU = data.readUInt16LE(p + 36);
    const nameStart = p + 38 + lIU;
    if (nameStart + lFI > data.length) break;
    // bit 3 marks the parent entry, bit 2 a deleted one
    if (!(chars & 0x08) && !(chars & 0x04)) {
      out.push({ name: dstring(data.subarray(nameStart, nameStart + lFI)), lbn, isDir: (chars & 0x02) !== 0 });
    }
    p += (38 + lIU + lFI + 3) & ~3;
  }
  return out;
}

/** Finds a file by "/"-separated path, case-insensitively; undefined when absent or unreadable. */
export async function findUdfFile(reader: IsoReader, path: string): Promise<UdfFile | undefined> {
  const vol = await readVolume(reader);
  if (!vol) return undefined;
  const fsd = await sector(reader, vol.partitionStart + vol.fileSet);
  if (!fsd || tagId(fsd) !== TAG.fileSet) return undefined;
  let entry = await readFileEntry(reader, vol, fsd.readUInt32LE(404));
  const parts = path.split('/').filter(Boolean);
  for (let i = 0; entry && i < parts.length; i++) {
    const want = parts[i]!.toUpperCase();
    const hit = (await listDir(reader, vol, entry)).find((e) => e.name.toUpperCase() === want);
    if (!hit || hit.isDir !== i < parts.length - 1) return undefined;
    entry = await readFileEntry(reader, vol, hit.lbn);
  }
  return entry;
}
