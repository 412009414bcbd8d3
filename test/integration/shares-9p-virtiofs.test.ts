import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Engine } from '../../electron/engine/index.ts';
import { webCaller } from '../../electron/engine/policy/confine.ts';
import type { SharesList, VmDetails } from '../../electron/api/types.ts';
import { runVireo } from './cli-helpers.ts';
import { createGuestVm, disposeEngine, serialSocketOf, tempEngine, waitForReady } from './helpers.ts';
import { directBootArgs, SerialShell } from '../fixtures/guest.ts';

// Acceptance 5 of issue 15: one real guest with three shares, booted once (direct kernel).
// 9p: the guest reads a host file and writes one the host sees, owned by the user running
// QEMU even after the guest chowns it; a read-only share refuses writes. virtiofs: as root a
// virtiofsd runs per share and the guest reads and writes through it; otherwise the
// availability reason is asserted. The mount commands used are the ones Vireo shows.

let engine: Engine;
let vm: VmDetails;
let shell: SerialShell;
let list: SharesList;
const dirs: string[] = [];
const mk = (p: string) => {
  const d = mkdtempSync(join(tmpdir(), p));
  dirs.push(d);
  return d;
};
let rw: string, ro: string, vfs: string;
let virtiofsOk = false;

/** Runs a shell line in the guest and returns its output plus the exit status. */
async function sh(cmd: string, ms = 60_000): Promise<{ out: string; rc: number }> {
  const text = await shell.run(`${cmd}; echo "rc=$?"`, ms);
  const m = /rc=(\d+)\s*$/.exec(text);
  return { out: text.replace(/rc=\d+\s*$/, '').trim(), rc: m ? Number(m[1]) : -1 };
}
const hint = (tag: string) => list.shares.find((s) => s.tag === tag)!.mount.commands.join(' && ');

beforeAll(async () => {
  engine = await tempEngine();
  rw = mk('vireo-share-rw,');
  ro = mk('vireo-share-ro-');
  vfs = mk('vireo-share-vfs-');
  writeFileSync(join(rw, 'from-host.txt'), 'hello from the host\n');
  writeFileSync(join(ro, 'keep.txt'), 'read me\n');
  writeFileSync(join(vfs, 'vfs-host.txt'), 'over virtiofs\n');
  vm = await createGuestVm(engine, 'shares guest');
  await engine.client.call('vms.update', {
    vm: vm.id,
    // A Linux guest: the mount commands shown (and run here) are the Linux ones.
    patch: { os: { id: 'debian12', name: 'Debian 12', family: 'linux' }, advanced: { extraArgs: await directBootArgs() } },
  });
  await engine.client.call('shares.add', { vm: vm.id, path: rw, tag: 'rw9p' });
  list = await engine.client.call('shares.add', { vm: vm.id, path: ro, tag: 'ro9p', readOnly: true });
  virtiofsOk = list.availability.virtiofs.available;
  if (virtiofsOk) list = await engine.client.call('shares.add', { vm: vm.id, path: vfs, tag: 'vfs', type: 'virtiofs' });
  vm = await engine.client.call('vms.start', { vm: vm.id });
  await waitForReady(vm, 240_000);
  shell = await SerialShell.connect(serialSocketOf(engine, vm));
}, 400_000);

afterAll(async () => {
  shell?.close();
  await disposeEngine(engine);
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const qemuUid = () => {
  const status = readFileSync(`/proc/${vm.runtime.pid}/status`, 'utf8');
  return Number(/^Uid:\s+(\d+)/m.exec(status)![1]);
};

describe('9p shares', () => {
  it('the guest reads a host file and writes one the host sees, owned by the QEMU user even after a guest chown', async () => {
    const m = await sh(hint('rw9p'));
    expect(m.rc, m.out).toBe(0);
    expect((await sh('cat /mnt/rw9p/from-host.txt')).out).toBe('hello from the host');
    expect((await sh('echo written in the guest > /mnt/rw9p/from-guest.txt && chown 4321:4321 /mnt/rw9p/from-guest.txt && sync')).rc).toBe(0);
    const host = join(rw, 'from-guest.txt');
    expect(readFileSync(host, 'utf8')).toBe('written in the guest\n');
    // mapped-xattr: the host file stays the QEMU user's; the guest sees the owner it asked for.
    expect(statSync(host).uid).toBe(qemuUid());
    expect(statSync(host).uid).not.toBe(4321);
    expect((await sh('stat -c %u /mnt/rw9p/from-guest.txt')).out).toBe('4321');
  });

  it('a read-only share can be read but refuses writes', async () => {
    expect((await sh(hint('ro9p'))).rc).toBe(0);
    expect((await sh('cat /mnt/ro9p/keep.txt')).out).toBe('read me');
    const w = await sh('echo nope > /mnt/ro9p/new.txt');
    expect(w.rc).not.toBe(0);
    expect(w.out).toMatch(/Read-only file system/);
    expect(existsSync(join(ro, 'new.txt'))).toBe(false);
  });
});

describe('virtiofs shares', () => {
  it('reads and writes through a virtiofsd started with the VM (or says why it cannot run here)', async () => {
    if (!virtiofsOk) {
      // Not root with the C virtiofsd, or none installed: the reason names the way out.
      expect(list.availability.virtiofs.reason).toMatch(/root|virtiofsd|Linux/);
      await expect(engine.client.call('shares.add', { vm: vm.id, path: vfs, type: 'virtiofs' })).rejects.toMatchObject({ code: 'UNSUPPORTED' });
      return;
    }
    const rt = engine.vms.resolve(vm.id).paths.runtime;
    expect(readdirSync(rt)).toContain('vfs2.sock');
    const pid = Number(readFileSync(join(rt, 'vfs2.pid'), 'utf8'));
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toContain(`source=${vfs}`);
    const m = await sh(hint('vfs'));
    expect(m.rc, m.out).toBe(0);
    expect((await sh('grep -c " /mnt/vfs virtiofs " /proc/mounts')).out).toBe('1');
    expect((await sh('cat /mnt/vfs/vfs-host.txt')).out).toBe('over virtiofs');
    expect((await sh('echo back > /mnt/vfs/vfs-guest.txt && sync')).rc).toBe(0);
    expect(readFileSync(join(vfs, 'vfs-guest.txt'), 'utf8')).toBe('back\n');
  });

  it('snapshot availability says a running VM with a virtiofs share cannot be live-snapshotted, and QEMU agrees', async () => {
    if (!virtiofsOk) return;
    const d = await engine.client.call('vms.get', { vm: vm.id });
    expect(d.snapshots.available).toBe(false);
    expect(d.snapshots.reason).toMatch(/"vfs" is virtiofs: QEMU cannot save/);
    expect(d.shares?.shares.map((s) => [s.tag, s.type, s.available])).toEqual([['rw9p', '9p', true], ['ro9p', '9p', true], ['vfs', 'virtiofs', true]]);
    await expect(engine.client.call('snapshots.save', { vm: vm.id, name: 'live' })).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    // The engine's refusal matches QEMU's own: asked directly, QEMU blocks the device's state.
    const m = engine.vms.machineFor(engine.vms.resolve(vm.id));
    const out = await m.monitor('test').execute<string>('human-monitor-command', { 'command-line': 'savevm probe' });
    expect(out).toMatch(/non-migratable device.*vhost-user-fs/);
  });
});

describe('mounting through the guest agent', () => {
  it('shares.mount runs the shown mount in the guest, and `vireo share` lists and mounts with --json', async () => {
    // qemu-ga starts with the guest; give it time to answer under TCG.
    const end = Date.now() + 120_000;
    while ((await engine.client.call('vms.get', { vm: vm.id })).runtime.agent.state !== 'connected') {
      if (Date.now() > end) throw new Error('the guest agent did not connect');
      await new Promise((r) => setTimeout(r, 500));
    }
    // A virtio 9p channel serves one mount: free it from the serial-shell mount first.
    expect((await sh('umount /mnt/rw9p')).rc).toBe(0);
    const r = await engine.client.call('shares.mount', { vm: vm.id, tag: 'rw9p', mountPoint: '/mnt/via-agent' });
    expect(r.results).toMatchObject([{ tag: 'rw9p', mountPoint: '/mnt/via-agent', exitCode: 0 }]);
    expect((await sh('cat /mnt/via-agent/from-host.txt')).out).toBe('hello from the host');

    const ls = await runVireo(engine.home, ['share', 'ls', vm.id, '--json']);
    expect(ls.code, ls.stderr).toBe(0);
    const listed = JSON.parse(ls.stdout) as SharesList;
    expect(listed.shares.find((s) => s.tag === 'ro9p')?.mount.commands[1]).toBe('mount -t 9p -o trans=virtio,version=9p2000.L,msize=524288,ro ro9p /mnt/ro9p');
    // The channel is busy now, so the guest's mount fails: its message comes back, exit 1.
    const again = await runVireo(engine.home, ['share', 'mount', vm.id, 'rw9p', '--json']);
    expect(again.code, again.stderr).toBe(1);
    const res = JSON.parse(again.stdout).results[0];
    expect(res).toMatchObject({ tag: 'rw9p', mountPoint: '/mnt/rw9p', argv: ['mount', '-t', '9p', '-o', 'trans=virtio,version=9p2000.L,msize=524288', 'rw9p', '/mnt/rw9p'] });
    expect(res.exitCode).not.toBe(0);
    expect(res.stderr).toMatch(/mount/);
    // A mount point that cannot be made: mkdir's failure comes back.
    const fails = await engine.client.call('shares.mount', { vm: vm.id, tag: 'rw9p', mountPoint: '/proc/version/x' });
    expect(fails.results[0]).toMatchObject({ argv: ['mkdir', '-p', '/proc/version/x'] });
    expect(fails.results[0]!.exitCode).not.toBe(0);
    const bad = await runVireo(engine.home, ['share', 'add', vm.id, rw, '--type', 'nfs']);
    expect(bad.code).toBe(2);
  });
});

describe('share settings', () => {
  it('refuses changes while running, an unknown tag, a file instead of a folder, and a web caller outside its roots', async () => {
    await expect(engine.client.call('shares.remove', { vm: vm.id, tag: 'rw9p' })).rejects.toMatchObject({ code: 'INVALID_STATE' });
    await expect(engine.client.call('shares.remove', { vm: vm.id, tag: 'nope' })).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringMatching(/its tags: rw9p, ro9p/) });
    await expect(engine.client.call('shares.add', { vm: vm.id, path: join(rw, 'from-host.txt') })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const web = webCaller({ media: [ro] });
    await expect(engine.handlers['shares.add']({ vm: vm.id, path: '/etc' }, web)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('stops every virtiofsd with the VM and leaves no socket behind', async () => {
    await engine.client.call('vms.stop', { vm: vm.id, force: true });
    const rt = engine.vms.resolve(vm.id).paths.runtime;
    const left = existsSync(rt) ? readdirSync(rt).filter((f) => f.startsWith('vfs')) : [];
    expect(left).toEqual([]);
    const strays = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(vfs);
      } catch {
        return false;
      }
    });
    expect(strays).toEqual([]);
    // Stopped, settings change again; a web caller's vms.update is confined like shares.add.
    const web = webCaller({ media: [ro] });
    await expect(engine.handlers['vms.update']({ vm: vm.id, patch: { shares: [{ tag: 'x', path: '/etc' }] } }, web)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    // Not the library either: a guest writing there could change any VM's vm.json.
    await expect(engine.handlers['shares.add']({ vm: vm.id, path: engine.home }, web)).rejects.toMatchObject({ code: 'UNAUTHORIZED', message: expect.stringMatching(/Vireo library/) });
    const after = await engine.client.call('shares.remove', { vm: vm.id, tag: 'ro9p' });
    expect(after.shares.map((s) => s.tag)).not.toContain('ro9p');
  });
});
