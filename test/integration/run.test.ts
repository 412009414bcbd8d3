import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createEngine, type Engine } from '../../electron/engine/index.ts';
import type { VmDetails } from '../../electron/api/types.ts';
import { VireoError } from '../../electron/api/errors.ts';
import { QemuImg } from '../../electron/engine/disk/qemu-img.ts';
import { webCaller } from '../../electron/engine/policy/confine.ts';
import { directBootArgs } from '../fixtures/guest.ts';
import { createGuestVm, disposeEngine, qemuPidsFor, tempEngine } from './helpers.ts';
import { REPO_ROOT } from './cli-helpers.ts';
import { freePort } from './net-helpers.ts';

// Throwaway runs against the real test guest and its qemu-ga: `vireo run --rm` (exit code,
// output, nothing left, also on SIGINT), leftovers of a killed run swept, a kept run that
// `vireo wait` and `vireo ssh` then work on. The CLI is the `vireo` bin (bin/vireo.js) run as
// its own process, talking to this test's engine (the library's owner) over its socket.
// Three guest boots in all, one after another (direct kernel boot).

const BIN = join(REPO_ROOT, 'bin', 'vireo.js');
let engine: Engine;
let base: VmDetails;
let httpPort: number;
const seen = new Set<string>();

interface Cli {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `vireo --home H …args` through the bin; `onSpawn` gets the process (to signal it). */
function vireo(args: string[], onSpawn?: (pid: number) => void, onStderr?: (all: string) => void): Promise<Cli> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [BIN, '--home', engine.home, ...args], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 240_000 });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => {
      stderr += d;
      onStderr?.(stderr);
    });
    c.once('close', (code) => resolve({ code, stdout, stderr }));
    onSpawn?.(c.pid!);
  });
}


const vmFolders = () => readdirSync(join(engine.home, 'vms')).filter((n) => !n.startsWith('.'));
const baseDiskHash = () => createHash('sha256').update(readFileSync(join(base.dir, base.config!.disks[0]!.file))).digest('hex');
const runs = () => [...seen].filter((id) => id !== base.id);

/** Everything a run may leave: its VM in the engine, its folder, its QEMU. */
function expectNothingLeft(ids: string[]) {
  expect(engine.vms.list().map((v) => v.id)).toEqual([base.id]);
  expect(vmFolders()).toEqual([base.id]);
  expect(qemuPidsFor(ids)).toEqual([]);
}

/** Resolves once a new VM (a run) reaches the agent-connected state. */
function runWithAgent(timeoutMs = 180_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (off(), reject(new Error('no run reached a connected agent'))), timeoutMs);
    const check = async (id: string) => {
      if (id === base.id) return;
      const d = await engine.client.call('vms.get', { vm: id }).catch(() => null);
      if (d?.runtime.agent.state === 'connected') {
        clearTimeout(timer);
        off();
        resolve(id);
      }
    };
    const off = engine.bus.on('vm.changed', (e) => void check(e.id));
  });
}

beforeAll(async () => {
  engine = await tempEngine();
  engine.bus.on('vm.changed', (e) => seen.add(e.id));
  const created = await createGuestVm(engine, 'base', { iso: null, disk: '32M', memory: '256M' });
  httpPort = await freePort();
  const nic = created.config!.networks[0]!;
  base = await engine.client.call('vms.update', {
    vm: created.id,
    patch: {
      networks: [{ ...nic, portForwards: [{ protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: httpPort, guestPort: 8080 }] }],
      advanced: { extraArgs: await directBootArgs() },
    },
  });
}, 120_000);

afterAll(async () => {
  const ids = runs();
  await disposeEngine(engine);
  expect(qemuPidsFor([base.id, ...ids])).toEqual([]);
}, 60_000);

describe('throwaway VMs in the engine', () => {
  it('a run whose owner process is gone is swept, by disposables.sweep and by the next engine; a live owner keeps its run', async () => {
    const dead = spawnSync('true').pid!; // exited: its pid names no process now (or a reused one with another start time)
    const orphan = await engine.client.call('disposables.create', { from: base.id, ownerPid: dead, name: 'orphan' });
    const mine = await engine.client.call('disposables.create', { from: base.id, ownerPid: process.pid, name: 'mine' });
    expect(orphan.config!.disposable).toEqual(expect.objectContaining({ base: base.id, linked: true, owner: expect.objectContaining({ pid: dead }) }));
    // Overlays on the base's own disk, left where it is (no new layer under the base).
    const info = await new QemuImg(await engine.host.qemuImg()).info(join(orphan.dir, orphan.config!.disks[0]!.file));
    expect(info.backingFile).toBe(join('..', base.id, base.config!.disks[0]!.file));
    expect(engine.vms.resolve(base.id).config!.disks[0]!.file).toBe(base.config!.disks[0]!.file);

    expect(await engine.client.call('disposables.sweep', {})).toEqual({ removed: ['orphan'] });
    expect(existsSync(orphan.dir)).toBe(false);
    expect(engine.vms.list().map((v) => v.name).sort()).toEqual(['base', 'mine']);

    // The next engine on the library sweeps when it starts (a run killed with SIGKILL, then the app opens).
    await engine.client.call('disposables.create', { from: base.id, ownerPid: dead, name: 'orphan2' });
    const home = engine.home;
    await engine.dispose();
    engine = await createEngine({ home });
    engine.bus.on('vm.changed', (e) => seen.add(e.id));
    await expect.poll(() => engine.vms.list().map((v) => v.name).sort(), { timeout: 30_000 }).toEqual(['base', 'mine']);
    await engine.client.call('disposables.discard', { vm: mine.id });
    expectNothingLeft([orphan.id, mine.id]);
  }, 90_000);

  it('the base may not start, be deleted or restored to a snapshot while a run has overlays on it; a run from a snapshot is a copy that does not hold it', async () => {
    const run = await engine.client.call('disposables.create', { from: base.id, ownerPid: process.pid, name: 'holder' });
    await engine.client.call('snapshots.save', { vm: base.id, name: 's0' });
    for (const [m, args] of [['vms.start', {}], ['vms.delete', {}], ['snapshots.restore', { snapshot: 's0' }]] as const) {
      const err = await engine.client.call(m, { vm: base.id, ...args }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(VireoError);
      expect((err as VireoError).code).toBe('IN_USE');
      expect((err as VireoError).message).toContain('"holder"');
    }
    await engine.client.call('disposables.discard', { vm: run.id });
    await engine.client.call('snapshots.delete', { vm: base.id, snapshot: 's0' });
    // A normal VM is not discarded by mistake.
    const notThrowaway = await engine.client.call('disposables.discard', { vm: base.id }).catch((e: unknown) => e);
    expect((notThrowaway as VireoError).code).toBe('INVALID_ARGUMENT');

    await engine.client.call('snapshots.save', { vm: base.id, name: 's1' });
    const copy = await engine.client.call('disposables.create', { from: base.id, snapshot: 's1', ownerPid: process.pid, name: 'from-s1' });
    expect(copy.config!.disposable).toEqual(expect.objectContaining({ base: base.id, linked: false }));
    const info = await new QemuImg(await engine.host.qemuImg()).info(join(copy.dir, copy.config!.disks[0]!.file));
    expect(info.backingFile ?? null).toBeNull();
    await engine.client.call('disposables.discard', { vm: copy.id });
    await engine.client.call('snapshots.delete', { vm: base.id, snapshot: 's1' });
    expectNothingLeft([run.id, copy.id]);
  }, 90_000);

  it('a web caller may make a throwaway VM but not tie it to a host process (it has none to name)', async () => {
    const err = await engine.handlers['disposables.create']({ from: base.id, ownerPid: process.pid }, webCaller()).catch((e: unknown) => e);
    expect((err as VireoError).code).toBe('PERMISSION_DENIED');
    expectNothingLeft([]);
    const kept = await engine.handlers['disposables.create']({ from: base.id, name: 'web-run' }, webCaller());
    expect(kept.config!.disposable!.owner).toBeNull();
    await engine.handlers['disposables.discard']({ vm: kept.id }, webCaller());
    expectNothingLeft([kept.id]);
  }, 60_000);
});

describe('vireo run', () => {
  it("--rm --from base -- sh -c 'uname -a; exit 3' prints the guest's uname, exits 3 and leaves no VM, folder or QEMU", async () => {
    const before = baseDiskHash();
    const known = new Set(seen);
    const r = await vireo(['run', '--rm', '--from', 'base', '--', 'sh', '-c', 'uname -a; echo to-stderr >&2; exit 3']);
    expect(r.stderr).toContain('to-stderr');
    expect(r.code, r.stderr).toBe(3);
    // The guest's kernel (the netboot 6.1), not this host's.
    expect(r.stdout).toMatch(/^Linux \S+ 6\.1\.\S+ .*\n$/);
    const ran = [...seen].filter((id) => !known.has(id));
    expect(ran).toHaveLength(1);
    expectNothingLeft(ran);
    expect(baseDiskHash()).toBe(before);
  }, 240_000);

  it('Ctrl+C (SIGINT to the CLI) mid-command deletes the run: exit 130, no VM, folder or QEMU', async () => {
    const known = new Set(seen);
    let cliPid = 0;
    const agentUp = runWithAgent();
    const done = vireo(['run', '--rm', '--from', 'base', '--', 'sleep', '600'], (pid) => (cliPid = pid));
    const id = await agentUp;
    // The command is in flight once the guest runs `sleep` (the agent's exec has started it).
    await expect.poll(async () => (await engine.client.call('agent.exec', { vm: id, path: 'pidof', args: ['sleep'] })).exitCode, { timeout: 60_000, interval: 500 }).toBe(0);
    expect(qemuPidsFor([id])).toHaveLength(1);
    process.kill(cliPid, 'SIGINT');
    const r = await done;
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toContain('SIGINT: deleting the throwaway VM');
    expect([...seen].filter((x) => !known.has(x))).toEqual([id]);
    expectNothingLeft([id]);
  }, 240_000);

  it('an unknown base is refused (exit 1) and leaves nothing', async () => {
    const r = await vireo(['run', '--rm', '--from', 'no-such-vm', '--', 'true']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no VM named or with id "no-such-vm"');
    expectNothingLeft([]);
  }, 60_000);
});

describe('a kept run: vireo wait and vireo ssh on it', () => {
  let kept: VmDetails;
  const exec = (cmd: string) => engine.client.call('agent.exec', { vm: kept.id, path: 'sh', args: ['-c', cmd] });

  beforeAll(async () => {
    // Without --rm the VM stays, and its name is printed.
    const r = await vireo(['run', '--from', 'base', '--name', 'kept', '--', 'sh', '-c', 'netup eth0 >/dev/null 2>&1; echo up']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('up\n');
    expect(r.stderr).toContain('kept kept: delete it with `vireo delete kept`');
    kept = await engine.client.call('vms.get', { vm: 'kept' });
    expect(kept.state).toBe('running');
    expect(kept.config!.disposable).toEqual(expect.objectContaining({ owner: null, base: base.id }));
  }, 240_000);

  afterAll(async () => {
    if (kept) await engine.client.call('disposables.discard', { vm: kept.id }).catch(() => {});
  }, 60_000);

  it('--for running, agent and ip are met at once (exit 0, --json)', async () => {
    for (const c of ['running', 'agent', 'ip']) {
      const r = await vireo(['wait', 'kept', '--for', c, '--timeout', '90', '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual(expect.objectContaining({ met: true, for: c }));
    }
    expect(JSON.parse((await vireo(['wait', 'kept', '--for', 'ip', '--json'])).stdout).detail).toBe('10.0.2.15');
  }, 120_000);

  it('--for port:8080 times out (124) while nothing listens behind the forward, and is met (0) once the guest httpd runs', async () => {
    // slirp accepts on the host port even then; the guest's refusal must not count as met.
    const early = await vireo(['wait', 'kept', '--for', 'port:8080', '--timeout', '4']);
    expect(early.code, early.stderr).toBe(124);
    expect(early.stderr).toContain('port:8080: not met within 4 s');
    const waiting = vireo(['wait', 'kept', '--for', 'port:8080', '--timeout', '90']);
    expect((await exec('httpserve 8080 >/dev/null 2>&1; echo started')).stdout).toBe('started\n');
    const r = await waiting;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`127.0.0.1:${httpPort} → guest 8080`);
    // No forward for the port: an error (1) naming the command that adds one.
    const none = await vireo(['wait', 'kept', '--for', 'port:9999', '--timeout', '5']);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('vireo net forward add kept tcp:127.0.0.1:9999:9999');
  }, 180_000);

  it('--for serial:REGEX is met (0) by serial output after it starts, not by older output unless --whole-log; times out with 124', async () => {
    await exec('echo H1-OLD-MARK > /dev/ttyS0');
    await expect.poll(() => readFileSync(kept.paths.serialLog, 'latin1').includes('H1-OLD-MARK'), { timeout: 30_000 }).toBe(true);
    const old = await vireo(['wait', 'kept', '--for', 'serial:H1-OLD-MARK', '--timeout', '2']);
    expect(old.code, old.stderr).toBe(124);
    const whole = await vireo(['wait', 'kept', '--for', 'serial:H1-OLD-MARK', '--whole-log', '--timeout', '10']);
    expect(whole.code, whole.stderr).toBe(0);

    // Printed once the wait has taken the log's size: output from then on counts.
    let started: () => void;
    const waitingSaid = new Promise<void>((r) => (started = r));
    const waiting = vireo(['wait', 'kept', '--for', 'serial:H1-NEW-[0-9]+', '--timeout', '60', '--json'], undefined, (err) => err.includes('vireo: waiting for serial:') && started());
    await waitingSaid;
    await exec('echo H1-NEW-42 > /dev/ttyS0');
    const r = await waiting;
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(expect.objectContaining({ met: true, detail: 'H1-NEW-42' }));

    const bad = await vireo(['wait', 'kept', '--for', 'serial:(', '--timeout', '2']);
    expect(bad.code).toBe(2);
  }, 120_000);

  it('vireo ssh: says how to add the forward when there is none; with one, runs ssh on its host port with the VM\'s own known_hosts', async () => {
    const none = await vireo(['ssh', 'kept']);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('vireo net forward add kept tcp:127.0.0.1:2222:22');
    const port = await freePort();
    await engine.client.call('forwards.add', { vm: kept.id, forward: { hostPort: port, guestPort: 22 } });
    // ssh -G prints the configuration it would connect with, and exits: the real ssh's view of our argv.
    const r = await vireo(['ssh', 'kept', '--', '-G']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`\nport ${port}\n`);
    expect(r.stdout).toContain('\nhostname 127.0.0.1\n');
    expect(r.stdout).toContain(`userknownhostsfile ${join(kept.dir, 'ssh_known_hosts')}`);
  }, 60_000);
});
