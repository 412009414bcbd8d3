import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { Engine } from '../../electron/engine/index.ts';
import type { SnapshotTree } from '../../electron/api/types.ts';
import { SerialShell } from '../fixtures/guest.ts';
import { createGuestVm, disposeEngine, qemuPidsFor, tempEngine, waitForReady, serialSocketOf } from './helpers.ts';
import { run } from '../../electron/engine/util/proc.ts';

// Offline snapshots (VM stopped, qemu-img) as a tree with branches, deletion of a middle node,
// every remaining node restorable; then one boot to see the restored disk from inside the
// guest, and a live snapshot restored into the stopped VM (-loadvm).

let engine: Engine;
let shell: SerialShell | undefined;
beforeAll(async () => {
  engine = await tempEngine();
});
afterAll(async () => {
  shell?.close();
  await disposeEngine(engine);
});

/** Writes text+NUL at offset 0 of the stopped VM's disk, as the guest's `diskwrite` would. */
async function hostWrite(disk: string, text: string) {
  const hex = [...Buffer.from(text)].map((b) => b.toString(16).padStart(2, '0'));
  const cmds = hex.flatMap((h, i) => ['-c', `write -P 0x${h} ${i} 1`]);
  await run('qemu-io', ['-f', 'qcow2', ...cmds, '-c', `write -z ${hex.length} 1`, disk]);
}

async function hostRead(disk: string): Promise<string> {
  const { stdout } = await run('qemu-io', ['-f', 'qcow2', '-c', 'read -v 0 32', disk]);
  const bytes = stdout
    .split('\n')
    .filter((l) => /^[0-9a-f]{8}:/.test(l))
    .flatMap((l) => l.slice(10, 10 + 16 * 3).trim().split(/\s+/))
    .map((h) => parseInt(h, 16));
  const buf = Buffer.from(bytes);
  return buf.subarray(0, buf.indexOf(0)).toString();
}

async function tags(disk: string): Promise<string[]> {
  const { stdout } = await run('qemu-img', ['info', '--output=json', disk]);
  return ((JSON.parse(stdout) as { snapshots?: Array<{ name: string }> }).snapshots ?? []).map((s) => s.name);
}

const byName = (t: SnapshotTree, name: string) => t.nodes.find((n) => n.name === name)!;

describe('offline snapshots', () => {
  it('a tree with two branches; deleting the middle keeps every other node restorable', async () => {
    const vm = await createGuestVm(engine, 'offline');
    const disk = join(vm.dir, 'disk0.qcow2');
    const save = (name: string) => engine.client.call('snapshots.save', { vm: vm.id, name });
    const restore = (s: string) => engine.client.call('snapshots.restore', { vm: vm.id, snapshot: s });

    expect((await engine.client.call('snapshots.list', { vm: vm.id })).nodes).toEqual([]);
    await hostWrite(disk, 'one');
    await save('s1');
    await hostWrite(disk, 'two');
    await save('s2');
    await hostWrite(disk, 'three');
    let t = await save('s3');
    expect(t.nodes.every((n) => !n.live && n.vmState === 'stopped' && !n.hasThumbnail)).toBe(true);

    t = await restore('s1');
    expect(await hostRead(disk)).toBe('one');
    expect(t.current).toBe(byName(t, 's1').id);
    await hostWrite(disk, 'four');
    t = await save('s4');
    const [s1, s2, s3, s4] = ['s1', 's2', 's3', 's4'].map((n) => byName(t, n).id) as [string, string, string, string];
    expect(t.nodes.map((n) => [n.name, n.parent])).toEqual([
      ['s1', null],
      ['s2', s1],
      ['s3', s2],
      ['s4', s1],
    ]);
    expect(t.current).toBe(s4);
    expect(await tags(disk)).toEqual([s1, s2, s3, s4]);

    t = await engine.client.call('snapshots.delete', { vm: vm.id, snapshot: 's2' });
    expect(t.nodes.map((n) => [n.name, n.parent])).toEqual([
      ['s1', null],
      ['s3', s1],
      ['s4', s1],
    ]);
    expect(await tags(disk)).toEqual([s1, s3, s4]);
    await expect(restore('s2')).rejects.toMatchObject({ code: 'NOT_FOUND' });

    for (const [name, text] of [['s3', 'three'], ['s1', 'one'], ['s4', 'four'], ['s3', 'three']] as const) {
      t = await restore(name);
      expect(await hostRead(disk)).toBe(text);
      expect(t.current).toBe(byName(t, name).id);
    }

    t = await engine.client.call('snapshots.rename', { vm: vm.id, snapshot: s4, name: 'four', description: 'the other branch' });
    expect(byName(t, 'four')).toMatchObject({ id: s4, description: 'the other branch' });
    const check = await run('qemu-img', ['check', '--output=json', disk]);
    expect(JSON.parse(check.stdout)).toMatchObject({ 'check-errors': 0 });

    // One boot: the guest sees the restored disk; an offline snapshot cannot replace live RAM.
    const started = await engine.client.call('vms.start', { vm: vm.id });
    await waitForReady(vm);
    shell = await SerialShell.connect(serialSocketOf(engine, started));
    expect(await shell.run('diskread')).toBe('three');
    await expect(restore('s1')).rejects.toMatchObject({ code: 'INVALID_STATE', message: expect.stringMatching(/shut the VM down/) });

    // A live snapshot restored into the stopped VM: it comes back running, RAM included.
    await shell.run('diskwrite live');
    const n1 = Number(/COUNTER (\d+)/.exec(await shell.run('counter'))![1]);
    t = await save('live one');
    const live = byName(t, 'live one');
    expect(live).toMatchObject({ live: true, parent: s3 });
    await shell.run('diskwrite after');
    shell.close();
    shell = undefined;
    await engine.client.call('vms.stop', { vm: vm.id, force: true });
    expect(qemuPidsFor([vm.id])).toEqual([]);

    t = await restore(live.id);
    expect(t.current).toBe(live.id);
    const details = await engine.client.call('vms.get', { vm: vm.id });
    expect(details.state).toBe('running');
    expect(details.runtime.argv).toEqual(expect.arrayContaining(['-loadvm', live.id]));
    shell = await SerialShell.connect(serialSocketOf(engine, details));
    expect(await shell.run('diskread')).toBe('live');
    const n2 = Number(/COUNTER (\d+)/.exec(await shell.run('counter'))![1]);
    expect(n2).toBeGreaterThanOrEqual(n1);
    expect(n2).toBeLessThan(n1 + 15);
    shell.close();
    shell = undefined;
    await engine.client.call('vms.stop', { vm: vm.id, force: true });
  });

  it('says up front why snapshots are unavailable, and refuses to save', async () => {
    const vm = await createGuestVm(engine, 'rawdisk');
    const entry = engine.vms.resolve(vm.id);
    await run('qemu-img', ['create', '-q', '-f', 'raw', join(vm.dir, 'data.img'), '1M']);
    await engine.client.call('vms.update', {
      vm: vm.id,
      patch: { disks: [...entry.config!.disks, { id: 'disk1', file: 'data.img', format: 'raw', bus: 'virtio' }] },
    });
    const t = await engine.client.call('snapshots.list', { vm: vm.id });
    expect(t).toMatchObject({ available: false, reason: expect.stringMatching(/disk1 \(raw\) is not qcow2/) });
    await expect(engine.client.call('snapshots.save', { vm: vm.id, name: 'x' })).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringMatching(/convert it to qcow2/) });
  });
});
