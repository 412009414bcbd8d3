import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createEngine, type Engine } from '../../electron/engine/index.ts';
import { startServer, type RunningServer } from '../../electron/server/server.ts';

// Issue 20: a wasm/v86 VM's snapshots are nodes of the VM's snapshot tree, the one QEMU VMs
// have (snapshots.list/rename/delete/thumbnail, the Snapshots tab), backed by folders under
// <vm>/snapshots/<id>/v86/ that the tree is reconciled against (a raw image holds no internal
// snapshots). Real engine and `vireo serve` transport; the page's part (v86's saved state and
// the screen's PNG) is sent as the page sends it. The page's own boot and restore of such a
// state is in e2e v86.spec and v86-create.spec.

const TOKEN = 'v86-snapshots-token-0123456789ab';
let home: string;
let engine: Engine;
let server: RunningServer;
let vmId: string;
let dir: string;
let lease: string;
const PNG = Buffer.concat([Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'), randomBytes(64)]);

const url = (rest: string) => `http://127.0.0.1:${server.port}/wasm/vms/${vmId}${rest}`;
const headers = () => ({ Cookie: `vireo_token=${TOKEN}`, 'X-Vireo-Lease': lease });
async function take(name: string, state: Buffer) {
  const r = await fetch(url(`/snapshots?name=${encodeURIComponent(name)}`), { method: 'POST', headers: { ...headers(), 'Content-Type': 'application/octet-stream' }, body: new Uint8Array(state) });
  const snap = (await r.json()) as { id: string };
  expect(r.status).toBe(200);
  expect((await fetch(url(`/snapshots/${snap.id}/thumb`), { method: 'PUT', headers: { ...headers(), 'Content-Type': 'image/png' }, body: new Uint8Array(PNG) })).status).toBe(200);
  return snap.id;
}

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'vireo-v86-snaps-'));
  engine = await createEngine({ home });
  server = await startServer({ engine: { dispatch: engine.dispatch, bus: engine.bus, bridge: engine.bridge, wasm: engine.wasm }, port: 0, token: TOKEN, staticDir: join(import.meta.dirname, '..', '..', '.vite', 'renderer', 'main_window') });
  const vm = await engine.client.call('vms.create', { name: 'v86-snaps', backend: 'wasm/v86', memory: '64M', disk: '1M' });
  [vmId, dir] = [vm.id, vm.dir];
  const r = await fetch(url('/hold'), { method: 'POST', headers: { Cookie: `vireo_token=${TOKEN}` } });
  lease = ((await r.json()) as { lease: string }).lease;
}, 60_000);

afterAll(async () => {
  await server?.close();
  await engine?.dispose();
  if (home) rmSync(home, { recursive: true, force: true });
});

describe("a wasm/v86 VM's snapshots in the snapshot tree", () => {
  it('are nodes of the tree, with parents, the current one, thumbnails, rename and delete; the API refuses to take one without the page', async () => {
    const changed: string[] = [];
    engine.bus.on('snapshots.changed', (e) => changed.push(e.vmId));
    const disk = join(dir, 'disk0.img');
    writeFileSync(disk, Buffer.alloc(1024 * 1024, 1));
    const a = await take('first', Buffer.from('state-a'));
    writeFileSync(disk, Buffer.alloc(1024 * 1024, 2));
    const b = await take('second', Buffer.from('state-b'));

    const tree = await engine.client.call('snapshots.list', { vm: vmId });
    expect(tree.available).toBe(true);
    expect(tree.nodes.map((n) => [n.id, n.name, n.parent, n.live, n.hasThumbnail])).toEqual([
      [a, 'first', null, true, true],
      [b, 'second', a, true, true],
    ]);
    expect(tree.current).toBe(b);
    expect(changed).toContain(vmId);
    expect((await engine.client.call('snapshots.thumbnail', { vm: vmId, snapshot: a })).png).toBe(PNG.toString('base64'));
    // its files: the state and the drive as it was, in the node's folder
    expect(readFileSync(join(dir, 'snapshots', a, 'v86', 'state.bin'), 'utf8')).toBe('state-a');
    expect(readFileSync(join(dir, 'snapshots', a, 'v86', 'disk0.img'))[0]).toBe(1);
    expect(existsSync(join(dir, 'v86-snapshots'))).toBe(false);

    await engine.client.call('snapshots.rename', { vm: vmId, snapshot: a, name: 'renamed' });
    // the page lists the same tree
    const page = (await (await fetch(url('/snapshots'), { headers: headers() })).json()) as { id: string; name: string }[];
    expect(page.map((s) => s.name)).toEqual(['renamed', 'second']);

    // restore (the drives; the page then boots the state) makes it current
    expect((await fetch(url(`/snapshots/${a}/restore`), { method: 'POST', headers: headers() })).status).toBe(200);
    expect(readFileSync(disk)[0]).toBe(1);
    expect((await engine.client.call('snapshots.list', { vm: vmId })).current).toBe(a);

    // taking and restoring need the page, which has the guest's state
    await expect(engine.client.call('snapshots.save', { vm: vmId, name: 'x' })).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringMatching(/is taken in the window or tab that runs it/) });
    await expect(engine.client.call('snapshots.restore', { vm: vmId, snapshot: a })).rejects.toMatchObject({ code: 'UNSUPPORTED' });

    // delete from the tree: its folder and thumbnail go, the child moves up
    const after = await engine.client.call('snapshots.delete', { vm: vmId, snapshot: a });
    expect(after.nodes.map((n) => [n.id, n.parent])).toEqual([[b, null]]);
    expect(existsSync(join(dir, 'snapshots', a))).toBe(false);
    expect((await fetch(url(`/snapshots/${a}/state`), { headers: headers() })).status).toBe(404);
  });

  it('moves snapshots of the first v86 layout (<vm>/v86-snapshots, a tree of its own) into the tree, names kept', async () => {
    const legacy = join(dir, 'v86-snapshots', 'abcdef012345');
    mkdirSync(legacy, { recursive: true });
    writeFileSync(join(legacy, 'state.bin'), 'old-state');
    writeFileSync(join(legacy, 'thumb.png'), PNG);
    writeFileSync(join(legacy, 'meta.json'), JSON.stringify({ id: 'abcdef012345', name: 'from before', createdAt: '2026-11-30T10:00:00.000Z', parent: null, hasThumbnail: true }));
    const tree = await engine.client.call('snapshots.list', { vm: vmId });
    expect(tree.nodes.find((n) => n.id === 'abcdef012345')).toMatchObject({ name: 'from before', hasThumbnail: true, live: true });
    expect(readFileSync(join(dir, 'snapshots', 'abcdef012345', 'v86', 'state.bin'), 'utf8')).toBe('old-state');
    expect(existsSync(join(dir, 'v86-snapshots'))).toBe(false);
    // saved: read again, still its name (not "Recovered")
    expect((await engine.client.call('snapshots.list', { vm: vmId })).nodes.find((n) => n.id === 'abcdef012345')?.name).toBe('from before');
    await engine.client.call('snapshots.delete', { vm: vmId, snapshot: 'abcdef012345' });
  });

  it('is reconciled against the folders: one gone leaves the tree, one the tree does not know is adopted', async () => {
    const c = await take('third', Buffer.from('state-c'));
    rmSync(join(dir, 'snapshots', c), { recursive: true });
    const tree = await engine.client.call('snapshots.list', { vm: vmId });
    expect(tree.nodes.map((n) => n.id)).not.toContain(c);
    // a folder without its node (the tree file lost): adopted, not deleted
    const d = await take('fourth', Buffer.from('state-d'));
    writeFileSync(join(dir, 'snapshots.json'), '{ not json');
    const adopted = await engine.client.call('snapshots.list', { vm: vmId });
    expect(adopted.nodes.find((n) => n.id === d)?.name).toMatch(/^Recovered /);
  });
});
