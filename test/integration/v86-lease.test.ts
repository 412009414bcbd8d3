import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine, type Engine } from '../../electron/engine/index.ts';
import { startServer, type RunningServer } from '../../electron/server/server.ts';
import type { VmState } from '../../electron/api/types.ts';

// Issue 20: a wasm/v86 VM runs in the page that holds its lease, and the engine says so. Real
// engine, real `vireo serve` transport on 127.0.0.1: while a page holds the lease, vms.list and
// vms.get show the VM running and by whom, with vm.state events; a second page is refused and
// told who holds it (unless it takes over, which the first page then learns on its next
// renewal); a release, and a lease that runs out unrenewed (a closed or crashed page), make it
// stopped again. No guest boots: the lease is what is under test.

const TOKEN = 'v86-lease-token-0123456789abcdef';
const CHROME = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
let home: string;
let engine: Engine;
let server: RunningServer;
let vmId: string;
const events: { id: string; state: VmState }[] = [];

const hold = async (ua: string, q = '') => {
  const r = await fetch(`http://127.0.0.1:${server.port}/wasm/vms/${vmId}/hold${q}`, { method: 'POST', headers: { Cookie: `vireo_token=${TOKEN}`, 'User-Agent': ua } });
  return { status: r.status, body: (await r.json()) as { lease?: string; error?: { code: string; message: string; details?: { heldBy?: { who: string; since: string } } } } };
};
const release = (lease: string) =>
  fetch(`http://127.0.0.1:${server.port}/wasm/vms/${vmId}/hold?lease=${encodeURIComponent(lease)}`, { method: 'DELETE', headers: { Cookie: `vireo_token=${TOKEN}`, Origin: `http://127.0.0.1:${server.port}` } });
const state = async () => {
  const v = await engine.client.call('vms.get', { vm: vmId });
  const listed = (await engine.client.call('vms.list', {})).find((x) => x.id === vmId);
  expect(listed?.state).toBe(v.state);
  return { state: v.state, heldBy: v.heldBy ?? null };
};
const eventsOf = () => events.filter((e) => e.id === vmId).map((e) => e.state);

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'vireo-v86-lease-'));
  engine = await createEngine({ home });
  server = await startServer({ engine: { dispatch: engine.dispatch, bus: engine.bus, bridge: engine.bridge, wasm: engine.wasm }, port: 0, token: TOKEN, staticDir: join(import.meta.dirname, '..', '..', '.vite', 'renderer', 'main_window') });
  engine.bus.on('vm.state', (e) => events.push({ id: e.id, state: e.state }));
  vmId = (await engine.client.call('vms.create', { name: 'v86-lease', backend: 'wasm/v86', memory: '64M', disk: '4M' })).id;
}, 60_000);

afterAll(async () => {
  await server?.close();
  await engine?.dispose();
  if (home) rmSync(home, { recursive: true, force: true });
});

describe('a wasm/v86 VM held by a page', () => {
  it('is running while a page holds it, by whom; a second page is refused and told who; a release stops it', async () => {
    expect(await state()).toEqual({ state: 'stopped', heldBy: null });
    const first = await hold(CHROME);
    expect(first.status).toBe(200);
    const s = await state();
    expect(s.state).toBe('running');
    expect(s.heldBy?.who).toBe('Chrome at 127.0.0.1');
    expect(Date.parse(s.heldBy!.since)).toBeGreaterThan(Date.now() - 60_000);
    expect(eventsOf()).toEqual(['running']);

    // one holder at a time: another page is refused, with the holder in words and in details
    const second = await hold(FIREFOX);
    expect(second.status).toBe(409);
    expect(second.body.error?.code).toBe('INVALID_STATE');
    expect(second.body.error?.message).toMatch(/"v86-lease" is running in another window or tab \(Chrome at 127\.0\.0\.1, since .+\): close it there, or take it over here/);
    expect(second.body.error?.details?.heldBy).toEqual(s.heldBy);
    // the holder renews its own lease (a reload of the same tab does the same), still one "running"
    const renewed = await hold(CHROME, `?lease=${first.body.lease}`);
    expect(renewed.body.lease).toBe(first.body.lease);
    expect(eventsOf()).toEqual(['running']);

    // nor is it deleted under the page running it
    await expect(engine.client.call('vms.delete', { vm: vmId })).rejects.toMatchObject({ code: 'INVALID_STATE' });

    expect((await release(first.body.lease!)).status).toBe(200);
    expect(await state()).toEqual({ state: 'stopped', heldBy: null });
    expect(eventsOf()).toEqual(['running', 'stopped']);
  });

  it('taken over by a second page: the first learns it on its next renewal; the library names the new holder', async () => {
    const first = await hold(CHROME);
    const taker = await hold(FIREFOX, '?take=1');
    expect(taker.status).toBe(200);
    expect((await state()).heldBy?.who).toBe('Firefox at 127.0.0.1');
    const lost = await hold(CHROME, `?lease=${first.body.lease}`);
    expect(lost.status).toBe(409);
    expect(lost.body.error?.message).toMatch(/Firefox at 127\.0\.0\.1/);
    await release(taker.body.lease!);
    expect((await state()).state).toBe('stopped');
  });

  it('a lease nobody renews (the page was closed or crashed) runs out: the VM is stopped again, with an event', async () => {
    const ttl = engine.wasm.ttlMs;
    engine.wasm.ttlMs = 1500;
    try {
      events.length = 0;
      expect((await hold(CHROME)).status).toBe(200);
      expect((await state()).state).toBe('running');
      await expect.poll(() => eventsOf(), { timeout: 20_000, interval: 200 }).toEqual(['running', 'stopped']);
      expect(await state()).toEqual({ state: 'stopped', heldBy: null });
      // and the VM is free for the next page at once
      expect((await hold(FIREFOX)).status).toBe(200);
    } finally {
      engine.wasm.ttlMs = ttl;
    }
  });
});
