import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createEngine, type Engine } from '../../electron/engine/index.ts';
import { SerialShell } from '../fixtures/guest.ts';
import { createGuestVm, disposeEngine, qemuPidsFor, tempEngine, waitForReady, waitForState, serialSocketOf, killQemuWhenImageGrows } from './helpers.ts';
import { run } from '../../electron/engine/util/proc.ts';

// Crashes in the middle of snapshot work: QEMU SIGKILLed during a live save, and the engine
// (a CLI process) SIGKILLed during a restore. Afterwards the images must check clean, a fresh
// engine must show a tree the images agree with, and restoring must still work.

let engine: Engine;
let shell: SerialShell | undefined;
const pidsToKill: number[] = [];
beforeAll(async () => {
  engine = await tempEngine();
});
afterAll(async () => {
  shell?.close();
  for (const pid of pidsToKill) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  await disposeEngine(engine);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function checkClean(disk: string) {
  const r = await run('qemu-img', ['check', '--output=json', disk], { okCodes: [0, 1, 2, 3] });
  const j = JSON.parse(r.stdout) as { 'check-errors': number; corruptions?: number; leaks?: number };
  expect(j['check-errors']).toBe(0);
  expect(j.corruptions ?? 0).toBe(0);
  expect(j.leaks ?? 0).toBe(0);
}

async function imageTags(disk: string): Promise<string[]> {
  const { stdout } = await run('qemu-img', ['info', '--output=json', disk]);
  return ((JSON.parse(stdout) as { snapshots?: Array<{ name: string }> }).snapshots ?? []).map((s) => s.name);
}

describe('crashes during snapshot work', () => {
  it('QEMU killed during a live save, then the engine killed during a restore', async () => {
    const vm = await createGuestVm(engine, 'crash');
    const disk = join(vm.dir, 'disk0.qcow2');
    const metaFile = engine.vms.resolve(vm.id).paths.snapshotsMeta;
    let details = await engine.client.call('vms.start', { vm: vm.id });
    await waitForReady(vm);
    shell = await SerialShell.connect(serialSocketOf(engine, details));
    await shell.run('diskwrite good');
    const good = (await engine.client.call('snapshots.save', { vm: vm.id, name: 'good' })).nodes[0]!;

    // RAM full of random data makes the state QEMU writes large enough to kill it mid-way.
    await shell.run('diskwrite doomed');
    expect(await shell.run('dd if=/dev/urandom of=/run/fill bs=1M count=64 2>/dev/null; echo filled', 120_000)).toContain('filled');
    shell.close();
    shell = undefined;
    const pid = details.runtime.pid!;
    // Killed once the RAM state has started to land in the image (it grows), long before the
    // 64 MiB of random pages are all written.
    const killed = killQemuWhenImageGrows(engine, vm.id, disk, pid);
    const saving = engine.client.call('snapshots.save', { vm: vm.id, name: 'doomed' });
    await killed;
    await expect(saving).rejects.toMatchObject({ code: expect.stringMatching(/QMP_DISCONNECTED|QMP_ERROR|QEMU_FAILED/) });
    await waitForState(engine, vm.id, 'crashed', 10_000);
    expect(qemuPidsFor([vm.id])).toEqual([]);

    await checkClean(disk);
    const meta = JSON.parse(readFileSync(metaFile, 'utf8')) as { pending: unknown; nodes: Array<{ id: string }> };
    expect(meta.pending).toBeNull();
    expect(meta.nodes.map((n) => n.id)).toEqual([good.id]);
    expect(await imageTags(disk)).toEqual([good.id]);

    // A fresh engine (as after an app restart) sees the same tree.
    await engine.dispose();
    engine = await createEngine({ home: engine.home });
    let tree = await engine.client.call('snapshots.list', { vm: vm.id });
    expect(tree.nodes.map((n) => n.id)).toEqual([good.id]);
    expect(tree.current).toBe(good.id);

    // The live snapshot restores into the crashed VM: it runs again with the saved disk and RAM.
    tree = await engine.client.call('snapshots.restore', { vm: vm.id, snapshot: good.id });
    expect(tree.current).toBe(good.id);
    details = await engine.client.call('vms.get', { vm: vm.id });
    expect(details.state).toBe('running');
    shell = await SerialShell.connect(serialSocketOf(engine, details));
    expect(await shell.run('diskread')).toBe('good');
    shell.close();
    shell = undefined;
    await engine.client.call('vms.stop', { vm: vm.id, force: true });

    // Now the engine dies mid-restore: the CLI restores the live snapshot (starting QEMU with
    // -loadvm) and is SIGKILLed once QEMU exists. QEMU runs on, detached.
    await engine.dispose();
    // Node itself with tsx's loader, not the tsx wrapper, so that SIGKILL hits the engine.
    const cli = spawn(process.execPath, ['--import', 'tsx', 'electron/cli/main.ts', '--home', engine.home, 'snapshot', 'restore', vm.id, good.id], {
      stdio: 'ignore',
      shell: false,
    });
    pidsToKill.push(cli.pid!);
    const cliExit = new Promise((r) => cli.once('exit', r));
    const deadline = Date.now() + 60_000;
    while (qemuPidsFor([vm.id]).length === 0 && Date.now() < deadline && cli.exitCode === null) await sleep(20);
    cli.kill('SIGKILL');
    await cliExit;
    pidsToKill.push(...qemuPidsFor([vm.id]));
    // It died with the restore under way: the marker it wrote first is still there.
    expect(JSON.parse(readFileSync(metaFile, 'utf8')).pending).toMatchObject({ op: 'restore', id: good.id });

    engine = await createEngine({ home: engine.home });
    tree = await engine.client.call('snapshots.list', { vm: vm.id });
    expect(tree.nodes.map((n) => n.id)).toEqual([good.id]);
    expect(tree.current).toBe(good.id);
    expect(JSON.parse(readFileSync(metaFile, 'utf8')).pending).toBeNull();
    const state = (await engine.client.call('vms.get', { vm: vm.id })).state;
    expect(['running', 'paused', 'stopped']).toContain(state);
    if (state !== 'stopped') await engine.client.call('vms.stop', { vm: vm.id, force: true });
    expect(qemuPidsFor([vm.id])).toEqual([]);
    await checkClean(disk);
    expect(await imageTags(disk)).toEqual([good.id]);

    // And restoring still works afterwards.
    await engine.client.call('snapshots.restore', { vm: vm.id, snapshot: good.id });
    details = await engine.client.call('vms.get', { vm: vm.id });
    shell = await SerialShell.connect(serialSocketOf(engine, details));
    expect(await shell.run('diskread')).toBe('good');
    shell.close();
    shell = undefined;
    await engine.client.call('vms.stop', { vm: vm.id, force: true });
  });
});
