import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Engine } from '../../electron/engine/index.ts';
import { SerialShell } from '../fixtures/guest.ts';
import { createGuestVm, disposeEngine, qemuPidsFor, tempEngine, waitForReady, serialSocketOf } from './helpers.ts';
import { run } from '../../electron/engine/util/proc.ts';

// A UEFI + TPM guest: the qcow2 variable store is part of every snapshot, and swtpm's state
// files are copied beside each snapshot and put back on restore. 384M: GRUB's UEFI build runs
// out of memory loading the guest's initrd with less.

let engine: Engine;
let shell: SerialShell | undefined;
beforeAll(async () => {
  engine = await tempEngine();
});
afterAll(async () => {
  shell?.close();
  await disposeEngine(engine);
});

async function tags(file: string, forceShare = false): Promise<string[]> {
  const { stdout } = await run('qemu-img', ['info', '--output=json', ...(forceShare ? ['-U'] : []), file]);
  return ((JSON.parse(stdout) as { snapshots?: Array<{ name: string }> }).snapshots ?? []).map((s) => s.name);
}

describe('snapshots of a UEFI VM with a TPM', () => {
  it('cover NVRAM and TPM state, live and offline', async () => {
    const vm = await createGuestVm(engine, 'uefi', { firmware: 'uefi', tpm: true, secureBoot: false, memory: '384M' });
    const entry = engine.vms.resolve(vm.id);
    const nvram = join(vm.dir, 'nvram.qcow2');
    const disk = join(vm.dir, 'disk0.qcow2');
    expect(existsSync(nvram)).toBe(true);
    expect((await engine.client.call('snapshots.list', { vm: vm.id })).available).toBe(true);

    const started = await engine.client.call('vms.start', { vm: vm.id });
    const ready = await waitForReady(vm, 150_000);
    expect(ready[0]).toMatch(/firmware=uefi .* tpm=1/);
    shell = await SerialShell.connect(serialSocketOf(engine, started));
    await shell.run('diskwrite uefi-live');
    const u1 = (await engine.client.call('snapshots.save', { vm: vm.id, name: 'u1' })).nodes[0]!;
    expect(u1.live).toBe(true);
    expect(await tags(nvram, true)).toEqual([u1.id]);
    expect(readdirSync(join(vm.dir, 'snapshots', u1.id, 'tpm'))).toContain('tpm2-00.permall');
    shell.close();
    shell = undefined;
    await engine.client.call('vms.stop', { vm: vm.id, force: true });

    const u2 = (await engine.client.call('snapshots.save', { vm: vm.id, name: 'u2' })).nodes.find((n) => n.name === 'u2')!;
    expect(u2).toMatchObject({ live: false, parent: u1.id });
    expect(await tags(nvram)).toEqual([u1.id, u2.id]);
    expect(await tags(disk)).toEqual([u1.id, u2.id]);

    // TPM state changed after the snapshot comes back as it was.
    writeFileSync(join(entry.paths.tpmState, 'stray'), 'x');
    await engine.client.call('snapshots.restore', { vm: vm.id, snapshot: u2.id });
    expect(readdirSync(entry.paths.tpmState)).not.toContain('stray');
    expect(readdirSync(entry.paths.tpmState)).toContain('tpm2-00.permall');

    // The live one into the stopped VM: QEMU loads RAM, disk and NVRAM; swtpm gets its files.
    const t = await engine.client.call('snapshots.restore', { vm: vm.id, snapshot: u1.id });
    expect(t.current).toBe(u1.id);
    const d = await engine.client.call('vms.get', { vm: vm.id });
    expect(d.state).toBe('running');
    shell = await SerialShell.connect(serialSocketOf(engine, d));
    expect(await shell.run('diskread')).toBe('uefi-live');
    shell.close();
    shell = undefined;
    await engine.client.call('vms.stop', { vm: vm.id, force: true });
    expect(qemuPidsFor([vm.id])).toEqual([]);
  });
});
