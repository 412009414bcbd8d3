import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../electron/engine/util/proc.ts';
import { sha512Crypt } from '../../electron/engine/cloud/sha-crypt.ts';
import { runVireo } from './cli-helpers.ts';

// `vireo create NAME --cloud-image …` as a script runs it (no boot: the seed reaching a guest
// is cloud-image.test.ts). The flags land in vm.json's cloudInit; wrong combinations exit 2.

let home: string;
let work: string;
let image: string;

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'vireo-cloudcli-'));
  work = mkdtempSync(join(tmpdir(), 'vireo-cloudcli-files-'));
  // A stand-in cloud image (a blank qcow2: nothing boots it here).
  image = join(work, 'debian-12-genericcloud-amd64.qcow2');
  await run('qemu-img', ['create', '-q', '-f', 'qcow2', image, '32M']);
  writeFileSync(join(work, 'pw'), 'open sesame\nignored second line\n');
  writeFileSync(join(work, 'id.pub'), 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl me@laptop\n');
  writeFileSync(join(work, 'id'), '-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn==\n-----END OPENSSH PRIVATE KEY-----\n');
  writeFileSync(join(work, 'ud.yaml'), '#cloud-config\nruncmd:\n  - echo from-the-cli\n');
}, 60_000);

afterAll(() => {
  rmSync(home, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

describe('vireo create --cloud-image', () => {
  it('creates the VM with the seed settings from the flags (password hashed, files read), OS from the image name', async () => {
    const r = await runVireo(home, ['create', 'web', '--cloud-image', image, '--disk', '48M', '--memory', '256M', '--user', 'deploy', '--password-file', join(work, 'pw'),
      '--ssh-key', join(work, 'id.pub'), '--hostname', 'web-01', '--user-data', join(work, 'ud.yaml'), '--no-guest-agent', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const vm = JSON.parse(r.stdout);
    expect(vm.config.os.id).toBe('debian12');
    const c = JSON.parse(readFileSync(join(vm.dir, 'vm.json'), 'utf8')).cloudInit;
    expect(c).toMatchObject({ user: 'deploy', hostname: 'web-01', installAgent: false, generatedKeyFile: null, userData: '#cloud-config\nruncmd:\n  - echo from-the-cli\n' });
    expect(c.sshAuthorizedKeys).toEqual(['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl me@laptop']);
    expect(c.passwordHash).toBe(sha512Crypt('open sesame', /^\$6\$([^$]+)\$/.exec(c.passwordHash)![1]));
    expect(vm.disks[0].virtualSize).toBe(48 * 1024 ** 2);
  }, 120_000);

  it('exits 2 on flags that do not go together, and creates nothing', async () => {
    const cases: [string[], RegExp][] = [
      [['create', 'a', '--user-data', join(work, 'ud.yaml')], /belong to a cloud image/],
      [['create', 'b', '--cloud-image', image, '--unattended'], /choose one/],
      [['create', 'c', '--cloud-image', image, '--ssh-key', join(work, 'id')], /private key/],
      [['create', 'd', '--cloud-image', image, '--password', 'x', '--password-file', join(work, 'pw')], /password once/],
    ];
    for (const [args, msg] of cases) {
      const r = await runVireo(home, args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(msg);
    }
    const list = await runVireo(home, ['list', '--json']);
    expect(JSON.parse(list.stdout).map((v: { name: string }) => v.name)).toEqual(['web']);
  }, 240_000);
});
