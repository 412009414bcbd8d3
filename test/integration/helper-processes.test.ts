import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine, type Engine } from '../../electron/engine/index.ts';
import { startHelpers, stopHelpers, type HelperProcess } from '../../electron/engine/vm/helpers.ts';
import { spawnDetached } from '../../electron/engine/util/proc.ts';
import { Machine } from '../../electron/engine/vm/machine.ts';
import { vmPaths } from '../../electron/engine/paths.ts';
import { findSwtpm } from '../../electron/engine/tpm/swtpm.ts';
import { isZombie, pidAlive, waitForExit } from '../../electron/engine/vm/process.ts';
import { disposeEngine, qemuPidsFor } from './helpers.ts';

// Helper processes are a list the launch owns: started in order, rolled back in reverse when
// one fails, stopped after QEMU — also when QEMU was started by an engine that has since gone
// away (the helper is found again by its runtime files, not by a handle in memory).

const dir = mkdtempSync(join(tmpdir(), 'vireo-helpers-'));
const log = join(dir, 'order.log');
const started: number[] = [];

/** A real process (sleep) standing in for a helper daemon; it logs what is done to it. */
function sleeper(name: string, opts: { failStart?: boolean } = {}): HelperProcess {
  let pid: number | null = null;
  return {
    name,
    async start() {
      writeFileSync(log, `start ${name}\n`, { flag: 'a' });
      if (opts.failStart) throw new Error(`${name} could not start`);
      pid = (await spawnDetached('sleep', ['120'], { stdio: ['ignore', 'ignore', 'ignore'] })).pid;
      started.push(pid);
    },
    async stop() {
      writeFileSync(log, `stop ${name}\n`, { flag: 'a' });
      if (pid !== null) {
        process.kill(pid, 'SIGKILL');
        await waitForExit(pid, 3000);
      }
      pid = null;
    },
  };
}
/** Alive and not merely a zombie waiting for its parent (us) to reap it. */
const running = (pid: number) => pidAlive(pid) && !isZombie(pid);
const steps = () => readFileSync(log, 'utf8').trim().split('\n');

let engine: Engine | undefined;
afterAll(async () => {
  for (const p of started) if (running(p)) process.kill(p, 'SIGKILL');
  await disposeEngine(engine);
});

describe('helper processes', () => {
  it('start in order and stop in reverse', async () => {
    writeFileSync(log, '');
    const list = [sleeper('a'), sleeper('b'), sleeper('c')];
    await startHelpers(list);
    expect(started.slice(-3).every(running)).toBe(true);
    expect(await stopHelpers(list)).toEqual([]);
    expect(steps()).toEqual(['start a', 'start b', 'start c', 'stop c', 'stop b', 'stop a']);
    expect(started.slice(-3).some(running)).toBe(false);
  });

  it('a helper that fails to start rolls back those before it, in reverse, and the error names it', async () => {
    writeFileSync(log, '');
    const list = [sleeper('a'), sleeper('b'), sleeper('broken', { failStart: true }), sleeper('never')];
    await expect(startHelpers(list)).rejects.toThrow('broken could not start');
    expect(steps()).toEqual(['start a', 'start b', 'start broken', 'stop b', 'stop a']);
    expect(started.slice(-2).some(running)).toBe(false);
  });

  it('a helper of a QEMU that another Machine started is found again by its files and stopped after that QEMU', async () => {
    const home = mkdtempSync(join(tmpdir(), 'vireo-helpers-m-'));
    const id = '0aaaaaaa-1111-4222-8333-444444444444';
    const paths = vmPaths(home, id);
    const pidFile = join(dir, 'daemon.pid');
    // A helper found by a pidfile, the way swtpm, passt or virtiofsd are.
    const daemon = (): HelperProcess => ({
      name: 'daemon',
      async start() {
        const { pid } = await spawnDetached('sleep', ['120'], { stdio: ['ignore', 'ignore', 'ignore'] });
        started.push(pid);
        writeFileSync(pidFile, String(pid));
      },
      async stop() {
        const pid = Number(readFileSync(pidFile, 'utf8'));
        if (running(pid)) process.kill(pid, 'SIGKILL');
        await waitForExit(pid, 3000);
      },
    });
    const argv = ['-nodefaults', '-S', '-machine', 'pc', '-accel', 'tcg', '-m', '32', '-display', 'none', '-uuid', id, '-pidfile', paths.pidFile,
      '-qmp', `unix:${paths.qmpSocket},server=on,wait=off`, '-qmp', `unix:${paths.qmpCmdSocket},server=on,wait=off`];
    const a = new Machine(id, 'helped', paths);
    await a.start({ binary: 'qemu-system-x86_64', argv, accel: 'tcg', accelReason: 'test', helpers: [daemon()] });
    const helperPid = Number(readFileSync(pidFile, 'utf8'));
    expect(running(helperPid)).toBe(true);
    a.detach(); // its engine goes away; QEMU and the helper keep running

    const b = new Machine(id, 'helped', paths, () => [daemon()]);
    await b.attach();
    expect(b.state).toBe('running');
    expect(running(helperPid)).toBe(true);
    await b.stop({ force: true });
    expect(b.state).toBe('stopped');
    expect(qemuPidsFor([id])).toEqual([]);
    expect(await waitForExit(helperPid, 3000)).toBe(true);
  });

  it('a detached Machine does not act on the exit of a QEMU it had re-attached to (that is the next engine\'s business)', async () => {
    const home = mkdtempSync(join(tmpdir(), 'vireo-helpers-d-'));
    const id = '0bbbbbbb-1111-4222-8333-444444444444';
    const paths = vmPaths(home, id);
    const argv = ['-nodefaults', '-S', '-machine', 'pc', '-accel', 'tcg', '-m', '32', '-display', 'none', '-uuid', id, '-pidfile', paths.pidFile,
      '-qmp', `unix:${paths.qmpSocket},server=on,wait=off`, '-qmp', `unix:${paths.qmpCmdSocket},server=on,wait=off`];
    const starter = new Machine(id, 'watched', paths);
    await starter.start({ binary: 'qemu-system-x86_64', argv, accel: 'tcg', accelReason: 'test' });
    starter.detach();
    const watcher = new Machine(id, 'watched', paths);
    await watcher.attach();
    expect(watcher.state).toBe('running');
    watcher.detach();
    const [pid] = qemuPidsFor([id]);
    process.kill(pid!, 'SIGKILL');
    await waitForExit(pid!, 3000);
    // Longer than the pid watch's 1 s period: a watcher that had not let go would have run its
    // exit handling by now and deleted the runtime folder.
    await new Promise((r) => setTimeout(r, 2500));
    expect(watcher.state).toBe('running');
    expect(existsSync(paths.runtime)).toBe(true);
  });

  it('a QEMU whose engine died before its pidfile existed is still found and attached (not left running unseen)', async () => {
    const home = mkdtempSync(join(tmpdir(), 'vireo-helpers-u-'));
    const id = '0ccccccc-1111-4222-8333-444444444444';
    const paths = vmPaths(home, id);
    mkdirSync(paths.runtime, { recursive: true, mode: 0o700 });
    // As Machine.start would have launched it, minus the pidfile and state file the dead
    // engine never got to (no -pidfile at all: the wait for one runs out, the process remains).
    const argv = ['-nodefaults', '-S', '-machine', 'pc', '-accel', 'tcg', '-m', '32', '-display', 'none', '-uuid', id,
      '-qmp', `unix:${paths.qmpSocket},server=on,wait=off`, '-qmp', `unix:${paths.qmpCmdSocket},server=on,wait=off`];
    const { pid } = await spawnDetached('qemu-system-x86_64', argv, { stdio: ['ignore', 'ignore', 'ignore'] });
    started.push(pid);
    const m = new Machine(id, 'unrecorded', paths);
    await m.attach();
    // Started with -S and never continued: paused, under this engine's control.
    expect(m.state).toBe('paused');
    expect(m.pid).toBe(pid);
    await m.stop({ force: true });
    expect(qemuPidsFor([id])).toEqual([]);
  });

  it("a VM's swtpm started by one engine is stopped by the next when that engine stops the VM", async () => {
    const home = mkdtempSync(join(tmpdir(), 'vireo-helpers-home-'));
    // No OS needed: QEMU with a TPM sits in its firmware, which is all this is about.
    const first = await createEngine({ home });
    const vm = await first.client.call('vms.create', { name: 'tpm-helper', memory: '64M', cpus: 1, tpm: true, disk: '16M' });
    await first.client.call('vms.start', { vm: vm.id });
    const rt = first.vms.resolve(vm.id).paths.runtime;
    const swtpm = await findSwtpm(rt);
    expect(swtpm).not.toBeNull();
    // The first engine goes away; QEMU and its swtpm keep running.
    await first.dispose();
    expect(running(swtpm!)).toBe(true);
    expect(qemuPidsFor([vm.id])).toHaveLength(1);

    engine = await createEngine({ home });
    expect(engine.vms.list().find((v) => v.id === vm.id)?.state).toBe('running');
    await engine.client.call('vms.stop', { vm: vm.id, force: true });
    expect(qemuPidsFor([vm.id])).toEqual([]);
    // swtpm exits on its own when QEMU closes its socket (--terminate); the engine's stop of
    // the helper list makes sure of it, and leaves no pidfile behind.
    expect(await waitForExit(swtpm!, 5000)).toBe(true);
    expect(await findSwtpm(rt)).toBeNull();
  });
});
