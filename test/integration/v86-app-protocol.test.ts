import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine, type Engine } from '../../electron/engine/index.ts';
import { wasmFetch } from '../../electron/server/wasm-fetch.ts';
import { APP_ORIGIN } from '../../electron/main/security.ts';

// Issue 20: the desktop window runs a wasm/v86 VM through its app:// protocol, which hands
// every /wasm/ request (a fetch Request) to wasmFetch (server/wasm-fetch.ts), the same routes
// a `vireo serve` page uses. Here without Electron: a real engine, and Requests as the
// window's page makes them (app://vireo/wasm/..., the page's Origin, Electron's user agent).
// The Electron-only half (the window boots one) is test/electron/v86-window.spec.ts.

const ELECTRON_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) vireo/0.1.0 Chrome/130.0.0.0 Electron/33.0.0 Safari/537.36';
let home: string;
let engine: Engine;
let vmId: string;
let dir: string;

const call = (path: string, init: RequestInit = {}) =>
  wasmFetch(engine.wasm, new Request(`${APP_ORIGIN}/wasm${path}`, { ...init, headers: { 'User-Agent': ELECTRON_UA, ...(init.method && init.method !== 'GET' && init.method !== 'HEAD' ? { Origin: APP_ORIGIN } : {}), ...(init.headers as Record<string, string>) } }), APP_ORIGIN);

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'vireo-v86-app-'));
  engine = await createEngine({ home });
  const vm = await engine.client.call('vms.create', { name: 'v86-app', backend: 'wasm/v86', memory: '64M', disk: '1M' });
  [vmId, dir] = [vm.id, vm.dir];
}, 60_000);

afterAll(async () => {
  await engine?.dispose();
  if (home) rmSync(home, { recursive: true, force: true });
});

describe('the wasm/v86 routes over the app:// protocol', () => {
  it('serves the BIOS, the lease, drive ranges and block writes, and snapshots, as to a serve page', async () => {
    const disk = join(dir, 'disk0.img');
    writeFileSync(disk, Buffer.concat([Buffer.from('VIREO-APP-'), Buffer.alloc(1024 * 1024 - 10)]));
    const bios = await call('/bios/bios.bin');
    expect(bios.status).toBe(200);
    expect(Number(bios.headers.get('content-length'))).toBeGreaterThan(64 * 1024);

    const held = await call(`/vms/${vmId}/hold`, { method: 'POST' });
    expect(held.status).toBe(200);
    const { lease } = (await held.json()) as { lease: string };
    // the library shows it running in the window
    expect((await engine.client.call('vms.get', { vm: vmId })).heldBy?.who).toBe('the Vireo window at this computer');

    const head = await call(`/vms/${vmId}/drives/disk0`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(1024 * 1024));
    const range = await call(`/vms/${vmId}/drives/disk0`, { headers: { Range: 'bytes=0-9' } });
    expect(range.status).toBe(206);
    expect(range.headers.get('content-range')).toBe(`bytes 0-9/${1024 * 1024}`);
    expect(Buffer.from(await range.arrayBuffer()).toString()).toBe('VIREO-APP-');

    const put = await call(`/vms/${vmId}/drives/disk0?offset=512`, { method: 'PUT', headers: { 'X-Vireo-Lease': lease }, body: new Uint8Array(Buffer.from('written-by-the-window')) });
    expect(put.status).toBe(200);
    expect(readFileSync(disk).subarray(512, 533).toString()).toBe('written-by-the-window');
    expect((await call(`/vms/${vmId}/drives/disk0?offset=0`, { method: 'PUT', headers: { 'X-Vireo-Lease': 'not-the-lease' }, body: new Uint8Array(512) })).status).toBe(409);

    const snap = await call(`/vms/${vmId}/snapshots?name=in-window`, { method: 'POST', headers: { 'X-Vireo-Lease': lease }, body: new Uint8Array(Buffer.from('v86-state')) });
    expect(snap.status).toBe(200);
    const { id } = (await snap.json()) as { id: string };
    expect(Buffer.from(await (await call(`/vms/${vmId}/snapshots/${id}/state`)).arrayBuffer()).toString()).toBe('v86-state');
    expect((await engine.client.call('snapshots.list', { vm: vmId })).nodes.map((n) => n.name)).toEqual(['in-window']);

    expect((await call(`/vms/${vmId}/hold?lease=${lease}`, { method: 'DELETE' })).status).toBe(200);
    expect((await engine.client.call('vms.get', { vm: vmId })).state).toBe('stopped');
  });

  it('refuses another origin, and serves nothing but the VM drives and the BIOS', async () => {
    const foreign = await wasmFetch(engine.wasm, new Request(`${APP_ORIGIN}/wasm/vms/${vmId}/hold`, { method: 'POST', headers: { Origin: 'https://evil.example' } }), APP_ORIGIN);
    expect(foreign.status).toBe(403);
    expect((await foreign.json()) as object).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
    expect((await call(`/vms/${vmId}/drives/vm.json`)).status).toBe(404);
    expect((await call(`/vms/${vmId}/drives/%2e%2e%2fvm.json`)).status).toBe(404);
    expect((await call('/bios/../../etc/passwd')).status).toBe(404);
    expect((await call(`/vms/${vmId}/drives/cdrom`)).status).toBe(404); // it has none
  });
});
