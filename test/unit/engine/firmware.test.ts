import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chooseFirmware, discoverFirmware, parseDescriptor, supportsMachine, type FirmwareInfo } from '../../../electron/engine/firmware/ovmf.ts';
import { VireoError } from '../../../electron/api/errors.ts';

const fw = (over: Partial<FirmwareInfo>): FirmwareInfo => ({
  descriptor: '/d.json', description: 'd', code: '/c.fd', codeFormat: 'raw', varsTemplate: '/v.fd', varsFormat: 'raw',
  machines: ['pc-q35-*'], features: [], secureBoot: false, enrolledKeys: false, requiresSmm: false, ...over,
});

const descriptor = (code: string, vars: string, features: string[], extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    'interface-types': ['uefi'],
    mapping: { device: 'flash', executable: { filename: code, format: 'raw' }, 'nvram-template': { filename: vars, format: 'raw' } },
    targets: [{ architecture: 'x86_64', machines: ['pc-q35-*'] }],
    features,
    ...extra,
  });

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vireo-fw-'));
  // A relocated install: descriptors name a prefix that does not exist, files sit in share/.
  await mkdir(join(dir, 'share', 'firmware'), { recursive: true });
  await writeFile(join(dir, 'share', 'edk2-x86_64-code.fd'), 'code');
  await writeFile(join(dir, 'share', 'edk2-i386-vars.fd'), 'vars');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('parseDescriptor', () => {
  it('reads features and finds files next to a relocated descriptor folder', async () => {
    const path = join(dir, 'share', 'firmware', '60-edk2-x86_64.json');
    const info = await parseDescriptor(path, descriptor('/nonexistent/prefix/share/qemu/edk2-x86_64-code.fd', 'C:\\qemu\\share\\edk2-i386-vars.fd', ['acpi-s3', 'secure-boot', 'requires-smm']));
    expect(info).toMatchObject({ code: join(dir, 'share', 'edk2-x86_64-code.fd'), varsTemplate: join(dir, 'share', 'edk2-i386-vars.fd'), secureBoot: true, requiresSmm: true, enrolledKeys: false });
  });

  it('skips non-UEFI, non-flash, non-x86_64, combined-mode and broken descriptors', async () => {
    const p = join(dir, 'share', 'firmware', 'x.json');
    const ok = (x: Record<string, unknown>) => parseDescriptor(p, descriptor(join(dir, 'share', 'edk2-x86_64-code.fd'), join(dir, 'share', 'edk2-i386-vars.fd'), [], x));
    expect(await ok({})).not.toBeNull();
    expect(await ok({ 'interface-types': ['bios'] })).toBeNull();
    expect(await ok({ targets: [{ architecture: 'aarch64', machines: ['virt-*'] }] })).toBeNull();
    expect(await ok({ mapping: { device: 'memory', filename: '/x' } })).toBeNull();
    expect(await ok({ mapping: { device: 'flash', mode: 'combined', executable: { filename: '/x' } } })).toBeNull();
    expect(await parseDescriptor(p, '{not json')).toBeNull();
    expect(await parseDescriptor(p, descriptor('/missing/code.fd', '/missing/vars.fd', []))).toBeNull();
  });

  it('discovers descriptors from extraDirs', async () => {
    await writeFile(join(dir, 'share', 'firmware', '10-test.json'), descriptor(join(dir, 'share', 'edk2-x86_64-code.fd'), join(dir, 'share', 'edk2-i386-vars.fd'), []));
    const list = await discoverFirmware({ platform: 'linux', extraDirs: [join(dir, 'share', 'firmware')], home: dir, xdgConfigHome: join(dir, 'nope') });
    expect(list.some((f) => f.descriptor === join(dir, 'share', 'firmware', '10-test.json'))).toBe(true);
  });
});

describe('chooseFirmware', () => {
  const plain = fw({ description: 'plain', machines: ['pc-i440fx-*', 'pc-q35-*'] });
  const sbEmpty = fw({ description: 'sb-empty', secureBoot: true, requiresSmm: true, features: ['secure-boot', 'requires-smm'] });
  const sbKeys = fw({ description: 'sb-keys', secureBoot: true, requiresSmm: true, enrolledKeys: true, features: ['secure-boot', 'requires-smm', 'enrolled-keys'] });
  const list = [sbKeys, sbEmpty, plain];

  it('prefers enrolled keys for Secure Boot', () => {
    expect(chooseFirmware(list, { machine: 'q35', secureBoot: true }).description).toBe('sb-keys');
    expect(chooseFirmware([plain, sbEmpty], { machine: 'q35', secureBoot: true }).description).toBe('sb-empty');
  });

  it('prefers firmware without SMM for plain UEFI, and never enrolled keys', () => {
    expect(chooseFirmware(list, { machine: 'q35', secureBoot: false }).description).toBe('plain');
    expect(chooseFirmware([sbKeys, sbEmpty], { machine: 'q35', secureBoot: false }).description).toBe('sb-empty');
  });

  it('matches machine globs', () => {
    expect(supportsMachine(plain, 'pc')).toBe(true);
    expect(supportsMachine(sbKeys, 'pc')).toBe(false);
    expect(supportsMachine(fw({ machines: ['pc-q35-7.*'] }), 'q35')).toBe(false);
  });

  it('fails with UNSUPPORTED and an install hint when nothing fits', () => {
    const e = (() => { try { chooseFirmware([plain], { machine: 'q35', secureBoot: true }); } catch (x) { return x as VireoError; } })();
    expect(e?.code).toBe('UNSUPPORTED');
    expect(e?.message).toMatch(/apt install ovmf.*edk2-ovmf.*brew/);
    expect(() => chooseFirmware([sbKeys], { machine: 'pc', secureBoot: false })).toThrow(/apt install ovmf/);
    expect(() => chooseFirmware(list, { machine: 'pc', secureBoot: true })).toThrow(/q35/);
  });
});
