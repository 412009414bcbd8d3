import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { createConnection } from 'node:net';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { DisplayBridge, secureSocket } from '../../electron/engine/display/bridge.ts';
import { ENCODING_DESKTOP_SIZE, ENCODING_RAW, RfbClient } from '../fixtures/rfb-client.ts';

// The bridge against a real QEMU: a paused machine (-S) whose std VGA shows QEMU's
// "Guest has not initialized the display" text, and whose serial chardev carries the HMP
// monitor, so that the console has something that prints and answers typed input.

let dir: string;
let bridge: DisplayBridge;
const qemus: ChildProcess[] = [];

async function waitFor<T>(what: string, fn: () => Promise<T | null | undefined> | T | null | undefined, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function startQemu(): Promise<ChildProcess> {
  const argv = [
    '-accel', 'tcg', '-nodefaults', '-display', 'none', '-vga', 'std', '-m', '64', '-S',
    '-vnc', `unix:${join(dir, 'vnc.sock')}`,
    '-chardev', `socket,id=serial0,path=${join(dir, 'serial.sock')},server=on,wait=off`,
    '-mon', 'chardev=serial0,mode=readline',
  ];
  const p = spawn('qemu-system-x86_64', argv, { stdio: ['ignore', 'ignore', 'pipe'], shell: false });
  qemus.push(p);
  await waitFor('QEMU sockets', async () => {
    if (p.exitCode !== null) throw new Error(`QEMU exited with ${p.exitCode}`);
    const names = await readdir(dir);
    return names.includes('vnc.sock') && names.includes('serial.sock');
  });
  return p;
}

async function stopQemu(p: ChildProcess): Promise<void> {
  if (p.exitCode === null && p.signalCode === null) {
    const gone = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await gone;
  }
  await rm(join(dir, 'vnc.sock'), { force: true });
  await rm(join(dir, 'serial.sock'), { force: true });
}

/** HTTP status of a refused WebSocket handshake (0 if it was accepted). */
function handshakeStatus(url: string, origin?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, origin ? { origin } : {});
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? -1);
      res.resume();
    });
    ws.on('open', () => {
      ws.terminate();
      resolve(0);
    });
    ws.on('error', (e) => {
      if (!/Unexpected server response/.test(e.message)) reject(e);
    });
  });
}

/** A serial viewer that records console bytes and the bridge's status messages. */
function serialViewer(url: string): Promise<{ ws: WebSocket; text: () => string; statuses: boolean[] }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const chunks: Buffer[] = [];
    const statuses: boolean[] = [];
    ws.on('message', (data, isBinary) => {
      if (isBinary) chunks.push(data as Buffer);
      else statuses.push((JSON.parse(data.toString()) as { connected: boolean }).connected);
    });
    ws.once('open', () => resolve({ ws, text: () => Buffer.concat(chunks).toString('latin1'), statuses }));
    ws.once('error', reject);
  });
}

const socketPath = (name: string) => () => join(dir, name);

beforeAll(async () => {
  dir = await mkdtemp('/tmp/vireo-disp-');
  await chmod(dir, 0o700);
});

afterEach(async () => {
  await bridge?.close();
  for (const p of qemus.splice(0)) await stopQemu(p);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('VNC through the bridge', () => {
  it('carries a real RFB session: banner, handshake, full framebuffer with pixels', async () => {
    await startQemu();
    bridge = new DisplayBridge();
    const s = await bridge.openSession({ kind: 'vnc', vmId: 'vm-a', socketPath: socketPath('vnc.sock') });
    expect(s.url).toMatch(new RegExp(`^ws://127\\.0\\.0\\.1:${bridge.port}/display/vm-a\\?token=[0-9a-f]{64}$`));
    expect(s.url.endsWith(s.token)).toBe(true);
    expect(Date.parse(s.expiresAt)).toBeGreaterThan(Date.now());

    const rfb = await RfbClient.overWebSocket(s.url);
    const init = await rfb.handshake();
    expect(init.version).toBe('RFB 003.008');
    expect(init.width).toBeGreaterThan(0);
    expect(init.height).toBeGreaterThan(0);
    expect(init.pixelFormat.bitsPerPixel).toBe(32);
    rfb.setEncodings([ENCODING_RAW, ENCODING_DESKTOP_SIZE]);
    rfb.requestUpdate(false);
    const rects = await rfb.readUpdate();
    const raw = rects.filter((r) => r.encoding === ENCODING_RAW);
    const area = raw.reduce((n, r) => n + r.w * r.h, 0);
    expect(area).toBe(init.width * init.height);
    // QEMU draws its "not initialized" message: some pixels differ from the first one.
    const px = raw[0]!.data;
    const first = px.readUInt32LE(0);
    let differing = 0;
    for (const r of raw) for (let i = 0; i < r.data.length; i += 4) if (r.data.readUInt32LE(i) !== first) differing++;
    expect(differing).toBeGreaterThan(100);
    expect(bridge.stats('vm-a').vnc).toBe(1);
    rfb.close();
    await waitFor('connection cleanup', () => bridge.stats('vm-a').vnc === 0);
  });

  it('lets several viewers watch one VM, and the noVNC "binary" subprotocol is answered', async () => {
    await startQemu();
    bridge = new DisplayBridge();
    const viewers = await Promise.all(
      [['binary'], []].map(async (protocols) => {
        const s = await bridge.openSession({ kind: 'vnc', vmId: 'vm-a', socketPath: socketPath('vnc.sock') });
        return RfbClient.overWebSocket(s.url, { protocols });
      }),
    );
    for (const v of viewers) {
      const init = await v.handshake();
      v.setEncodings([ENCODING_RAW]);
      v.requestUpdate(false);
      const rects = await v.readUpdate();
      expect(rects.reduce((n, r) => n + r.w * r.h, 0)).toBe(init.width * init.height);
    }
    expect(bridge.stats('vm-a').vnc).toBe(2);
    bridge.revoke('vm-a');
    await waitFor('viewers closed by revoke', () => bridge.stats('vm-a').vnc === 0);
    await expect(viewers[0]!.readUpdate()).rejects.toThrow(/closed/);
  });

  it('holds QEMU back instead of buffering when a viewer stops reading', async () => {
    await startQemu();
    const highWaterMark = 256 * 1024;
    bridge = new DisplayBridge({ highWaterMark });
    const s = await bridge.openSession({ kind: 'vnc', vmId: 'vm-a', socketPath: socketPath('vnc.sock') });
    // A raw client: the WebSocket handshake by hand, then RFB messages in masked frames, and
    // no reading at all, as a stalled browser tab would behave.
    const url = new URL(s.url);
    const tcp = createConnection(Number(url.port), '127.0.0.1');
    await new Promise((r) => tcp.once('connect', r));
    tcp.write(
      `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    const head = await new Promise<Buffer>((r) => tcp.once('data', r));
    expect(head.toString('latin1')).toMatch(/^HTTP\/1\.1 101 /);
    tcp.pause();
    const frame = (payload: Buffer) => {
      const mask = randomBytes(4);
      const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
      return Buffer.concat([Buffer.from([0x82, 0x80 | payload.length]), mask, masked]);
    };
    const request = Buffer.from([3, 0, 0, 0, 0, 0, 0x0f, 0xff, 0x0f, 0xff]); // non-incremental, whole screen
    tcp.write(frame(Buffer.from('RFB 003.008\n')));
    tcp.write(frame(Buffer.from([1]))); // security None
    tcp.write(frame(Buffer.from([1]))); // ClientInit shared
    tcp.write(frame(Buffer.from([2, 0, 0, 1, 0, 0, 0, 0]))); // SetEncodings [Raw]
    for (let i = 0; i < 15; i++) {
      tcp.write(frame(request));
      await new Promise((r) => setTimeout(r, 150));
    }
    await waitFor('bridge to pause reading QEMU', () => bridge.stats('vm-a').vncPaused === 1);
    const held = bridge.stats('vm-a');
    expect(held.vncBuffered).toBeLessThan(highWaterMark + 256 * 1024);

    // Reading again drains the backlog and the bridge resumes.
    let received = 0;
    tcp.on('data', (d: Buffer) => (received += d.length));
    tcp.resume();
    await waitFor('frames to flow again', () => received > 1_000_000 && bridge.stats('vm-a').vncPaused === 0, 15_000);
    tcp.destroy();
  });

  it('forwards every byte unchanged while the viewer falls behind (read buffers are reused only once sent)', async () => {
    // The bridge reads QEMU into one reusable buffer and forwards it without a copy; a buffer
    // still queued on a slow viewer's socket must not be read into again. A byte source on a
    // unix socket (standing in for QEMU, so the content is known) sends 12 MB at once; the
    // viewer reads in bursts with pauses; what arrives must be exactly what was sent.
    const { createServer } = await import('node:net');
    const { createHash } = await import('node:crypto');
    const payload = randomBytes(12 * 1024 * 1024);
    const srcPath = join(dir, 'bytes.sock');
    const src = createServer((c) => c.end(payload));
    await new Promise<void>((r) => src.listen(srcPath, () => r()));
    try {
      bridge = new DisplayBridge({ highWaterMark: 512 * 1024 });
      const s = await bridge.openSession({ kind: 'vnc', vmId: 'vm-bytes', socketPath: () => srcPath });
      const got = createHash('sha256');
      let n = 0;
      await new Promise<void>((resolve, reject) => {
        const ws = new WebSocket(s.url);
        ws.on('message', (data: Buffer) => {
          got.update(data);
          n += data.length;
          // every ~1 MB, stop reading for a moment: the bridge's writes back up behind it
          if (n % (1024 * 1024) < data.length) {
            const raw = (ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
            raw.pause();
            setTimeout(() => raw.resume(), 40);
          }
        });
        ws.on('close', () => resolve());
        ws.on('error', reject);
      });
      expect(n).toBe(payload.length);
      expect(got.digest('hex')).toBe(createHash('sha256').update(payload).digest('hex'));
    } finally {
      await new Promise((r) => src.close(r));
    }
  });

  it('lets a burst of viewers in at once (QEMU listens with a tiny backlog)', async () => {
    await startQemu();
    bridge = new DisplayBridge();
    // One session per viewer: a token opens one connection.
    const sessions = await Promise.all(Array.from({ length: 150 }, () => bridge.openSession({ kind: 'vnc', vmId: 'vm-a', socketPath: socketPath('vnc.sock') })));
    const statuses = await Promise.all(sessions.map((s) => handshakeStatus(s.url)));
    expect(statuses).toEqual(Array(150).fill(0));
  });

  it('answers 401 to no, wrong, expired or misdirected tokens, 403 to foreign pages, 503 when the VM is down', async () => {
    await startQemu();
    bridge = new DisplayBridge();
    const good = await bridge.openSession({ kind: 'vnc', vmId: 'vm-a', socketPath: socketPath('vnc.sock') });
    const short = await bridge.openSession({ kind: 'vnc', vmId: 'vm-a', socketPath: socketPath('vnc.sock'), ttlMs: 50 });
    const base = `ws://127.0.0.1:${bridge.port}`;
    const wrong = good.token.replace(/^./, (c) => (c === 'a' ? 'b' : 'a'));
    await new Promise((r) => setTimeout(r, 120));
    expect(await handshakeStatus(`${base}/display/vm-a`)).toBe(401);
    expect(await handshakeStatus(`${base}/display/vm-a?token=`)).toBe(401);
    expect(await handshakeStatus(`${base}/display/vm-a?token=${wrong}`)).toBe(401);
    expect(await handshakeStatus(short.url)).toBe(401);
    expect(await handshakeStatus(`${base}/display/vm-b?token=${good.token}`)).toBe(401);
    expect(await handshakeStatus(`${base}/console/vm-a?token=${good.token}`)).toBe(401);
    expect(await handshakeStatus(`${base}/elsewhere?token=${good.token}`)).toBe(404);
    expect(await handshakeStatus(good.url, 'http://evil.example')).toBe(403);
    expect(await handshakeStatus(good.url, 'null')).toBe(403);
    // A token opens one connection: each accepted handshake below gets its own.
    const more = () => bridge.openSession({ kind: 'vnc', vmId: 'vm-a', socketPath: socketPath('vnc.sock') });
    expect(await handshakeStatus(good.url, 'http://localhost:5173')).toBe(0);
    expect(await handshakeStatus((await more()).url, 'file://')).toBe(0);
    expect(await handshakeStatus((await more()).url)).toBe(0);
    // A plain HTTP request gets no page.
    const res = await fetch(`http://127.0.0.1:${bridge.port}/display/vm-a?token=${good.token}`);
    expect(res.status).toBe(426);

    const down = await bridge.openSession({ kind: 'vnc', vmId: 'vm-down', socketPath: () => null });
    expect(await handshakeStatus(down.url)).toBe(503);
    const gone = await bridge.openSession({ kind: 'vnc', vmId: 'vm-gone', socketPath: () => join(dir, 'nothing.sock') });
    expect(await handshakeStatus(gone.url)).toBe(503);
    const unused = await more();
    bridge.revoke('vm-a');
    expect(await handshakeStatus(unused.url)).toBe(401);
  });

  it('spends a token on its first connection: the same URL a second time gets 401', async () => {
    await startQemu();
    bridge = new DisplayBridge();
    const s = await bridge.openSession({ kind: 'vnc', vmId: 'vm-a', socketPath: socketPath('vnc.sock') });
    const first = await RfbClient.overWebSocket(s.url);
    expect((await first.handshake()).version).toBe('RFB 003.008');
    expect(await handshakeStatus(s.url)).toBe(401);
    // also while the first one is gone
    first.close();
    await waitFor('connection cleanup', () => bridge.stats('vm-a').vnc === 0);
    expect(await handshakeStatus(s.url)).toBe(401);
    const serial = await bridge.openSession({ kind: 'serial', vmId: 'vm-a', socketPath: socketPath('serial.sock') });
    const v = await serialViewer(serial.url);
    expect(await handshakeStatus(serial.url)).toBe(401);
    v.ws.close();
  });

  it('answers 421 on its own port to a Host that is not its loopback name (DNS rebinding)', async () => {
    await startQemu();
    bridge = new DisplayBridge();
    const s = await bridge.openSession({ kind: 'vnc', vmId: 'vm-a', socketPath: socketPath('vnc.sock') });
    const status = await rawHandshake(bridge.port!, `${new URL(s.url).pathname}${new URL(s.url).search}`, `evil.example:${bridge.port}`);
    expect(status).toMatch(/^HTTP\/1\.1 421 /);
    // the token was not spent by the refused attempt
    const rfb = await RfbClient.overWebSocket(s.url);
    expect((await rfb.handshake()).version).toBe('RFB 003.008');
    rfb.close();
  });

  it('exposes no TCP port but the bridge on 127.0.0.1; sockets are 0600 in a 0700 dir', async () => {
    const qemu = await startQemu();
    bridge = new DisplayBridge();
    await bridge.start();
    const listeners = await tcpListeners();
    expect(listeners.filter((l) => l.pid === qemu.pid)).toEqual([]);
    const ours = listeners.filter((l) => l.pid === process.pid);
    expect(ours).toContainEqual({ pid: process.pid, address: '127.0.0.1', port: bridge.port });
    expect(ours.every((l) => l.address === '127.0.0.1')).toBe(true);

    for (const name of ['vnc.sock', 'serial.sock']) await secureSocket(join(dir, name));
    expect((await stat(join(dir, 'vnc.sock'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'serial.sock'))).mode & 0o777).toBe(0o600);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    // still usable by its owner after the chmod
    const s = await bridge.openSession({ kind: 'vnc', vmId: 'vm-a', socketPath: socketPath('vnc.sock') });
    const rfb = await RfbClient.overWebSocket(s.url);
    expect((await rfb.handshake()).width).toBeGreaterThan(0);
    rfb.close();

    await writeFile(join(dir, 'plain'), '');
    await expect(secureSocket(join(dir, 'plain'))).rejects.toThrow(/not a unix socket/);
    await expect(secureSocket(join(dir, 'absent.sock'))).rejects.toThrow(/cannot secure/);
    await rm(join(dir, 'plain'));
  });
});

describe('serial console through the bridge', () => {
  it('fans one QEMU connection out to several viewers and forwards input from any', async () => {
    await startQemu();
    bridge = new DisplayBridge();
    const open = () => bridge.openSession({ kind: 'serial', vmId: 'vm-s', socketPath: socketPath('serial.sock') });
    const a = await serialViewer((await open()).url);
    await waitFor('monitor banner on viewer A', () => a.text().includes('(qemu)'));
    // B joins later: it gets the recent output replayed, then everything live.
    const b = await serialViewer((await open()).url);
    await waitFor('banner replayed to viewer B', () => b.text().includes('QEMU 7.') && b.text().includes('(qemu)'));
    expect(a.statuses).toContain(true);
    expect(b.statuses.at(-1)).toBe(true);

    a.ws.send(Buffer.from('info version\r'), { binary: true });
    await waitFor('command output on A', () => /\r\n7\.\d+\.\d+/.test(a.text()));
    await waitFor('command output on B', () => /\r\n7\.\d+\.\d+/.test(b.text()));
    b.ws.send(Buffer.from('info status\r'), { binary: true });
    await waitFor('status answer on both', () => a.text().includes('VM status: paused') && b.text().includes('VM status: paused'));
    // Text frames are control, never console input.
    a.ws.send('info name\r');
    await new Promise((r) => setTimeout(r, 300));
    expect(a.text()).not.toContain('info name');
    expect(bridge.stats('vm-s')).toMatchObject({ vnc: 0, serial: 2, serialConnected: true });
    a.ws.close();
    b.ws.close();
    await waitFor('hub released QEMU', () => !bridge.stats('vm-s').serialConnected);
  });

  it('keeps viewers through a QEMU restart and re-dials the new socket', async () => {
    const first = await startQemu();
    bridge = new DisplayBridge();
    const v = await serialViewer((await bridge.openSession({ kind: 'serial', vmId: 'vm-s', socketPath: socketPath('serial.sock') })).url);
    await waitFor('first banner', () => v.text().includes('(qemu)'));
    const before = v.text().length;
    await stopQemu(first);
    qemus.splice(qemus.indexOf(first), 1);
    await waitFor('disconnected status', () => v.statuses.at(-1) === false);
    expect(v.ws.readyState).toBe(WebSocket.OPEN);
    await startQemu();
    await waitFor('connected again', () => v.statuses.at(-1) === true);
    await waitFor('second banner', () => v.text().slice(before).includes('(qemu)'));
    v.ws.send(Buffer.from('info status\r'), { binary: true });
    await waitFor('answer from the new QEMU', () => v.text().slice(before).includes('VM status: paused'));
    v.ws.close();
  });
});

/** The status line a raw WebSocket handshake gets, with a Host header of our choosing. */
function rawHandshake(port: number, target: string, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const tcp = createConnection(port, '127.0.0.1');
    let got = '';
    tcp.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      if (got.includes('\r\n')) {
        tcp.destroy();
        resolve(got.slice(0, got.indexOf('\r\n')));
      }
    });
    tcp.on('error', reject);
    tcp.write(
      `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
  });
}

interface Listener {
  pid: number | null;
  address: string;
  port: number;
}

/** Listening TCP sockets from /proc/net/tcp{,6}, with the pid owning each (by socket inode). */
async function tcpListeners(): Promise<Listener[]> {
  const inodes = new Map<string, { address: string; port: number }>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(file, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== '0A') continue; // 0A = LISTEN
      const [hexAddr, hexPort] = f[1]!.split(':') as [string, string];
      inodes.set(f[9]!, { address: decodeAddr(hexAddr), port: parseInt(hexPort, 16) });
    }
  }
  const owner = new Map<string, number>();
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      const link = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
      const m = /^socket:\[(\d+)\]$/.exec(link);
      if (m && inodes.has(m[1]!)) owner.set(m[1]!, Number(pid));
    }
  }
  return [...inodes].map(([inode, l]) => ({ pid: owner.get(inode) ?? null, ...l }));
}

function decodeAddr(hex: string): string {
  if (hex.length === 8) return Buffer.from(hex, 'hex').reverse().join('.');
  // IPv6 in /proc is four little-endian 32-bit words.
  const words = hex.match(/.{8}/g)!.map((w) => Buffer.from(w, 'hex').reverse().toString('hex'));
  const v4mapped = words.join('').match(/^0{20}ffff([0-9a-f]{8})$/);
  if (v4mapped) return Buffer.from(v4mapped[1]!, 'hex').join('.');
  return words.join('').replace(/(.{4})(?=.)/g, '$1:');
}
