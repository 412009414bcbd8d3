import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import tar from 'tar-stream';
import { VireoError } from '../../api/errors.ts';
import { Digests, type DigestAlgo } from './manifest.ts';

// An OVA is a plain tar (DSP0243 §5.3: the descriptor first, then the manifest and
// certificate, then the files in References order). Read and written as streams by
// tar-stream, hashed on the way, so a 40 GiB disk is read once and never held in memory.

/** A member name that is one plain file name: no folders, no "..", nothing hidden. */
export const SAFE_MEMBER = /^[A-Za-z0-9_][A-Za-z0-9_.+ -]{0,254}$/;

export function checkMemberName(name: string, pkg: string): string {
  const n = name.replace(/^\.\//, '');
  if (!SAFE_MEMBER.test(n) || n.includes('..')) {
    throw new VireoError('INVALID_ARGUMENT', `${pkg} holds a member named "${name.slice(0, 120)}", which is not a plain file name: the package is damaged or unsafe, nothing was imported`, { file: name });
  }
  return n;
}

/** The first .ovf member's text (the descriptor comes first, so this reads a few KiB). */
export async function readOvaDescriptor(path: string): Promise<{ name: string; xml: string; manifest: string | null }> {
  const ex = tar.extract();
  const src = createReadStream(path);
  src.pipe(ex);
  const members: string[] = [];
  let found: { name: string; xml: string } | null = null;
  try {
    for await (const entry of ex) {
      const name = entry.header.name.replace(/^\.\//, '');
      members.push(name);
      // The manifest, when there is one, follows the descriptor (DSP0243 §5.3).
      if (found) {
        entry.resume();
        return { ...found, manifest: /\.mf$/i.test(name) ? checkMemberName(name, path) : null };
      }
      if (/\.ovf$/i.test(name) && entry.header.type === 'file') {
        if ((entry.header.size ?? 0) > 16 * 1024 ** 2) throw new VireoError('INVALID_ARGUMENT', `${name} in ${path} is larger than 16 MiB: not an OVF descriptor`, { file: name });
        const chunks: Buffer[] = [];
        for await (const c of entry) chunks.push(c as Buffer);
        found = { name: checkMemberName(name, path), xml: Buffer.concat(chunks).toString('utf8') };
        continue;
      }
      entry.resume();
    }
    if (found) return { ...found, manifest: null };
  } catch (e) {
    if (e instanceof VireoError) throw e;
    throw new VireoError('INVALID_ARGUMENT', `${path} is not a readable OVA (a tar archive): ${(e as Error).message}`, { path });
  } finally {
    src.destroy();
    ex.destroy();
  }
  throw new VireoError('INVALID_ARGUMENT', `${path} holds no OVF descriptor (.ovf): it is not an OVA appliance`, { path, members });
}

/** Every regular member into `dir` (under its own name), with the digests of its bytes. */
export async function extractOva(path: string, dir: string, o: { signal: AbortSignal; onProgress?: (f: number) => void }): Promise<Map<string, Record<DigestAlgo, string>>> {
  const total = (await stat(path)).size || 1;
  let read = 0;
  const digests = new Map<string, Record<DigestAlgo, string>>();
  const ex = tar.extract();
  const src = createReadStream(path, { signal: o.signal });
  src.on('data', (c) => {
    read += (c as Buffer).length;
    o.onProgress?.(read / total);
  });
  src.on('error', (e) => ex.destroy(e));
  src.pipe(ex);
  try {
    for await (const entry of ex) {
      if (o.signal.aborted) throw new VireoError('CANCELLED', 'import cancelled');
      const type = entry.header.type;
      if (type !== 'file' && type !== 'contiguous-file') {
        // Folders, links and devices have no place in an OVA.
        entry.resume();
        if (type === 'directory') continue;
        throw new VireoError('INVALID_ARGUMENT', `${path} holds a ${type} member "${entry.header.name}": an OVA holds plain files only; nothing was imported`, { file: entry.header.name });
      }
      const name = checkMemberName(entry.header.name, path);
      if (digests.has(name)) throw new VireoError('INVALID_ARGUMENT', `${path} holds "${name}" twice: the package is damaged, nothing was imported`, { file: name });
      const d = new Digests();
      const hasher = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          d.update(chunk);
          cb(null, chunk);
        },
      });
      await pipeline(entry, hasher, createWriteStream(join(dir, name), { flags: 'wx', mode: 0o600 }), { signal: o.signal });
      digests.set(name, d.result());
    }
  } catch (e) {
    if (o.signal.aborted) throw new VireoError('CANCELLED', 'import cancelled');
    if (e instanceof VireoError) throw e;
    throw new VireoError('INVALID_ARGUMENT', `${path} could not be read as an OVA (tar): ${(e as Error).message}; the file may be truncated`, { path });
  } finally {
    src.destroy();
  }
  return digests;
}

export type PackMember = { name: string; path: string } | { name: string; data: Buffer };

/** A tar of these members, in this order, written to `out` (which the caller names and renames). */
export async function writeTar(out: string, members: PackMember[], o: { signal: AbortSignal; onProgress?: (f: number) => void }): Promise<void> {
  const sizes = await Promise.all(members.map(async (m) => ('data' in m ? m.data.length : (await stat(m.path)).size)));
  const total = sizes.reduce((a, b) => a + b, 0) || 1;
  let done = 0;
  const pack = tar.pack();
  const writing = pipeline(pack, createWriteStream(out, { flags: 'wx', mode: 0o644 }), { signal: o.signal });
  try {
    for (const [i, m] of members.entries()) {
      if (o.signal.aborted) throw new VireoError('CANCELLED', 'export cancelled');
      const header = { name: m.name, size: sizes[i]!, mode: 0o644, mtime: new Date(), type: 'file' as const };
      if ('data' in m) {
        await new Promise<void>((res, rej) => pack.entry(header, m.data, (e) => (e ? rej(e) : res())));
      } else {
        const sink = pack.entry(header);
        const src = createReadStream(m.path, { signal: o.signal });
        src.on('data', (c) => o.onProgress?.((done += (c as Buffer).length) / total));
        await pipeline(src, sink);
        continue;
      }
      done += sizes[i]!;
      o.onProgress?.(done / total);
    }
    pack.finalize();
  } catch (e) {
    pack.destroy(e as Error);
    await writing.catch(() => {});
    throw e;
  }
  await writing;
}
