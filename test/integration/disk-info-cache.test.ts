import { mkdtempSync } from 'node:fs';
import { rm, writeFile, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { QemuImg, type ImageInfo } from '../../electron/engine/disk/qemu-img.ts';
import { run } from '../../electron/engine/util/proc.ts';

// The details of a VM reuse `qemu-img info` while the image file is unchanged (what made
// `vireo show` wait for a qemu-img per disk). Real qemu-img; the calls that reach it are counted.

class CountingQemuImg extends QemuImg {
  calls = 0;
  override async info(file: string, opts?: { forceShare?: boolean; format?: string }): Promise<ImageInfo> {
    this.calls++;
    return super.info(file, opts);
  }
}

const MiB = 1024 * 1024;
const root = mkdtempSync(join(tmpdir(), 'vireo-infocache-'));
afterAll(() => rm(root, { recursive: true, force: true }));

describe('QemuImg.infoCached', () => {
  it('answers from the cache while the file is unchanged, and asks again after a resize, a write or a replaced file', async () => {
    const img = new CountingQemuImg();
    const file = join(root, 'a.qcow2');
    await img.create(file, { format: 'qcow2', sizeBytes: 16 * MiB });

    const first = await img.infoCached(file);
    expect(first.virtualSize).toBe(16 * MiB);
    expect(await img.infoCached(file)).toEqual(first);
    expect(img.calls).toBe(1);

    await img.resize(file, 32 * MiB);
    const before = img.calls;
    expect((await img.infoCached(file)).virtualSize).toBe(32 * MiB);
    expect(img.calls).toBe(before + 1);

    // Data written into the image grows its actual size: the cached answer must not hide it.
    const small = (await img.infoCached(file)).actualSize ?? 0;
    await run('qemu-io', ['-f', 'qcow2', '-c', `write -P 7 0 ${8 * MiB}`, file]);
    const grown = await img.infoCached(file);
    expect(grown.actualSize ?? 0).toBeGreaterThan(small + 4 * MiB);

    // Another image put in its place under the same name.
    const other = join(root, 'b.qcow2');
    await img.create(other, { format: 'qcow2', sizeBytes: 48 * MiB });
    await rename(other, file);
    expect((await img.infoCached(file)).virtualSize).toBe(48 * MiB);
  });

  it('keeps no answer for a file that is gone, and reports its error each time', async () => {
    const img = new CountingQemuImg();
    const file = join(root, 'gone.qcow2');
    await img.create(file, { format: 'qcow2', sizeBytes: MiB });
    await img.infoCached(file);
    await rm(file);
    await expect(img.infoCached(file)).rejects.toThrow();
    await writeFile(file, Buffer.alloc(MiB));
    // A raw file of the same name now: probed again, not the qcow2's cached answer.
    expect((await img.infoCached(file)).format).toBe('raw');
  });
});
