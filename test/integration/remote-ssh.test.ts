import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, rmdir, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { Engine } from '../../electron/engine/index.ts';
import { runtimeRoot } from '../../electron/engine/paths.ts';
import { run } from '../../electron/engine/util/proc.ts';
import { RfbClient } from '../fixtures/rfb-client.ts';
import { disposeEngine, tempEngine } from './helpers.ts';
import { libvirtMissing, removeAllDomains, startSessionLibvirt, type SessionLibvirt } from './libvirt-helpers.ts';

// Issue 24: the screen of a domain on a non-local URI, qemu+ssh://. An sshd runs in a network
// namespace made here (a throwaway host key; root may log in with a throwaway key only, held
// by an ssh-agent of this test), and a private session libvirtd is reached through it:
// qemu+ssh://root@<ns address>/session?socket=… (libvirt's ssh transport runs nc -U there).
// The domain's screen opens in Vireo through `ssh -N -L <0600 socket in the engine's runtime
// dir>:<libvirt's VNC socket there>`, with no TCP port anywhere; powering the domain off ends
// the tunnel. Its serial console (a unix socket) comes the same way. The host key goes into root's known_hosts for the test's address only, and out
// again after (OpenSSH reads known_hosts from the passwd home, not $HOME).

const missing = libvirtMissing() ?? (['/usr/sbin/sshd', '/usr/bin/ssh-agent', '/usr/bin/nc'].every((p) => existsSync(p)) ? null : 'openssh-server / netcat-openbsd not installed (scripts/dev.sh APT_TEST has them)');
const asRoot = process.getuid?.() === 0;
const NS = `h2ssh-${process.pid % 100000}`;
const SUB = 40 + (process.pid % 200);
const ADDR = `10.252.${SUB}.2`;
const DOM = 'h2-ssh-screen';
const knownHosts = join(homedir(), '.ssh', 'known_hosts');
let dir = '';
let lv: SessionLibvirt | null = null;
let engine: Engine;
let sshd: ChildProcess | null = null;
let agent: ChildProcess | null = null;
let khLine = '';
let khExisted = true;
let sshDirExisted = true;

/** ssh processes of this machine whose argv forwards to `remote` (the tunnel's). */
function tunnelPids(remote: string): number[] {
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const argv = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      if (argv[0]?.endsWith('ssh') && argv.includes('-L') && argv.some((x) => x.endsWith(`:${remote}`))) pids.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return pids;
}

async function until(what: string, ok: () => boolean, ms = 20_000) {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  if (missing || !asRoot) return;
  dir = await mkdtemp('/tmp/h2ssh-');
  await run('ip', ['netns', 'add', NS]);
  await run('ip', ['link', 'add', `${NS}-a`, 'type', 'veth', 'peer', 'name', `${NS}-b`]);
  await run('ip', ['link', 'set', `${NS}-b`, 'netns', NS]);
  await run('ip', ['addr', 'add', `10.252.${SUB}.1/30`, 'dev', `${NS}-a`]);
  await run('ip', ['link', 'set', `${NS}-a`, 'up']);
  await run('ip', ['-n', NS, 'addr', 'add', `${ADDR}/30`, 'dev', `${NS}-b`]);
  await run('ip', ['-n', NS, 'link', 'set', `${NS}-b`, 'up']);
  await run('ip', ['-n', NS, 'link', 'set', 'lo', 'up']);
  for (const k of ['host_key', 'id']) await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `h2ssh-${k}`, '-f', join(dir, k)]);
  await writeFile(join(dir, 'authorized_keys'), readFileSync(join(dir, 'id.pub')));
  await writeFile(
    join(dir, 'sshd_config'),
    [`ListenAddress ${ADDR}:22`, `HostKey ${dir}/host_key`, `AuthorizedKeysFile ${dir}/authorized_keys`, 'PermitRootLogin prohibit-password', 'PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'UsePAM no', 'StrictModes no', `PidFile ${dir}/sshd.pid`, 'AllowStreamLocalForwarding yes', 'X11Forwarding no', ''].join('\n'),
  );
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  sshd = spawn('ip', ['netns', 'exec', NS, '/usr/sbin/sshd', '-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: 'ignore' });
  const agentSock = join(dir, 'agent.sock');
  agent = spawn('ssh-agent', ['-D', '-a', agentSock], { stdio: 'ignore' });
  await until('the ssh agent', () => existsSync(agentSock));
  process.env.SSH_AUTH_SOCK = agentSock;
  await run('ssh-add', ['-q', join(dir, 'id')], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', SSH_AUTH_SOCK: agentSock } });
  khExisted = existsSync(knownHosts);
  sshDirExisted = existsSync(join(homedir(), '.ssh'));
  mkdirSync(join(homedir(), '.ssh'), { recursive: true, mode: 0o700 });
  khLine = `${ADDR} ${readFileSync(join(dir, 'host_key.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ')}\n`;
  writeFileSync(knownHosts, khLine, { flag: 'a', mode: 0o600 });
  lv = await startSessionLibvirt('h2ssh');
  const xml = `<domain type='qemu'><name>${DOM}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type></os><devices><serial type='unix'><source mode='bind' path='${lv.dir}/con.sock'/><target port='0'/></serial><graphics type='vnc'><listen type='socket'/></graphics><video><model type='vga'/></video></devices></domain>`;
  await writeFile(join(lv.dir, 'dom.xml'), xml);
  await lv.virsh(['define', join(lv.dir, 'dom.xml')]);
  engine = await tempEngine();
}, 120_000);

afterAll(async () => {
  if (missing || !asRoot) return;
  if (engine) await disposeEngine(engine);
  if (lv) {
    await removeAllDomains(lv);
    await lv.stop();
  }
  sshd?.kill('SIGTERM');
  agent?.kill('SIGTERM');
  if (khLine && existsSync(knownHosts)) {
    const rest = readFileSync(knownHosts, 'utf8').split(/(?<=\n)/).filter((l) => l !== khLine).join('');
    // A file this test made goes again; one that was there keeps every other line.
    if (!khExisted && rest === '') await rm(knownHosts, { force: true });
    else writeFileSync(knownHosts, rest);
  }
  if (!sshDirExisted) await rmdir(join(homedir(), '.ssh')).catch(() => {});
  await run('ip', ['link', 'del', `${NS}-a`]).catch(() => {});
  await run('ip', ['netns', 'del', NS]).catch(() => {});
  if (dir) await rm(dir, { recursive: true, force: true });
}, 60_000);

describe.skipIf(!!missing || !asRoot)('the screen and console of a domain on a qemu+ssh:// host', () => {
  it('open through ssh streamlocal tunnels (a 0600 socket here, no TCP port), which end with the domain', async () => {
    const uri = `qemu+ssh://root@${ADDR}/session?socket=${lv!.dir}/run/libvirt/libvirt-sock`;
    const h = await engine.client.call('hosts.add', { name: 'far', uri });
    expect(h).toMatchObject({ reachable: true, localSockets: false });
    expect((await engine.client.call('hosts.control', { host: 'far', domain: DOM, action: 'start' })).state).toBe('running');
    const info = (await engine.client.call('hosts.domain', { host: 'far', domain: DOM })).info;
    const remote = info.graphics!.socket!;
    expect(info.graphics).toMatchObject({ type: 'vnc', port: null });

    const s = await engine.client.call('hosts.display', { host: 'far', domain: DOM });
    const rfb = await RfbClient.overWebSocket(s.url);
    const init = await rfb.handshake();
    expect(init.width).toBeGreaterThan(0);
    rfb.close();
    // The forwarding: one ssh, BatchMode, from a socket in the engine's runtime dir, owner-only.
    const [pid, ...more] = tunnelPids(remote);
    expect(more).toEqual([]);
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    expect(argv).toContain('BatchMode=yes');
    const local = argv[argv.indexOf('-L') + 1]!.slice(0, -(remote.length + 1));
    expect(local.startsWith(runtimeRoot(engine.home))).toBe(true);
    expect(lstatSync(local).isSocket()).toBe(true);
    expect(lstatSync(local).mode & 0o777).toBe(0o600);
    // A second screen reuses it.
    const again = await RfbClient.overWebSocket((await engine.client.call('hosts.display', { host: 'far', domain: DOM })).url);
    expect((await again.handshake()).width).toBeGreaterThan(0);
    again.close();
    expect(tunnelPids(remote)).toEqual([pid]);

    // The serial console the same way: the bridge's hub reaches the far socket.
    const con = await engine.client.call('hosts.console', { host: 'far', domain: DOM });
    const ws = new WebSocket(con.url);
    const status = await new Promise<string>((resolve, reject) => {
      ws.on('message', (b: Buffer, bin: boolean) => {
        if (!bin && /"connected":true/.test(b.toString())) resolve(b.toString());
      });
      ws.once('close', (code) => reject(new Error(`console closed ${code}`)));
    });
    expect(JSON.parse(status)).toEqual({ type: 'status', connected: true });
    expect(tunnelPids(`${lv!.dir}/con.sock`)).toHaveLength(1);
    ws.close();

    // Power off: the sessions are revoked and the tunnels with them.
    await engine.client.call('hosts.control', { host: 'far', domain: DOM, action: 'poweroff' });
    await until('the tunnels to end', () => tunnelPids(remote).length + tunnelPids(`${lv!.dir}/con.sock`).length === 0);
    expect(existsSync(local)).toBe(false);
    await expect(engine.client.call('hosts.display', { host: 'far', domain: DOM })).rejects.toMatchObject({ code: 'INVALID_STATE' });
  });

  it("ends its tunnels when the engine closes (no ssh left behind)", async () => {
    await engine.client.call('hosts.control', { host: 'far', domain: DOM, action: 'start' });
    const remote = (await engine.client.call('hosts.domain', { host: 'far', domain: DOM })).info.graphics!.socket!;
    await engine.client.call('hosts.display', { host: 'far', domain: DOM });
    expect(tunnelPids(remote)).toHaveLength(1);
    await disposeEngine(engine);
    engine = null as unknown as Engine;
    await until('the tunnel to end', () => tunnelPids(remote).length === 0);
  });
});
