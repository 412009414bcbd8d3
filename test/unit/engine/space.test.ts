import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { VireoError, toWireError } from '../../../electron/api/errors.ts';
import { freeBytes, isNoSpace, mapNoSpace, noSpaceError } from '../../../electron/engine/util/space.ts';

// A full disk in every shape it arrives in: a real ENOSPC from the kernel (/dev/full always
// answers writes with it), qemu-img's stderr, and QEMU's job error text.

const enospc = (): NodeJS.ErrnoException => {
  try {
    writeFileSync('/dev/full', 'x');
  } catch (e) {
    return e as NodeJS.ErrnoException;
  }
  throw new Error('/dev/full accepted a write');
};

describe('out of space', () => {
  it('recognises ENOSPC, tool stderr and QEMU job text, and nothing else', () => {
    expect(enospc().code).toBe('ENOSPC');
    expect(isNoSpace(enospc())).toBe(true);
    expect(isNoSpace(new VireoError('TOOL_FAILED', 'qemu-img failed', { stderr: "qemu-img: Could not create snapshot 'x': -28 (No space left on device)" }))).toBe(true);
    expect(isNoSpace(new VireoError('QMP_ERROR', 'job failed', { desc: 'Error while writing VM state: No space left on device' }))).toBe(true);
    expect(isNoSpace(new VireoError('TOOL_FAILED', 'qemu-img failed', { stderr: 'Image is not in qcow2 format' }))).toBe(false);
    expect(isNoSpace(Object.assign(new Error('permission denied'), { code: 'EACCES' }))).toBe(false);
    expect(isNoSpace(null)).toBe(false);
  });

  it('a raw ENOSPC that reaches the wire is NO_SPACE, never INTERNAL', () => {
    const w = toWireError(enospc());
    expect(w.code).toBe('NO_SPACE');
    expect(w.message).toMatch(/^not enough free space.*free some space on that disk/);
    expect(toWireError(new Error('boom')).code).toBe('INTERNAL');
  });

  it('names the folder, the space needed and the space free', async () => {
    const dir = tmpdir();
    const free = await freeBytes(dir);
    expect(free).toBeGreaterThan(0);
    const e = await noSpaceError(dir, 'save vm.json', 8192, enospc());
    expect(e.code).toBe('NO_SPACE');
    expect(e.message).toContain(`not enough free space in ${dir} to save vm.json (about 8 KiB needed, `);
    expect(e.details).toMatchObject({ folder: dir, neededBytes: 8192, freeBytes: expect.any(Number), cause: expect.stringContaining('ENOSPC') });
    // A folder that does not exist yet is measured on its nearest existing parent.
    expect(await freeBytes(`${dir}/vireo-not-there/a/b`)).toBeGreaterThan(0);
  });

  it('mapNoSpace turns only out-of-space failures into NO_SPACE', async () => {
    await expect(mapNoSpace('/lib', 'write', 10, async () => { throw enospc(); })).rejects.toMatchObject({ code: 'NO_SPACE', details: { folder: '/lib' } });
    await expect(mapNoSpace('/lib', 'write', 10, async () => { throw new VireoError('NOT_FOUND', 'gone'); })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await mapNoSpace('/lib', 'write', 10, async () => 7)).toBe(7);
  });
});
