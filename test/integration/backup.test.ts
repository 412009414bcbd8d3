import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, statSync, writeSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine, type Engine } from '../../electron/engine/index.ts';
import type { BackupEntry } from '../../electron/api/backup-types.ts';
import type { VmDetails } from '../../electron/api/types.ts';
import { runtimeRoot } from '../../electron/engine/paths.ts';
import { run } from '../../electron/engine/util/proc.ts';
import { SerialShell, directBootArgs } from '../fixtures/guest.ts';
import { createGuestVm, qemuPidsFor, serialSocketOf, waitForReady } from './helpers.ts';
import { runVireo } from './cli-helpers.ts';

// Backups of one running test guest (direct-kernel boot, shared by the file, in order): a full
// backup, 10 MiB written by the guest, an incremental one smaller than twice that, the chain
// restoring to exactly the disk as it was (reference copies taken while the guest was paused),
// verify, restore to a new VM, the same QEMU answering throughout; then an engine process
// killed -9 in the middle of a backup, after which the catalog lists only good backups (the
// killed one failed, its partial file gone) and the next incremental still builds on the last
// good one; last, with the VM stopped, an offline incremental and a restore in place.

const MiB = 1024 ** 2;
const home = mkdtempSync(join(tmpdir(), 'vireo-bk-it-'));
const work = mkdtempSync(join(tmpdir(), 'vireo-bk-work-'));
const target = join(work, 'backups');
const children: ChildProcess[] = [];
let engine: Engine;
let vm: VmDetails;
let sh: SerialShell;
let pid: number;
let disk = '';
let full: BackupEntry;
let inc: BackupEntry;
const ref0 = join(work, 'ref0.qcow2');
const ref1 = join(work, 'ref1.qcow2');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const dirOf = () => join(target, vm.id);

/** The disk as the guest has it now: paused (QEMU flushes on stop), copied, resumed. */
async function referenceCopy(to: string) {
  await engine.client.call('vms.pause', { vm: vm.id });
  try {
    await run('qemu-img', ['convert', '-U', '-f', 'qcow2', '-O', 'qcow2', disk, to]);
  } finally {
    await engine.client.call('vms.resume', { vm: vm.id });
  }
}

async function identical(a: string, b: string): Promise<string> {
  const r = await run('qemu-img', ['compare', '-U', a, b], { okCodes: [0, 1] });
  return r.code === 0 ? 'identical' : r.stdout.trim();
}

async function stillRunning() {
  const d = await engine.client.call('vms.get', { vm: vm.id });
  expect({ state: d.state, pid: d.runtime.pid }).toEqual({ state: 'running', pid });
  expect(await sh.run('echo alive-$((6*7))', 30_000)).toContain('alive-42');
}

beforeAll(async () => {
  // 96 MiB of random data at the start of a 128 MiB disk: a full backup has something to copy
  // (long enough for the kill -9 test to catch it mid-way).
  const src = join(work, 'src.raw');
  const fd = openSync(src, 'w');
  for (let i = 0; i < 96; i++) writeSync(fd, randomBytes(MiB));
  writeSync(fd, Buffer.alloc(1), 0, 1, 128 * MiB - 1);
  closeSync(fd);
  mkdirSync(target);
  engine = await createEngine({ home });
  const created = await createGuestVm(engine, 'bk-guest', { iso: null, importDisk: src, disk: undefined, memory: '192M' });
  await rm(src);
  await engine.client.call('vms.update', { vm: created.id, patch: { advanced: { extraArgs: await directBootArgs() } } });
  vm = await engine.client.call('vms.start', { vm: created.id });
  pid = vm.runtime.pid!;
  disk = engine.vms.diskPath(engine.vms.resolve(vm.id), engine.vms.resolve(vm.id).config!.disks[0]!.file);
  await waitForReady(vm, 120_000);
  sh = await SerialShell.connect(serialSocketOf(engine, vm));
}, 240_000);

afterAll(async () => {
  sh?.close();
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  const e = engine ?? (await createEngine({ home }).catch(() => null));
  if (e) {
    for (const v of e.vms.list()) if (!['stopped', 'crashed'].includes(v.state)) await e.client.call('vms.stop', { vm: v.id, force: true }).catch(() => {});
    await e.dispose().catch(() => {});
  }
  expect(qemuPidsFor(vm ? [vm.id] : [])).toEqual([]);
  await rm(home, { recursive: true, force: true });
  await rm(work, { recursive: true, force: true });
  await rm(runtimeRoot(home), { recursive: true, force: true });
}, 120_000);

describe('backups of a running VM', () => {
  it('full, then 10 MiB written in the guest, then incremental: < 2x the change, the chain restores the disk as it was, the VM running throughout', async () => {
    // The test guest runs qemu-ga: the backup point is taken with its file systems frozen.
    await expect.poll(async () => (await engine.client.call('vms.get', { vm: vm.id })).runtime.agent.state, { timeout: 90_000, interval: 500 }).toBe('connected');
    full = await engine.client.call('backup.run', { vm: vm.id, to: target });
    expect(full).toEqual(expect.objectContaining({ type: 'full', state: 'good', parent: null, source: 'running' }));
    expect(full.quiesce).toMatch(/^frozen \(\d+ file systems\)$/);
    expect(full.bytes).toBeGreaterThan(90 * MiB);
    await referenceCopy(ref0);
    await stillRunning();

    const out = await sh.run('d=/dev/vda; [ -b $d ] || d=/dev/sda; dd if=/dev/urandom of=$d bs=1M count=10 seek=100 conv=fsync 2>&1; echo dd-$((40+2))', 120_000);
    expect(out).toContain('dd-42');
    await referenceCopy(ref1);

    inc = await engine.client.call('backup.run', { vm: vm.id, incremental: true });
    expect(inc).toEqual(expect.objectContaining({ type: 'incremental', state: 'good', parent: full.id, chain: full.id, note: null }));
    expect(inc.bytes).toBeLessThan(2 * 10 * MiB);
    expect(inc.bytes).toBeGreaterThan(10 * MiB);
    await stillRunning();

    // The chain read as a whole (the incremental's backing file is the full one) is the disk at that time.
    const dir = dirOf();
    const restored = join(work, 'restored.qcow2');
    await run('qemu-img', ['convert', '-O', 'qcow2', join(dir, inc.disks[0]!.file), restored]);
    expect(await identical(restored, ref1)).toBe('identical');
    expect(await identical(join(dir, full.disks[0]!.file), ref0)).toBe('identical');
    expect(await identical(join(dir, full.disks[0]!.file), ref1)).not.toBe('identical');

    const cat = await engine.client.call('backup.list', { vm: vm.id });
    expect(cat.backups.map((b) => [b.id, b.type, b.state, b.chain])).toEqual([[inc.id, 'incremental', 'good', full.id], [full.id, 'full', 'good', full.id]]);
    expect(cat.dir).toBe(dir);
  }, 300_000);

  it('verify restores the chain to a temp copy and compares; a backup restores to a new VM with the same disk', async () => {
    const v = await engine.client.call('backup.verify', { vm: vm.id });
    expect(v).toEqual(expect.objectContaining({ backup: inc.id, ok: true, files: [full.disks[0]!.file, inc.disks[0]!.file] }));
    expect(readdirSync(dirOf()).filter((f) => f.endsWith('.partial'))).toEqual([]);
    expect((await engine.client.call('backup.list', { vm: vm.id })).backups[0]!.verified).toEqual(expect.objectContaining({ ok: true }));

    const copy = await engine.client.call('backup.restore', { vm: vm.id, newName: 'bk-restored' });
    expect(copy.name).toBe('bk-restored');
    expect(await identical(copy.disks[0]!.path, ref1)).toBe('identical');
    await engine.client.call('vms.delete', { vm: copy.id });
    // In place needs the VM stopped: refused while it runs, nothing touched.
    await expect(engine.client.call('backup.restore', { vm: vm.id, backup: full.id })).rejects.toThrow(/is running: stop it/);
    await stillRunning();
  }, 180_000);

  it('a backup is a job that can be cancelled: the call says so, its entry is failed, nothing is left; bad requests are refused with what to do', async () => {
    const cancelled = new Promise<void>((resolve) => {
      const off = engine.bus.on('job.update', (j) => {
        if (j.vmId === vm.id && j.kind === 'backup' && j.state === 'running') {
          off();
          void engine.client.call('jobs.cancel', { id: j.id }).then(() => resolve());
        }
      });
    });
    await expect(engine.client.call('backup.run', { vm: vm.id })).rejects.toMatchObject({ code: 'CANCELLED' });
    await cancelled;
    const cat = await engine.client.call('backup.list', { vm: vm.id });
    expect(cat.backups[0]).toEqual(expect.objectContaining({ state: 'failed', error: expect.stringMatching(/cancel/i) }));
    expect(cat.backups.filter((b) => b.state === 'good').map((b) => b.id)).toEqual([inc.id, full.id]);
    expect(readdirSync(dirOf()).filter((f) => f.endsWith('.partial'))).toEqual([]);

    await expect(engine.client.call('backup.run', { vm: vm.id, to: join(work, 'nope') })).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringMatching(/does not exist or is not a folder: create it first/) });
    await expect(engine.client.call('backup.verify', { vm: vm.id, backup: 'bad/../id' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(engine.client.call('backup.prune', { vm: vm.id, daily: 0, weekly: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/keep at least one/) });
    const raw = await engine.client.call('vms.create', { name: 'bk-raw', memory: '32M', disk: '8M' });
    await expect(engine.client.call('backup.run', { vm: raw.id })).rejects.toMatchObject({ message: expect.stringMatching(/no backup folder for "bk-raw" yet: give one/) });
    await engine.client.call('drives.add', { vm: raw.id, size: '8M', format: 'raw' });
    await expect(engine.client.call('backup.run', { vm: raw.id, to: target })).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringMatching(/is not qcow2: .*convert it/) });
    expect(readdirSync(target)).not.toContain(raw.id);
    await engine.client.call('vms.delete', { vm: raw.id });
    await stillRunning();
  }, 120_000);

  it('a kill -9 of the engine mid-backup leaves the catalog consistent: the killed backup failed, its partial file gone, the next incremental on the last good one', async () => {
    await engine.dispose();
    engine = undefined as unknown as Engine;
    // The CLI owning the library for one command, as ONE process (node with tsx as a loader).
    const c = spawn(process.execPath, ['--import', 'tsx', 'electron/cli/main.ts', '--home', home, 'backup', 'bk-guest', '--to', target], { stdio: ['ignore', 'ignore', 'pipe'], shell: false });
    children.push(c);
    let stderr = '';
    c.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    const partial = () => readdirSync(dirOf()).filter((f) => f.endsWith('.partial')).map((f) => statSync(join(dirOf(), f), { throwIfNoEntry: false })?.size ?? 0);
    let killedAt = -1;
    const deadline = Date.now() + 120_000;
    while (c.exitCode === null && Date.now() < deadline) {
      const sizes = partial();
      if (sizes.some((s) => s >= 4 * MiB)) {
        c.kill('SIGKILL');
        killedAt = Math.max(...sizes);
        break;
      }
      await sleep(2);
    }
    await exited;
    expect({ killedMidway: killedAt > 0, stderr: killedAt > 0 ? '' : stderr }).toEqual({ killedMidway: true, stderr: '' });

    engine = await createEngine({ home });
    const cat = await engine.client.call('backup.list', { vm: vm.id });
    expect(cat.backups.filter((b) => b.state === 'running')).toEqual([]);
    // Newest first: the killed backup is the newest entry.
    const killed = cat.backups[0]!;
    expect(killed).toEqual(expect.objectContaining({ state: 'failed', type: 'full' }));
    expect(killed.error).toMatch(/interrupted: the engine taking it \(pid \d+\) stopped before it finished; its unfinished .*\.partial is removed/);
    expect(cat.backups.filter((b) => b.state === 'good').map((b) => b.id)).toEqual([inc.id, full.id]);
    expect(readdirSync(dirOf()).filter((f) => f.endsWith('.partial') || f.endsWith('.tmp'))).toEqual([]);
    expect((await engine.client.call('jobs.list', {})).filter((j) => j.state === 'running')).toEqual([]);
    sh.close();
    sh = await SerialShell.connect(serialSocketOf(engine, vm));
    await stillRunning();

    // QEMU's side was cleaned too (the killed job cancelled, its bitmap dropped): the next
    // incremental builds on the last good backup and holds only what changed since.
    await sh.run('d=/dev/vda; [ -b $d ] || d=/dev/sda; dd if=/dev/urandom of=$d bs=1M count=2 seek=110 conv=fsync 2>&1; echo dd2-$((40+2))', 60_000);
    const after = await engine.client.call('backup.run', { vm: vm.id, incremental: true });
    expect(after).toEqual(expect.objectContaining({ type: 'incremental', parent: inc.id, state: 'good' }));
    expect(after.bytes).toBeLessThan(4 * 2 * MiB);
    expect((await engine.client.call('backup.verify', { vm: vm.id, backup: after.id })).ok).toBe(true);
  }, 300_000);

  it('scheduled backups run while the engine runs, on top of the chain; turning the schedule off stops them', async () => {
    const before = (await engine.client.call('backup.list', { vm: vm.id })).backups.length;
    const done = new Promise<string>((resolve) => {
      const off = engine.bus.on('job.update', (j) => {
        if (j.vmId === vm.id && j.kind === 'backup' && j.state !== 'running' && j.title.startsWith('Scheduled backup')) {
          off();
          resolve(j.state);
        }
      });
    });
    // Due one second after the newest good backup: the scheduler's timer fires within seconds.
    const set = await engine.client.call('backup.schedule', { vm: vm.id, schedule: { everyHours: 1 / 3600, incremental: true, keep: null } });
    expect(set.schedule).toEqual({ everyHours: 1 / 3600, incremental: true, keep: null });
    expect(await done).toBe('done');
    const cleared = await engine.client.call('backup.schedule', { vm: vm.id, schedule: null });
    expect(cleared.schedule).toBeNull();
    // Wait out a round that may have started before the schedule was cleared.
    await expect.poll(async () => (await engine.client.call('jobs.list', {})).filter((j) => j.state === 'running' && j.vmId === vm.id).length, { timeout: 60_000 }).toBe(0);
    const after = await engine.client.call('backup.list', { vm: vm.id });
    const scheduled = after.backups.slice(0, after.backups.length - before);
    expect(scheduled.length).toBeGreaterThan(0);
    expect(scheduled.every((b) => b.state === 'good' && b.type === 'incremental')).toBe(true);
    // Nothing more once it is off.
    await sleep(3000);
    expect((await engine.client.call('backup.list', { vm: vm.id })).backups.length).toBe(after.backups.length);
    await stillRunning();
  }, 120_000);

  it('a stopped VM: an offline incremental through its image, then a restore in place gives the disk of the full backup back', async () => {
    sh.close();
    // Saved to disk: its state resumes only on the disks it was saved with, so no restore in place.
    const saved = await engine.client.call('vms.saveState', { vm: vm.id });
    expect(saved.state).toBe('saved');
    await expect(engine.client.call('backup.restore', { vm: vm.id, backup: full.id })).rejects.toMatchObject({ code: 'INVALID_STATE', message: expect.stringMatching(/has a saved state that needs its current disks: discard it/) });
    await engine.client.call('vms.discardState', { vm: vm.id });
    const off = await engine.client.call('backup.run', { vm: vm.id, incremental: true });
    // QEMU ended cleanly after the save, writing its bitmaps: incremental (else full, saying why).
    expect(off).toEqual(expect.objectContaining({ state: 'good', source: 'stopped' }));
    if (off.type === 'full') expect(off.note).toMatch(/incremental asked, but .*: this one is full/);
    const off2 = await engine.client.call('backup.run', { vm: vm.id, incremental: true });
    expect(off2).toEqual(expect.objectContaining({ state: 'good', source: 'stopped', type: 'incremental', parent: off.id }));
    expect(off2.bytes).toBeLessThan(1 * MiB);

    await engine.client.call('backup.restore', { vm: vm.id, backup: full.id });
    expect(await identical(disk, ref0)).toBe('identical');
    // Everything was taken today: the newest (off2) and the chain under it stay, the rest go
    // (the failed entry of the killed backup with them).
    const before = (await engine.client.call('backup.list', { vm: vm.id })).backups;
    const chain: BackupEntry[] = [];
    for (let b = before.find((x) => x.id === off2.id); b; b = before.find((x) => x.id === b!.parent)) chain.push(b);
    expect(chain.at(-1)!.type).toBe('full');
    const pruned = await engine.client.call('backup.prune', { vm: vm.id, daily: 1, weekly: 0 });
    expect(pruned.kept.sort()).toEqual(chain.map((b) => b.id).sort());
    expect(pruned.removed.length).toBe(before.length - chain.length);
    expect(pruned.removed.length).toBeGreaterThan(0);
    const left = readdirSync(dirOf()).filter((f) => f.endsWith('.qcow2')).sort();
    expect(left).toEqual(chain.flatMap((b) => b.disks.map((d) => d.file)).sort());
    expect((await engine.client.call('backup.verify', { vm: vm.id })).ok).toBe(true);
  }, 240_000);
  it('the CLI: vireo backup ls, verify, schedule and restore --new, through the engine that owns the library', async () => {
    const ls = await runVireo(home, ['backup', 'ls', 'bk-guest']);
    expect(ls.code, ls.stderr).toBe(0);
    const cat = await engine.client.call('backup.list', { vm: vm.id });
    expect(ls.stdout).toContain(`backups of "bk-guest" in ${dirOf()}`);
    for (const b of cat.backups) expect(ls.stdout).toContain(b.id);
    const verify = await runVireo(home, ['backup', 'verify', 'bk-guest']);
    expect({ code: verify.code, out: verify.stdout.trim() }).toEqual({ code: 0, out: expect.stringMatching(/: ok: restored 1 disk\(s\) from \d+ file\(s\) and compared: identical$/) });
    const sched = await runVireo(home, ['--json', 'backup', 'schedule', 'bk-guest', '--every', '12', '--keep-daily', '3']);
    expect(sched.code, sched.stderr).toBe(0);
    expect(JSON.parse(sched.stdout).schedule).toEqual({ everyHours: 12, incremental: true, keep: { daily: 3, weekly: 0 } });
    await engine.client.call('backup.schedule', { vm: vm.id, schedule: null });
    const restored = await runVireo(home, ['--json', 'backup', 'restore', 'bk-guest', '--new', 'bk-cli']);
    expect(restored.code, restored.stderr).toBe(0);
    const v = JSON.parse(restored.stdout) as VmDetails;
    expect(v.name).toBe('bk-cli');
    // The newest good backup's content (the disk itself was put back to the full one above).
    const newest = cat.backups.find((b) => b.state === 'good')!;
    expect(await identical(v.disks[0]!.path, join(dirOf(), newest.disks[0]!.file))).toBe('identical');
    await engine.client.call('vms.delete', { vm: v.id });
  }, 120_000);
});
