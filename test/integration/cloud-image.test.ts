import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Engine } from '../../electron/engine/index.ts';
import type { VmDetails } from '../../electron/api/types.ts';
import { VireoError } from '../../electron/api/errors.ts';
import { run } from '../../electron/engine/util/proc.ts';
import { sha512Crypt } from '../../electron/engine/cloud/sha-crypt.ts';
import { ensureFixtures, waitForSerialText } from '../fixtures/guest.ts';
import { disposeEngine, qemuPidsFor, tempEngine, waitForState } from './helpers.ts';

// Issue 17, acceptance 2: a VM made from a cloud image (test/fixtures/cloud-image.sh: the test
// kernel + initramfs on a SYSLINUX disk, booted from that disk, no -kernel) reads the engine's
// NoCloud seed: the guest's cloud-lite (rc.d/80-cloud.sh) prints what it applied on ttyS0.
// One VM, booted twice: once as created, once after a settings change rewrote the seed.

const fixtures = join(fileURLToPath(new URL('.', import.meta.url)), '..', 'fixtures');
const image = join(fixtures, '.cache', 'cloud', 'cloudguest.qcow2');
const USER_DATA = [
  '#cloud-config',
  'write_files:',
  '  - path: /run/greeting',
  '    content: hi-from-write-files',
  'runcmd:',
  '  - echo USERDATA-RAN $(hostname) $(cat /run/greeting)',
  '',
].join('\n');

let engine: Engine;
let vm: VmDetails;
let imageHash: string;
const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');

beforeAll(async () => {
  await ensureFixtures();
  await run('bash', [join(fixtures, 'cloud-image.sh')], { timeoutMs: 5 * 60_000 });
  imageHash = sha(image);
  engine = await tempEngine();
  vm = await engine.client.call('vms.create', {
    name: 'Cloud Fixture',
    memory: '256M',
    cpus: 1,
    disk: '64M',
    cloud: { image, user: 'tester', password: 'correct horse', hostname: 'cloud-fixture', userData: USER_DATA },
  });
}, 300_000);

afterAll(async () => {
  const id = vm?.id;
  await disposeEngine(engine);
  if (id) expect(qemuPidsFor([id])).toEqual([]);
});

describe('a VM from a cloud image', () => {
  it('copies the image into the VM (the user file untouched), grows it to the asked size, keeps only a password hash', async () => {
    expect(sha(image)).toBe(imageHash);
    const disk = vm.disks[0]!;
    const info = await engine.client.call('disks.info', { path: disk.path });
    expect(info.format).toBe('qcow2');
    expect(info.backingFile).toBeNull();
    expect(info.virtualSize).toBe(64 * 1024 ** 2);
    const raw = readFileSync(join(vm.dir, 'vm.json'), 'utf8');
    expect(raw).not.toContain('correct horse');
    const cloud = JSON.parse(raw).cloudInit;
    const salt = /^\$6\$([^$]+)\$/.exec(cloud.passwordHash)![1]!;
    expect(cloud.passwordHash).toBe(sha512Crypt('correct horse', salt));
    // No key was given: one was generated, its private half 0600 in the VM folder.
    expect(cloud.generatedKeyFile).toBe('cloud-ssh-key');
    expect(statSync(join(vm.dir, 'cloud-ssh-key')).mode & 0o777).toBe(0o600);
    expect(cloud.sshAuthorizedKeys[0]).toMatch(/^ecdsa-sha2-nistp256 /);
    expect(vm.config?.cdrom.iso).toBeNull();
  });

  it('boots from its own disk and the guest picks up hostname and user-data from the seed', async () => {
    vm = await engine.client.call('vms.start', { vm: vm.id });
    const [pid] = qemuPidsFor([vm.id]);
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    expect(argv).not.toContain('-kernel');
    expect(argv.some((a) => a.includes('cidata.iso'))).toBe(true);
    await waitForSerialText(vm.paths.serialLog, /CLOUD done/, 240_000);
    const log = readFileSync(vm.paths.serialLog, 'latin1');
    expect(log).toContain('CLOUD hostname=cloud-fixture');
    expect(log).toContain('CLOUD user=tester');
    expect(log).toContain('CLOUD wrote /run/greeting');
    // The guest agent asked for by the engine's part, merged with the user's.
    expect(log).toContain('CLOUD packages=qemu-guest-agent');
    expect(log).toContain('CLOUD | USERDATA-RAN cloud-fixture hi-from-write-files');
    expect(log).not.toContain('CLOUD error');
  }, 300_000);

  it('rewrites the seed when the settings change: the next boot has the new host name and a new instance-id', async () => {
    const first = /CLOUD instance-id=(\S+)/.exec(readFileSync(vm.paths.serialLog, 'latin1'))![1];
    await engine.client.call('vms.stop', { vm: vm.id, force: true });
    await waitForState(engine, vm.id, 'stopped');
    await engine.client.call('vms.update', { vm: vm.id, patch: { cloudInit: { hostname: 'renamed-host' } } });
    vm = await engine.client.call('vms.start', { vm: vm.id });
    const m = await waitForSerialText(vm.paths.serialLog, /CLOUD hostname=renamed-host[\s\S]*?CLOUD instance-id=(\S+)[\s\S]*?CLOUD done/, 240_000);
    expect(m[1]).not.toBe(first);
    await engine.client.call('vms.stop', { vm: vm.id, force: true });
  }, 300_000);

  it('refuses an ISO or a too-small disk as a cloud image, and leaves no VM behind', async () => {
    const fx = await ensureFixtures();
    const before = engine.vms.list().length;
    const err1 = await engine.client.call('vms.create', { name: 'c-iso', cloud: { image: fx.iso } }).catch((e: VireoError) => e);
    expect(err1).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/is an ISO.*--iso/) });
    const err2 = await engine.client.call('vms.create', { name: 'c-small', disk: '8M', cloud: { image } }).catch((e: VireoError) => e);
    expect(err2).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/smaller than the cloud image/) });
    expect(engine.vms.list().length).toBe(before);
    expect(readdirSync(join(engine.home, 'vms')).filter((d) => d.startsWith('.creating')).length).toBe(0);
    expect(existsSync(image)).toBe(true);
  });
});
