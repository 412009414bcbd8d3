import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import type { Engine } from '../../electron/engine/index.ts';
import { SerialShell } from '../fixtures/guest.ts';
import { createGuestVm, disposeEngine, qemuPidsFor, tempEngine, waitForReady, serialSocketOf } from './helpers.ts';
import { run } from '../../electron/engine/util/proc.ts';

// Live snapshots (RAM included) on the real test guest under TCG: save, diverge, restore, and
// the thumbnail taken with it. One boot for the whole file.

let engine: Engine;
let shell: SerialShell | undefined;
beforeAll(async () => {
  engine = await tempEngine();
});
afterAll(async () => {
  shell?.close();
  await disposeEngine(engine);
});

const counter = async (sh: SerialShell) => Number(/COUNTER (\d+)/.exec(await sh.run('counter'))![1]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('live snapshots', () => {
  it('save → diverge → restore brings back disk and RAM, and the guest keeps running', async () => {
    const vm = await createGuestVm(engine, 'live');
    const started = await engine.client.call('vms.start', { vm: vm.id });
    await waitForReady(vm);
    shell = await SerialShell.connect(serialSocketOf(engine, started));
    await shell.run('diskwrite A');
    const n1 = await counter(shell);

    const states: string[] = [];
    const off = engine.bus.on('vm.state', (e) => e.id === vm.id && states.push(e.state));
    const jobs: string[] = [];
    const offJobs = engine.bus.on('job.update', (j) => jobs.push(`${j.kind}:${j.state}`));
    const tree = await engine.client.call('snapshots.save', { vm: vm.id, name: 'before B', description: 'disk says A' });
    expect(tree.available).toBe(true);
    expect(tree.nodes).toHaveLength(1);
    const snap = tree.nodes[0]!;
    expect(snap).toMatchObject({ name: 'before B', description: 'disk says A', live: true, vmState: 'running', parent: null, hasThumbnail: true });
    expect(tree.current).toBe(snap.id);
    expect(states).toEqual(['saving', 'running']);
    expect(jobs).toContain('snapshot-save:done');
    expect((await engine.client.call('vms.get', { vm: vm.id })).state).toBe('running');

    await shell.run('diskwrite B');
    expect(await shell.run('diskread')).toBe('B');
    let later = await counter(shell);
    while (later < n1 + 4) {
      await sleep(1000);
      later = await counter(shell);
    }

    states.length = 0;
    const restored = await engine.client.call('snapshots.restore', { vm: vm.id, snapshot: 'before B' });
    expect(restored.current).toBe(snap.id);
    expect(states).toEqual(['restoring', 'running']);
    off();
    offJobs();

    // The chardev is not part of the snapshot, so the connection survives; the guest's shell
    // is back where it was (at its prompt), so a fresh command works.
    expect(await shell.run('diskread')).toBe('A');
    const n2 = await counter(shell);
    expect(n2).toBeGreaterThanOrEqual(n1);
    expect(n2).toBeLessThan(later);
    await sleep(2500);
    expect(await counter(shell)).toBeGreaterThan(n2);

    // Thumbnail: a PNG whose IHDR and inflated IDAT agree on the size.
    const thumb = await engine.client.call('snapshots.thumbnail', { vm: vm.id, snapshot: snap.id });
    const png = Buffer.from(thumb.png!, 'base64');
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(png.toString('latin1', 12, 16)).toBe('IHDR');
    const width = png.readUInt32BE(16);
    const height = png.readUInt32BE(20);
    expect(png[24]).toBe(8); // bit depth
    const colorType = png[25]!;
    const channels = colorType === 2 ? 3 : colorType === 6 ? 4 : colorType === 0 ? 1 : 0;
    expect(channels).toBeGreaterThan(0);
    expect(width).toBeGreaterThan(100);
    expect(height).toBeGreaterThan(50);
    const idat: Buffer[] = [];
    for (let pos = 8; pos < png.length; ) {
      const len = png.readUInt32BE(pos);
      const type = png.toString('latin1', pos + 4, pos + 8);
      if (type === 'IDAT') idat.push(png.subarray(pos + 8, pos + 8 + len));
      pos += 12 + len;
    }
    expect(inflateSync(Buffer.concat(idat)).length).toBe(height * (1 + width * channels));

    // A paused VM is snapshotted paused and stays paused.
    const paused = await engine.client.call('vms.pause', { vm: vm.id });
    expect(paused.state).toBe('paused');
    const t2 = await engine.client.call('snapshots.save', { vm: vm.id, name: 'paused one' });
    const s2 = t2.nodes.find((n) => n.name === 'paused one')!;
    expect(s2).toMatchObject({ vmState: 'paused', parent: snap.id, live: true });
    expect((await engine.client.call('vms.get', { vm: vm.id })).state).toBe('paused');
    await engine.client.call('vms.resume', { vm: vm.id });

    // Delete while running goes through QEMU; the image no longer holds the tag.
    const t3 = await engine.client.call('snapshots.delete', { vm: vm.id, snapshot: s2.id });
    expect(t3.nodes.map((n) => n.id)).toEqual([snap.id]);
    expect(t3.current).toBe(snap.id);
    expect(readFileSync(engine.vms.resolve(vm.id).paths.snapshotsMeta, 'utf8')).not.toContain(s2.id);

    // Save, restore and delete in a row, each save right after a restore: a restored guest's
    // agent may send replies queued at snapshot time, which once gave a freeze the string
    // "thawed" or {} for its count of file systems; snapshots.json then failed its schema and
    // the tree came back as "Recovered …" nodes. Every save must record a real freeze, by name.
    for (let i = 0; i < 6; i++) {
      const t = await engine.client.call('snapshots.save', { vm: vm.id, name: `cycle ${i}` });
      const made = t.nodes.find((n) => n.name === `cycle ${i}`)!;
      expect(made.quiesce === null || made.quiesce === undefined || made.quiesce.filesystems === null || Number.isInteger(made.quiesce.filesystems)).toBe(true);
      expect((await engine.client.call('snapshots.list', { vm: vm.id })).nodes.map((n) => n.name)).toEqual(['before B', `cycle ${i}`]);
      await engine.client.call('snapshots.restore', { vm: vm.id, snapshot: `cycle ${i}` });
      await engine.client.call('snapshots.delete', { vm: vm.id, snapshot: `cycle ${i}` });
    }
    expect((await engine.client.call('snapshots.list', { vm: vm.id })).nodes.map((n) => n.name)).toEqual(['before B']);

    shell.close();
    shell = undefined;
    await engine.client.call('vms.stop', { vm: vm.id, force: true });
    expect(qemuPidsFor([vm.id])).toEqual([]);
    const disk = engine.vms.resolve(vm.id);
    const { stdout } = await run('qemu-img', ['snapshot', '-l', `${disk.paths.dir}/disk0.qcow2`]);
    expect(stdout).toContain(snap.id);
    expect(stdout).not.toContain(s2.id);
  });
});
