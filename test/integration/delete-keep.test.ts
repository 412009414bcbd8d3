import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Engine } from '../../electron/engine/index.ts';
import { QemuImg } from '../../electron/engine/disk/qemu-img.ts';
import { run } from '../../electron/engine/util/proc.ts';
import { ensureFixtures } from '../fixtures/guest.ts';
import { disposeEngine, tempEngine, waitForReady } from './helpers.ts';

// "Keep the disk images" when deleting a VM keeps them: the disk, the UEFI variables and the
// TPM state move to a folder the user is shown (keptIn), only the VM entry goes, and the kept
// disk imports into a new VM that boots. Without keepDisks the files go with the VM.

let engine: Engine;
beforeAll(async () => {
  engine = await tempEngine();
});
afterAll(() => disposeEngine(engine));

describe('vms.delete {keepDisks}', () => {
  it('moves disk, NVRAM and TPM state out, removes the entry, and the kept disk boots as a new VM', async () => {
    const fx = await ensureFixtures();
    // The fixture ISO is a hybrid image, so as a disk it boots like a USB stick would.
    const vm = await engine.client.call('vms.create', { name: 'keeper', importDisk: fx.iso, memory: '192M', cpus: 1, firmware: 'uefi', tpm: true });
    const dir = vm.dir;
    expect(existsSync(join(dir, 'disk0.qcow2'))).toBe(true);
    expect(existsSync(join(dir, 'nvram.qcow2'))).toBe(true);
    // TPM state appears once swtpm has run; make it, as a VM that ran would have it.
    const tpmDir = engine.vms.resolve(vm.id).paths.tpmState;
    mkdirSync(tpmDir, { recursive: true });
    writeFileSync(join(tpmDir, 'tpm2-00.permall'), 'tpm-state');

    const r = await engine.client.call('vms.delete', { vm: vm.id, keepDisks: true });
    expect(r.deleted).toBe(vm.id);
    expect(r.keptIn).toBeTruthy();
    const kept = r.keptIn!;
    // Inside the library, where the user is told to look; the VM itself is gone.
    expect(relative(engine.home, kept).startsWith('kept')).toBe(true);
    expect(existsSync(dir)).toBe(false);
    expect((await engine.client.call('vms.list', {})).map((v) => v.id)).not.toContain(vm.id);
    expect(readdirSync(kept).sort()).toEqual(['README.txt', 'disk0.qcow2', 'nvram.qcow2', 'tpm', 'vm.json'].sort());
    expect(readFileSync(join(kept, 'tpm', 'tpm2-00.permall'), 'utf8')).toBe('tpm-state');
    expect(JSON.parse(readFileSync(join(kept, 'vm.json'), 'utf8')).name).toBe('keeper');
    expect(readFileSync(join(kept, 'README.txt'), 'utf8')).toContain(`--import-disk ${join(kept, 'disk0.qcow2')}`);
    const img = new QemuImg('qemu-img');
    expect((await img.check(join(kept, 'disk0.qcow2'))).ok).toBe(true);

    // The kept disk is a working disk: a new VM made from it boots the guest.
    const reborn = await engine.client.call('vms.create', { name: 'reborn', importDisk: join(kept, 'disk0.qcow2'), memory: '192M', cpus: 1 });
    await engine.client.call('vms.start', { vm: reborn.id });
    const facts = await waitForReady(reborn, 150_000);
    expect(facts[0]).toContain('READY');
    await engine.client.call('vms.stop', { vm: reborn.id, force: true });
    // Importing copied it: the kept file is still there for another try.
    expect(existsSync(join(kept, 'disk0.qcow2'))).toBe(true);
  });

  it('without keepDisks the disks go with the VM, and nothing is kept', async () => {
    const vm = await engine.client.call('vms.create', { name: 'gone', disk: '16M', memory: '64M', cpus: 1 });
    const before = existsSync(join(engine.home, 'kept')) ? readdirSync(join(engine.home, 'kept')).length : 0;
    const r = await engine.client.call('vms.delete', { vm: vm.id });
    expect(r).toEqual({ deleted: vm.id });
    expect(existsSync(vm.dir)).toBe(false);
    const after = existsSync(join(engine.home, 'kept')) ? readdirSync(join(engine.home, 'kept')).length : 0;
    expect(after).toBe(before);
  });

  it("a linked clone's kept disk is written out whole: it needs no base, and the bases go with their last clone", async () => {
    const img = new QemuImg('qemu-img');
    const src = await engine.client.call('vms.create', { name: 'keep-src', disk: '16M', memory: '64M', cpus: 1 });
    const srcDisk = join(src.dir, 'disk0.qcow2');
    // Content for the clones to carry: one pattern before the snapshot, another after it.
    await run('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0x11 0 1M', srcDisk]);
    await engine.client.call('snapshots.save', { vm: src.id, name: 'clean' });
    await run('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0x22 1M 1M', srcDisk]);
    const fromSnap = await engine.client.call('vms.clone', { vm: src.id, name: 'keep-snap', linked: true, fromSnapshot: 'clean' });
    const plain = await engine.client.call('vms.create', { name: 'keep-plain', disk: '16M', memory: '64M', cpus: 1 });
    await run('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0x33 0 1M', join(plain.dir, 'disk0.qcow2')]);
    const ofCurrent = await engine.client.call('vms.clone', { vm: plain.id, name: 'keep-current', linked: true });
    const bases = join(engine.home, 'bases');
    expect(readdirSync(bases).filter((n) => !n.endsWith('.json'))).toHaveLength(1);

    for (const [clone, pattern] of [[fromSnap, ['0x11', '0x00']], [ofCurrent, ['0x33', '0x00']]] as const) {
      const disk = join(clone.dir, 'disk0.qcow2');
      expect((await img.info(disk)).backingFile).toBeTruthy();
      const ref = join(engine.home, `ref-${clone.name}.qcow2`);
      await run('qemu-img', ['convert', '-O', 'qcow2', disk, ref]);
      const r = await engine.client.call('vms.delete', { vm: clone.id, keepDisks: true });
      const kept = join(r.keptIn!, 'disk0.qcow2');
      expect((await img.info(kept)).backingFile ?? null).toBeNull();
      expect((await img.check(kept)).ok).toBe(true);
      expect((await run('qemu-img', ['compare', ref, kept], { okCodes: [0, 1] })).code).toBe(0);
      // What the clone saw: the snapshot's (or the source's) first MiB, then nothing written.
      expect((await run('qemu-io', ['-f', 'qcow2', '-c', `read -P ${pattern[0]} 0 1M`, kept])).stdout).not.toMatch(/Pattern verification failed/);
      expect((await run('qemu-io', ['-f', 'qcow2', '-c', `read -P ${pattern[1]} 1M 1M`, kept])).stdout).not.toMatch(/Pattern verification failed/);
    }
    // The snapshot's shared base went with its last clone; the source may now be deleted too.
    expect(readdirSync(bases).filter((n) => !n.endsWith('.json'))).toEqual([]);
    await engine.client.call('vms.delete', { vm: plain.id });
    await engine.client.call('vms.delete', { vm: src.id });
  });

  it('a running VM is not deleted, kept or not, and its disk stays in place', async () => {
    const vm = await engine.client.call('vms.create', { name: 'busy', disk: '16M', memory: '64M', cpus: 1 });
    await engine.client.call('vms.start', { vm: vm.id });
    await expect(engine.client.call('vms.delete', { vm: vm.id, keepDisks: true })).rejects.toMatchObject({ code: 'INVALID_STATE' });
    expect(existsSync(join(vm.dir, 'disk0.qcow2'))).toBe(true);
    await engine.client.call('vms.stop', { vm: vm.id, force: true });
  });
});
