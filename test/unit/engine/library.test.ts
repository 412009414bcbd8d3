import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Library, baseConfig } from '../../../electron/engine/library/library.ts';

function lib() {
  const home = mkdtempSync(join(tmpdir(), 'vireo-lib-'));
  return new Library(home, join(home, 'rt'));
}

describe('library', () => {
  it('creates a VM folder in one step and resolves it by name, id and id prefix', async () => {
    const l = lib();
    const e = await l.create('Debian', async (_dir, id) => baseConfig(id, 'Debian'));
    expect(readdirSync(l.vmsDir)).toEqual([e.id]);
    expect(l.resolve('Debian').id).toBe(e.id);
    expect(l.resolve(e.id).id).toBe(e.id);
    expect(l.resolve(e.id.slice(0, 8)).id).toBe(e.id);
    expect(() => l.resolve('nope')).toThrow(/no VM named or with id "nope"/);
  });

  it('leaves nothing behind when building the VM fails', async () => {
    const l = lib();
    await expect(l.create('x', async (dir) => {
      writeFileSync(join(dir, 'disk0.qcow2'), 'partial');
      throw new Error('qemu-img failed');
    })).rejects.toThrow('qemu-img failed');
    expect(readdirSync(l.vmsDir)).toEqual([]);
  });

  it('checks names: empty, separators, too long, duplicates (case-insensitive)', async () => {
    const l = lib();
    await l.create('Win11', async (_d, id) => baseConfig(id, 'Win11'));
    for (const [name, code, re] of [
      ['', 'INVALID_ARGUMENT', /empty/],
      ['../x', 'INVALID_ARGUMENT', /path separator/],
      ['a\\b', 'INVALID_ARGUMENT', /path separator/],
      ['x'.repeat(70), 'INVALID_ARGUMENT', /64/],
      ['win11', 'ALREADY_EXISTS', /already exists/],
    ] as const) {
      expect(() => l.checkName(name), name).toThrow(re);
      try {
        l.checkName(name);
      } catch (e) {
        expect((e as { code: string }).code).toBe(code);
      }
    }
    expect(readdirSync(l.vmsDir)).toHaveLength(1);
  });

  it('a corrupt vm.json marks only that VM broken', async () => {
    const l = lib();
    const good = await l.create('good', async (_d, id) => baseConfig(id, 'good'));
    const badId = '11111111-2222-4333-8444-555555555555';
    mkdirSync(join(l.vmsDir, badId));
    writeFileSync(join(l.vmsDir, badId, 'vm.json'), '{ not json');
    const all = await l.load();
    expect(all.find((e) => e.id === good.id)?.broken).toBeNull();
    expect(all.find((e) => e.id === badId)?.broken).toMatch(/not valid JSON/);
  });

  it('sweeps leftovers of an interrupted create', async () => {
    const l = lib();
    mkdirSync(join(l.vmsDir, '.creating-abc'), { recursive: true });
    await l.sweep();
    expect(readdirSync(l.vmsDir)).toEqual([]);
  });
});

describe('library references', () => {
  it('a reference that matches nothing is echoed back cut to a readable length', async () => {
    const l = lib();
    await l.load();
    const huge = 'x'.repeat(200_000);
    try {
      l.resolve(huge);
      expect.unreachable();
    } catch (e) {
      const err = e as { code: string; message: string; details: { ref: string } };
      expect(err.code).toBe('NOT_FOUND');
      expect(err.message.length).toBeLessThan(300);
      expect(err.message).toContain('(200000 characters)');
      expect(err.details.ref.length).toBe(200);
    }
  });
});
