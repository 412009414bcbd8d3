import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../electron/engine/index.ts';
import { createGuestVm, disposeEngine, qemuPidsFor, runtimeLeftovers, tempEngine, waitForReady } from './helpers.ts';

// Issue 3, acceptance 5: five guests started at once all boot; all stop cleanly.

let engine: Engine;
beforeAll(async () => {
  engine = await tempEngine();
});
afterAll(() => disposeEngine(engine));

describe('five VMs at once', () => {
  it('all reach their marker and all stop by ACPI with nothing left', async () => {
    const vms = await Promise.all([1, 2, 3, 4, 5].map((i) => createGuestVm(engine, `vm${i}`, { memory: '160M' })));
    const started = await Promise.all(vms.map((v) => engine.client.call('vms.start', { vm: v.id })));
    expect(new Set(started.map((s) => s.runtime.pid)).size).toBe(5);
    await Promise.all(vms.map((v) => waitForReady(v, 240_000)));
    const stopped = await Promise.all(vms.map((v) => engine.client.call('vms.stop', { vm: v.id, timeoutSec: 120 })));
    expect(stopped.map((s) => s.state)).toEqual(Array(5).fill('stopped'));
    expect(stopped.every((s) => s.crash === null)).toBe(true);
    expect(qemuPidsFor(vms.map((v) => v.id))).toEqual([]);
    for (const v of vms) expect(runtimeLeftovers(v, engine)).toEqual([]);
  }, 420_000);
});
