import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import type { Engine } from '../../electron/engine/index.ts';
import { createEngine } from '../../electron/engine/index.ts';
import { ownerSocketPath, runtimeRoot } from '../../electron/engine/paths.ts';
import { ensureFixtures } from '../fixtures/guest.ts';
import { isIso9660 } from '../../electron/engine/disk/format.ts';
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

// Issue 13, "Bad input and faults": what the adversarial probe found.
describe('bad input found by the probe', () => {
  const vmJson = (dir: string) => readFileSync(join(dir, 'vm.json'), 'utf8');

  it('os.detect of a FIFO is refused at once, even many at a time, and the engine still answers', async () => {
    const fifo = join(scratch, 'pipe.iso');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const t0 = Date.now();
    // More calls than libuv has pool threads (4): before, each one blocked a thread for good.
    const all = await Promise.allSettled(Array.from({ length: 8 }, () => engine.client.call('os.detect', { path: fifo })));
    for (const r of all) expect(r).toMatchObject({ status: 'rejected', reason: { code: 'INVALID_ARGUMENT', message: expect.stringMatching(/FIFO/) } });
    await expect(engine.client.call('disks.info', { path: fifo })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await refused({ iso: fifo }, 'INVALID_ARGUMENT', /not a file|FIFO/);
    // The byte sniffers behind those checks open through the same FIFO-safe helper.
    expect(await isIso9660(fifo)).toBe(false);
    expect(Date.now() - t0).toBeLessThan(10_000);
    // The pool is free: a file read and a listing still work.
    expect((await engine.client.call('os.detect', { path: iso })).status).toBeDefined();
    expect(Array.isArray(await engine.client.call('vms.list', {}))).toBe(true);
  });

  it('vms.update refuses unknown keys by name, at any depth, and changes nothing', async () => {
    const vm = await engine.client.call('vms.create', { name: 'keys', disk: '16M', memory: '64M', cpus: 1 });
    const before = vmJson(vm.dir);
    const update = (patch: unknown) => engine.client.call('vms.update', { vm: vm.id, patch: patch as Record<string, unknown> });
    await expect(update({ sytem: { cpus: 1 } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/unknown setting "sytem".*known at the top: .*system/), details: { issues: [{ path: 'sytem' }] } });
    await expect(update({ system: { cpus: 1, cpuz: 2 } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/"system\.cpuz".*known in system: .*cpus/) });
    await expect(update({ disks: [{ id: 'disk0', fiel: 'x.qcow2' }] })).rejects.toMatchObject({ message: expect.stringMatching(/"disks\.0\.fiel"/) });
    // (A top-level "__proto__" is dropped by the contract's record parser before it gets here.)
    await expect(update(JSON.parse('{"system": {"__proto__": {"polluted": true}}}'))).rejects.toMatchObject({ message: expect.stringMatching(/"system\.__proto__"/) });
    await expect(update(JSON.parse('{"cdrom": {"constructor": {"prototype": {"polluted": true}}}}'))).rejects.toMatchObject({ message: expect.stringMatching(/"cdrom\.constructor"/) });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(vmJson(vm.dir)).toBe(before);
    // Known keys still work.
    expect((await update({ system: { cpus: 1 }, notes: 'ok' })).config?.notes).toBe('ok');
  });

  it('names with text-direction overrides or control characters are refused on create, rename and clone', async () => {
    for (const name of ['\u202Eexe.txt', 'a\u2066b', 'left\u200Emark', 'nul\u0000', 'del\u007f', 'c1\u0085']) {
      await refused({ name }, 'INVALID_ARGUMENT', /text-direction|control characters/);
    }
    const vm = await engine.client.call('vms.create', { name: 'plain-name', memory: '64M', cpus: 1 });
    await expect(engine.client.call('vms.update', { vm: vm.id, patch: { name: 'evil\u202Etxt' } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/text-direction/) });
    await expect(engine.client.call('vms.clone', { vm: vm.id, name: '\u200Fclone' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/text-direction/) });
    expect((await engine.client.call('vms.get', { vm: vm.id })).name).toBe('plain-name');
  });

  it('disks.resize: sizes past 64 TiB are refused; a resize is a job, and a long one can be cancelled', async () => {
    const big = join(scratch, 'big.qcow2');
    expect(spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', big, '64T']).status).toBe(0);
    await expect(engine.client.call('disks.resize', { path: big, size: '65T' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/too large \(at most 64 TiB\)/) });

    const small = join(scratch, 'small.qcow2');
    expect(spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', small, '16M']).status).toBe(0);
    expect(await engine.client.call('disks.resize', { path: small, size: '32M' })).toMatchObject({ virtualSize: 32 * 1024 ** 2 });
    expect((await engine.client.call('jobs.list', {})).find((j) => j.kind === 'disk-resize' && j.title.includes('small.qcow2'))).toMatchObject({ state: 'done' });

    // Shrinking 64 TiB to 1 GiB takes qemu-img over ten minutes: it used to be killed at 120 s;
    // now it is a job the user sees running and can cancel.
    const started = new Promise<string>((resolve) => {
      const off = engine.bus.on('job.update', (j) => {
        if (j.kind === 'disk-resize' && j.state === 'running' && j.title.includes('big.qcow2')) {
          off();
          resolve(j.id);
        }
      });
    });
    const resize = engine.client.call('disks.resize', { path: big, size: '1G', shrink: true });
    const jobId = await started;
    await new Promise((r) => setTimeout(r, 1000));
    expect((await engine.client.call('jobs.list', {})).find((j) => j.id === jobId)).toMatchObject({ state: 'running', cancellable: true });
    await engine.client.call('jobs.cancel', { id: jobId });
    await expect(resize).rejects.toMatchObject({ code: 'CANCELLED' });
    expect((await engine.client.call('jobs.list', {})).find((j) => j.id === jobId)).toMatchObject({ state: 'cancelled' });
    // No qemu-img left working on the image.
    const stillRunning = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).some((d) => {
      try {
        const argv = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
        return argv[0]?.endsWith('qemu-img') && argv.includes(big);
      } catch {
        return false;
      }
    });
    expect(stillRunning).toBe(false);
  });
});
