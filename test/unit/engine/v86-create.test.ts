import { describe, expect, it } from 'vitest';
import { checkV86Create, v86ConfigPatch } from '../../../electron/engine/backend/v86/create.ts';
import { VmConfigSchema } from '../../../electron/api/schemas/vm-config.ts';
import { baseConfig } from '../../../electron/engine/library/library.ts';
import { mergePatch } from '../../../electron/engine/library/config-store.ts';

// vms.create with backend wasm/v86 (issue 20): what v86's one PC cannot be is refused before
// anything is written, naming the field; the config it makes passes the v86 rules of the schema.

const args = (over: Record<string, unknown> = {}) => ({ name: 'x', backend: 'wasm/v86' as const, ...over }) as Parameters<typeof checkV86Create>[0];

describe('creating a wasm/v86 VM', () => {
  it('refuses, by field, what v86 cannot have', () => {
    const field = (a: Parameters<typeof checkV86Create>[0], arch = 'x86_64', mem = 64) => {
      try {
        checkV86Create(a, arch, mem);
        return null;
      } catch (e) {
        return (e as { details?: { field?: string } }).details?.field;
      }
    };
    expect(field(args())).toBeNull();
    expect(field(args(), 'aarch64')).toBe('arch');
    expect(field(args({ cpus: 2 }))).toBe('cpus');
    expect(field(args(), 'x86_64', 1024)).toBe('memory');
    expect(field(args({ firmware: 'uefi' }))).toBe('firmware');
    expect(field(args({ tpm: true }))).toBe('tpm');
    expect(field(args({ secureBoot: true }))).toBe('secureBoot');
    expect(field(args({ accel: 'kvm' }))).toBe('accel');
    expect(field(args({ importDisk: '/x.img' }))).toBe('importDisk');
    expect(field(args({ start: true }))).toBe('start');
  });

  it('makes a config the schema accepts as v86: pc, one CPU, IDE raw disk and CD, NE2000, SB16, VGA', () => {
    const merged = mergePatch(baseConfig('6f1c2a9e-3b8d-4c1e-9a7f-2d5e8b0c4a13', 'x'), v86ConfigPatch(128, true));
    const c = VmConfigSchema.parse(merged);
    expect(c).toMatchObject({ backend: 'wasm/v86', system: { machine: 'pc', cpus: 1, memoryMiB: 128, firmware: 'bios' }, cdrom: { bus: 'ide' }, display: { device: 'std' }, sound: { device: 'sb16' } });
    expect(c.disks).toEqual([expect.objectContaining({ file: 'disk0.img', format: 'raw', bus: 'ide' })]);
    expect(c.networks.map((n) => n.model)).toEqual(['ne2k_pci']);
    // the schema's v86 rules hold it to that: a second CPU is refused
    expect(VmConfigSchema.safeParse(mergePatch(merged, { system: { cpus: 2 } })).success).toBe(false);
  });
});
