import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'node:net';
import { WebSocket } from 'ws';
import { wsRpc } from './net-helpers.ts';

// `vireo serve --host 127.0.0.2 --port 0` as a user starts it (the real CLI process): the
// printed URL carries the port it got, the Host check follows --host and --allow-host, and a
// VM's screen opens through that one port with the page's origin, as from a remote browser.
// (Before: display URLs named ws://127.0.0.1:<bridge>, and the allowed origin was built from
// --port, so 0 broke it.)

const root = join(import.meta.dirname, '..', '..');
const cliMain = join(root, 'electron', 'cli', 'main.ts');
const HOST = '127.0.0.2';
const TOKEN = 'cli-serve-token-0123456789';
let home: string;
let serve: ChildProcess;
let url: URL;

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'vireo-srvcli-'));
  serve = spawn(process.execPath, ['--import', 'tsx', cliMain, '--home', home, 'serve', '--host', HOST, '--port', '0', '--token', TOKEN, '--allow-host', 'vms.test'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  url = new URL(
    await new Promise<string>((resolve, reject) => {
      let out = '';
      let err = '';
      serve.stdout!.on('data', (d) => {
        out += d;
        const m = /serving at (http:\/\/\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      serve.stderr!.on('data', (d) => (err += d));
      serve.once('exit', (c) => reject(new Error(`serve exited ${c}: ${err}`)));
    }),
  );
}, 60_000);

afterAll(async () => {
  if (serve && serve.exitCode === null) {
    const gone = new Promise((r) => serve.once('exit', r));
    serve.kill('SIGTERM');
    await gone;
  }
  // VMs keep running when serve stops: kill any QEMU of this library a failed test left.
  for (const d of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    const argv = (() => {
      try {
        return readFileSync(`/proc/${d}/cmdline`, 'utf8');
      } catch {
        return '';
      }
    })();
    if (argv.includes('qemu-system') && argv.includes(home)) process.kill(Number(d), 'SIGKILL');
  }
  rmSync(home, { recursive: true, force: true });
});

function status(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const tcp = createConnection(Number(url.port), HOST);
    let got = '';
    tcp.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(got);
      if (m) {
        tcp.destroy();
        resolve(Number(m[1]));
      }
    });
    tcp.on('error', reject);
    tcp.write(`GET /?token=${TOKEN} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
  });
}

function open(target: string, headers: Record<string, string>, origin: string): Promise<WebSocket & { first: Promise<Buffer> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(target, { headers, origin }) as WebSocket & { first: Promise<Buffer> };
    ws.first = new Promise((r) => ws.once('message', (d: Buffer) => r(d)));
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_q, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

describe('vireo serve --host 127.0.0.2 --port 0 --allow-host vms.test', () => {
  it('prints the address it bound, with the port it got', () => {
    expect(url.hostname).toBe(HOST);
    expect(Number(url.port)).toBeGreaterThan(0);
    expect(url.searchParams.get('token')).toBe(TOKEN);
  });

  it('answers to its address and the allowed name, 421 to any other Host', async () => {
    expect([200, 503]).toContain(await status(`${HOST}:${url.port}`)); // the page (503: renderer not built)
    expect([200, 503]).toContain(await status(`vms.test:${url.port}`)); // the page (503: renderer not built)
    expect([200, 503]).toContain(await status(`localhost:${url.port}`)); // the page (503: renderer not built)
    expect(await status(`evil.example:${url.port}`)).toBe(421);
    expect(await status(`${HOST}:1`)).toBe(421);
  });

  it('carries a running VM\'s screen through its own port and origin', async () => {
    const origin = `http://${HOST}:${url.port}`;
    const cookie = { Cookie: `vireo_token=${TOKEN}` };
    const api = await open(`ws://${HOST}:${url.port}/api`, cookie, origin);
    const rpc = (method: string, args: unknown) => wsRpc(api, method, args);
    const created = await rpc('vms.create', { name: 'remote-screen', memory: '64M', disk: '64M', cpus: 1 });
    expect(created.error).toBeUndefined();
    const vm = (created.result as { id: string }).id;
    expect((await rpc('vms.start', { vm })).error).toBeUndefined();
    const session = (await rpc('display.open', { vm })).result as { url: string };
    expect(new URL(session.url).host).toBe(`${HOST}:${url.port}`);
    const screen = await open(session.url, cookie, origin);
    expect((await screen.first).toString('latin1')).toMatch(/^RFB 003\.008\n/);
    screen.close();
    expect((await rpc('vms.stop', { vm, force: true })).error).toBeUndefined();
    api.close();
  }, 120_000);
});
