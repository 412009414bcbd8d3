import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Engine } from '../../electron/engine/index.ts';
import type { AgentInfo, VmDetails } from '../../electron/api/types.ts';
import { VireoError } from '../../electron/api/errors.ts';
import { SerialShell, directBootArgs, waitForSerialText } from '../fixtures/guest.ts';
import { createGuestVm, disposeEngine, qemuPidsFor, serialSocketOf, tempEngine, waitForReady, waitForState } from './helpers.ts';
import { runVireo } from './cli-helpers.ts';

// The guest agent against the real qemu-ga in the test guest (rc.d/70-agent.sh), one guest
// booted straight into its kernel and shared by the file in order: connect, show, exec, cp,
// freeze around a live snapshot, the clock after pause and restore, a reboot, and last a
// shutdown of a guest that ignores the power button.

let engine: Engine;
let vm: VmDetails;
let sh: SerialShell;
let files: string;

const agentOf = async () => (await engine.client.call('vms.get', { vm: vm.id })).runtime.agent;

/** Resolves with the agent info once `ok` holds for it (watching vm.changed, not sleeping). */
function agentBecomes(ok: (a: AgentInfo) => boolean, timeoutMs = 90_000): Promise<AgentInfo> {
  return new Promise((resolve, reject) => {
    let done = false;
    const check = async () => {
      const a = await agentOf();
      if (!done && ok(a)) {
        done = true;
        clearTimeout(timer);
        off();
        resolve(a);
      }
    };
    const timer = setTimeout(async () => {
      off();
      reject(new Error(`agent did not reach the expected state within ${timeoutMs} ms: ${JSON.stringify(await agentOf())}`));
    }, timeoutMs);
    const off = engine.bus.on('vm.changed', (e) => e.id === vm.id && void check());
    void check();
  });
}

const guestEpoch = async () => Number((await engine.client.call('agent.exec', { vm: vm.id, path: 'date', args: ['+%s'] })).stdout.trim());

beforeAll(async () => {
  engine = await tempEngine();
  files = mkdtempSync(join(tmpdir(), 'vireo-agent-files-'));
  const created = await createGuestVm(engine, 'agent', { iso: null, disk: '32M', memory: '256M' });
  await engine.client.call('vms.update', { vm: created.id, patch: { advanced: { extraArgs: await directBootArgs() } } });
  vm = await engine.client.call('vms.start', { vm: created.id });
  await waitForReady(vm, 120_000);
  sh = await SerialShell.connect(serialSocketOf(engine, vm));
}, 180_000);

afterAll(async () => {
  sh?.close();
  await disposeEngine(engine);
  rmSync(files, { recursive: true, force: true });
  expect(qemuPidsFor([vm.id])).toEqual([]);
}, 60_000);

describe('guest agent', () => {
  it('connects on boot: vms.get shows its version, the guest kernel and the NIC with its MAC', async () => {
    const a = await agentBecomes((x) => x.state === 'connected');
    expect(a.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(a.os?.kernel).toMatch(/^6\.1\./);
    const mac = vm.config!.networks[0]!.mac.toLowerCase();
    expect(a.addresses.map((i) => i.mac)).toContain(mac);
    expect(a.addresses.find((i) => i.mac === mac)).toEqual(expect.objectContaining({ interface: expect.any(String), ipv4: expect.any(Array), ipv6: expect.any(Array) }));
  }, 120_000);

  it('vireo show --json carries the same agent state', async () => {
    const r = await runVireo(engine.home, ['show', vm.id, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const shown = JSON.parse(r.stdout) as VmDetails;
    expect(shown.runtime.agent.state).toBe('connected');
    expect(shown.runtime.agent.version).toBe((await agentOf()).version);
  }, 60_000);

  it('vireo exec returns stdout, stderr and the exit code, a failing command too, and exits with it', async () => {
    const ok = await runVireo(engine.home, ['exec', vm.id, '--', 'sh', '-c', 'echo hello from $(uname -s); echo warn >&2']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toBe('hello from Linux\n');
    expect(ok.stderr).toBe('warn\n');
    const failing = await runVireo(engine.home, ['exec', vm.id, '--json', '--', 'sh', '-c', 'echo partial; exit 7']);
    expect(failing.code).toBe(7);
    expect(JSON.parse(failing.stdout)).toEqual(expect.objectContaining({ exitCode: 7, stdout: 'partial\n', timedOut: false }));
    const missing = await runVireo(engine.home, ['exec', vm.id, '--', '/no/such/program']);
    expect(missing.code).not.toBe(0);
  }, 90_000);

  it('vireo exec --timeout kills a command that runs too long and exits 124 saying so', async () => {
    const r = await runVireo(engine.home, ['exec', vm.id, '--timeout', '2', '--', 'sleep', '300']);
    expect(r.code).toBe(124);
    expect(r.stderr).toMatch(/sleep did not finish within 2 s and was killed/);
    // the guest's sleep is gone
    const ps = await engine.client.call('agent.exec', { vm: vm.id, path: 'sh', args: ['-c', 'ps | grep -c "[s]leep 300"'] });
    expect(ps.stdout.trim()).toBe('0');
  }, 60_000);

  it('vireo cp copies 5 MiB into the guest and back byte-identical, as jobs', async () => {
    const src = join(files, 'in.bin');
    const data = randomBytes(5 * 1024 * 1024);
    writeFileSync(src, data);
    const sha = createHash('sha256').update(data).digest('hex');
    const put = await runVireo(engine.home, ['cp', src, `${vm.id}:/tmp/in.bin`]);
    expect(put.code, put.stderr).toBe(0);
    const inGuest = await engine.client.call('agent.exec', { vm: vm.id, path: 'sha256sum', args: ['/tmp/in.bin'] });
    expect(inGuest.stdout.split(/\s/)[0]).toBe(sha);
    const back = join(files, 'back.bin');
    const get = await runVireo(engine.home, ['cp', `${vm.id}:/tmp/in.bin`, back]);
    expect(get.code, get.stderr).toBe(0);
    expect(createHash('sha256').update(readFileSync(back)).digest('hex')).toBe(sha);
    const jobs = (await engine.client.call('jobs.list', {})).filter((j) => j.kind === 'file-copy' && j.vmId === vm.id);
    expect(jobs.map((j) => [j.state, j.progress])).toEqual([['done', 1], ['done', 1]]);
  }, 180_000);

  it('cp refuses clearly: a missing guest file, a file over the size limit, a VM without a running agent', async () => {
    const missing = await engine.client.call('agent.copyOut', { vm: vm.id, guestPath: '/no/such/file', hostPath: join(files, 'x') }).catch((e: VireoError) => e);
    expect((missing as VireoError).code).toBe('AGENT_ERROR');
    expect((missing as VireoError).message).toMatch(/\/no\/such\/file/);
    const big = join(files, 'big.bin');
    writeFileSync(big, '');
    // sparse: the limit is checked on the size, before a byte moves
    const { truncateSync } = await import('node:fs');
    truncateSync(big, 300 * 1024 * 1024);
    const tooBig = (await engine.client.call('agent.copyIn', { vm: vm.id, hostPath: big, guestPath: '/tmp/big' }).catch((e) => e)) as VireoError;
    expect(tooBig.code).toBe('INVALID_ARGUMENT');
    expect(tooBig.message).toMatch(/at most 256\.0 MiB/);
    const stopped = await createGuestVm(engine, 'agent-stopped', { iso: null, disk: '16M' });
    const r = await runVireo(engine.home, ['cp', join(files, 'in.bin'), `${stopped.id}:/tmp/x`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no guest agent answering \(the VM is not running\)/);
  }, 60_000);

  it('a live snapshot freezes and thaws the mounted file system, records it, and the guest keeps working', async () => {
    // A freezable file system of this test's own: an ext2 file system on the VM's disk, mounted by the ext4 driver (tmpfs is not frozen).
    const mk = await engine.client.call('agent.exec', { vm: vm.id, path: 'sh', args: ['-c', 'modprobe -a ext4 crc32c_generic && d=$(vireo-disk) && mke2fs -q -F $d && mkdir -p /mnt/a && mount -t ext4 $d /mnt/a && echo before >/mnt/a/f'] });
    expect(mk.exitCode, mk.stderr).toBe(0);
    const tree = await engine.client.call('snapshots.save', { vm: vm.id, name: 'frozen' });
    const node = tree.nodes.find((n) => n.name === 'frozen')!;
    expect(node.quiesce).toEqual({ status: 'frozen', filesystems: 1, message: null });
    // thawed: the guest writes to that file system again, and its shell still answers
    const after = await engine.client.call('agent.exec', { vm: vm.id, path: 'sh', args: ['-c', 'echo after >>/mnt/a/f && sync && cat /mnt/a/f'], timeoutSec: 30 });
    expect(after.stdout).toBe('before\nafter\n');
    expect(await sh.run('counter', 20_000)).toMatch(/COUNTER \d+/);
    // and it stays on the tree the API gives out
    expect((await engine.client.call('snapshots.list', { vm: vm.id })).nodes.find((n) => n.id === node.id)?.quiesce?.status).toBe('frozen');
    // a paused guest's agent cannot answer: recorded as such, not as frozen
    await engine.client.call('vms.pause', { vm: vm.id });
    const paused = (await engine.client.call('snapshots.save', { vm: vm.id, name: 'paused' })).nodes.find((n) => n.name === 'paused')!;
    await engine.client.call('vms.resume', { vm: vm.id });
    expect(paused.quiesce).toEqual({ status: 'unavailable', filesystems: null, message: expect.stringMatching(/paused/) });
  }, 180_000);

  it('sets the guest clock after a resume from pause and after a snapshot restore', async () => {
    await engine.client.call('vms.pause', { vm: vm.id });
    await new Promise((r) => setTimeout(r, 12_000)); // the time the guest's clock stands still
    await engine.client.call('vms.resume', { vm: vm.id });
    await expect.poll(async () => Math.abs((await guestEpoch()) - Date.now() / 1000), { timeout: 20_000, interval: 1000 }).toBeLessThan(5);
    // The snapshot was taken minutes ago (the tests above): restoring brings its clock back.
    const node = (await engine.client.call('snapshots.list', { vm: vm.id })).nodes.find((n) => n.name === 'frozen')!;
    expect(Date.now() - Date.parse(node.createdAt)).toBeGreaterThan(10_000);
    await engine.client.call('snapshots.restore', { vm: vm.id, snapshot: node.id });
    await expect.poll(async () => Math.abs((await guestEpoch().catch(() => 0)) - Date.now() / 1000), { timeout: 30_000, interval: 1000 }).toBeLessThan(5);
    // The snapshot was taken frozen; the restored guest is thawed: it writes to that file system.
    const w = await engine.client.call('agent.exec', { vm: vm.id, path: 'sh', args: ['-c', 'echo restored >>/mnt/a/f && sync && cat /mnt/a/f'], timeoutSec: 30 });
    expect(w.stdout).toBe('before\nrestored\n');
  }, 180_000);

  it('reconnects after a guest reboot', async () => {
    const before = await agentBecomes((a) => a.state === 'connected');
    const serial = readFileSync(vm.paths.serialLog, 'utf8');
    const boots = (serial.match(/VIREO-GUEST-BOOT/g) ?? []).length;
    await engine.client.call('vms.sendKeys', { vm: vm.id, keys: ['ctrl', 'alt', 'delete'] });
    await agentBecomes((a) => a.state === 'absent');
    await waitForSerialText(vm.paths.serialLog, new RegExp(`(?:[\\s\\S]*?VIREO-GUEST-READY){${boots + 1}}`), 120_000);
    const again = await agentBecomes((a) => a.state === 'connected' && a.since !== before.since, 90_000);
    expect(again.version).toBe(before.version);
    expect((await engine.client.call('agent.exec', { vm: vm.id, path: 'echo', args: ['back'] })).stdout).toBe('back\n');
  }, 240_000);

  it('shuts down a guest that ignores ACPI through the agent', async () => {
    sh.close();
    sh = await SerialShell.connect(serialSocketOf(engine, await engine.client.call('vms.get', { vm: vm.id })));
    await sh.run('killall acpid; echo acpid-gone', 20_000);
    await agentBecomes((a) => a.state === 'connected');
    const stopped = waitForState(engine, vm.id, 'stopped', 120_000);
    await engine.client.call('vms.stop', { vm: vm.id, timeoutSec: 45 });
    await stopped;
    const serial = readFileSync(vm.paths.serialLog, 'utf8');
    expect(serial).toContain('VIREO-GUEST-AGENT-SHUTDOWN poweroff');
    expect(serial).not.toContain('VIREO-GUEST-POWEROFF');
    // ended by the guest (a clean exit, no crash)
    expect((await engine.client.call('vms.get', { vm: vm.id })).crash).toBeNull();
  }, 180_000);
});
