import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { open, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { VireoError } from '../../electron/api/errors.ts';
import { QemuImg, detectFormat, isIso9660 } from '../../electron/engine/disk/qemu-img.ts';
import { run } from '../../electron/engine/util/proc.ts';

// Real qemu-img on temp files; for IN_USE a real QEMU holds the image's lock.

const MiB = 1024 * 1024;
const img = new QemuImg();
const root = mkdtempSync(join(tmpdir(), 'vireo-disk-'));
let n = 0;
const dir = () => {
  const d = join(root, String(n++));
  return d;
};
const procs: ChildProcess[] = [];

async function fresh(): Promise<string> {
  const d = dir();
  await run('mkdir', ['-p', d]);
  return d;
}

async function rejection(p: Promise<unknown>): Promise<VireoError> {
  try {
    await p;
  } catch (e) {
    return e as VireoError;
  }
  throw new Error('expected a rejection');
}

/** Fill `len` bytes at `offset` inside the guest view of an image, through qemu-io. */
async function writePattern(file: string, format: string, pattern: number, offset: number, len: number) {
  await run('qemu-io', ['-f', format, '-c', `write -P ${pattern} ${offset} ${len}`, file]);
}

afterEach(async () => {
  for (const p of procs.splice(0)) {
    if (p.exitCode === null && p.signalCode === null) {
      const gone = new Promise((r) => p.once('exit', r));
      p.kill('SIGKILL');
      await gone;
    }
  }
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('QemuImg', () => {
  it('creates qcow2 and raw disks and reads their info', async () => {
    const d = await fresh();
    await img.create(join(d, 'a.qcow2'), { format: 'qcow2', sizeBytes: 32 * MiB });
    await img.create(join(d, 'b.raw'), { format: 'raw', sizeBytes: 8 * MiB });
    const a = await img.info(join(d, 'a.qcow2'));
    expect(a).toMatchObject({ format: 'qcow2', virtualSize: 32 * MiB, snapshots: [], dirty: false, corrupt: false, clusterSize: 65536 });
    expect(a.actualSize).toBeGreaterThan(0);
    expect(a.backingFile).toBeUndefined();
    const b = await img.info(join(d, 'b.raw'), { format: 'raw' });
    expect(b).toMatchObject({ format: 'raw', virtualSize: 8 * MiB });
    expect(await detectFormat(join(d, 'a.qcow2'))).toBe('qcow2');
  });

  it('creates a linked clone on a backing file, and commits it back', async () => {
    const d = await fresh();
    const base = join(d, 'base.qcow2');
    await img.create(base, { format: 'qcow2', sizeBytes: 4 * MiB });
    await writePattern(base, 'qcow2', 0x11, 0, 65536);
    // Relative backing path: resolved against the overlay's folder, as QEMU does.
    await img.create(join(d, 'over.qcow2'), { format: 'qcow2', backingFile: 'base.qcow2' });
    const o = await img.info(join(d, 'over.qcow2'));
    expect(o).toMatchObject({ virtualSize: 4 * MiB, backingFile: 'base.qcow2', backingFormat: 'qcow2', fullBackingFile: base });
    await writePattern(join(d, 'over.qcow2'), 'qcow2', 0x22, 0, 65536);
    await img.commit(join(d, 'over.qcow2'));
    await run('qemu-io', ['-f', 'qcow2', '-c', 'read -P 0x22 0 65536', base]).then((r) => expect(r.stdout).not.toContain('Pattern verification failed'));

    // Standalone again: rebase onto nothing copies the backing data in.
    await img.rebase(join(d, 'over.qcow2'), null);
    expect((await img.info(join(d, 'over.qcow2'))).backingFile).toBeUndefined();
    await rm(base);
    await run('qemu-img', ['compare', '-f', 'qcow2', '-F', 'raw', join(d, 'over.qcow2'), await rawWithPattern(d, 4 * MiB, 0x22, 65536)]);

    const missing = await rejection(img.create(join(d, 'x.qcow2'), { format: 'qcow2', backingFile: join(d, 'nope.qcow2') }));
    expect(missing.code).toBe('NOT_FOUND');
    expect(existsSync(join(d, 'x.qcow2'))).toBe(false);
  });

  it('refuses to overwrite and rejects bad sizes and formats', async () => {
    const d = await fresh();
    const f = join(d, 'keep.qcow2');
    await img.create(f, { format: 'qcow2', sizeBytes: MiB });
    await writePattern(f, 'qcow2', 0x33, 0, 512);
    const before = (await stat(f)).size;
    const again = await rejection(img.create(f, { format: 'qcow2', sizeBytes: 2 * MiB }));
    expect(again.code).toBe('ALREADY_EXISTS');
    expect((await stat(f)).size).toBe(before);
    expect((await img.info(f)).virtualSize).toBe(MiB);

    for (const sizeBytes of [0, -512, 1.5, Number.NaN, 513, 2 ** 60]) {
      const e = await rejection(img.create(join(d, `s${sizeBytes}.qcow2`), { format: 'qcow2', sizeBytes }));
      expect(e.code, String(sizeBytes)).toBe('INVALID_ARGUMENT');
      expect(existsSync(join(d, `s${sizeBytes}.qcow2`))).toBe(false);
    }
    const fmt = await rejection(img.create(join(d, 'v.vdi'), { format: 'vdi' as 'raw', sizeBytes: MiB }));
    expect(fmt.code).toBe('INVALID_ARGUMENT');
    const noDir = await rejection(img.create(join(d, 'no', 'such', 'x.qcow2'), { format: 'qcow2', sizeBytes: MiB }));
    expect(noDir.code).toBe('IO_ERROR');
  });

  it('grows, refuses to shrink without the flag, and shrinks with it', async () => {
    const d = await fresh();
    const f = join(d, 'r.qcow2');
    await img.create(f, { format: 'qcow2', sizeBytes: 8 * MiB });
    await img.resize(f, 16 * MiB);
    expect((await img.info(f)).virtualSize).toBe(16 * MiB);
    const e = await rejection(img.resize(f, 4 * MiB));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toContain('shrink');
    expect((await img.info(f)).virtualSize).toBe(16 * MiB);
    await img.resize(f, 4 * MiB, { shrink: true });
    expect((await img.info(f)).virtualSize).toBe(4 * MiB);
    expect((await rejection(img.resize(f, 0))).code).toBe('INVALID_ARGUMENT');
    expect((await rejection(img.resize(join(d, 'missing.qcow2'), 8 * MiB))).code).toBe('NOT_FOUND');
  });

  it('converts vmdk, vdi, vhdx, vpc and raw to qcow2 with progress; the result compares equal', async () => {
    const d = await fresh();
    const src = join(d, 'src.raw');
    await img.create(src, { format: 'raw', sizeBytes: 4 * MiB });
    await writePattern(src, 'raw', 0xab, 0, MiB);
    await writePattern(src, 'raw', 0xcd, 3 * MiB, 4096);
    for (const fmt of ['vmdk', 'vdi', 'vhdx', 'vpc'] as const) {
      // Named .img on purpose: the format comes from magic bytes, not the extension.
      const foreign = join(d, `${fmt}.img`);
      await run('qemu-img', ['convert', '-f', 'raw', '-O', fmt, src, foreign]);
      expect(await detectFormat(foreign)).toBe(fmt);
      const out = join(d, `${fmt}.qcow2`);
      const fractions: number[] = [];
      await img.convert(foreign, out, { toFormat: 'qcow2', onProgress: (f) => fractions.push(f) });
      expect(fractions.length).toBeGreaterThan(0);
      expect(fractions.at(-1)).toBe(1);
      expect([...fractions].sort((a, b) => a - b)).toEqual(fractions);
      expect((await img.info(out)).format).toBe('qcow2');
      // Not -s (strict): vpc rounds the size up to its CHS geometry.
      const cmp = await run('qemu-img', ['compare', '-f', fmt, '-F', 'qcow2', foreign, out]);
      expect(cmp.code).toBe(0);
    }
    const fromRaw = join(d, 'raw.qcow2');
    await img.convert(src, fromRaw, { toFormat: 'qcow2' });
    // Not -s: strict mode also compares allocation, and qcow2 leaves zero clusters unallocated.
    expect((await run('qemu-img', ['compare', '-f', 'raw', '-F', 'qcow2', src, fromRaw])).code).toBe(0);
    expect((await img.info(fromRaw)).virtualSize).toBe(4 * MiB);
    // The comparison can fail: a changed byte in the copy is noticed.
    await writePattern(fromRaw, 'qcow2', 0x01, 2 * MiB, 512);
    const differ = await run('qemu-img', ['compare', '-f', 'raw', '-F', 'qcow2', src, fromRaw], { okCodes: [1] });
    expect(differ.stdout).toContain('Content mismatch');
    // No temp files are left beside the outputs.
    expect(readdirSync(d).filter((x) => x.includes('partial'))).toEqual([]);

    const exists = await rejection(img.convert(src, fromRaw, { toFormat: 'qcow2' }));
    expect(exists.code).toBe('ALREADY_EXISTS');
  });

  it('cancels a conversion and leaves no partial output', async () => {
    const d = await fresh();
    const src = join(d, 'big.raw');
    // Incompressible data, so the copy takes long enough to be cancelled midway.
    const fh = await open(src, 'w');
    const chunk = Buffer.alloc(4 * MiB);
    for (let i = 0; i < chunk.length; i += 4) chunk.writeUInt32LE((i * 2654435761) >>> 0, i);
    for (let i = 0; i < 32; i++) {
      chunk.writeUInt32LE(i, 0);
      await fh.write(chunk);
    }
    await fh.close();
    const ac = new AbortController();
    const out = join(d, 'out.qcow2');
    const seen: number[] = [];
    const p = img.convert(src, out, {
      toFormat: 'qcow2',
      signal: ac.signal,
      onProgress: (f) => {
        seen.push(f);
        if (f > 0) ac.abort();
      },
    });
    const e = await rejection(p);
    expect(e.code).toBe('CANCELLED');
    // Cancelled midway, from a progress report, not after the copy was done.
    expect(seen.some((f) => f > 0 && f < 1)).toBe(true);
    expect(readdirSync(d)).toEqual(['big.raw']);

    const pre = new AbortController();
    pre.abort();
    expect((await rejection(img.convert(src, out, { toFormat: 'qcow2', signal: pre.signal }))).code).toBe('CANCELLED');
  });

  it('checks a clean image, finds leaks and corruption, and explains a broken header', async () => {
    const d = await fresh();
    const f = join(d, 'c.qcow2');
    await img.create(f, { format: 'qcow2', sizeBytes: 8 * MiB });
    await writePattern(f, 'qcow2', 0x5a, 0, 2 * MiB);
    const clean = await img.check(f);
    expect(clean).toMatchObject({ ok: true, corruptions: 0, leaks: 0, checkErrors: 0, supported: true });
    expect(clean.raw).toMatchObject({ format: 'qcow2' });

    // Corrupt the refcount table: the header says where it is (offset 48, u64 big-endian).
    const fh = await open(f, 'r+');
    const hdr = Buffer.alloc(72);
    await fh.read(hdr, 0, 72, 0);
    const refTable = Number(hdr.readBigUInt64BE(48));
    const refBlock = Buffer.alloc(8);
    await fh.read(refBlock, 0, 8, refTable);
    const refBlockOffset = Number(refBlock.readBigUInt64BE(0));
    // Refcounts of the first clusters: set them to 0 (under-counted = corruption) and the
    // following ones high (over-counted = leak).
    const junk = Buffer.alloc(16);
    junk.writeUInt16BE(0, 0);
    junk.writeUInt16BE(0, 2);
    for (let i = 4; i < 16; i += 2) junk.writeUInt16BE(7, i);
    await fh.write(junk, 0, junk.length, refBlockOffset);
    await fh.close();
    const bad = await img.check(f);
    expect(bad.ok).toBe(false);
    expect(bad.corruptions + bad.leaks).toBeGreaterThan(0);

    // A header that is not qcow2 at all: a clear message naming the file.
    const g = join(d, 'broken.qcow2');
    await img.create(g, { format: 'qcow2', sizeBytes: MiB });
    const gh = await open(g, 'r+');
    await gh.write(Buffer.from('XXXXXXXX'), 0, 8, 0);
    await gh.close();
    const e = await rejection(img.check(g, { format: 'qcow2' }));
    expect(e.code).toBe('TOOL_FAILED');
    expect(e.message).toContain(`${g} is not a valid qcow2 image`);
    expect(e.message).toContain('vireo disk check');
    expect((e.details as { argv: string[] }).argv[0]).toBe('qemu-img');
    const i = await rejection(img.info(g, { format: 'qcow2' }));
    expect(i.message).toContain('is not a valid qcow2 image');

    // Raw has no metadata: nothing to check, said as such.
    const r = join(d, 'plain.raw');
    await writeFile(r, Buffer.alloc(MiB));
    expect(await img.check(r)).toMatchObject({ ok: true, supported: false });
  });

  it('repairs leaks', async () => {
    const d = await fresh();
    const f = join(d, 'leak.qcow2');
    await img.create(f, { format: 'qcow2', sizeBytes: 8 * MiB });
    // Grow the file past its last cluster and add a refcount for nothing: a leak.
    const fh = await open(f, 'r+');
    const hdr = Buffer.alloc(72);
    await fh.read(hdr, 0, 72, 0);
    const rb = Buffer.alloc(8);
    await fh.read(rb, 0, 8, Number(hdr.readBigUInt64BE(48)));
    const size = (await fh.stat()).size;
    const cluster = Math.ceil(size / 65536);
    const one = Buffer.alloc(2);
    one.writeUInt16BE(1, 0);
    await fh.write(one, 0, 2, Number(rb.readBigUInt64BE(0)) + cluster * 2);
    await fh.truncate((cluster + 1) * 65536);
    await fh.close();
    const before = await img.check(f);
    expect(before).toMatchObject({ ok: false, corruptions: 0 });
    expect(before.leaks).toBeGreaterThan(0);
    await img.check(f, { repair: 'leaks' });
    expect(await img.check(f)).toMatchObject({ ok: true, leaks: 0 });
  });

  it('creates, lists, applies and deletes offline snapshots', async () => {
    const d = await fresh();
    const f = join(d, 's.qcow2');
    await img.create(f, { format: 'qcow2', sizeBytes: 4 * MiB });
    await writePattern(f, 'qcow2', 0x01, 0, 65536);
    await img.snapshotCreate(f, 'before update');
    await writePattern(f, 'qcow2', 0x02, 0, 65536);
    await img.snapshotCreate(f, 'after');
    const list = await img.snapshotList(f);
    expect(list.map((s) => s.name)).toEqual(['before update', 'after']);
    expect(list[0]).toMatchObject({ id: '1', vmStateSize: 0 });
    expect(list[0]!.dateSec).toBeGreaterThan(1_600_000_000);

    expect((await rejection(img.snapshotCreate(f, 'after'))).code).toBe('ALREADY_EXISTS');
    for (const bad of ['', '12', 'a\nb', 'x'.repeat(201)]) {
      expect((await rejection(img.snapshotCreate(f, bad))).code, JSON.stringify(bad)).toBe('INVALID_ARGUMENT');
    }
    expect((await rejection(img.snapshotApply(f, 'nope'))).code).toBe('NOT_FOUND');
    expect((await rejection(img.snapshotDelete(f, 'nope'))).code).toBe('NOT_FOUND');

    await img.snapshotApply(f, 'before update');
    const r = await run('qemu-io', ['-f', 'qcow2', '-c', 'read -P 0x01 0 65536', f]);
    expect(r.stdout).not.toContain('Pattern verification failed');
    await img.snapshotDelete(f, 'before update');
    expect((await img.snapshotList(f)).map((s) => s.name)).toEqual(['after']);
    expect((await img.check(f)).ok).toBe(true);
  });

  it('says IN_USE when a running QEMU holds the image, while info -U still reads it', async () => {
    const d = await fresh();
    const f = join(d, 'busy.qcow2');
    await img.create(f, { format: 'qcow2', sizeBytes: 4 * MiB });
    const q = spawn(
      'qemu-system-x86_64',
      ['-S', '-accel', 'tcg', '-nodefaults', '-display', 'none', '-m', '64', '-qmp', 'stdio', '-blockdev', `driver=file,filename=${f},node-name=f0`, '-blockdev', 'driver=qcow2,file=f0,node-name=d0'],
      { stdio: ['pipe', 'pipe', 'pipe'], shell: false },
    );
    procs.push(q);
    // The greeting means QEMU is up and has opened (and locked) the image.
    await new Promise<void>((resolve, reject) => {
      q.stdout!.once('data', () => resolve());
      q.once('exit', () => reject(new Error('qemu exited')));
    });
    expect((await img.info(f)).virtualSize).toBe(4 * MiB);
    const e = await rejection(img.snapshotCreate(f, 'live'));
    expect(e.code).toBe('IN_USE');
    expect(e.message).toContain(f);
    expect((await rejection(img.resize(f, 8 * MiB))).code).toBe('IN_USE');
  });

  it('reports missing files and non-files', async () => {
    const d = await fresh();
    expect((await rejection(img.info(join(d, 'nope.qcow2')))).code).toBe('NOT_FOUND');
    expect((await rejection(img.info(d))).code).toBe('INVALID_ARGUMENT');
    expect((await rejection(img.convert(join(d, 'nope'), join(d, 'o.qcow2'), { toFormat: 'qcow2' }))).code).toBe('NOT_FOUND');
    const empty = join(d, 'empty');
    await writeFile(empty, '');
    expect((await rejection(img.convert(empty, join(d, 'o.qcow2'), { toFormat: 'qcow2' }))).code).toBe('INVALID_ARGUMENT');
    expect(await isIso9660(empty)).toBe(false);
    const missingTool = await rejection(new QemuImg('/nonexistent/qemu-img').info(empty));
    expect(missingTool.code).toBe('TOOL_FAILED');
  });
});

async function rawWithPattern(d: string, size: number, pattern: number, len: number): Promise<string> {
  const p = join(d, `pattern-${pattern}.raw`);
  const b = Buffer.alloc(size);
  b.fill(pattern, 0, len);
  await writeFile(p, b);
  return p;
}
