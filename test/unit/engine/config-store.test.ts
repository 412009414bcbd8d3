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
});
