import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Engine } from '../../electron/engine/index.ts';
import type { VmDetails } from '../../electron/api/types.ts';
import { directBootArgs } from '../fixtures/guest.ts';
import { createGuestVm, disposeEngine, qemuPidsFor, tempEngine } from './helpers.ts';
import { CLI_MAIN, TSX } from './cli-helpers.ts';
import { freePort } from './net-helpers.ts';

// A VM file as a CI script uses it: `vireo up` of two test-guest VMs made from one base booted
// straight into the test kernel (a throwaway and a linked clone, 160-176 MiB), provisioning through the real qemu-ga,
// `vireo status --json`, a second `up` that creates nothing, `vireo down` removing the
// disposable one. The `vireo` commands run as their own processes and reach this test's
// engine (the library's owner) over its socket. One pair of guests for the whole file.

let engine: Engine;
let base: VmDetails;
let dir: string;
let port: number;
const ids: string[] = [];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `vireo --home H …` in the file's folder; longer than runVireo's 120 s: two TCG boots under load. */
function vireo(args: string[], cwd = dir): Promise<Run> {
  return new Promise((resolve) => {
    const c = spawn(TSX, [CLI_MAIN, '--home', engine.home, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], timeout: 480_000 });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => (stderr += d));
    c.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}


const names = () => engine.vms.list().map((v) => v.name).sort();
const byName = (n: string) => engine.vms.list().find((v) => v.name === n);

beforeAll(async () => {
  engine = await tempEngine();
  dir = mkdtempSync(join(tmpdir(), 'vireo-vmfile-'));
  port = await freePort();
  base = await createGuestVm(engine, 'base', { iso: null, disk: '32M', memory: '160M' });
  await engine.client.call('vms.update', { vm: base.id, patch: { advanced: { extraArgs: await directBootArgs() } } });
  mkdirSync(join(dir, 'shared'));
  writeFileSync(join(dir, 'shared', 'marker.txt'), 'shared from the host\n');
  writeFileSync(join(dir, 'vireo.yaml'), `# two test guests from one base
project: it
vms:
  one:
    base: { vm: base }
    memory: 160M
    nics:
      - forwards: ["${port}:80"]
    provision:
      - echo provisioned on $(uname -s)
    disposable: true
  two:
    base: { vm: base }
    cpus: 1
    memory: 176M
    disk: 48M
    shares:
      - { path: ./shared, tag: src, readOnly: true }
    provision:
      - mkdir -p /mnt/src && mount -t 9p -o trans=virtio,version=9p2000.L,ro src /mnt/src && cat /mnt/src/marker.txt
      - [sh, -c, "echo broken >&2; exit 5"]
      - echo never runs
`);
}, 120_000);

afterAll(async () => {
  for (const v of engine?.vms.list() ?? []) if (v.name !== 'base') ids.push(v.id);
  await disposeEngine(engine);
  rmSync(dir, { recursive: true, force: true });
  expect(qemuPidsFor(ids)).toEqual([]);
}, 120_000);

describe('vireo up / status / down of a VM file', () => {
  it('a malformed file is refused naming its line and field, and creates nothing; a missing file and a bad --parallel too', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'vms:\n  web:\n    base: { vm: base }\n    memory: lots\n');
    const r = await vireo(['up', '-f', bad, '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stderr)).toEqual({ code: 'INVALID_ARGUMENT', message: 'bad.yaml:4 vms.web.memory: expected a size like 512M or 2G' });
    // no such file: NOT_FOUND naming where it looked; a bad --parallel: usage (2)
    const missing = await vireo(['status', '-f', join(dir, 'nope.yaml'), '--json']);
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stderr)).toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining(join(dir, 'nope.yaml')) });
    const usage = await vireo(['up', '--parallel', '0']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--parallel.*"0" is not a whole number of at least 1/);
    expect(names()).toEqual(['base']);
  }, 90_000);

  it('up creates and starts both, runs provisioning in order, stops at the failing command and exits with its code', async () => {
    const r = await vireo(['up', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(5);
    const out = JSON.parse(r.stdout) as { project: string; vms: Array<{ vm: string; name: string; action: string; provisioned: Array<{ command: string; exitCode: number; stdout: string; stderr: string }>; failedStep: { exitCode: number } | null; error: unknown }> };
    expect(out.project).toBe('it');
    const [one, two] = out.vms;
    expect(one).toMatchObject({ vm: 'one', name: 'it-one', action: 'created', error: null, failedStep: null });
    expect(one!.provisioned).toEqual([{ command: 'echo provisioned on $(uname -s)', exitCode: 0, stdout: 'provisioned on Linux\n', stderr: '', timedOut: false }]);
    expect(two).toMatchObject({ vm: 'two', name: 'it-two', action: 'created', error: null, failedStep: { exitCode: 5, stderr: 'broken\n' } });
    // the third command never ran
    // the first command read the file's shared folder (a path relative to the file) in the guest
    expect(two!.provisioned.map((s) => [s.exitCode, s.stdout])).toEqual([[0, 'shared from the host\n'], [5, '']]);
    expect(two!.provisioned[1]!.command).toBe('sh -c echo broken >&2; exit 5');
    expect(names()).toEqual(['base', 'it-one', 'it-two']);
    expect(byName('it-one')!.state).toBe('running');
    expect(byName('it-two')!.state).toBe('running');
    // the file's resources reached the VMs' configs; the disposable one is a marked throwaway
    // on the base, the kept one a linked clone
    const twoCfg = (await engine.client.call('vms.get', { vm: 'it-two' })).config!;
    expect(twoCfg.system).toMatchObject({ cpus: 1, memoryMiB: 176 });
    expect(twoCfg.disposable).toBeNull();
    expect(twoCfg.shares).toEqual([{ tag: 'src', path: join(dir, 'shared'), readOnly: true, type: '9p' }]);
    const twoDisk = (await engine.client.call('vms.get', { vm: 'it-two' })).disks[0]!;
    expect(twoDisk.virtualSize).toBe(48 * 1024 ** 2);
    const oneCfg = (await engine.client.call('vms.get', { vm: 'it-one' })).config!;
    expect(oneCfg.system.memoryMiB).toBe(160);
    expect(oneCfg.disposable).toMatchObject({ owner: null, base: base.id, linked: true });
  }, 500_000);

  it('status --json lists both with state, addresses and forwards', async () => {
    const r = await vireo(['status', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as { vms: Array<{ vm: string; name: string; state: string; disposable: boolean; addresses: Array<{ nic: string; mac: string }>; forwards: Array<{ nic: string; hostPort: number; guestPort: number }> }> };
    expect(s.vms.map((v) => [v.vm, v.name, v.state, v.disposable])).toEqual([['one', 'it-one', 'running', true], ['two', 'it-two', 'running', false]]);
    expect(s.vms[0]!.forwards).toEqual([{ nic: 'net0', protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: port, guestPort: 80 }]);
    expect(s.vms[1]!.forwards).toEqual([]);
    const oneMac = (await engine.client.call('vms.get', { vm: 'it-one' })).config!.networks[0]!.mac;
    expect(s.vms[0]!.addresses.map((a) => [a.nic, a.mac])).toEqual([['net0', oneMac]]);
    const human = await vireo(['status']);
    expect(human.stdout).toMatch(new RegExp(`one\\s+it-one\\s+running \\(disposable\\).*127\\.0\\.0\\.1:${port}->80`));
  }, 60_000);

  it('a second up creates nothing: what runs stays, what was stopped is started, nothing is provisioned again', async () => {
    await engine.client.call('vms.stop', { vm: 'it-two', force: true });
    const idsBefore = engine.vms.list().map((v) => v.id).sort();
    const r = await vireo(['up', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { vms: Array<{ vm: string; action: string; provisioned: unknown[] }> };
    expect(out.vms.map((v) => [v.vm, v.action, v.provisioned.length])).toEqual([['one', 'running', 0], ['two', 'started', 0]]);
    expect(engine.vms.list().map((v) => v.id).sort()).toEqual(idsBefore);
    expect(byName('it-two')!.state).toBe('running');
  }, 300_000);

  it('down stops both and removes the disposable one: VM, folder and QEMU gone; the other is kept, stopped', async () => {
    const one = await engine.client.call('vms.get', { vm: 'it-one' });
    const two = byName('it-two')!;
    ids.push(one.id, two.id);
    const r = await vireo(['down', '--json', '--timeout', '60']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { vms: Array<{ vm: string; action: string }> };
    expect(out.vms.map((v) => [v.vm, v.action])).toEqual([['one', 'removed'], ['two', 'stopped']]);
    expect(names()).toEqual(['base', 'it-two']);
    expect(byName('it-two')!.state).toBe('stopped');
    expect(existsSync(one.dir)).toBe(false);
    expect(qemuPidsFor([one.id, two.id])).toEqual([]);
    const s = JSON.parse((await vireo(['status', '--json'])).stdout) as { vms: Array<{ vm: string; state: string }> };
    expect(s.vms.map((v) => [v.vm, v.state])).toEqual([['one', 'absent'], ['two', 'stopped']]);
    // a second down has nothing left to do and says so
    const again = JSON.parse((await vireo(['down', '--json'])).stdout) as { vms: Array<{ vm: string; action: string }> };
    expect(again.vms.map((v) => [v.vm, v.action])).toEqual([['one', 'absent'], ['two', 'already stopped']]);
  }, 200_000);

  it('a VM from a snapshot of its base: up makes a linked clone of that snapshot (the base keeps its tree) and starts it', async () => {
    const snap = (await engine.client.call('snapshots.save', { vm: base.id, name: 'clean' })).nodes.find((n) => n.name === 'clean')!;
    // After the snapshot: the base moves on; the clone must start from "clean", not from this.
    await engine.client.call('snapshots.save', { vm: base.id, name: 'later' });
    const file = join(dir, 'snap.yaml');
    writeFileSync(file, 'project: snap\nvms:\n  three:\n    base: { vm: base, snapshot: clean }\n    memory: 160M\n');
    const r = await vireo(['up', '-f', file, '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { vms: Array<{ vm: string; name: string; action: string }> }).vms.map((v) => [v.vm, v.name, v.action])).toEqual([['three', 'snap-three', 'created']]);
    const three = await engine.client.call('vms.get', { vm: 'snap-three' });
    ids.push(three.id);
    expect(three.state).toBe('running');
    expect(three.clones?.linkedTo).toMatchObject({ vmId: base.id, snapshot: snap.name });
    expect((await engine.client.call('snapshots.list', { vm: base.id })).nodes.map((n) => n.name)).toEqual(['clean', 'later']);
    const down = await vireo(['down', '-f', file, '--json', '--timeout', '30']);
    expect(down.code, down.stderr).toBe(0);
    expect(byName('snap-three')!.state).toBe('stopped');
  }, 300_000);
});
