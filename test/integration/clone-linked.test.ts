import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Engine } from '../../electron/engine/index.ts';
import type { VmDetails } from '../../electron/api/types.ts';
import { SerialShell, directBootArgs } from '../fixtures/guest.ts';
import { createGuestVm, disposeEngine, qemuPidsFor, serialSocketOf, tempEngine, waitForReady } from './helpers.ts';
import { run } from '../../electron/engine/util/proc.ts';
import { formatVm } from '../../electron/cli/output.ts';

// Linked clones from snapshots and of a VM with snapshots (issue 22, acceptance 4), templates
// (acceptance 5's engine half), and availability said before the click (issue 23). One source
// VM with three snapshots; each clone boots the test guest straight from its kernel and reads
// the marker its disk holds at offset 0.

let engine: Engine;
let src: VmDetails;
const shells: SerialShell[] = [];
const ids: string[] = [];

beforeAll(async () => {
  engine = await tempEngine();
});
afterAll(async () => {
  shells.forEach((s) => s.close());
  await disposeEngine(engine);
});

async function hostWrite(disk: string, text: string) {
  const cmds = [...Buffer.from(text)].flatMap((b, i) => ['-c', `write -P ${b} ${i} 1`]);
  await run('qemu-io', ['-f', 'qcow2', ...cmds, '-c', `write -z ${text.length} 1`, disk]);
}

async function hostRead(disk: string): Promise<string> {
  const { stdout } = await run('qemu-io', ['-r', '-U', '-f', 'qcow2', '-c', 'read -v 0 16', disk]);
  const hex = /^00000000:\s+((?:[0-9a-f]{2} ){16})/m.exec(stdout)![1]!.trim().split(' ');
  const buf = Buffer.from(hex.map((h) => parseInt(h, 16)));
  return buf.subarray(0, buf.indexOf(0)).toString();
}

async function backingOf(file: string): Promise<string> {
  const { stdout } = await run('qemu-img', ['info', '-U', '--output=json', file]);
  return resolve((JSON.parse(stdout) as { 'full-backing-filename': string })['full-backing-filename']);
}

/** Bytes the library's files take on disk (du), the shared bases included. */
async function du(): Promise<number> {
  const { stdout } = await run('du', ['-sk', engine.home]);
  return Number(stdout.split(/\s/)[0]) * 1024;
}

const boots = new Map<string, number>();
/** Boots the VM's test guest, reads its disk marker from inside, powers it off. */
async function markerSeenByGuest(vm: VmDetails, during?: () => Promise<void>): Promise<string> {
  const d = await engine.client.call('vms.start', { vm: vm.id });
  await waitForReady(d, 90_000, boots.get(vm.id) ?? 0);
  boots.set(vm.id, (boots.get(vm.id) ?? 0) + 1);
  const sh = await SerialShell.connect(serialSocketOf(engine, d));
  shells.push(sh);
  try {
    await during?.();
    return await sh.run('diskread');
  } finally {
    sh.close();
    await engine.client.call('vms.stop', { vm: vm.id, force: true });
  }
}

const disk0 = (vm: VmDetails) => join(vm.dir, 'disk0.qcow2');

const cliMain = join(import.meta.dirname, '..', '..', 'electron', 'cli', 'main.ts');
/** The vireo command against this engine's library. */
function vireo(...args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((done) => {
    const p = spawn(process.execPath, ['--import', 'tsx', cliMain, '--home', engine.home, ...args], { cwd: join(import.meta.dirname, '..', '..'), stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => done({ code, stderr }));
  });
}

describe('linked clones from snapshots, templates', () => {
  it('a VM with three snapshots: linked clones from snapshot 2 and from its current state boot; two clones of one snapshot share one base; every snapshot still restores', async () => {
    const created = await createGuestVm(engine, 'h3-src', { iso: null });
    src = await engine.client.call('vms.update', { vm: created.id, patch: { advanced: { extraArgs: await directBootArgs() } } });
    ids.push(src.id);
    const disk = disk0(src);
    for (const n of [1, 2, 3]) {
      await hostWrite(disk, `snap-${n}`);
      // 16 MiB of data before snapshot 2: the base of its clones, which a second clone must not copy again.
      if (n === 2) await run('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0x5a 1M 16M', disk]);
      await engine.client.call('snapshots.save', { vm: src.id, name: `s${n}` });
    }
    await hostWrite(disk, 'current');

    // Said before the click: both kinds possible for the stopped source.
    const before = (await engine.client.call('vms.get', { vm: src.id })).clones!;
    expect(before.linked).toEqual({ available: true, reason: null });
    expect(before.linkedFromSnapshot).toEqual({ available: true, reason: null });

    // Two clones of snapshot 2 at once: one base, exported once (the clones queue on the source's lock).
    const used0 = await du();
    const [a, b] = await Promise.all([
      engine.client.call('vms.clone', { vm: src.id, name: 'h3-s2-a', linked: true, fromSnapshot: 's2' }),
      engine.client.call('vms.clone', { vm: src.id, name: 'h3-s2-b', linked: true, fromSnapshot: 's2' }),
    ]);
    ids.push(a.id, b.id);
    const base = await backingOf(disk0(a));
    expect(await backingOf(disk0(b))).toBe(base);
    expect(base.startsWith(join(engine.home, 'bases'))).toBe(true);
    expect(statSync(base).mode & 0o222).toBe(0);
    expect(readdirSync(join(engine.home, 'bases')).filter((n) => !n.startsWith('.'))).toHaveLength(1);
    const baseBytes = statSync(base).blocks * 512;
    expect(baseBytes).toBeGreaterThan(16 * 1024 ** 2);
    // Both clones together cost the base once plus two small overlays.
    const grew = (await du()) - used0;
    expect(grew).toBeLessThan(baseBytes + 8 * 1024 ** 2);
    const overlays = statSync(disk0(a)).blocks * 512 + statSync(disk0(b)).blocks * 512;
    expect(overlays).toBeLessThan(4 * 1024 ** 2);

    // The clone shows what it is linked to, the source what builds on it.
    expect((await engine.client.call('vms.get', { vm: a.id })).clones!.linkedTo).toEqual({ vmId: src.id, name: 'h3-src', snapshot: 's2' });
    expect((await engine.client.call('vms.get', { vm: src.id })).clones!.baseOf.map((x) => x.name).sort()).toEqual(['h3-s2-a', 'h3-s2-b']);
    // and vireo info says the same
    expect(formatVm(await engine.client.call('vms.get', { vm: a.id }))).toContain('linked to: h3-src at snapshot "s2"');
    expect(formatVm(await engine.client.call('vms.get', { vm: src.id }))).toMatch(/base of: {2}h3-s2-[ab] \(snapshot "s2"\), h3-s2-[ab] \(snapshot "s2"\)/);

    // A running VM: a linked clone of its current state is not possible, and says why.
    expect(await markerSeenByGuest(a, async () => {
      const now = (await engine.client.call('vms.get', { vm: a.id })).clones!;
      expect(now.linked.available).toBe(false);
      expect(now.linked.reason).toMatch(/"h3-s2-a" is running: shut it down first/);
    })).toBe('snap-2');

    // Of the current state of a VM with snapshots: its own base, the source's disks untouched.
    const cur = await engine.client.call('vms.clone', { vm: src.id, name: 'h3-current', linked: true });
    ids.push(cur.id);
    expect(await backingOf(disk0(cur))).not.toBe(base);
    expect((await run('qemu-img', ['info', '--output=json', disk]).then((r) => JSON.parse(r.stdout) as Record<string, unknown>))['backing-filename']).toBeUndefined();
    expect(await markerSeenByGuest(cur)).toBe('current');

    // The source keeps its whole tree: every snapshot restores.
    for (const n of [1, 2, 3]) {
      await engine.client.call('snapshots.restore', { vm: src.id, snapshot: `s${n}` });
      expect(await hostRead(disk)).toBe(`snap-${n}`);
    }
    expect((await engine.client.call('snapshots.list', { vm: src.id })).nodes.map((x) => x.name)).toEqual(['s1', 's2', 's3']);

    // The base lives while one clone needs it, and goes with the last.
    await engine.client.call('vms.delete', { vm: a.id });
    expect(existsSync(base)).toBe(true);
    expect(await hostRead(disk0(b))).toBe('snap-2');
    await engine.client.call('vms.delete', { vm: b.id });
    expect(existsSync(base)).toBe(false);
  });

  it('a template is not started; a VM made from it boots; full clones with and without the tree', async () => {
    // Through the CLI, a client of this engine (it owns the library).
    expect(await vireo('template', 'h3-src', 'maybe')).toMatchObject({ code: 1, stderr: expect.stringContaining('say on or off') });
    expect(await vireo('template', 'h3-src', 'on')).toMatchObject({ code: 0 });
    expect((await engine.client.call('vms.list', {})).find((v) => v.id === src.id)?.template).toBe(true);
    await expect(engine.client.call('vms.start', { vm: src.id })).rejects.toMatchObject({ code: 'INVALID_STATE', message: expect.stringMatching(/"h3-src" is a template, and templates are not started/) });
    expect(qemuPidsFor([src.id])).toEqual([]);
    expect(formatVm(await engine.client.call('vms.get', { vm: src.id }))).toContain('template: yes');

    await hostWrite(disk0(src), 'template');
    expect(await vireo('clone', 'h3-src', 'h3-from-template', '--from-template')).toMatchObject({ code: 0 });
    const made = await engine.client.call('vms.get', { vm: 'h3-from-template' });
    ids.push(made.id);
    expect(made.config!.template).toBe(false);
    expect((await engine.client.call('vms.get', { vm: made.id })).clones!.linkedTo).toMatchObject({ vmId: src.id, name: 'h3-src' });
    expect(await markerSeenByGuest(made)).toBe('template');
    // A second VM from the unchanged template builds on the same base, one overlay deep.
    const again = await engine.client.call('vms.clone', { vm: src.id, name: 'h3-from-template-2', fromTemplate: true });
    ids.push(again.id);
    expect(await backingOf(disk0(again))).toBe(await backingOf(disk0(made)));
    expect((await run('qemu-img', ['info', '-U', '--output=json', await backingOf(disk0(made))]).then((r) => JSON.parse(r.stdout) as Record<string, unknown>))['backing-filename']).toBeUndefined();
    // Not a template: refused, saying so.
    await expect(engine.client.call('vms.clone', { vm: made.id, name: 'h3-x', fromTemplate: true })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('is not a template') });

    // Full clones: with the tree keeps every snapshot restorable; without, none.
    const tree = await engine.client.call('vms.clone', { vm: src.id, name: 'h3-tree', withSnapshots: true });
    const flat = await engine.client.call('vms.clone', { vm: src.id, name: 'h3-flat' });
    ids.push(tree.id, flat.id);
    expect((await engine.client.call('snapshots.list', { vm: tree.id })).nodes.map((x) => x.name)).toEqual(['s1', 's2', 's3']);
    expect((await engine.client.call('snapshots.list', { vm: flat.id })).nodes).toEqual([]);
    await engine.client.call('snapshots.restore', { vm: tree.id, snapshot: 's1' });
    expect(await hostRead(disk0(tree))).toBe('snap-1');
    expect(await hostRead(disk0(flat))).toBe('template');
    // A linked clone's tree would still need its base: refused before and at the click.
    const linkedInfo = (await engine.client.call('vms.get', { vm: made.id })).clones!;
    expect(linkedInfo.withSnapshots.available).toBe(false);
    expect(qemuPidsFor(ids)).toEqual([]);
  });
});
