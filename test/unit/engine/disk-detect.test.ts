import { mkdtempSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { detectFormat, isIso9660 } from '../../../electron/engine/disk/qemu-img.ts';

// Magic-byte detection on hand-made headers: the file names lie on purpose (every file is
// called disk.img or .iso), since the extension must never decide the format.

const dir = mkdtempSync(join(tmpdir(), 'vireo-detect-'));
let n = 0;
function file(bytes: Buffer, name = 'disk.img'): string {
  const p = join(dir, `${n++}-${name}`);
  writeFileSync(p, bytes);
  return p;
}
function withAt(size: number, offset: number, data: Buffer | string): Buffer {
  const b = Buffer.alloc(size);
  (typeof data === 'string' ? Buffer.from(data, 'latin1') : data).copy(b, offset);
  return b;
}

afterAll(() => rm(dir, { recursive: true, force: true }));

describe('detectFormat', () => {
  it('recognises qcow2 (v2, v3) and qcow v1 by magic and version', async () => {
    const v3 = withAt(1024, 0, Buffer.from([0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 3]));
    const v2 = withAt(1024, 0, Buffer.from([0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 2]));
    const v1 = withAt(1024, 0, Buffer.from([0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 1]));
    expect(await detectFormat(file(v3, 'x.vmdk'))).toBe('qcow2');
    expect(await detectFormat(file(v2))).toBe('qcow2');
    expect(await detectFormat(file(v1))).toBe('qcow');
  });

  it('recognises vmdk sparse extents and text descriptors', async () => {
    expect(await detectFormat(file(withAt(1024, 0, 'KDMV')))).toBe('vmdk');
    expect(await detectFormat(file(Buffer.from('# Disk DescriptorFile\nversion=1\n'), 'x.qcow2'))).toBe('vmdk');
  });

  it('recognises vdi by its signature at 0x40, vhdx, qed and both kinds of VHD', async () => {
    expect(await detectFormat(file(withAt(1024, 0x40, Buffer.from([0x7f, 0x10, 0xda, 0xbe]))))).toBe('vdi');
    expect(await detectFormat(file(withAt(1024, 0, 'vhdxfile')))).toBe('vhdx');
    expect(await detectFormat(file(withAt(1024, 0, Buffer.from([0x51, 0x45, 0x44, 0x00]))))).toBe('qed');
    // Dynamic VHD: footer copy at the start. Fixed VHD: footer only in the last 512 bytes.
    expect(await detectFormat(file(withAt(2048, 0, 'conectix')))).toBe('vpc');
    expect(await detectFormat(file(withAt(4096, 4096 - 512, 'conectix')))).toBe('vpc');
  });

  it('calls anything else raw, and an empty or missing file null', async () => {
    expect(await detectFormat(file(withAt(4096, 100, 'QFI\xfb'), 'x.qcow2'))).toBe('raw');
    expect(await detectFormat(file(Buffer.from('hi')))).toBe('raw');
    expect(await detectFormat(file(Buffer.alloc(0)))).toBeNull();
    expect(await detectFormat(join(dir, 'missing'))).toBeNull();
    expect(await detectFormat(dir)).toBeNull();
  });
});

describe('isIso9660', () => {
  it('is true only with CD001 at 32769', async () => {
    expect(await isIso9660(file(withAt(40_000, 32769, 'CD001'), 'x.img'))).toBe(true);
    expect(await isIso9660(file(withAt(40_000, 32768, 'CD001'), 'y.iso'))).toBe(false);
    expect(await isIso9660(file(withAt(40_000, 32769, 'BEA01'), 'udf.iso'))).toBe(false);
    expect(await isIso9660(file(Buffer.from('short'), 'tiny.iso'))).toBe(false);
    expect(await isIso9660(join(dir, 'missing.iso'))).toBe(false);
  });
});
