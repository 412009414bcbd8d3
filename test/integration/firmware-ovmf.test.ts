import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chooseFirmware, createNvram, discoverFirmware } from '../../electron/engine/firmware/ovmf.ts';
import { run } from '../../electron/engine/util/proc.ts';

// Against the host's real OVMF package (Debian's ovmf ships three descriptors).

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
const tmp = async () => {
  const d = await mkdtemp(join(tmpdir(), 'vireo-nvram-'));
  dirs.push(d);
  return d;
};

describe('OVMF on this host', () => {
  it('discovers the descriptors with their features, in priority order', async () => {
    const list = await discoverFirmware({ platform: 'linux' });
    expect(list.length).toBeGreaterThanOrEqual(3);
    expect(list[0]).toMatchObject({ secureBoot: true, enrolledKeys: true, requiresSmm: true });
    expect(list.some((f) => !f.secureBoot && !f.requiresSmm)).toBe(true);
    expect(chooseFirmware(list, { machine: 'pc', secureBoot: false }).requiresSmm).toBe(false);
  });

  it('copies the vars template into the VM folder as qcow2 with the template size', async () => {
    const fw = chooseFirmware(await discoverFirmware({ platform: 'linux' }), { machine: 'q35', secureBoot: true });
    const dir = await tmp();
    const nvram = await createNvram(fw, dir);
    expect(nvram).toEqual({ path: join(dir, 'nvram.qcow2'), format: 'qcow2' });
    const info = JSON.parse((await run('qemu-img', ['info', '--output=json', nvram.path])).stdout) as { format: string; 'virtual-size': number };
    const tpl = JSON.parse((await run('qemu-img', ['info', '--output=json', '-f', 'raw', fw.varsTemplate])).stdout) as { 'virtual-size': number };
    expect(info.format).toBe('qcow2');
    expect(info['virtual-size']).toBe(tpl['virtual-size']);
    // The template's content, not just its size: the enrolled keys must survive conversion.
    await run('qemu-img', ['compare', '-f', 'raw', '-F', 'qcow2', fw.varsTemplate, nvram.path]);
    await expect(createNvram(fw, dir)).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
  });

  it('falls back to a raw copy when qemu-img cannot be run', async () => {
    const fw = chooseFirmware(await discoverFirmware({ platform: 'linux' }), { machine: 'q35', secureBoot: false });
    const dir = await tmp();
    const nvram = await createNvram(fw, dir, '/nonexistent/qemu-img');
    expect(nvram).toEqual({ path: join(dir, 'nvram.fd'), format: 'raw' });
    await run('qemu-img', ['compare', '-f', 'raw', '-F', 'raw', fw.varsTemplate, nvram.path]);
  });
});
