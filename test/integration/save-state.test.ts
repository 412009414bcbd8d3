import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Engine } from '../../electron/engine/index.ts';
import type { VmDetails } from '../../electron/api/types.ts';
import { VireoError } from '../../electron/api/errors.ts';
import { savedFiles } from '../../electron/engine/vm/save-state.ts';
import { SerialShell, directBootArgs, GUEST_MARKERS } from '../fixtures/guest.ts';
import { createGuestVm, disposeEngine, qemuPidsFor, serialSocketOf, tempEngine, waitForReady } from './helpers.ts';
import { runVireo } from './cli-helpers.ts';

// Issue 23, acceptance 5: Save state is a real suspend to disk. The test guest (booted straight
// into its kernel, one guest for the file) gets a shell variable and a command in its history;
// after save → 'saved' (no QEMU) → start, the same shell still has them and its uptime went on
// from where it was, with no second boot on the serial log.

let engine: Engine;
let vm: VmDetails;
let files: ReturnType<typeof savedFiles>;

const uptime = async (sh: SerialShell) => Number((await sh.run('cat /proc/uptime')).trim().split(/\s+/)[0]);
const stateOf = async () => (await engine.client.call('vms.get', { vm: vm.id })).state;
const bootsIn = async () => ((await readFile(vm.paths.serialLog, 'latin1')).match(new RegExp(GUEST_MARKERS.ready.source, 'g')) ?? []).length;

async function refusal(p: Promise<unknown>): Promise<VireoError> {
  const e = await p.then(() => null, (x: unknown) => x);
  expect(e).toBeInstanceOf(VireoError);
  return e as VireoError;
}

beforeAll(async () => {
  engine = await tempEngine();
  const created = await createGuestVm(engine, 'h4-save', { iso: null, disk: '32M', memory: '192M' });
  await engine.client.call('vms.update', { vm: created.id, patch: { advanced: { extraArgs: await directBootArgs() } } });
  vm = await engine.client.call('vms.start', { vm: created.id });
  await waitForReady(vm, 120_000);
  files = savedFiles(engine.vms.resolve(vm.id).paths);
}, 180_000);

afterAll(async () => {
  await disposeEngine(engine);
  expect(qemuPidsFor([vm.id])).toEqual([]);
}, 60_000);

describe('save state', () => {
  let before: { uptime: number; pid: string };

  it('saves a running guest to a file in its folder and ends QEMU: the VM is "saved"', async () => {
    const sh = await SerialShell.connect(serialSocketOf(engine, vm));
    await sh.run('H4MARK=kept-across-save');
    await sh.run('echo h4-history-line');
    before = { uptime: await uptime(sh), pid: (await sh.run('echo $$')).trim() };
    sh.close();

    const saved = await engine.client.call('vms.saveState', { vm: vm.id });
    expect(saved.state).toBe('saved');
    expect(engine.vms.list().find((v) => v.id === vm.id)?.state).toBe('saved');
    expect(qemuPidsFor([vm.id])).toEqual([]);
    expect(existsSync(files.state)).toBe(true);
    expect(existsSync(files.partial)).toBe(false);
    const meta = JSON.parse(await readFile(files.meta, 'utf8')) as { bytes: number; wasRunning: boolean };
    expect(meta.wasRunning).toBe(true);
    expect(meta.bytes).toBeGreaterThan(1024 ** 2);
    // A job recorded it, done, with its progress at the end.
    const job = (await engine.client.call('jobs.list', {})).find((j) => j.kind === 'save-state' && j.vmId === vm.id);
    expect(job).toEqual(expect.objectContaining({ state: 'done', progress: 1 }));
    // No QEMU, no memory: the host meter and the overcommit check count nothing for it.
    const res = await engine.client.call('host.resources', {});
    expect(res).toEqual(expect.objectContaining({ running: 0, vmsMemoryMiB: 0 }));
    // The CLI's list (through this engine, the library's owner) says saved too.
    const list = await runVireo(engine.home, ['list', '--json']);
    expect(list.code, list.stderr).toBe(0);
    expect((JSON.parse(list.stdout) as Array<{ id: string; state: string }>).find((v) => v.id === vm.id)?.state).toBe('saved');
  }, 120_000);

  it('refuses what would not fit the saved state, saying why and what to do', async () => {
    const hw = await refusal(engine.client.call('vms.update', { vm: vm.id, patch: { system: { ...vm.config!.system, memoryMiB: 256 } } }));
    expect(hw.code).toBe('INVALID_STATE');
    expect(hw.message).toMatch(/has a saved state: start it .* or discard the saved state/);
    const snap = await refusal(engine.client.call('snapshots.save', { vm: vm.id, name: 'not now' }));
    expect(snap.message).toMatch(/while its state is saved/);
    // Renaming touches no hardware: allowed.
    await engine.client.call('vms.update', { vm: vm.id, patch: { name: 'h4-save-renamed' } });
    expect(await stateOf()).toBe('saved');
  }, 30_000);

  it('start resumes exactly: same shell, its variable and history, uptime continues, no reboot; the file is gone', async () => {
    const boots = await bootsIn();
    const resumed = await engine.client.call('vms.start', { vm: vm.id });
    expect(resumed.state).toBe('running');
    expect(existsSync(files.state) || existsSync(files.meta)).toBe(false);
    const sh = await SerialShell.connect(serialSocketOf(engine, resumed));
    try {
      expect((await sh.run('echo $H4MARK')).trim()).toBe('kept-across-save');
      expect((await sh.run('echo $$')).trim()).toBe(before.pid);
      // The shell's own history (busybox ash keeps it in memory): the commands typed before the save.
      expect(await sh.run('history')).toMatch(/^\s*\d+ H4MARK=kept-across-save\n\s*\d+ echo h4-history-line\n/m);
      const after = await uptime(sh);
      expect(after).toBeGreaterThanOrEqual(before.uptime);
      // A reboot would have started the count again from a few seconds.
      expect(after - before.uptime).toBeLessThan(600);
    } finally {
      sh.close();
    }
    expect(await bootsIn()).toBe(boots);
  }, 120_000);

  it('discard forgets a saved state: the VM is stopped and the file removed; the CLI does both verbs', async () => {
    const s = await runVireo(engine.home, ['save', vm.id]);
    expect(s.code, s.stderr).toBe(0);
    expect(s.stdout).toMatch(/saved/);
    expect(await stateOf()).toBe('saved');
    const d = await runVireo(engine.home, ['discard-state', vm.id]);
    expect(d.code, d.stderr).toBe(0);
    expect(await stateOf()).toBe('stopped');
    expect(existsSync(files.state) || existsSync(files.meta)).toBe(false);
    const again = await runVireo(engine.home, ['discard-state', vm.id]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/while it is stopped/);
  }, 120_000);
});
