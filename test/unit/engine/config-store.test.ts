import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, readConfig, writeConfig, migrate, mergePatch } from '../../../electron/engine/library/config-store.ts';
import { baseConfig } from '../../../electron/engine/library/library.ts';
import { VireoError } from '../../../electron/api/errors.ts';

const ID = '7f1c1b9e-9a2b-4c3d-8e4f-0a1b2c3d4e5f';

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return (e as VireoError).code;
  }
  return 'no error';
}

describe('vm.json store', () => {
  it('fills defaults for a minimal v1 document', () => {
    const c = parseConfig({ schemaVersion: 1, id: ID, name: 'x', createdAt: 'now', network: { mac: '52:54:00:00:00:01' } });
    expect(c.system.machine).toBe('q35');
    expect(c.system.cpus).toBe(2);
    expect(c.devices.rng).toBe(true);
    expect(c.cdrom.iso).toBeNull();
  });

  it('refuses a newer schemaVersion with a message that says to update Vireo', () => {
    try {
      migrate({ schemaVersion: 99 });
      expect.unreachable();
    } catch (e) {
      expect((e as VireoError).code).toBe('BROKEN_CONFIG');
      expect((e as Error).message).toMatch(/newer Vireo.*update Vireo/);
    }
  });

  it('refuses documents without a version, non-objects and invalid fields', () => {
    expect(codeOf(() => migrate({}))).toBe('BROKEN_CONFIG');
    expect(codeOf(() => migrate([]))).toBe('BROKEN_CONFIG');
    expect(codeOf(() => parseConfig({ schemaVersion: 1, id: ID, name: '', createdAt: 'x', network: { mac: '52:54:00:00:00:01' } }))).toBe('BROKEN_CONFIG');
  });

  it('writes atomically and reads back the same config; corrupt JSON is BROKEN_CONFIG', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vireo-cfg-'));
    const file = join(dir, 'vm.json');
    const c = baseConfig(ID, 'round trip');
    await writeConfig(file, c);
    expect(await readConfig(file)).toEqual(c);
    expect(readdirSync(dir)).toEqual(['vm.json']); // no temp file left
    writeFileSync(file, '{"schemaVersion": 1, "id": ');
    await expect(readConfig(file)).rejects.toMatchObject({ code: 'BROKEN_CONFIG', message: expect.stringMatching(/not valid JSON/) });
  });

  it('never writes a config that would not load again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vireo-cfg-'));
    const file = join(dir, 'vm.json');
    const c = baseConfig(ID, 'ok');
    await writeConfig(file, c);
    const bad = { ...c, system: { ...c.system, cpus: 0 } };
    await expect(writeConfig(file, bad)).rejects.toThrow();
    expect(JSON.parse(readFileSync(file, 'utf8')).system.cpus).toBe(2);
  });

  it('merges settings patches deeply, replacing arrays', () => {
    expect(mergePatch({ a: { b: 1, c: 2 }, l: [1, 2] }, { a: { c: 3 }, l: [9] })).toEqual({ a: { b: 1, c: 3 }, l: [9] });
  });

  it('merges array elements by id onto the element with that id, and drops the ones left out', () => {
    const base = { networks: [{ id: 'net0', mac: 'm0', model: 'e1000' }, { id: 'net1', mac: 'm1' }] };
    expect(mergePatch(base, { networks: [{ id: 'net0', model: 'rtl8139' }] })).toEqual({ networks: [{ id: 'net0', mac: 'm0', model: 'rtl8139' }] });
    expect(mergePatch(base, { networks: [{ id: 'net2', mac: 'm2' }, { id: 'net1' }] })).toEqual({ networks: [{ id: 'net2', mac: 'm2' }, { id: 'net1', mac: 'm1' }] });
  });
});

describe('vm.json v1 → v2', () => {
  const v1 = (network: unknown) => ({ schemaVersion: 1, id: ID, name: 'x', createdAt: 'now', network });

  it('turns the one network object into networks[0] with ids net0, and adds arch and backend', () => {
    const c = parseConfig(v1({ mode: 'user', model: 'e1000', mac: '52:54:00:00:00:01', portForwards: [{ hostPort: 80, guestPort: 8080 }] }));
    expect(c.schemaVersion).toBe(2);
    expect(c).toMatchObject({ arch: 'x86_64', backend: 'qemu' });
    expect(c.networks).toEqual([{ id: 'net0', mode: 'user', model: 'e1000', mac: '52:54:00:00:00:01', portForwards: [{ protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: 80, guestPort: 8080 }] }]);
    expect(c).not.toHaveProperty('network');
  });

  it('fills v1 defaults the same way (mode user, virtio-net-pci) and maps mode none to no NIC', () => {
    expect(parseConfig(v1({ mac: '52:54:00:00:00:01' })).networks).toEqual([{ id: 'net0', mode: 'user', model: 'virtio-net-pci', mac: '52:54:00:00:00:01', portForwards: [] }]);
    expect(parseConfig(v1({ mode: 'none', model: 'rtl8139', mac: '52:54:00:00:00:01' })).networks).toEqual([]);
  });

  it('refuses a v1 file without a network object, and v1 values v1 itself refused', () => {
    expect(() => parseConfig(v1(undefined))).toThrow(/schemaVersion 1\) has no "network" object/);
    expect(codeOf(() => parseConfig(v1({ mode: 'bridge', mac: '52:54:00:00:00:01' })))).toBe('BROKEN_CONFIG');
    expect(codeOf(() => parseConfig(v1({ mac: 'nope' })))).toBe('BROKEN_CONFIG');
  });
});

describe('vm.json v2 networks', () => {
  const v2 = (networks: unknown) => ({ schemaVersion: 2, id: ID, name: 'x', createdAt: 'now', networks });
  const nic = (i: number, mac = `52:54:00:00:00:0${i}`) => ({ id: `net${i}`, mac });

  it('takes up to 8 NICs with distinct ids and MACs', () => {
    expect(parseConfig(v2([0, 1, 2, 3, 4, 5, 6, 7].map((i) => nic(i)))).networks).toHaveLength(8);
    expect(() => parseConfig(v2([0, 1, 2, 3, 4, 5, 6, 7, 8].map((i) => nic(i))))).toThrow(/at most 8 network cards/);
    expect(() => parseConfig(v2([nic(0), { ...nic(1), id: 'net0' }]))).toThrow(/networks\.1\.id: id net0 is used by two/);
    expect(() => parseConfig(v2([nic(0), nic(1, '52:54:00:00:00:00')]))).toThrow(/networks\.1\.mac: mac 52:54:00:00:00:00 is used by two/);
    expect(() => parseConfig(v2([{ id: 'eth0', mac: '52:54:00:00:00:00' }]))).toThrow(/NIC id must be "net" and a number/);
  });

  it('treats a v2 file without networks as broken rather than silently offline', () => {
    expect(codeOf(() => parseConfig(v2(undefined)))).toBe('BROKEN_CONFIG');
  });

  it('a new VM gets one NAT NIC net0 with a fresh MAC', () => {
    const a = baseConfig(ID, 'a');
    const b = baseConfig(ID, 'b');
    expect(a.networks).toEqual([{ id: 'net0', mode: 'user', model: 'virtio-net-pci', mac: expect.stringMatching(/^52:54:00(:[0-9a-f]{2}){3}$/), portForwards: [] }]);
    expect(a.networks[0]!.mac).not.toBe(b.networks[0]!.mac);
  });
});

describe('names stored before the stricter name rules', () => {
  it('a VM whose stored name has a bidi override still loads; a new name with one is refused', async () => {
    const { VmName } = await import('../../../electron/api/schemas/common.ts');
    const name = 'old\u202Ename';
    const c = { ...baseConfig('12345678-1234-4234-8234-123456789abc', 'placeholder'), name };
    expect(parseConfig(JSON.parse(JSON.stringify(c))).name).toBe(name);
    expect(VmName.safeParse(name).success).toBe(false);
    expect(VmName.safeParse('ok name').success).toBe(true);
  });
});
