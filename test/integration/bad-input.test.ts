import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import type { Engine } from '../../electron/engine/index.ts';
import { createEngine } from '../../electron/engine/index.ts';
import { ownerSocketPath, runtimeRoot } from '../../electron/engine/paths.ts';
import { ensureFixtures } from '../fixtures/guest.ts';
import { createGuestVm, disposeEngine, qemuPidsFor, tempEngine } from './helpers.ts';

// Issue 3, acceptance 4: each bad input gives a clear error code and message and leaves
// nothing behind — no VM folder, no process, no socket.

let engine: Engine;
let scratch: string;
let iso: string;
beforeAll(async () => {
  engine = await tempEngine();
  scratch = mkdtempSync(join(tmpdir(), 'vireo-bad-'));
  iso = (await ensureFixtures()).iso;
});
afterAll(() => disposeEngine(engine));

const vmFolders = () => readdirSync(join(engine.home, 'vms'));
// The live engine's own socket (how other processes reach the library's owner) lives as long
// as the engine; everything else in the runtime folder belongs to a VM.
const ownerSocket = () => basename(ownerSocketPath(runtimeRoot(engine.home), engine.home));
const runtimeFiles = () =>
  existsSync(runtimeRoot(engine.home)) ? readdirSync(runtimeRoot(engine.home), { recursive: true }).filter((f) => f !== ownerSocket()) : [];

async function refused(args: Record<string, unknown>, code: string, message: RegExp) {
  const before = vmFolders();
  await expect(engine.client.call('vms.create', { name: 'ok-name', ...args } as never)).rejects.toMatchObject({ code, message: expect.stringMatching(message) });
  expect(vmFolders()).toEqual(before);
}

describe('bad input leaves nothing behind', () => {
  it('names: empty, duplicate, path traversal, too long', async () => {
    await createGuestVm(engine, 'taken');
    await refused({ name: '' }, 'INVALID_ARGUMENT', /empty/);
    await refused({ name: 'taken', iso }, 'ALREADY_EXISTS', /"taken" already exists/);
    await refused({ name: 'TAKEN', iso }, 'ALREADY_EXISTS', /already exists/);
    await refused({ name: '../x' }, 'INVALID_ARGUMENT', /path separator/);
    await refused({ name: 'x'.repeat(70) }, 'INVALID_ARGUMENT', /64 characters/);
  });

  it('sizes: zero, negative, too large, unparseable', async () => {
    await refused({ memory: '0' }, 'INVALID_ARGUMENT', /memory/);
    await refused({ memory: -512 }, 'INVALID_ARGUMENT', /memory|positive/);
    await refused({ memory: '64T' }, 'INVALID_ARGUMENT', /more than this host has/);
    await refused({ disk: '0G' }, 'INVALID_ARGUMENT', /disk/);
    await refused({ disk: '100000T' }, 'INVALID_ARGUMENT', /too large/);
    await refused({ disk: 'lots' }, 'INVALID_ARGUMENT', /not understood/);
    await refused({ cpus: 0 }, 'INVALID_ARGUMENT', /CPUs/);
    await refused({ cpus: 4096 }, 'INVALID_ARGUMENT', /more than this host has/);
  });

  it('files: a missing ISO, a non-ISO file, a corrupt disk image to import', async () => {
    await refused({ iso: join(scratch, 'missing.iso') }, 'NOT_FOUND', /does not exist/);
    const notIso = join(scratch, 'notes.iso');
    writeFileSync(notIso, 'just text, not an ISO\n'.repeat(4000));
    await refused({ iso: notIso }, 'INVALID_ARGUMENT', /not an ISO 9660 image/);
    const corrupt = join(scratch, 'corrupt.qcow2');
    const good = join(scratch, 'good.qcow2');
    spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', good, '64M']);
    const bytes = readFileSync(good);
    bytes.fill(0xff, 8, 64); // version, backing file, cluster bits, size: all garbage
    writeFileSync(corrupt, bytes);
    await refused({ importDisk: corrupt }, 'TOOL_FAILED', /corrupt\.qcow2/);
  });

  it('an unknown accelerator is refused by the contract; an absent one says why', async () => {
    await refused({ accel: 'warp' }, 'INVALID_ARGUMENT', /accel/);
    await refused({ accel: 'hvf' }, 'UNSUPPORTED', /HVF.*not available/);
  });

  it('a VM whose disk is corrupt fails to start with the reason and leaves no process or socket', async () => {
    const vm = await createGuestVm(engine, 'rotten');
    const disk = vm.disks[0]!.path;
    const bytes = readFileSync(disk);
    bytes.fill(0xff, 8, 64);
    writeFileSync(disk, bytes);
    await expect(engine.client.call('vms.start', { vm: vm.id })).rejects.toMatchObject({ code: 'QEMU_FAILED', message: expect.stringMatching(/QEMU exited during start-up/) });
    expect((await engine.client.call('vms.get', { vm: vm.id })).state).toBe('stopped');
    expect(qemuPidsFor([vm.id])).toEqual([]);
    expect(runtimeFiles()).toEqual([]);
  });

  it('a corrupt vm.json marks that VM broken with the reason; the others load', async () => {
    const vm = await createGuestVm(engine, 'will-break');
    writeFileSync(join(vm.dir, 'vm.json'), '{"schemaVersion": 1, "name": ');
    // One engine per library: the first one steps aside so a fresh one reads the library from
    // disk (afterAll disposes the fresh one).
    await engine.dispose();
    const again = (engine = await createEngine({ home: engine.home }));
    const list = await again.client.call('vms.list', {});
    expect(list.find((v) => v.id === vm.id)?.broken).toMatch(/not valid JSON/);
    expect(list.find((v) => v.name === 'taken')?.broken).toBeNull();
    await expect(again.client.call('vms.start', { vm: vm.id })).rejects.toMatchObject({ code: 'BROKEN_CONFIG' });
  });
});
