import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { Engine } from '../../electron/engine/index.ts';
import type { VmDetails } from '../../electron/api/types.ts';
import { runtimeRoot } from '../../electron/engine/paths.ts';
import { run } from '../../electron/engine/util/proc.ts';
import { GUEST_MARKERS, SerialShell } from '../fixtures/guest.ts';
import { CLI_MAIN, REPO_ROOT, runVireo } from './cli-helpers.ts';
import { createGuestVm, disposeEngine, serialSocketOf, tempEngine, waitForReady } from './helpers.ts';
import { wsRpc } from './net-helpers.ts';

// Issue 24, acceptances 2 and 3 between two Vireo engines: the target is a real `vireo serve`
// (its own library) inside a network namespace made here, reached over a veth pair
// (10.247.<n>.1 here ↔ .2 there); this test's engine is the source. It is paired by the secret
// serve prints. The test guest counts on serial every 100 ms; a throttled move is cancelled
// mid-way (meanwhile a plain TCP client and a client with a wrong key knock on the target's
// migration and NBD ports), then a real move: the guest keeps counting there without a reboot,
// the source keeps no QEMU and no VM, the target's disk passes qemu-img check.

const N = 100 + (process.pid % 100);
const NS = `h2vm${N}`;
const HERE = `10.247.${N}.1`;
const THERE = `10.247.${N}.2`;
let engine: Engine;
let vm: VmDetails;
let sh: SerialShell;
let targetHome: string;
let serve: ChildProcess;
let servePort: number;
let token: string;
let uri: string;
let secret: string;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** PIDs of QEMUs whose argv names this VM, split by whether they run in the target's namespace. */
async function qemus(id: string): Promise<{ here: number[]; there: number[] }> {
  const inNs = new Set((await run('ip', ['netns', 'pids', NS])).stdout.split('\n').filter(Boolean).map(Number));
  const out = { here: [] as number[], there: [] as number[] };
  for (const d of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const argv = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      const st = readFileSync(`/proc/${d}/stat`, 'utf8');
      if (!argv[0]?.includes('qemu-system') || !argv.includes(id) || st.slice(st.lastIndexOf(')') + 2, st.lastIndexOf(')') + 3) === 'Z') continue;
      (inNs.has(Number(d)) ? out.there : out.here).push(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** The target serve's API, as any client of it (its token). */
async function targetCall(method: string, args: unknown = {}): Promise<Record<string, unknown>> {
  const ws = new WebSocket(`ws://${THERE}:${servePort}/api?token=${encodeURIComponent(token)}`);
  await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
  try {
    return await wsRpc(ws, method, args);
  } finally {
    ws.close();
  }
}

/** TCP ports listening in the namespace other than serve's: the move's NBD and migration ports. */
async function movePorts(): Promise<number[]> {
  const out = (await run('ip', ['netns', 'exec', NS, 'ss', '-Hltn'])).stdout;
  return [...out.matchAll(/\s(\S+):(\d+)\s/g)].map((m) => Number(m[2])).filter((p) => p !== servePort);
}

/** A plain TCP client: says something, and resolves with what it got before the port closed. */
function plainKnock(port: number): Promise<{ got: string; closed: boolean }> {
  return new Promise((resolve) => {
    const c = createConnection(port, THERE);
    let got = '';
    const timer = setTimeout(() => (c.destroy(), resolve({ got, closed: false })), 10_000);
    c.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      // NBD greets before TLS (newstyle); ask for an export in the clear, as a plain client would.
      if (got.startsWith('NBDMAGIC') && got.length >= 18) c.write(Buffer.concat([Buffer.alloc(4), Buffer.from('IHAVEOPT'), Buffer.from([0, 0, 0, 1, 0, 0, 0, 5]), Buffer.from('disk0')]));
    });
    c.on('error', () => {});
    c.on('close', () => (clearTimeout(timer), resolve({ got, closed: true })));
    c.write(Buffer.from('QEVM\x00\x00\x00\x03', 'latin1'));
  });
}

/** A TLS-PSK client with a key not derived from the pairing secret: the handshake must fail. */
function wrongKeyKnock(port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = tlsConnect({ host: THERE, port, ciphers: 'PSK-AES256-GCM-SHA384:PSK-AES128-GCM-SHA256', maxVersion: 'TLSv1.2', checkServerIdentity: () => undefined, pskCallback: () => ({ identity: 'vireo', psk: Buffer.alloc(32, 7) }) });
    s.on('secureConnect', () => (s.destroy(), resolve('connected')));
    s.on('error', (e) => resolve(`refused: ${e.message}`));
    setTimeout(() => (s.destroy(), resolve('timeout')), 10_000).unref();
  });
}

beforeAll(async () => {
  await run('ip', ['netns', 'add', NS]);
  await run('ip', ['link', 'add', `${NS}h`, 'type', 'veth', 'peer', 'name', `${NS}n`]);
  await run('ip', ['link', 'set', `${NS}n`, 'netns', NS]);
  await run('ip', ['addr', 'add', `${HERE}/24`, 'dev', `${NS}h`]);
  await run('ip', ['link', 'set', `${NS}h`, 'up']);
  await run('ip', ['-n', NS, 'addr', 'add', `${THERE}/24`, 'dev', `${NS}n`]);
  await run('ip', ['-n', NS, 'link', 'set', `${NS}n`, 'up']);
  await run('ip', ['-n', NS, 'link', 'set', 'lo', 'up']);

  targetHome = mkdtempSync(join(tmpdir(), 'vireo-h2target-'));
  serve = spawn('ip', ['netns', 'exec', NS, process.execPath, '--import', 'tsx', CLI_MAIN, '--home', targetHome, 'serve', '--host', THERE, '--port', '0'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const printed = await new Promise<string>((resolve, reject) => {
    let out = '';
    let err = '';
    serve.stdout!.on('data', (d) => {
      out += d;
      if (/--secret \S+\n/.test(out)) resolve(out);
    });
    serve.stderr!.on('data', (d) => (err += d));
    serve.once('exit', (c) => reject(new Error(`serve exited ${c}: ${err}`)));
  });
  const url = new URL(/serving at (http:\/\/\S+)/.exec(printed)![1]!);
  servePort = Number(url.port);
  token = url.searchParams.get('token')!;
  const pair = /vireo host add NAME (vireo:\/\/\S+) --secret (\S+)/.exec(printed)!;
  [uri, secret] = [pair[1]!, pair[2]!];

  engine = await tempEngine();
  vm = await createGuestVm(engine, 'h2-mover', { memory: '128M', disk: '32M' });
  vm = await engine.client.call('vms.start', { vm: vm.id });
  await waitForReady(vm, 150_000);
  // The guest runs from its initramfs: the ISO, a file of this machine, can go.
  await engine.client.call('vms.changeMedia', { vm: vm.id, iso: null });
  sh = await SerialShell.connect(serialSocketOf(engine, vm));
  await sh.run('echo data > /dev/null');
  sh.write('i=0; while true; do echo COUNT $i; i=$((i+1)); usleep 100000; done &\n');
  await sh.waitFor(/COUNT 20\b/, 60_000);
}, 300_000);

afterAll(async () => {
  sh?.close();
  await disposeEngine(engine);
  if (serve && serve.exitCode === null) {
    // VMs outlive serve: the moved one is stopped through its API first.
    for (const v of ((await targetCall('vms.list').catch(() => ({ result: [] }))).result as { id: string; state: string }[]) ?? []) {
      if (v.state !== 'stopped') await targetCall('vms.stop', { vm: v.id, force: true }).catch(() => {});
    }
    const gone = new Promise((r) => serve.once('exit', r));
    serve.kill('SIGTERM');
    await Promise.race([gone, sleep(10_000)]);
  }
  if (vm) for (const pid of [...(await qemus(vm.id)).here, ...(await qemus(vm.id).catch(() => ({ there: [] }))).there]) process.kill(pid, 'SIGKILL');
  await run('ip', ['netns', 'del', NS]).catch(() => {});
  await run('ip', ['link', 'del', `${NS}h`]).catch(() => {});
  if (targetHome) {
    await rm(targetHome, { recursive: true, force: true });
    await rm(runtimeRoot(targetHome), { recursive: true, force: true });
  }
}, 90_000);

describe('live migration between two Vireo engines (the target a vireo serve in its own network namespace)', () => {
  it('a wrong pairing secret is refused, and nothing is added', async () => {
    await expect(engine.client.call('hosts.add', { name: 'west', uri, secret: 'x'.repeat(32) })).rejects.toMatchObject({ code: 'UNAUTHORIZED', message: expect.stringMatching(/wrong pairing secret/) });
    expect(await engine.client.call('hosts.list', {})).toEqual([]);
    const st = await engine.client.call('hosts.add', { name: 'west', uri, secret });
    expect(st).toMatchObject({ name: 'west', kind: 'vireo', reachable: true });
    expect(JSON.stringify(await engine.client.call('hosts.list', {}))).not.toContain(secret);
  });

  it('a VM the target cannot take live is refused first, with the reason', async () => {
    const other = await createGuestVm(engine, 'h2-tpm', { tpm: true, iso: null });
    await expect(engine.client.call('vms.migrate', { vm: other.id, to: 'west' })).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringMatching(/TPM state \(swtpm\) is not carried/) });
    await engine.client.call('vms.delete', { vm: other.id });
  });

  it('cancelled mid-way, the VM runs here as before and nothing is left there; plain TCP and a wrong key are refused at the move ports', async () => {
    const move = engine.client.call('vms.migrate', { vm: vm.id, to: 'west', bandwidthMiB: 1 });
    move.catch(() => {});
    let ports: number[] = [];
    for (let i = 0; i < 300 && ports.length < 2; i++) {
      await sleep(100);
      ports = await movePorts();
    }
    expect(ports).toHaveLength(2);
    // Each closes on a plain client: the migration port at once (it wants a TLS handshake), the
    // NBD port after its clear-text greeting, when asked for a disk without TLS. No guest data.
    const plain = await Promise.all(ports.map(plainKnock));
    expect(plain.every((x) => x.closed)).toBe(true);
    expect(plain.map((x) => (x.got.startsWith('NBDMAGIC') ? 'nbd' : x.got)).sort()).toEqual(['', 'nbd']);
    for (const x of plain) expect(x.got.length).toBeLessThan(200);
    for (const port of ports) expect(await wrongKeyKnock(port)).toMatch(/^refused/);
    const running = (await engine.client.call('jobs.list', {})).filter((j) => j.kind === 'migrate' && j.state === 'running');
    expect(running).toHaveLength(1);
    await engine.client.call('jobs.cancel', { id: running[0]!.id });
    await expect(move).rejects.toMatchObject({ code: 'CANCELLED' });
    expect((await engine.client.call('vms.get', { vm: vm.id })).state).toBe('running');
    expect(await engine.client.call('hosts.domains', { host: 'west' })).toEqual([]);
    expect((await qemus(vm.id)).there).toEqual([]);
    expect(readdirSync(join(targetHome, 'vms'))).toEqual([]);
    const at = sh.text.length;
    await sh.waitFor(new RegExp(`COUNT ${Number([...sh.text.slice(0, at).matchAll(/COUNT (\d+)/g)].pop()![1]) + 10}\\b`), 30_000);
  });

  it('moves the counting guest: it keeps counting there without a reboot, nothing stays here', async () => {
    const before = Number([...sh.text.matchAll(/COUNT (\d+)/g)].pop()![1]);
    const r = await engine.client.call('vms.migrate', { vm: vm.id, to: 'west' });
    expect(r).toMatchObject({ vm: 'h2-mover', host: 'west', snapshots: 'none' });
    expect(r.downtimeMs).toBeGreaterThanOrEqual(0);
    expect(engine.vms.list()).toEqual([]);
    const q = await qemus(vm.id);
    expect(q.here).toEqual([]);
    expect(q.there).toHaveLength(1);
    expect((await engine.client.call('hosts.domains', { host: 'west' })).map((d) => [d.name, d.state])).toEqual([['h2-mover', 'running']]);

    const there = await SerialShell.connect(join(runtimeRoot(targetHome), vm.id.slice(0, 8), 'serial.sock'));
    try {
      const m = await there.waitFor(/COUNT (\d+)/, 30_000);
      await there.waitFor(new RegExp(`COUNT ${Number(m[1]) + 10}\\b`), 30_000);
      expect(Number(m[1])).toBeGreaterThan(before);
      expect(there.text).not.toMatch(GUEST_MARKERS.boot);
      expect(there.text).not.toMatch(/Linux version/);
    } finally {
      there.close();
    }
  });

  it("the target's disk passes qemu-img check once the guest is off", async () => {
    const stopped = await targetCall('vms.stop', { vm: vm.id, force: true });
    expect(stopped.error).toBeUndefined();
    const disk = join(targetHome, 'vms', vm.id, 'disk0.qcow2');
    const check = await run('qemu-img', ['check', '--output=json', disk]);
    expect(JSON.parse(check.stdout)).toMatchObject({ 'check-errors': 0 });
  });

  it('`vireo migrate` of a VM with no such host says so', async () => {
    const r = await runVireo(engine.home, ['migrate', 'nope', '--to', 'west']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/no VM named or with id "nope"/);
  });
});
