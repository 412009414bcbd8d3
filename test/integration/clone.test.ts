import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Engine } from '../../electron/engine/index.ts';
import type { VmDetails } from '../../electron/api/types.ts';
import { SerialShell } from '../fixtures/guest.ts';
import { createGuestVm, disposeEngine, qemuPidsFor, tempEngine, waitForReady, serialSocketOf } from './helpers.ts';
import { run } from '../../electron/engine/util/proc.ts';

// Linked and full clones of the test guest: they boot, diverge from their source, and the
// library keeps a linked clone's base from being deleted.

let engine: Engine;
const shells: SerialShell[] = [];
beforeAll(async () => {
  engine = await tempEngine();
});
afterAll(async () => {
  shells.forEach((s) => s.close());
  await disposeEngine(engine);
});

const bootsOf = new Map<string, number>();

/** Boots a VM, runs commands on its serial shell, and powers it off. */
async function withGuest<T>(vm: VmDetails, fn: (sh: SerialShell) => Promise<T>): Promise<T> {
  const d = await engine.client.call('vms.start', { vm: vm.id });
  await waitForReady(d, 90_000, bootsOf.get(vm.id) ?? 0);
  bootsOf.set(vm.id, (bootsOf.get(vm.id) ?? 0) + 1);
  const sh = await SerialShell.connect(serialSocketOf(engine, d));
  shells.push(sh);
  try {
    return await fn(sh);
  } finally {
    sh.close();
    await engine.client.call('vms.stop', { vm: vm.id, force: true });
  }
}

async function info(file: string) {
  const { stdout } = await run('qemu-img', ['info', '--output=json', file]);
  return JSON.parse(stdout) as { 'backing-filename'?: string; 'full-backing-filename'?: string; snapshots?: unknown[] };
}

/** Text+NUL at offset 0 of a stopped VM's disk, as the guest's `diskwrite` stores it. */
async function hostWrite(disk: string, text: string) {
  const cmds = [...Buffer.from(text)].flatMap((b, i) => ['-c', `write -P ${b} ${i} 1`]);
  await run('qemu-io', ['-f', 'qcow2', ...cmds, '-c', `write -z ${text.length} 1`, disk]);
}

async function hostRead(disk: string): Promise<string> {
  const { stdout } = await run('qemu-io', ['-f', 'qcow2', '-c', 'read -v 0 16', disk]);
  const hex = /^00000000:\s+((?:[0-9a-f]{2} ){16})/m.exec(stdout)![1]!.trim().split(' ');
  const buf = Buffer.from(hex.map((h) => parseInt(h, 16)));
  return buf.subarray(0, buf.indexOf(0)).toString();
}

describe('clones', () => {
  it('a linked clone boots and diverges; its base cannot be deleted; a full clone outlives its source', async () => {
    const src = await createGuestVm(engine, 'source');
    await hostWrite(join(src.dir, 'disk0.qcow2'), 'from-source');

    // (A VM with snapshots, and clones from a snapshot: clone-linked.test.ts.)
    const jobs: string[] = [];
    const off = engine.bus.on('job.update', (j) => j.kind === 'clone' && jobs.push(j.state));
    const linked = await engine.client.call('vms.clone', { vm: src.id, name: 'linked', linked: true });
    off();
    expect(jobs.at(-1)).toBe('done');
    expect(linked.id).not.toBe(src.id);
    expect(linked.config!.networks[0]!.mac).not.toBe(src.config!.networks[0]!.mac);
    const cloneDisk = join(linked.dir, 'disk0.qcow2');
    const srcDisk = join(src.dir, 'disk0.qcow2');
    const ci = await info(cloneDisk);
    const si = await info(srcDisk);
    const base = resolve(ci['full-backing-filename']!);
    expect(resolve(si['full-backing-filename']!)).toBe(base);
    expect(base.startsWith(src.dir)).toBe(true);
    expect(statSync(base).mode & 0o222).toBe(0);
    expect(ci['backing-filename']!.startsWith('..')).toBe(true); // relative: the library can move

    const linkedSaw = await withGuest(linked, async (sh) => {
      const was = await sh.run('diskread');
      await sh.run('diskwrite from-linked');
      return was;
    });
    expect(linkedSaw).toBe('from-source');
    expect(await hostRead(srcDisk)).toBe('from-source');

    // Refused in words the GUI can show as they are: no command line inside.
    const refusal = engine.client.call('vms.delete', { vm: src.id });
    await expect(refusal).rejects.toMatchObject({ code: 'IN_USE', message: expect.stringContaining('"linked"') });
    await expect(refusal).rejects.toMatchObject({ message: expect.not.stringMatching(/vireo |<clone>/) });
    expect((await engine.client.call('vms.get', { vm: src.id })).clones!.deleteBlocked).toMatch(/is the base of the linked clone "linked"/);

    // Full clone of the linked clone: a standalone copy, no backing file.
    const full = await engine.client.call('vms.clone', { vm: linked.id, name: 'full' });
    expect((await info(join(full.dir, 'disk0.qcow2')))['backing-filename']).toBeUndefined();
    await engine.client.call('vms.delete', { vm: linked.id });
    await engine.client.call('vms.delete', { vm: src.id }); // no clone depends on it any more
    expect(await withGuest(full, (sh) => sh.run('diskread'))).toBe('from-linked');
    expect(qemuPidsFor([full.id, src.id, linked.id])).toEqual([]);
  });

  it('a full clone from a snapshot copies that state; bad requests are refused clearly', async () => {
    const src = await createGuestVm(engine, 'snapsrc');
    const disk = join(src.dir, 'disk0.qcow2');
    await run('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0x61 0 4', '-c', 'write -z 4 1', disk]);
    const t = await engine.client.call('snapshots.save', { vm: src.id, name: 'aaaa' });
    await run('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0x62 0 4', disk]);
    const c = await engine.client.call('vms.clone', { vm: src.id, name: 'from-snap', fromSnapshot: 'aaaa' });
    const { stdout } = await run('qemu-io', ['-f', 'qcow2', '-c', 'read -P 0x61 0 4', join(c.dir, 'disk0.qcow2')]);
    expect(stdout).not.toMatch(/verification failed/i);
    expect((await info(join(c.dir, 'disk0.qcow2'))).snapshots ?? []).toEqual([]);
    expect((await engine.client.call('snapshots.list', { vm: c.id })).nodes).toEqual([]);

    await expect(engine.client.call('vms.clone', { vm: src.id, name: 'x', linked: true, withSnapshots: true })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    void t;
    await expect(engine.client.call('vms.clone', { vm: src.id, name: 'x', fromSnapshot: 'nosuch' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(engine.client.call('vms.clone', { vm: src.id, name: 'from-snap' })).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
  });
});
