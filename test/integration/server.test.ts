import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { createEngine, type Engine } from '../../electron/engine/index.ts';
import { startServer, type RunningServer, MAX_FRAME_BYTES } from '../../electron/server/server.ts';

// `vireo serve`'s transport with the real engine on a temp library: real HTTP, real
// WebSockets on 127.0.0.1.

let engine: Engine;
let server: RunningServer;
const TOKEN = 'test-token-0123456789abcdef';

beforeAll(async () => {
  engine = await createEngine({ home: mkdtempSync(join(tmpdir(), 'vireo-srv-')) });
  server = await startServer({ engine, port: 0, token: TOKEN, staticDir: join(import.meta.dirname, '..', '..', '.vite', 'renderer', 'main_window') });
});
afterAll(async () => {
  await server?.close();
  await engine?.dispose();
});

const base = () => `http://127.0.0.1:${server.port}`;
const wsUrl = (q = `?token=${TOKEN}`) => `ws://127.0.0.1:${server.port}/api${q}`;

function open(url: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })));
    ws.once('error', reject);
  });
}

function nextMessage(ws: WebSocket, pred: (m: Record<string, unknown>) => boolean = () => true): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const on = (d: Buffer) => {
      const m = JSON.parse(d.toString()) as Record<string, unknown>;
      if (pred(m)) {
        ws.off('message', on);
        resolve(m);
      }
    };
    ws.on('message', on);
  });
}

async function rpc(ws: WebSocket, id: number, method: unknown, args?: unknown) {
  const p = nextMessage(ws, (m) => m.id === id);
  ws.send(JSON.stringify({ id, method, args }));
  return p;
}

describe('vireo serve: HTTP', () => {
  it('binds 127.0.0.1 and prints a URL with the token', () => {
    expect(server.host).toBe('127.0.0.1');
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/?token=${TOKEN}`);
  });

  it('refuses requests without or with a wrong token', async () => {
    expect((await fetch(`${base()}/`)).status).toBe(401);
    expect((await fetch(`${base()}/?token=wrong`)).status).toBe(401);
    expect((await fetch(`${base()}/assets/x.js`, { headers: { cookie: 'vireo_token=nope' } })).status).toBe(401);
  });

  it('trades the URL token for an HttpOnly SameSite cookie: the page comes at once with it, any other path is sent to itself without the token', async () => {
    const r = await fetch(`${base()}/?token=${TOKEN}`, { redirect: 'manual' });
    expect([200, 503]).toContain(r.status); // 503 only when the renderer was not built
    if (r.status === 200) {
      expect(r.headers.get('set-cookie')).toMatch(/vireo_token=.*HttpOnly; SameSite=Strict/);
      expect(r.headers.get('referrer-policy')).toBe('no-referrer');
      expect(await r.text()).toMatch(/<div id="root">/);
    }
    const asset = await fetch(`${base()}/assets/x.js?token=${TOKEN}`, { redirect: 'manual' });
    expect(asset.status).toBe(303);
    expect(asset.headers.get('location')).toBe('/assets/x.js');
    expect(asset.headers.get('set-cookie')).toMatch(/vireo_token=.*HttpOnly; SameSite=Strict/);
    // A path that starts with two slashes stays on this server.
    expect((await fetch(`${base()}//evil.example/?token=${TOKEN}`, { redirect: 'manual' })).headers.get('location')).toBe('/evil.example/');
    const page = await fetch(`${base()}/`, { headers: { cookie: `vireo_token=${TOKEN}` } });
    expect([200, 503]).toContain(page.status);
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
  });

  it('does not serve files outside the renderer folder', async () => {
    const r = await fetch(`${base()}/..%2f..%2fpackage.json`, { headers: { cookie: `vireo_token=${TOKEN}` } });
    expect([403, 404]).toContain(r.status);
  });
});

describe('vireo serve: WebSocket API', () => {
  it('refuses a missing or wrong token and a foreign origin with 401', async () => {
    await expect(open(wsUrl(''))).rejects.toMatchObject({ status: 401 });
    await expect(open(wsUrl('?token=wrong'))).rejects.toMatchObject({ status: 401 });
    await expect(open(wsUrl(), { Origin: 'http://evil.example' })).rejects.toMatchObject({ status: 401 });
  });

  it('answers unknown methods, bad arguments and malformed frames with typed errors, and keeps serving', async () => {
    const ws = await open(wsUrl());
    expect(await rpc(ws, 1, 'no.such.method', {})).toMatchObject({ id: 1, error: { code: 'UNKNOWN_METHOD' } });
    expect(await rpc(ws, 2, 'vms.get', { vm: 42 })).toMatchObject({ id: 2, error: { code: 'INVALID_ARGUMENT' } });
    expect(await rpc(ws, 3, 'vms.create', { name: '../evil' })).toMatchObject({ id: 3, error: { code: 'INVALID_ARGUMENT', message: expect.stringMatching(/path separator/) } });
    expect(await rpc(ws, 4, 123, {})).toMatchObject({ id: 4, error: { code: 'BAD_REQUEST' } });

    let p = nextMessage(ws);
    ws.send('{this is not json');
    expect(await p).toMatchObject({ id: null, error: { code: 'BAD_REQUEST' } });
    p = nextMessage(ws);
    ws.send('[1,2,3]');
    expect(await p).toMatchObject({ id: null, error: { code: 'BAD_REQUEST' } });
    p = nextMessage(ws);
    ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect(await p).toMatchObject({ error: { code: 'BAD_REQUEST' } });

    expect(await rpc(ws, 5, 'vms.list', {})).toEqual({ id: 5, result: [] });
    ws.close();
  });

  it('closes a connection that sends an oversized frame (1009) and serves new ones', async () => {
    const ws = await open(wsUrl());
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    ws.send('x'.repeat(MAX_FRAME_BYTES + 10));
    expect(await closed).toBe(1009);
    const again = await open(wsUrl());
    const info = await rpc(again, 1, 'host.info', {});
    expect(info).toMatchObject({ id: 1, result: { qemu: { found: true, version: expect.stringMatching(/^\d+\.\d+/) } } });
    again.close();
  });

  it('pushes events to connected clients', async () => {
    const ws = await open(wsUrl());
    const ev = nextMessage(ws, (m) => m.event === 'vm.changed');
    const created = await rpc(ws, 1, 'vms.create', { name: 'events', disk: '64M', memory: '64M' });
    expect(created).toMatchObject({ result: { name: 'events' } });
    expect(await ev).toMatchObject({ event: 'vm.changed', payload: { id: (created.result as { id: string }).id } });
    ws.close();
  });
});
