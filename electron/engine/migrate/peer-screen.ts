import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createConnection, createServer as createUnixServer, type Server as NetServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect, createServer as createTlsServer } from 'node:tls';
import { VireoError } from '../../api/errors.ts';
import { ensurePrivateDir } from '../paths.ts';
import { PeerChannel } from './channel.ts';
import { nonce, PSK_IDENTITY, screenPsk } from './pairing.ts';

// The screen (and serial console) of a VM on a paired Vireo host (issue 24). Its QEMU's VNC
// and serial port are unix sockets on that machine; the source's display bridge dials unix
// sockets. So each connection the bridge makes is carried like this:
//   bridge → a unix socket of this engine (a 0700 folder in the runtime dir)
//          → per connection: the control channel asks the target for the VM's screen with a
//            fresh salt ("vm-screen", or "vm-console"), the target opens a one-connection TLS-PSK listener on the
//            address the channel reached it on, keyed by the pairing secret and that salt
//          → the target pipes it into the VM's VNC (or serial) socket.
// No port takes a client that does not hold the pairing secret, the bytes are encrypted on
// the wire, and the channel staying open is what keeps the stream alive: either side going
// away ends both.

const CIPHERS = 'PSK-AES256-GCM-SHA384:PSK-AES128-GCM-SHA256';
/** how long the target waits for the source to connect to the port it just opened */
const CONNECT_WITHIN_MS = 30_000;

function join2(a: Socket, b: Socket) {
  const end = () => (a.destroy(), b.destroy());
  a.on('error', end).on('close', end);
  b.on('error', end).on('close', end);
  a.pipe(b);
  b.pipe(a);
}

/** Target: one authenticated connection on `host`, joined to the VM's VNC socket. */
export function serveScreen(host: string, secret: string, salt: string, vncSocket: () => string | null, closed: AbortSignal): Promise<{ host: string; port: number }> {
  const key = screenPsk(secret, salt);
  const live = new Set<Socket>();
  const server = createTlsServer({ ciphers: CIPHERS, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', pskCallback: (_s, id) => (id === PSK_IDENTITY ? key : null) }, (tls) => {
    server.close();
    clearTimeout(timer);
    const path = vncSocket();
    if (!path) return void tls.destroy();
    const vnc = createConnection(path);
    live.add(tls).add(vnc);
    join2(tls, vnc);
  });
  server.on('tlsClientError', () => {});
  const timer = setTimeout(() => server.close(), CONNECT_WITHIN_MS);
  timer.unref();
  closed.addEventListener('abort', () => {
    clearTimeout(timer);
    server.close();
    for (const s of live) s.destroy();
  });
  return new Promise((resolve, reject) => {
    server.once('error', (e) => reject(new VireoError('IO_ERROR', `cannot open the screen stream on ${host}: ${e.message}`)));
    server.listen(0, host, () => resolve({ host, port: (server.address() as { port: number }).port }));
  });
}

export interface ScreenPeer {
  id: string;
  name: string;
  uri: string;
  secret: string;
}

interface Tunnel {
  path: string;
  server: NetServer;
  conns: number;
  until: number;
}

/**
 * Source: one unix socket per (host, VM) for the display bridge, kept while a session may
 * still dial it (opened within `keepMs`) or a viewer is connected; each connection on it is
 * its own stream to the target.
 */
export class PeerScreens {
  private readonly tunnels = new Map<string, Tunnel>();

  constructor(
    private readonly rtRoot: string,
    private readonly keepMs = 5 * 60_000,
  ) {}

  /** The socket the bridge dials for this VM's screen (or console); a resolver (null once closed). */
  async open(peer: ScreenPeer, vm: string, kind: 'vnc' | 'serial' = 'vnc'): Promise<() => string | null> {
    const key = `${peer.id}\0${vm}\0${kind}`;
    let t = this.tunnels.get(key);
    if (!t) {
      const dir = ensurePrivateDir(join(this.rtRoot, 'screens'));
      const path = join(dir, `${randomBytes(6).toString('hex')}.sock`);
      const server = createUnixServer((local) => this.carry(t!, peer, vm, kind, local));
      await new Promise<void>((resolve, reject) => (server.once('error', reject), server.listen(path, () => resolve())));
      server.unref();
      t = { path, server, conns: 0, until: 0 };
      this.tunnels.set(key, t);
      this.reap(key, t);
    }
    t.until = Date.now() + this.keepMs;
    const tunnel = t;
    return () => (this.tunnels.get(key) === tunnel ? tunnel.path : null);
  }

  private reap(key: string, t: Tunnel) {
    const check = setInterval(() => {
      if (t.conns > 0 || Date.now() < t.until) return;
      clearInterval(check);
      this.closeTunnel(key, t);
    }, 10_000);
    check.unref();
  }

  private closeTunnel(key: string, t: Tunnel) {
    if (this.tunnels.get(key) === t) this.tunnels.delete(key);
    t.server.close();
    rmSync(t.path, { force: true });
  }

  /** Closes every socket (the engine stops). */
  close(): void {
    for (const [key, t] of this.tunnels) this.closeTunnel(key, t);
  }

  private carry(t: Tunnel, peer: ScreenPeer, vm: string, kind: 'vnc' | 'serial', local: Socket) {
    t.conns++;
    local.pause();
    let ch: PeerChannel | null = null;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      t.conns--;
      t.until = Math.max(t.until, Date.now() + 30_000);
      local.destroy();
      ch?.close();
    };
    local.on('close', finish).on('error', finish);
    void (async () => {
      ch = await PeerChannel.connect(peer.uri, peer.secret);
      if (done) return ch.close();
      const salt = nonce();
      const at = await ch.call<{ host: string; port: number }>(kind === 'vnc' ? 'vm-screen' : 'vm-console', { vm, salt }, 30_000);
      const key = screenPsk(peer.secret, salt);
      const tls = tlsConnect({ host: at.host, port: at.port, ciphers: CIPHERS, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', checkServerIdentity: () => undefined, pskCallback: () => ({ identity: PSK_IDENTITY, psk: key }) });
      await new Promise<void>((resolve, reject) => (tls.once('secureConnect', resolve), tls.once('error', reject)));
      if (done) return tls.destroy();
      tls.on('close', finish);
      join2(local, tls);
      local.resume();
    })().catch(finish);
  }
}
