import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { run } from '../../../../electron/engine/util/proc.ts';
import { CloudInitConfig } from '../../../../electron/api/schemas/cloud-init.ts';
import { instanceId, metaData, seedFiles, seedIso, userData } from '../../../../electron/engine/cloud/seed.ts';
import { sha512Crypt } from '../../../../electron/engine/cloud/sha-crypt.ts';
import { generateSshKey } from '../../../../electron/engine/cloud/ssh-key.ts';
import { hostnameFrom, osFromImageName } from '../../../../electron/engine/cloud/image.ts';
import { SEED_FILE, seedDrives } from '../../../../electron/engine/cloud/seed-drive.ts';
import { storageArgs } from '../../../../electron/engine/qemu/argv/storage.ts';
import { makeHelpers } from '../../../../electron/engine/qemu/argv/index.ts';
import { cfg, contextFor } from '../golden/fixtures.ts';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl me@host';
const cloud = (over: Record<string, unknown> = {}) => CloudInitConfig.parse({ hostname: 'web-1', user: 'ci', sshAuthorizedKeys: [KEY], ...over });
const input = (c = cloud()) => ({ vmId: '6f1c0a4e-5d3b-4f7e-9a21-0c8d2e4b6a10', createdAt: '2026-12-01T09:00:00.000Z', cloud: c });

describe('SHA-512 crypt', () => {
  it('matches openssl passwd -6 (glibc crypt) (short, non-ASCII and over-64-byte passwords) and the spec rounds=10000 vector', async () => {
    for (const [pw, salt] of [['correct horse', 'abcdEFGH12345678'], ['pässwörd with spaces', 'x'], ['a'.repeat(100), 'saltsalt']] as const) {
      const want = (await run('openssl', ['passwd', '-6', '-salt', salt, '-stdin'], { input: pw, timeoutMs: 10_000 })).stdout.trim();
      expect(sha512Crypt(pw, salt)).toBe(want);
    }
    // The spec's own test vector for rounds=10000.
    expect(sha512Crypt('Hello world!', 'saltstringsaltstring', 10000)).toBe('$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.');
  });

  it('salts each hash afresh', () => {
    expect(sha512Crypt('pw')).not.toBe(sha512Crypt('pw'));
    expect(sha512Crypt('pw')).toMatch(/^\$6\$[./0-9A-Za-z]{16}\$[./0-9A-Za-z]{86}$/);
  });
});

describe('the NoCloud seed', () => {
  it('meta-data names the instance and the host; the instance-id follows the settings', () => {
    expect(parse(metaData(input()))).toEqual({ 'instance-id': instanceId(input()), 'local-hostname': 'web-1' });
    expect(instanceId(input())).toMatch(/^vireo-6f1c0a4e-5d3b-4f7e-9a21-0c8d2e4b6a10-[0-9a-f]{12}$/);
    expect(instanceId(input(cloud({ hostname: 'web-2' })))).not.toBe(instanceId(input()));
    expect(instanceId(input(cloud()))).toBe(instanceId(input()));
  });

  it('user-data: the user with its keys and hash, the host name, and the guest agent installed and started', () => {
    const hash = sha512Crypt('pw', 'saltsalt');
    const text = userData(cloud({ passwordHash: hash }));
    expect(text.startsWith('#cloud-config\n')).toBe(true);
    const doc = parse(text);
    expect(doc.hostname).toBe('web-1');
    expect(doc.users).toEqual([{ name: 'ci', shell: '/bin/bash', sudo: 'ALL=(ALL) NOPASSWD:ALL', lock_passwd: false, passwd: hash, ssh_authorized_keys: [KEY] }]);
    expect(doc.ssh_pwauth).toBe(true);
    expect(doc.packages).toEqual(['qemu-guest-agent']);
    expect(doc.runcmd[0]).toMatch(/systemctl enable --now qemu-guest-agent/);
    const keyOnly = parse(userData(cloud({ installAgent: false })));
    expect(keyOnly.users[0].lock_passwd).toBe(true);
    expect(keyOnly.users[0].passwd).toBeUndefined();
    expect(keyOnly.ssh_pwauth).toBe(false);
    expect(keyOnly.packages).toBeUndefined();
  });

  it("merges the user's #cloud-config: lists appended after the engine's, their scalars win", () => {
    const extra = '#cloud-config\npackages: [curl]\nruncmd:\n  - [touch, /tmp/done]\nwrite_files:\n  - path: /etc/motd\n    content: hello\ntimezone: Europe/Paris\nhostname: theirs\n';
    const doc = parse(userData(cloud({ userData: extra })));
    expect(doc.packages).toEqual(['qemu-guest-agent', 'curl']);
    expect(doc.runcmd).toHaveLength(2);
    expect(doc.runcmd[1]).toEqual(['touch', '/tmp/done']);
    expect(doc.write_files).toEqual([{ path: '/etc/motd', content: 'hello' }]);
    expect(doc.timezone).toBe('Europe/Paris');
    expect(doc.hostname).toBe('theirs');
  });

  it('puts a script beside the cloud-config as a MIME multipart', () => {
    const text = userData(cloud({ userData: '#!/bin/sh\necho hi\n' }));
    const boundary = /boundary="([^"]+)"/.exec(text)![1]!;
    const parts = text.split(`--${boundary}`).slice(1, -1);
    expect(parts).toHaveLength(2);
    expect(parts[0]).toMatch(/Content-Type: text\/cloud-config[\s\S]*#cloud-config\nhostname: "web-1"/);
    expect(parts[1]).toMatch(/Content-Type: text\/x-shellscript[\s\S]*\n#!\/bin\/sh\necho hi\n/);
  });

  it('refuses user-data it cannot merge or type, and a network-config that is no mapping, naming the field', () => {
    expect(() => userData(cloud({ userData: '#cloud-config\nruncmd: [unclosed' }))).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', details: { field: 'userData' } }));
    expect(() => userData(cloud({ userData: '#cloud-config\n- a list' }))).toThrow(/must be a mapping/);
    expect(() => userData(cloud({ userData: 'plain text' }))).toThrow(/must start with #cloud-config/);
    expect(() => seedFiles(input(cloud({ networkConfig: '- not a map' })))).toThrow(expect.objectContaining({ details: { field: 'networkConfig' } }));
    expect(seedFiles(input(cloud({ networkConfig: 'version: 2\nethernets: {}\n' }))).map((f) => f.name)).toEqual(['meta-data', 'user-data', 'network-config']);
  });

  it('is an ISO labelled cidata whose files xorriso reads back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vireo-seed-'));
    try {
      const f = join(dir, SEED_FILE);
      writeFileSync(f, seedIso(input()));
      expect((await run('blkid', ['-o', 'value', '-s', 'LABEL', f], { timeoutMs: 10_000 })).stdout.trim()).toBe('cidata');
      const r = await run('xorriso', ['-osirrox', 'on', '-indev', f, '-extract', '/user-data', join(dir, 'ud')], { timeoutMs: 30_000 });
      expect(r.code).toBe(0);
      expect((await run('cat', [join(dir, 'ud')])).stdout).toBe(userData(input().cloud));
      expect(seedIso(input()).equals(seedIso(input()))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('seed drive in argv', () => {
  it('adds one read-only CD after the configured drives, on their bus, only with a seed', () => {
    const base = cfg({ name: 'c', disks: [{ id: 'disk0', file: 'disk0.qcow2' }], cdrom: { iso: null, bus: 'sata' } });
    const withSeed = { ...base, cloudInit: cloud() };
    const ctx = contextFor({ config: withSeed, ctx: { accel: 'tcg' } });
    const plain = storageArgs(base, ctx, makeHelpers(base, ctx));
    const seeded = storageArgs(withSeed, ctx, makeHelpers(withSeed, ctx));
    expect(seedDrives(base)).toEqual([]);
    expect(seeded.slice(0, plain.length)).toEqual(plain);
    expect(seeded.slice(plain.length)).toEqual([
      '-blockdev', `driver=file,node-name=cdrom1-file,filename=${ctx.vmDir}/${SEED_FILE},read-only=on`,
      '-blockdev', 'driver=raw,node-name=cdrom1-media,file=cdrom1-file,read-only=on',
      '-device', 'ide-cd,bus=ide.1,id=cdrom1,drive=cdrom1-media',
    ]);
  });
});

describe('cloud image helpers', () => {
  it('guesses the OS from the usual image names', () => {
    expect(osFromImageName('debian-12-genericcloud-amd64.qcow2')?.id).toBe('debian12');
    expect(osFromImageName('ubuntu-24.04-server-cloudimg-amd64.img')?.id).toBe('ubuntu24.04');
    expect(osFromImageName('jammy-server-cloudimg-amd64.img')?.id).toBe('ubuntu22.04');
    expect(osFromImageName('Fedora-Cloud-Base-Generic-41-1.4.x86_64.qcow2')?.family).toBe('linux');
    expect(osFromImageName('Fedora-Cloud-Base-37-1.7.x86_64.qcow2')?.id).toBe('fedora37');
    expect(osFromImageName('mystery.qcow2')).toBeUndefined();
  });

  it('makes a host name of a VM name', () => {
    expect(hostnameFrom('My Test VM')).toBe('my-test-vm');
    expect(hostnameFrom('ÆØÅ')).toBe('vireo-vm');
    expect(hostnameFrom('x'.repeat(80))).toHaveLength(63);
  });

  it('generates a key pair OpenSSH accepts: ssh-keygen derives the same public line from the private key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vireo-key-'));
    try {
      const k = generateSshKey('vireo@web 1');
      writeFileSync(join(dir, 'k'), k.privatePem, { mode: 0o600 });
      const pub = (await run('ssh-keygen', ['-y', '-f', join(dir, 'k')], { timeoutMs: 10_000 })).stdout.trim();
      expect(k.publicLine.startsWith(`${pub} `)).toBe(true);
      expect(CloudInitConfig.shape.sshAuthorizedKeys.parse([k.publicLine])).toEqual([k.publicLine]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
