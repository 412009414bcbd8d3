import { createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { VireoError } from '../../api/errors.ts';
import { IsoReader } from '../osdetect/iso9660.ts';

// The installer's kernel and initrd out of its ISO, and answer files added to the initrd. Linux
// unpacks an initramfs that is several archives one after the other, each compressed or not
// (Documentation/driver-api/early-userspace/buffer-format.rst), later files over earlier ones;
// so the original initrd stays byte for byte and a small gzip'd "newc" cpio follows it.

const CHUNK = 8 * 1024 * 1024;

/** A newc ("070701") cpio archive of regular files at the root, with its trailer. */
export function newcArchive(files: readonly { name: string; data: Buffer; mode?: number }[]): Buffer {
  const parts: Buffer[] = [];
  const pad4 = (n: number) => Buffer.alloc((4 - (n % 4)) % 4);
  const entry = (name: string, data: Buffer, mode: number, ino: number) => {
    const nameBytes = Buffer.from(`${name}\0`, 'utf8');
    const fields = [ino, mode, 0, 0, 1, 0, data.length, 0, 0, 0, 0, nameBytes.length, 0];
    const header = Buffer.from(`070701${fields.map((f) => f.toString(16).padStart(8, '0')).join('')}`, 'latin1');
    parts.push(header, nameBytes, pad4(header.length + nameBytes.length), data, pad4(data.length));
  };
  files.forEach((f, i) => {
    if (!/^[A-Za-z0-9._-]+$/.test(f.name)) throw new VireoError('INTERNAL', `initrd member name ${JSON.stringify(f.name)} is not a plain file name`);
    entry(f.name, f.data, 0o100000 | (f.mode ?? 0o644), i + 1);
  });
  entry('TRAILER!!!', Buffer.alloc(0), 0, 0);
  return Buffer.concat(parts);
}

/** Copies one file out of an ISO 9660 image; undefined when the image has no such file. */
export async function extractIsoFile(iso: string, path: string, dest: string, mode = 0o600): Promise<number | undefined> {
  const r = await IsoReader.open(iso);
  try {
    const info = await r.readInfo();
    const e = await r.findFile(info, path);
    if (!e) return undefined;
    const out = createWriteStream(dest, { mode, flags: 'wx' });
    const done = new Promise<void>((res, rej) => {
      out.on('finish', res);
      out.on('error', rej);
    });
    for (let off = 0; off < e.size; off += CHUNK) {
      const buf = await r.read(e.lba * 2048 + off, Math.min(CHUNK, e.size - off), path);
      if (!out.write(buf)) await new Promise<void>((res) => out.once('drain', () => res()));
    }
    out.end();
    await done;
    return e.size;
  } finally {
    await r.close();
  }
}

/** Appends the files as one gzip'd cpio member to an initrd already at `initrd`. */
export async function appendToInitrd(initrd: string, files: readonly { name: string; data: Buffer; mode?: number }[]): Promise<void> {
  const fh = await open(initrd, 'a');
  try {
    // Linux reads the archives back to back; a gzip member needs no alignment, but the cpio
    // inside it starts at offset 0 of its own stream.
    await fh.write(gzipSync(newcArchive(files)));
    await fh.sync();
  } finally {
    await fh.close();
  }
}
