import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import type { Engine } from '../../electron/engine/index.ts';
import type { VmState } from '../../electron/api/types.ts';
import { waitForSerialText, GUEST_MARKERS } from '../fixtures/guest.ts';
import { createGuestVm, disposeEngine, qemuPidsFor, runtimeLeftovers, tempEngine, waitForReady, waitForState } from './helpers.ts';

// Issue 3, acceptance 2 and the QEMU half of 3: a real guest under TCG through the whole
// lifecycle, driven through the in-process API client (the same dispatch as IPC/WebSocket).

let engine: Engine;
beforeAll(async () => {
  engine = await tempEngine();
});
afterAll(() => disposeEngine(engine));

describe('VM lifecycle with a real guest', () => {
  it('create → start → marker → pause/resume/reset with events → ACPI stop → stopped', async () => {
    const vm = await createGuestVm(engine, 'life');
    expect(vm.state).toBe('stopped');
    const states: VmState[] = [];
    const off = engine.bus.on('vm.state', (e) => e.id === vm.id && states.push(e.state));

    const started = await engine.client.call('vms.start', { vm: 'life' });
    expect(started.state).toBe('running');
    expect(started.runtime.pid).toBeGreaterThan(1);
    expect(started.runtime.accel).toBe('tcg');
    expect(started.runtime.argv).toContain('-S');
    await waitForReady(vm);

    expect((await engine.client.call('vms.pause', { vm: vm.id })).state).toBe('paused');
    expect((await engine.client.call('vms.resume', { vm: vm.id })).state).toBe('running');
    await expect(engine.client.call('vms.resume', { vm: vm.id })).rejects.toMatchObject({ code: 'INVALID_STATE' });

    await engine.client.call('vms.reset', { vm: vm.id });
    await waitForReady(vm, 90_000, 1); // a second READY: the guest booted again

    const stopped = await engine.client.call('vms.stop', { vm: vm.id, timeoutSec: 60 });
    expect(stopped.state).toBe('stopped');
    await waitForSerialText(vm.paths.serialLog, GUEST_MARKERS.poweroff, 1000); // it was the guest that powered off
    expect(stopped.crash).toBeNull();
    off();
    expect(states).toEqual(expect.arrayContaining(['starting', 'running', 'paused', 'stopping', 'stopped']));
    expect(states.indexOf('paused')).toBeGreaterThan(states.indexOf('running'));
    expect(qemuPidsFor([vm.id])).toEqual([]);
    expect(runtimeLeftovers(vm, engine)).toEqual([]);
  });

  it('SIGKILL of QEMU: crashed with the reason, nothing stale left, and it starts again', async () => {
    const vm = await createGuestVm(engine, 'crashy');
    const started = await engine.client.call('vms.start', { vm: vm.id });
    await waitForReady(vm);
    const crashed = waitForState(engine, vm.id, 'crashed', 15_000);
    process.kill(started.runtime.pid!, 'SIGKILL');
    const ev = await crashed;
    expect(ev.reason).toMatch(/SIGKILL/);
    const after = await engine.client.call('vms.get', { vm: vm.id });
    expect(after.state).toBe('crashed');
    expect(after.crash).toMatchObject({ signal: 'SIGKILL', reason: expect.stringMatching(/killed by SIGKILL/) });
    expect(existsSync(engine.vms.resolve(vm.id).paths.pidFile)).toBe(false);
    expect(existsSync(engine.vms.resolve(vm.id).paths.qmpSocket)).toBe(false);
    expect(qemuPidsFor([vm.id])).toEqual([]);

    const again = await engine.client.call('vms.start', { vm: vm.id });
    expect(again.state).toBe('running');
    expect(again.crash).toBeNull();
    await waitForReady(vm, 90_000, 1);
    expect((await engine.client.call('vms.stop', { vm: vm.id, force: true })).state).toBe('stopped');
    expect(qemuPidsFor([vm.id])).toEqual([]);
  });
});
