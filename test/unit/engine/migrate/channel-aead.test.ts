import { createServer as createHttpServer, type Server } from 'node:http';
import { createConnection, createServer, type Server as NetServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { baseConfig } from '../../../../electron/engine/library/library.ts';
import { MIGRATE_PATH, PeerChannel, Sealed, serveChannel } from '../../../../electron/engine/migrate/channel.ts';
import { channelKey, nonce, proof } from '../../../../electron/engine/migrate/pairing.ts';

// The control channel between two paired engines is sealed with AES-256-GCM (issue 24): a VM's
// config never crosses the wire readable, and a frame that was tampered with, replayed, reordered
// or reflected back closes the channel before any request handler runs. Real sockets on
// 127.0.0.1: a serve-side channel behind a TCP relay that records every byte both ways, a real
// PeerChannel, and a hand-made peer (it knows the secret, so it can seal frames itself) that
// sends the bad frames.

const SECRET = 'h1-channel-secret-0123456789abcdef';
const config = { ...baseConfig('0b6f2f7e-3b55-4c3e-9d7a-1c2b3d4e5f60', 'h1-very-private-vm-name'), notes: 'the owner keeps /home/alice/secret-project here' };
const plaintexts = ['h1-very-private-vm-name', '/home/alice/secret-project', '0b6f2f7e-3b55-4c3e-9d7a-1c2b3d4e5f60'];

let http: Server;
let relay: NetServer;
let relayPort: number;
let servePort: number;
const wire: Buffer[] = [];
/** What the serve side's socket received, unmasked (the client's frames as sent). */
const received: Buffer[] = [];
const handled: string[] = [];
const sockets: { terminate?: () => void; destroy?: () => void }[] = [];

beforeAll(async () => {
  const wss = new WebSocketServer({ noServer: true });
  http = createHttpServer((_req, res) => res.writeHead(404).end());
  http.on('upgrade', (req, socket, head) => {
    if (req.url !== MIGRATE_PATH) return socket.destroy();
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('message', (d: RawData) => received.push(Buffer.from(d as Buffer)));
      serveChannel(ws, SECRET, '127.0.0.1', async (op, args) => {
        handled.push(op);
        return op === 'echo' ? args : { ok: true };
      });
    });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  servePort = (http.address() as { port: number }).port;
  relay = createServer((c) => {
    const up = createConnection(servePort, '127.0.0.1');
    sockets.push(c, up);
    c.on('data', (d: Buffer) => (wire.push(d), up.write(d)));
    up.on('data', (d: Buffer) => (wire.push(d), c.write(d)));
    c.on('close', () => up.destroy());
    up.on('close', () => c.destroy());
    c.on('error', () => {});
    up.on('error', () => {});
  });
  await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
  relayPort = (relay.address() as { port: number }).port;
});

afterAll(async () => {
  for (const s of sockets) (s.terminate ?? s.destroy)?.call(s);
  await new Promise((r) => relay.close(r));
  http.closeAllConnections();
  await new Promise((r) => http.close(r));
});

/** A peer by hand: pairs like PeerChannel.connect, then sends whatever frames a test gives it. */
async function handPeer() {
  const ws = new WebSocket(`ws://127.0.0.1:${servePort}${MIGRATE_PATH}`);
  sockets.push(ws);
  const frames: { data: Buffer; binary: boolean }[] = [];
  const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
  const clientNonce = nonce();
  const serverNonce = await new Promise<string>((resolve, reject) => {
    ws.once('message', (d: RawData) => {
      const hello = (JSON.parse(d.toString()) as { hello: string }).hello;
      ws.send(JSON.stringify({ auth: proof(SECRET, 'client', hello), nonce: clientNonce }));
      ws.once('message', (ok: RawData) => ((JSON.parse(ok.toString()) as { ok?: string }).ok === proof(SECRET, 'server', clientNonce) ? resolve(hello) : reject(new Error('no ok'))));
    });
    ws.once('error', reject);
  });
  ws.on('message', (d: RawData, binary) => frames.push({ data: Buffer.from(d as Buffer), binary }));
  const key = channelKey(SECRET, serverNonce, clientNonce);
  const next = async () => {
    for (let i = 0; i < 200 && !frames.length; i++) await new Promise((r) => setTimeout(r, 10));
    return frames.shift();
  };
  return { ws, closed, next, frames, mine: new Sealed(key, 'client') };
}

describe('the control channel is sealed (AES-256-GCM)', () => {
  it("carries a VM's config between a PeerChannel and serve, and no byte of the wire shows it", async () => {
    wire.length = 0;
    received.length = 0;
    const ch = await PeerChannel.connect(`vireo://127.0.0.1:${relayPort}`, SECRET);
    try {
      expect(await ch.call('echo', { config })).toEqual({ config });
    } finally {
      ch.close();
    }
    const all = Buffer.concat(wire);
    expect(all.length).toBeGreaterThan(1000);
    for (const p of plaintexts) {
      expect(all.includes(Buffer.from(p))).toBe(false);
      // The client's frames are masked on the wire; what the serve side read is unmasked.
      for (const r of received) expect(r.includes(Buffer.from(p))).toBe(false);
    }
    // The sealed frames are as long as the config (nothing left out), and every one is binary, not JSON.
    expect(received.some((r) => r.length > JSON.stringify(config).length)).toBe(true);
  });

  it('a good frame is answered; the same frame again (a replay) closes the channel unanswered', async () => {
    const p = await handPeer();
    const f1 = p.mine.seal({ id: 1, op: 'ping', args: {} });
    handled.length = 0;
    p.ws.send(f1);
    const reply = await p.next();
    expect(reply?.binary).toBe(true);
    expect(p.mine.unseal(reply!.data)).toEqual({ id: 1, result: { ok: true } });
    p.ws.send(f1);
    expect(await p.closed).toBe(4002);
    expect(handled).toEqual(['ping']);
  });

  it('a tampered frame closes it before the handler runs', async () => {
    const p = await handPeer();
    handled.length = 0;
    const f = p.mine.seal({ id: 1, op: 'ping', args: {} });
    f[3] = f[3]! ^ 0x01;
    p.ws.send(f);
    expect(await p.closed).toBe(4002);
    expect(handled).toEqual([]);
  });

  it('frames out of order close it: the second sent first is refused', async () => {
    const p = await handPeer();
    handled.length = 0;
    p.mine.seal({ id: 1, op: 'ping', args: {} });
    const f2 = p.mine.seal({ id: 2, op: 'ping', args: {} });
    p.ws.send(f2);
    expect(await p.closed).toBe(4002);
    expect(handled).toEqual([]);
  });

  it("the serve side's own frame sent back to it (reflected) and a frame in the clear are refused", async () => {
    const p = await handPeer();
    p.ws.send(p.mine.seal({ id: 1, op: 'ping', args: {} }));
    const reply = (await p.next())!;
    p.ws.send(reply.data);
    expect(await p.closed).toBe(4002);
    const q = await handPeer();
    handled.length = 0;
    q.ws.send(JSON.stringify({ seq: 1, m: JSON.stringify({ id: 1, op: 'ping', args: {} }), mac: '00' }));
    expect(await q.closed).toBe(4002);
    expect(handled).toEqual([]);
  });

  it('a host whose channel is the old signed one (v1) is refused at once, with what to do', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, path: MIGRATE_PATH });
    await new Promise((r) => wss.once('listening', r));
    wss.on('connection', (ws) => ws.send(JSON.stringify({ hello: nonce(), v: 1 })));
    try {
      await expect(PeerChannel.connect(`vireo://127.0.0.1:${(wss.address() as { port: number }).port}`, SECRET)).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringMatching(/another Vireo release \(its control channel is v1, this engine's v2\): update both/) });
    } finally {
      for (const c of wss.clients) c.terminate();
      await new Promise((r) => wss.close(r));
    }
  });

  it("the source side too: a reply out of order closes its channel and fails the call that waited", async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, path: MIGRATE_PATH });
    await new Promise((r) => wss.once('listening', r));
    wss.on('connection', (ws) => {
      const serverNonce = nonce();
      ws.send(JSON.stringify({ hello: serverNonce, v: 2 }));
      ws.once('message', (d: RawData) => {
        const auth = JSON.parse(d.toString()) as { nonce: string };
        ws.send(JSON.stringify({ ok: proof(SECRET, 'server', auth.nonce) }));
        const s = new Sealed(channelKey(SECRET, serverNonce, auth.nonce), 'server');
        ws.once('message', () => {
          s.seal({ id: 1, result: 'first' });
          ws.send(s.seal({ id: 1, result: 'second' }));
        });
      });
    });
    try {
      const ch = await PeerChannel.connect(`vireo://127.0.0.1:${(wss.address() as { port: number }).port}`, SECRET);
      await expect(ch.call('ping', {}, 10_000)).rejects.toMatchObject({ code: 'IO_ERROR', message: expect.stringMatching(/closed \(4002: bad frame\)/) });
    } finally {
      for (const c of wss.clients) c.terminate();
      await new Promise((r) => wss.close(r));
    }
  });
});
