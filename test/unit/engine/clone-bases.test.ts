import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BaseStore } from '../../../electron/engine/clone/bases.ts';
import { VmLocks } from '../../../electron/engine/vm/locks.ts';

// The shared bases of linked clones made from a snapshot (engine/clone/bases.ts): exported once
// per snapshot, however many clones ask at once; kept while a clone (or a clone's kept disks)
// needs it; removed with the last; a killed engine's leftovers swept. The files are plain here:
// the images themselves are clone-linked.test.ts's.

const homes: string[] = [];
afterEach(() => homes.splice(0).forEach((h) => rmSync(h, { recursive: true, force: true })));

function store() {
  const home = mkdtempSync(join(tmpdir(), 'vireo-h3-bases-'));
  homes.push(home);
  return new BaseStore(home, new VmLocks());
}
const source = { vmId: 'src', vmName: 'Source', snapshotId: 's2', snapshotName: 'clean' };
const folders = (s: BaseStore) => (existsSync(s.root) ? readdirSync(s.root) : []);

describe('linked clone bases', () => {
  it('two clones of one snapshot at once: one export, one base; it goes with the last clone', async () => {
    const s = store();
    let exports = 0;
    const make = async (dir: string) => {
      exports++;
      await new Promise((r) => setTimeout(r, 20)); // an export takes a while: the second clone must wait, not export too
      writeFileSync(join(dir, 'disk0.qcow2'), 'base');
      return { disk0: 'disk0.qcow2' };
    };
    const [a, b] = await Promise.all([s.acquire('src:snapshot:s2', source, { id: 'a', name: 'A' }, make), s.acquire('src:snapshot:s2', source, { id: 'b', name: 'B' }, make)]);
    expect(exports).toBe(1);
    expect(a.dir).toBe(b.dir);
    expect([a.created, b.created].sort()).toEqual([false, true]);
    expect((await s.list())[0]!.clones.map((c) => c.id)).toEqual(['a', 'b']);
    // Another snapshot is another base.
    await s.acquire('src:snapshot:s3', source, { id: 'c', name: 'C' }, make);
    expect(folders(s)).toHaveLength(2);

    expect(await s.release('a')).toEqual(['src']);
    expect(existsSync(join(a.dir, 'disk0.qcow2'))).toBe(true);
    await s.release('b');
    expect(existsSync(a.dir)).toBe(false);
  });

  it('a failed export leaves nothing; kept disks keep their base; a killed engine leftovers are swept', async () => {
    const s = store();
    await expect(s.acquire('k', source, { id: 'x', name: 'X' }, async () => Promise.reject(new Error('qemu-img failed')))).rejects.toThrow('qemu-img failed');
    expect(folders(s)).toEqual([]);

    const make = async (dir: string) => (writeFileSync(join(dir, 'disk0.qcow2'), 'base'), { disk0: 'disk0.qcow2' });
    const kept = await s.acquire('k', source, { id: 'kept', name: 'Kept' }, make);
    await s.release('kept', { keptDisks: true });
    expect(existsSync(kept.dir)).toBe(true);
    expect((await s.list())[0]!.clones).toEqual([{ id: 'kept', name: 'Kept', kept: true }]);

    const orphan = await s.acquire('o', source, { id: 'gone', name: 'Gone' }, make);
    await s.acquire('o', source, { id: 'here', name: 'Here' }, make);
    const lone = await s.acquire('p', source, { id: 'gone2', name: 'Gone 2' }, make);
    mkdirSync(join(s.root, '.creating-dead'));
    writeFileSync(join(s.root, '.creating-dead', 'disk0.qcow2'), 'half');
    await s.sweep((id) => id === 'here');
    expect(folders(s).sort()).toEqual([kept.record.id, orphan.record.id].sort());
    expect(existsSync(lone.dir)).toBe(false);
    expect((await s.list()).find((b) => b.key === 'o')!.clones.map((c) => c.id)).toEqual(['here']);
  });
});
