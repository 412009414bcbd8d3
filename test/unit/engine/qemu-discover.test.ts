import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { discoverQemu, installHint } from '../../../electron/engine/qemu/discover.ts';
import type { VireoError } from '../../../electron/api/errors.ts';

// Real files in a temp folder stand in for installs; discovery only looks, never runs them.

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'vireo-discover-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function fakeBinary(dir: string, name: string, mode = 0o755): Promise<string> {
  await mkdir(dir, { recursive: true });
  const p = join(dir, name);
  await writeFile(p, '#!/bin/sh\n');
  await chmod(p, mode);
  return p;
}

async function reject(p: Promise<unknown>): Promise<VireoError> {
  try {
    await p;
  } catch (e) {
    return e as VireoError;
  }
  throw new Error('expected a rejection');
}

describe('discoverQemu', () => {
  it('prefers the setting (a file or its folder) and finds qemu-img beside it', async () => {
    const bin = await fakeBinary(join(root, 'custom'), 'qemu-system-x86_64');
    const img = await fakeBinary(join(root, 'custom'), 'qemu-img');
    await fakeBinary(join(root, 'onpath'), 'qemu-system-x86_64');
    const env = { PATH: join(root, 'onpath') };
    expect(await discoverQemu({ setting: bin, env, platform: 'linux' })).toMatchObject({ binary: bin, imgBinary: img, source: 'setting' });
    expect(await discoverQemu({ setting: join(root, 'custom'), env, platform: 'linux' })).toMatchObject({ binary: bin, source: 'setting' });
  });

  it('fails loudly on a setting that points nowhere instead of silently using another QEMU', async () => {
    await fakeBinary(join(root, 'onpath'), 'qemu-system-x86_64');
    const e = await reject(discoverQemu({ setting: join(root, 'missing'), env: { PATH: join(root, 'onpath') }, platform: 'linux' }));
    expect(e.code).toBe('QEMU_NOT_FOUND');
    expect(e.message).toMatch(/Settings/);
  });

  it('uses the bundled QEMU before PATH, then PATH', async () => {
    const resources = join(root, 'resources');
    const bundled = await fakeBinary(join(resources, 'qemu', 'linux-x64'), 'qemu-system-x86_64');
    const onPath = await fakeBinary(join(root, 'onpath'), 'qemu-system-x86_64');
    const env = { PATH: `${join(root, 'empty')}:${join(root, 'onpath')}` };
    expect(await discoverQemu({ resourcesDir: resources, env, platform: 'linux', arch: 'x64' })).toMatchObject({ binary: bundled, source: 'bundled' });
    const r = await discoverQemu({ resourcesDir: resources, env, platform: 'linux', arch: 'arm64' });
    expect(r).toMatchObject({ binary: onPath, source: 'path' });
    expect(r.searched[0]).toBe(join(resources, 'qemu', 'linux-arm64', 'qemu-system-x86_64'));
    expect(r.searched[1]).toBe(join(root, 'empty', 'qemu-system-x86_64'));
  });

  it('falls back to the usual install folders when PATH is short (desktop launchers)', async () => {
    const bin = await fakeBinary(join(root, 'usr-bin'), 'qemu-system-x86_64');
    const img = await fakeBinary(join(root, 'usr-bin'), 'qemu-img');
    const r = await discoverQemu({ env: { PATH: join(root, 'nothing') }, platform: 'linux', knownDirs: [join(root, 'usr-bin')] });
    expect(r).toEqual({ binary: bin, imgBinary: img, source: 'known-dir', searched: [join(root, 'nothing', 'qemu-system-x86_64'), bin] });
  });

  it('skips files that are not executable', async () => {
    await fakeBinary(join(root, 'a'), 'qemu-system-x86_64', 0o644);
    const good = await fakeBinary(join(root, 'b'), 'qemu-system-x86_64');
    const r = await discoverQemu({ env: { PATH: `${join(root, 'a')}:${join(root, 'b')}` }, platform: 'linux' });
    expect(r.binary).toBe(good);
  });

  it('throws QEMU_NOT_FOUND with what it searched and how to install, per OS', async () => {
    const e = await reject(discoverQemu({ env: { PATH: join(root, 'nothing') }, platform: 'linux', knownDirs: [join(root, 'usr-bin')] }));
    expect(e.code).toBe('QEMU_NOT_FOUND');
    expect((e.details as { searched: string[] }).searched).toEqual([
      join(root, 'nothing', 'qemu-system-x86_64'),
      join(root, 'usr-bin', 'qemu-system-x86_64'),
    ]);
    expect(e.message).toMatch(/sudo apt install qemu-system-x86 qemu-utils/);

    const win = await reject(discoverQemu({ env: { Path: 'C:\\nowhere;"C:\\also nowhere"' }, platform: 'win32' }));
    expect((win.details as { searched: string[] }).searched.slice(0, 3)).toEqual([
      'C:\\nowhere\\qemu-system-x86_64.exe',
      'C:\\also nowhere\\qemu-system-x86_64.exe',
      'C:\\Program Files\\qemu\\qemu-system-x86_64.exe',
    ]);
    expect(win.message).toMatch(/qemu\.org/);

    expect(installHint('linux')).toMatch(/sudo apt install qemu-system-x86 qemu-utils/);
    expect(installHint('linux')).toMatch(/dnf install qemu-kvm qemu-img/);
    expect(installHint('darwin')).toMatch(/brew install qemu/);
  });
});
