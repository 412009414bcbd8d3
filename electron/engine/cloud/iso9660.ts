// A tiny ISO 9660 writer with Joliet names, for NoCloud seeds: a root directory of a few small
// files, nothing else. Written from ECMA-119 (volume descriptors, directory records, path
// tables) and the Joliet specification (a supplementary descriptor with UCS-2 names), because
// macOS and Windows hosts lack xorriso/genisoimage. cloud-init needs the Joliet tree: its file
// names (`user-data`, `meta-data`) are not ISO 9660 level-1 names, and Linux's isofs shows the
// Joliet names when a Joliet descriptor exists.

const SECTOR = 2048;

export interface IsoFile {
  /** a root-directory file name: letters, digits, '-', '_' and one optional '.' */
  name: string;
  data: Buffer;
}

export interface IsoOptions {
  /** volume identifier, at most 16 characters (Joliet's limit); cloud-init looks for "cidata" */
  volumeId: string;
  /** the recording date of every record; fixed by the caller so equal inputs give equal bytes */
  date: Date;
}

const NAME_RE = /^[A-Za-z0-9_-]{1,60}(\.[A-Za-z0-9_-]{1,3})?$/;

/** Builds the image in memory (seeds are a few KiB). */
export function buildIso(files: readonly IsoFile[], opts: IsoOptions): Buffer {
  if (!/^[A-Za-z0-9_-]{1,16}$/.test(opts.volumeId)) throw new Error(`volume id "${opts.volumeId}" must be 1-16 letters, digits, _ or -`);
  const seen = new Set<string>();
  for (const f of files) {
    if (!NAME_RE.test(f.name)) throw new Error(`file name "${f.name}" is not a plain root-directory name`);
    const primary = primaryName(f.name);
    if (seen.has(primary)) throw new Error(`two files map to the ISO 9660 name ${primary}: rename one`);
    seen.add(primary);
  }
  // Sectors: 0-15 system area, 16 PVD, 17 Joliet SVD, 18 terminator, 19-22 path tables
  // (L and M for each tree), 23 primary root, 24 Joliet root, then the files' data, shared
  // by both trees.
  const PVD = 16, SVD = 17, TERM = 18, L1 = 19, M1 = 20, L2 = 21, M2 = 22, ROOT1 = 23, ROOT2 = 24;
  let next = 25;
  const extents = files.map((f) => {
    const at = f.data.length ? next : 0;
    next += Math.ceil(f.data.length / SECTOR);
    return at;
  });
  const total = next;
  const out = Buffer.alloc(total * SECTOR);
  const sec = (n: number) => out.subarray(n * SECTOR, (n + 1) * SECTOR);

  const dirOf = (joliet: boolean, self: number) => {
    const entries = files
      .map((f, i) => ({ id: joliet ? ucs2(f.name) : Buffer.from(primaryName(f.name), 'ascii'), len: f.data.length, at: extents[i]! }))
      // ECMA-119 9.3: records ordered by identifier; byte order of the encoded names does it for both trees.
      .sort((a, b) => Buffer.compare(a.id, b.id));
    const recs = [
      dirRecord(Buffer.from([0]), self, SECTOR, true, opts.date),
      dirRecord(Buffer.from([1]), self, SECTOR, true, opts.date),
      ...entries.map((e) => dirRecord(e.id, e.at, e.len, false, opts.date)),
    ];
    const body = Buffer.concat(recs);
    // A record never crosses a sector boundary; one sector of root directory holds ~40 files.
    if (body.length > SECTOR) throw new Error('too many files for a one-sector root directory');
    body.copy(sec(self));
  };
  dirOf(false, ROOT1);
  dirOf(true, ROOT2);

  const pathTables = (root: number, l: number, m: number) => {
    // One entry, the root: id length 1, ext attr 0, extent, parent 1, id 0x00, pad.
    const lt = sec(l), mt = sec(m);
    lt[0] = 1; lt.writeUInt32LE(root, 2); lt.writeUInt16LE(1, 6);
    mt[0] = 1; mt.writeUInt32BE(root, 2); mt.writeUInt16BE(1, 6);
    return 10;
  };

  const descriptor = (n: number, joliet: boolean, root: number, l: number, m: number) => {
    const d = sec(n);
    d[0] = joliet ? 2 : 1;
    d.write('CD001', 1, 'ascii');
    d[6] = 1;
    const text = (off: number, len: number, s: string) => (joliet ? ucs2Field(s, len) : Buffer.from(s.toUpperCase().padEnd(len, ' ').slice(0, len), 'ascii')).copy(d, off);
    text(8, 32, '');
    // The volume id is written as given (not upper-cased): cloud-init and blkid look for "cidata".
    (joliet ? ucs2Field(opts.volumeId, 32) : Buffer.from(opts.volumeId.padEnd(32, ' '), 'ascii')).copy(d, 40);
    both32(d, 80, total);
    // UCS-2 level 3 (escape sequence %/E): any UCS-2 character in names.
    if (joliet) d.write('%/E', 88, 'ascii');
    both16(d, 120, 1);
    both16(d, 124, 1);
    both16(d, 128, SECTOR);
    both32(d, 132, pathTables(root, l, m));
    d.writeUInt32LE(l, 140);
    d.writeUInt32BE(m, 148);
    dirRecord(Buffer.from([0]), root, SECTOR, true, opts.date).copy(d, 156);
    text(190, 128, '');
    text(318, 128, '');
    text(446, 128, '');
    text(574, 128, 'VIREO');
    text(702, 37, '');
    text(739, 37, '');
    text(776, 37, '');
    const stamp = decDate(opts.date);
    stamp.copy(d, 813);
    stamp.copy(d, 830);
    Buffer.from('0000000000000000\0', 'ascii').copy(d, 847);
    stamp.copy(d, 864);
    d[881] = 1;
  };
  descriptor(PVD, false, ROOT1, L1, M1);
  descriptor(SVD, true, ROOT2, L2, M2);
  const t = sec(TERM);
  t[0] = 255;
  t.write('CD001', 1, 'ascii');
  t[6] = 1;

  files.forEach((f, i) => f.data.copy(out, extents[i]! * SECTOR));
  return out;
}

/** The ISO 9660 level-1 name (8.3, d-characters) a Joliet-unaware reader sees, with version ";1". */
export function primaryName(name: string): string {
  const dot = name.lastIndexOf('.');
  const [base, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot + 1)] : [name, ''];
  const d = (s: string, n: number) => s.toUpperCase().replace(/[^A-Z0-9_]/g, '_').slice(0, n);
  return `${d(base, 8)}.${d(ext, 3)};1`;
}

function dirRecord(id: Buffer, extent: number, size: number, dir: boolean, date: Date): Buffer {
  const len = 33 + id.length + (id.length % 2 === 0 ? 1 : 0);
  const r = Buffer.alloc(len);
  r[0] = len;
  both32(r, 2, extent);
  both32(r, 10, size);
  r[18] = date.getUTCFullYear() - 1900;
  r[19] = date.getUTCMonth() + 1;
  r[20] = date.getUTCDate();
  r[21] = date.getUTCHours();
  r[22] = date.getUTCMinutes();
  r[23] = date.getUTCSeconds();
  r[24] = 0; // GMT
  r[25] = dir ? 2 : 0;
  both16(r, 28, 1);
  r[32] = id.length;
  id.copy(r, 33);
  return r;
}

/** ECMA-119 8.4.26.1: "YYYYMMDDHHMMSScc" digits and a zone offset byte (0 = GMT). */
function decDate(d: Date): Buffer {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const s = `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}00`;
  return Buffer.concat([Buffer.from(s, 'ascii'), Buffer.from([0])]);
}

function ucs2(s: string): Buffer {
  const b = Buffer.alloc(s.length * 2);
  for (let i = 0; i < s.length; i++) b.writeUInt16BE(s.charCodeAt(i), i * 2);
  return b;
}

/** A Joliet text field: UCS-2 big endian, padded with U+0020; odd byte counts end in a 0x00. */
function ucs2Field(s: string, len: number): Buffer {
  const b = Buffer.alloc(len, 0);
  const chars = Math.floor(len / 2);
  ucs2(s.slice(0, chars).padEnd(chars, ' ')).copy(b);
  return b;
}

function both16(b: Buffer, off: number, v: number): void {
  b.writeUInt16LE(v, off);
  b.writeUInt16BE(v, off + 2);
}

function both32(b: Buffer, off: number, v: number): void {
  b.writeUInt32LE(v, off);
  b.writeUInt32BE(v, off + 4);
}
