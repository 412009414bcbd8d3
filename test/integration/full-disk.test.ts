import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine, type Engine } from '../../electron/engine/index.ts';
import type { VmDetails } from '../../electron/api/types.ts';
import { run } from '../../electron/engine/util/proc.ts';
import { runtimeRoot } from '../../electron/engine/paths.ts';
import { waitForState } from './helpers.ts';

// A library on a small tmpfs that a big file fills up: every operation that writes fails with
// a typed NO_SPACE naming the folder and the space it needed, nothing is corrupted (vm.json
// parses, qemu-img check is clean), reading still works, and once the filler is deleted the
// space is back: no failed operation keeps any. VMs without an OS: the point is the disk.

const MiB = 1024 ** 2;
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
let home = '';
let mounted = false;
let engine: Engine | undefined;
let live: VmDetails;
let off: VmDetails;
const fillers: string[] = [];

const free = () => {
  const s = statfsSync(home);
  return Number(s.bavail) * Number(s.bsize);
};
/** Fill the library's file system until `leave` bytes are free. */
const fill = (leave = 0) => {
  const f = join(home, `filler-${fillers.length}`);
  fillers.push(f);
  writeFileSync(f, Buffer.alloc(Math.max(0, free() - leave)));
  return f;
};
const unfill = () => {
  for (const f of fillers.splice(0)) rmSync(f, { force: true });
};

async function rejection(p: Promise<unknown>): Promise<{ code: string; message: string; details?: Record<string, unknown> }> {
  try {
    await p;
  } catch (e) {
    return e as { code: string; message: string; details?: Record<string, unknown> };
  }
  throw new Error('expected a rejection');
}

async function checkClean(disk: string) {
  const r = await run('qemu-img', ['check', '--output=json', '-f', 'qcow2', disk], { okCodes: [0, 1, 2, 3] });
  const j = JSON.parse(r.stdout) as { 'check-errors': number; corruptions?: number; leaks?: number };
  expect({ errors: j['check-errors'], corruptions: j.corruptions ?? 0, leaks: j.leaks ?? 0 }).toEqual({ errors: 0, corruptions: 0, leaks: 0 });
}

const disk = (vm: VmDetails) => join(vm.dir, 'disk0.qcow2');
const vmJson = (vm: VmDetails) => JSON.parse(readFileSync(join(vm.dir, 'vm.json'), 'utf8')) as { name: string; notes: string };
const metaNames = (vm: VmDetails) => (JSON.parse(readFileSync(join(vm.dir, 'snapshots.json'), 'utf8')) as { nodes: Array<{ name: string }> }).nodes.map((n) => n.name);

beforeAll(async () => {
  if (!isRoot) return;
  home = mkdtempSync(join(tmpdir(), 'vireo-full-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=128m', 'tmpfs', home]);
  mounted = true;
  engine = await createEngine({ home });
  // Two VMs that need no OS: one stays stopped (offline snapshot, settings), one runs in its
  // firmware (live snapshot). 64 MiB of RAM: a live snapshot may need up to ~80 MiB.
  off = await engine.client.call('vms.create', { name: 'off', memory: '64M', disk: '32M', cpus: 1 });
  live = await engine.client.call('vms.create', { name: 'live', memory: '64M', disk: '32M', cpus: 1 });
  await engine.client.call('snapshots.save', { vm: off.id, name: 'base' });
  await engine.client.call('vms.start', { vm: live.id });
});

afterAll(async () => {
  unfill();
  if (engine) {
    await engine.client.call('vms.stop', { vm: live.id, force: true }).catch(() => {});
    await engine.dispose();
  }
  if (mounted) execFileSync('umount', ['-l', home]);
  if (home) await rm(home, { recursive: true, force: true });
  if (home) await rm(runtimeRoot(home), { recursive: true, force: true });
});

describe.skipIf(!isRoot)('a full disk under the library', () => {
  let freeAtStart = 0;

  it('refuses writes with NO_SPACE naming the folder and the space needed, and loses nothing', async () => {
    const e = engine!;
    freeAtStart = free();
    const configBefore = readFileSync(join(off.dir, 'vm.json'), 'utf8');
    fill(0);

    // Settings: vm.json is replaced atomically, so the old one stays whole.
    const upd = await rejection(e.client.call('vms.update', { vm: off.id, patch: { notes: 'a note that does not fit' } }));
    expect(upd.code).toBe('NO_SPACE');
    expect(upd.message).toContain(off.dir);
    expect(upd.message).toMatch(/about [\d.]+ KiB needed, 0 B free/);
    expect(upd.details).toMatchObject({ folder: off.dir, freeBytes: 0 });
    expect((upd.details!.neededBytes as number) > 0).toBe(true);
    expect(readFileSync(join(off.dir, 'vm.json'), 'utf8')).toBe(configBefore);
    expect(readdirSync(off.dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);

    // Snapshot rename: only snapshots.json changes, and it stays as it was.
    const ren = await rejection(e.client.call('snapshots.rename', { vm: off.id, snapshot: 'base', name: 'renamed' }));
    expect(ren.code).toBe('NO_SPACE');
    expect(ren.message).toContain(off.dir);
    expect(metaNames(off)).toEqual(['base']);

    // Offline snapshot with no room even for its marker.
    const snap = await rejection(e.client.call('snapshots.save', { vm: off.id, name: 'nope' }));
    expect(snap.code).toBe('NO_SPACE');
    expect(snap.message).toContain(off.dir);

    // A live snapshot whose RAM cannot fit is refused before QEMU writes anything.
    const sizeBefore = execFileSync('du', ['-B1', disk(live)]).toString();
    const ls = await rejection(e.client.call('snapshots.save', { vm: live.id, name: 'nope' }));
    expect(ls.code).toBe('NO_SPACE');
    expect(ls.message).toContain(live.dir);
    expect(ls.details!.neededBytes as number).toBeGreaterThanOrEqual(64 * MiB);
    expect(execFileSync('du', ['-B1', disk(live)]).toString()).toBe(sizeBefore);
    expect((await e.client.call('vms.get', { vm: live.id })).state).toBe('running');

    // Converting a disk into the full folder: NO_SPACE, and no hidden partial output is left.
    const conv = await rejection(e.client.call('disks.convert', { path: disk(off), output: join(home, 'copy.qcow2') }));
    expect(conv.code).toBe('NO_SPACE');
    expect(conv.message).toContain(home);
    expect(readdirSync(home).filter((f) => f.includes('.partial') || f === 'copy.qcow2')).toEqual([]);
    const jobs = await e.client.call('jobs.list', {});
    expect(jobs.find((j) => j.kind === 'convert')).toMatchObject({ state: 'failed', error: { code: 'NO_SPACE' } });

    // A new VM: nothing half-made stays, and the message names the library's VM folder.
    const cr = await rejection(e.client.call('vms.create', { name: 'more', memory: '32M', disk: '16M' }));
    expect(cr.code).toBe('NO_SPACE');
    expect(cr.details).toMatchObject({ folder: join(home, 'vms') });
    expect(readdirSync(join(home, 'vms')).filter((f) => f.startsWith('.'))).toEqual([]);

    // Reading still works, in this engine and in a new one started on the full disk.
    expect((await e.client.call('vms.list', {})).map((v) => v.name).sort()).toEqual(['live', 'off']);
    expect((await e.client.call('snapshots.list', { vm: off.id })).nodes.map((n) => n.name)).toEqual(['base']);
    expect((await e.client.call('vms.get', { vm: off.id })).config?.notes).toBe('');
  });

  it('starts a new engine on the full disk and lists the library', async () => {
    await engine!.dispose();
    engine = undefined;
    engine = await createEngine({ home });
    const list = await engine.client.call('vms.list', {});
    expect(list.map((v) => [v.name, v.state, v.broken]).sort()).toEqual([
      ['live', 'running', null],
      ['off', 'stopped', null],
    ]);
  });

  it('offline snapshot: qemu-img running out of space is NO_SPACE too, and the image stays clean', async () => {
    const e = engine!;
    unfill();
    // Room for one page (snapshots.json's marker), not for the snapshot's tables in the image.
    fill(4096);
    const snap = await rejection(e.client.call('snapshots.save', { vm: off.id, name: 'tables' }));
    expect(snap.code).toBe('NO_SPACE');
    expect(snap.message).toContain(off.dir);
    expect(snap.message).toMatch(/to take a snapshot of disk0\.qcow2 \(about [\d.]+ KiB needed, [\d.]+ (KiB|B) free\)/);
    unfill();
    // Once there is room again the tree agrees with the image: only "base".
    expect((await e.client.call('snapshots.list', { vm: off.id })).nodes.map((n) => n.name)).toEqual(['base']);
    await checkClean(disk(off));
  });

  it('live snapshot: the disk filling up while QEMU saves the RAM is NO_SPACE, not "Input/output error"', async () => {
    const e = engine!;
    unfill();
    // Enough room to pass the check up front, then the rest is taken the moment saving starts.
    fill(96 * MiB);
    const off1 = e.bus.on('vm.state', (ev) => {
      if (ev.id === live.id && ev.state === 'saving') fill(0);
    });
    const err = await rejection(e.client.call('snapshots.save', { vm: live.id, name: 'midway' }));
    off1();
    expect(err.code).toBe('NO_SPACE');
    expect(err.message).toContain(live.dir);
    expect(err.message).not.toMatch(/Input\/output error/);
    expect(String(err.details?.cause)).toMatch(/Input\/output error|No space/);
    // What QEMU wrote before the disk filled up is said, not silently kept.
    const kept = err.details?.keptBytes as number;
    expect(kept).toBeGreaterThanOrEqual(0);
    if (kept > 0) expect(err.message).toMatch(/QEMU keeps the [\d.]+ \w+ it had written inside disk0\.qcow2/);
    // The guest goes on, and no note says it was paused for a snapshot.
    await waitForState(e, live.id, 'running', 10_000);
    expect(existsSync(e.vms.resolve(live.id).paths.snapshotPause)).toBe(false);
    unfill();
    expect((await e.client.call('snapshots.list', { vm: live.id })).nodes).toEqual([]);
    // QEMU keeps the part it wrote inside the image and reuses it: a snapshot taken now that
    // there is room succeeds, and deleting it gives everything back (checked below).
    const ok = await e.client.call('snapshots.save', { vm: live.id, name: 'retry' });
    await e.client.call('snapshots.delete', { vm: live.id, snapshot: ok.nodes[0]!.id });
  });

  it('gives the space back: free space is what it was before the failures, every file intact', async () => {
    const e = engine!;
    unfill();
    await e.client.call('vms.stop', { vm: live.id, force: true });
    for (const vm of [off, live]) {
      await checkClean(disk(vm));
      expect(vmJson(vm).name).toBe(vm.name);
    }
    expect(metaNames(off)).toEqual(['base']);
    expect(metaNames(live)).toEqual([]);
    expect(readdirSync(home).filter((f) => f.startsWith('.') || f.includes('partial'))).toEqual([]);
    // Logs grow a little (QEMU's log of the stop); a failed operation's leftovers would be MiBs.
    expect(freeAtStart - free()).toBeLessThan(512 * 1024);
  });
});
