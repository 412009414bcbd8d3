import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'node:net';
import { randomBytes } from 'node:crypto';
import { WebSocket } from 'ws';
import { createEngine, type Engine } from '../../electron/engine/index.ts';
import { startServer, type RunningServer } from '../../electron/server/server.ts';
import { waitForState } from './helpers.ts';
import { rawExchange, wsRpc as rpc } from './net-helpers.ts';

/** Raw bytes to the server; resolves with what came back until it closed (or 3 s passed). */
const raw = (bytes: string | Buffer, port = server.port, host = HOST) => rawExchange(bytes, port, host);

// `vireo serve` against hostile requests, with the real engine and real sockets: malformed
// upgrades that used to kill the process, a rebound DNS name (Host check), and a VM screen
// carried through the server's own port on a non-default loopback address (127.0.0.2), as a
// remote browser would reach it.

const TOKEN = 'hardening-token-0123456789';
const HOST = '127.0.0.2';
let engine: Engine;
let server: RunningServer;

beforeAll(async () => {
  engine = await createEngine({ home: mkdtempSync(join(tmpdir(), 'vireo-srvh-')) });
  server = await startServer({ engine, host: HOST, port: 0, token: TOKEN, staticDir: join(import.meta.dirname, '..', '..', '.vite', 'renderer', 'main_window') });
});
afterAll(async () => {
  await server?.close();
  for (const v of engine?.vms.list() ?? []) if (v.state !== 'stopped') await engine.client.call('vms.stop', { vm: v.id, force: true }).catch(() => {});
  await engine?.dispose();
  if (engine) await rm(engine.home, { recursive: true, force: true });
});

const origin = () => `http://${HOST}:${server.port}`;
const upgradeHeaders = (host: string) =>
  `Host: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n`;


const statusOf = (response: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0);

type Opened = WebSocket & { first: Promise<Buffer>; texts: string[] };

/** A WebSocket, open; `first` is its first message, caught even when it came with the handshake. */
function open(url: string, headers: Record<string, string> = {}, originHeader?: string): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, ...(originHeader ? { origin: originHeader } : {}) }) as Opened;
    ws.first = new Promise((r, j) => {
      ws.once('message', (d: Buffer) => r(d));
      ws.once('close', () => j(new Error('closed before any message')));
    });
    ws.first.catch(() => {});
    ws.texts = [];
    ws.on('message', (d: Buffer, isBinary: boolean) => {
      if (!isBinary) ws.texts.push(d.toString());
    });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode }));
    });
    ws.once('error', reject);
  });
}


/** Proof of life: a fresh API connection answers host.info. */
async function stillServing() {
  const ws = await open(`ws://${HOST}:${server.port}/api?token=${TOKEN}`);
  const info = await rpc(ws, 'host.info');
  ws.close();
  expect(info).toMatchObject({ result: { qemu: { found: true } } });
}

describe('malformed upgrades to /api (each used to kill the server)', () => {
  it('a cookie that is not valid percent-encoding gets 401, and the server keeps serving', async () => {
    const res = await raw(`GET /api HTTP/1.1\r\n${upgradeHeaders(`${HOST}:${server.port}`)}Cookie: vireo_token=%E0%A4%A\r\n\r\n`);
    expect(statusOf(res)).toBe(401);
    // also on a plain page request
    expect(statusOf(await raw(`GET / HTTP/1.1\r\nHost: ${HOST}:${server.port}\r\nCookie: vireo_token=%E0%A4%A\r\nConnection: close\r\n\r\n`))).toBe(401);
    await stillServing();
  });

  it('a request target that is not a URL (`GET http://[`) gets 400, and the server keeps serving', async () => {
    const res = await raw(`GET http://[ HTTP/1.1\r\n${upgradeHeaders(`${HOST}:${server.port}`)}Cookie: vireo_token=${TOKEN}\r\n\r\n`);
    expect(statusOf(res)).toBe(400);
    expect(statusOf(await raw(`GET http://[ HTTP/1.1\r\nHost: ${HOST}:${server.port}\r\nConnection: close\r\n\r\n`))).toBe(400);
    await stillServing();
  });

  it('a client that resets in the middle of a handshake does not take the server down', async () => {
    for (let i = 0; i < 20; i++) {
      const tcp = createConnection(server.port, HOST);
      tcp.on('error', () => {});
      await new Promise((r) => tcp.once('connect', r));
      tcp.write(`GET /api?token=${TOKEN} HTTP/1.1\r\n${upgradeHeaders(`${HOST}:${server.port}`)}\r\n`);
      tcp.resetAndDestroy();
    }
    for (let i = 0; i < 20; i++) {
      const tcp = createConnection(server.port, HOST);
      tcp.on('error', () => {});
      await new Promise((r) => tcp.once('connect', r));
      tcp.write(`GET /api HTTP/1.1\r\n${upgradeHeaders(`${HOST}:${server.port}`)}Cookie: vireo_token=%E0%A4%A\r\n\r\n`);
      tcp.resetAndDestroy();
    }
    await stillServing();
  });
});

describe('Host and Origin (DNS rebinding, foreign and opaque pages)', () => {
  it('answers 421 to a Host that is not the bound address and port, for pages and upgrades', async () => {
    const page = (host: string) => raw(`GET /?token=${TOKEN} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
    expect(statusOf(await page('evil.example'))).toBe(421);
    expect(statusOf(await page(`evil.example:${server.port}`))).toBe(421);
    expect(statusOf(await page(`${HOST}:${server.port + 1}`))).toBe(421);
    expect(statusOf(await page(`${HOST}.evil.example:${server.port}`))).toBe(421);
    expect(statusOf(await raw(`GET / HTTP/1.1\r\nConnection: close\r\n\r\n`))).toBe(400); // HTTP/1.1 without Host: Node's own 400
    expect([200, 503]).toContain(statusOf(await page(`${HOST}:${server.port}`))); // the page (503: renderer not built)
    // bound to loopback: its usual names are this machine too
    expect([200, 503]).toContain(statusOf(await page(`localhost:${server.port}`))); // the page (503: renderer not built)

    const up = await raw(`GET /api?token=${TOKEN} HTTP/1.1\r\n${upgradeHeaders(`evil.example:${server.port}`)}\r\n`);
    expect(statusOf(up)).toBe(421);
    await expect(open(`ws://${HOST}:${server.port}/api?token=${TOKEN}`, { Host: `rebound.example:${server.port}` })).rejects.toMatchObject({ status: 421 });
    await stillServing();
  });

  it('refuses the API to a foreign page and to the opaque origin "null"; allows its own origin', async () => {
    const url = `ws://${HOST}:${server.port}/api?token=${TOKEN}`;
    await expect(open(url, {}, 'null')).rejects.toMatchObject({ status: 401 });
    await expect(open(url, {}, 'http://evil.example')).rejects.toMatchObject({ status: 401 });
    await expect(open(url, {}, `http://127.0.0.1:${server.port}`)).rejects.toMatchObject({ status: 401 });
    const ws = await open(url, {}, origin());
    expect(await rpc(ws, 'vms.list')).toMatchObject({ result: [] });
    ws.close();
  });
});

describe('display and console through the server port (vireo serve --host 127.0.0.2 --port 0)', () => {
  let vmId: string;
  let api: WebSocket;
  const cookie = { Cookie: `vireo_token=${TOKEN}` };

  beforeAll(async () => {
    api = await open(`ws://${HOST}:${server.port}/api`, cookie, origin());
    // No disk, no CD: the firmware sits at "no bootable device", which is enough to draw a screen.
    const created = await rpc(api, 'vms.create', { name: 'screen', memory: '64M', disk: '64M', cpus: 1 });
    vmId = (created.result as { id: string }).id;
    expect(await rpc(api, 'vms.start', { vm: vmId })).toMatchObject({ result: { id: vmId } });
    await waitForState(engine, vmId, 'running', 60_000);
  }, 90_000);
  afterAll(() => api?.close());

  /** The first binary message on a display WebSocket: QEMU's RFB banner. */
  const firstBytes = async (ws: Opened) => (await ws.first).toString('latin1');

  it('display.open gives a URL on this server\'s origin, and it carries RFB from the real VM', async () => {
    const s = (await rpc(api, 'display.open', { vm: vmId })).result as { url: string; token: string };
    expect(s.url).toBe(`ws://${HOST}:${server.port}/display/${encodeURIComponent(vmId)}?token=${s.token}`);
    const ws = await open(s.url, cookie, origin());
    const banner = firstBytes(ws);
    expect(await banner).toMatch(/^RFB 003\.008\n/);
    ws.close();
  });

  it('console.open gives a URL on this server\'s origin that opens the serial console', async () => {
    const s = (await rpc(api, 'console.open', { vm: vmId })).result as { url: string };
    expect(s.url).toMatch(new RegExp(`^ws://${HOST.replace(/\./g, '\\.')}:${server.port}/console/`));
    const ws = await open(s.url, cookie, origin());
    // the bridge's serial hub says whether QEMU's end is connected
    for (let i = 0; i < 100 && ws.texts.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(JSON.parse(ws.texts[0] ?? '{}')).toMatchObject({ type: 'status' });
    ws.close();
  });

  it('refuses a display session without the page cookie, from another origin or "null", and a second time', async () => {
    const fresh = async () => ((await rpc(api, 'display.open', { vm: vmId })).result as { url: string }).url;
    const url = await fresh();
    await expect(open(url, {}, origin())).rejects.toMatchObject({ status: 401 });
    await expect(open(url, cookie, 'null')).rejects.toMatchObject({ status: 401 });
    await expect(open(url, cookie, 'http://evil.example')).rejects.toMatchObject({ status: 401 });
    await expect(open(url, { ...cookie, Host: `evil.example:${server.port}` }, origin())).rejects.toMatchObject({ status: 421 });
    // none of the refusals spent it; the first real use does
    const ws = await open(url, cookie, origin());
    expect(await firstBytes(ws)).toMatch(/^RFB 003\.008\n/);
    await expect(open(url, cookie, origin())).rejects.toMatchObject({ status: 401 });
    ws.close();
  });

  it('revokes the VM\'s tokens and closes its viewers when it stops', async () => {
    const live = await open(((await rpc(api, 'display.open', { vm: vmId })).result as { url: string }).url, cookie, origin());
    await firstBytes(live);
    const liveClosed = new Promise<number>((r) => live.once('close', (code) => r(code)));
    const unusedDisplay = ((await rpc(api, 'display.open', { vm: vmId })).result as { url: string }).url;
    const unusedConsole = ((await rpc(api, 'console.open', { vm: vmId })).result as { url: string }).url;
    // the desktop's loopback URL of the same kind of grant
    const desktop = await engine.client.call('display.open', { vm: vmId });
    await engine.client.call('vms.stop', { vm: vmId, force: true });
    await waitForState(engine, vmId, 'stopped');
    expect(await liveClosed).toBeGreaterThan(1000);
    await expect(open(unusedDisplay, cookie, origin())).rejects.toMatchObject({ status: 401 });
    await expect(open(unusedConsole, cookie, origin())).rejects.toMatchObject({ status: 401 });
    await expect(open(desktop.url)).rejects.toMatchObject({ status: 401 });
    // and nothing of the last run opens the next one
    await engine.client.call('vms.start', { vm: vmId });
    await waitForState(engine, vmId, 'running', 60_000);
    await expect(open(unusedDisplay, cookie, origin())).rejects.toMatchObject({ status: 401 });
    await expect(open(desktop.url)).rejects.toMatchObject({ status: 401 });
    await engine.client.call('vms.stop', { vm: vmId, force: true });
  }, 120_000);
});
