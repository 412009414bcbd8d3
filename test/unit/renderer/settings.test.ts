import { describe, expect, it } from 'vitest';
import type { VmConfig } from '../../../electron/api/types.ts';
import { VmConfigSchema } from '../../../electron/api/schemas/vm-config.ts';
import { MAX_NICS } from '../../../electron/shared/config-enums.ts';
import { diffPatch, parseArgLines } from '../../../renderer/src/lib/patch.ts';
import { SECTIONS, applyExtra, checkSettings, extraFor, newMac, newNic, nextNicId, sectionOf } from '../../../renderer/src/lib/settings.ts';

// The settings dialog's pure rules; a config they accept is one the engine's schema accepts.

const base = (): VmConfig =>
  VmConfigSchema.parse({
    schemaVersion: 2, id: '0b7f3c52-1c55-4f1e-9a0c-0e6a8f9b4d21', name: 'Box', createdAt: '2026-12-01T00:00:00Z',
    networks: [{ id: 'net0', mac: '52:54:00:00:00:01', portForwards: [{ hostPort: 2222, guestPort: 22 }] }],
  });
const ctx = { otherNames: ['Other'], hostCpus: 4, hostMemoryBytes: 8 * 1024 ** 3 };
let seed = 0;
const counter = (n: number) => Uint8Array.from({ length: n }, () => seed++ % 256);

describe('sections', () => {
  it('map every field path of the engine to one section, one component each', () => {
    expect(SECTIONS).toEqual(['General', 'System', 'Disks', 'CD-ROM', 'Boot', 'Network', 'Display', 'Sound', 'Devices', 'USB', 'Shared folders', 'Serial', 'Resources', 'Advanced']);
    expect(sectionOf('networks.1.portForwards.0.hostPort')).toBe('Network');
    expect(sectionOf('boot.order')).toBe('Boot');
    expect(sectionOf('input.tablet')).toBe('Display');
    expect(sectionOf('devices.usb')).toBe('Devices');
    expect(sectionOf('usb.0.host')).toBe('USB');
    expect(sectionOf('sound.device')).toBe('Sound');
    expect(sectionOf('shares.0.tag')).toBe('Shared folders');
    expect(sectionOf('limits.cpuPercent')).toBe('Resources');
    expect(sectionOf('name')).toBe('General');
    expect(sectionOf('network.mode')).toBeUndefined(); // v1's single network is gone
    for (const key of Object.keys(base())) {
      if (['schemaVersion', 'id', 'createdAt'].includes(key)) continue;
      expect(sectionOf(key), key).toBeDefined();
    }
  });
});

describe('checkSettings', () => {
  it('passes the engine\'s own config', () => {
    expect(checkSettings(base(), extraFor(base()), ctx)).toEqual(new Map());
  });
  it('finds a host port forwarded twice across two cards, by the second card\'s path', () => {
    const c = base();
    c.networks.push({ ...newNic(c.networks, 'e1000', counter), portForwards: [{ protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: 2222, guestPort: 80 }] });
    expect(checkSettings(c, extraFor(c), ctx).get('networks.1.portForwards.0.hostPort')).toMatch(/already forwarded/);
  });
  it('refuses ports out of range, network boot without a card, an empty boot order, too many cards', () => {
    const c = base();
    c.networks[0]!.portForwards[0]!.guestPort = 0;
    expect(checkSettings(c, extraFor(c), ctx).get('networks.0.portForwards.0.guestPort')).toMatch(/1–65535/);
    const d = base();
    d.networks = [];
    d.boot.order = ['network'];
    expect(checkSettings(d, extraFor(d), ctx).get('boot.order')).toMatch(/needs a network card/);
    d.boot.order = [];
    expect(checkSettings(d, extraFor(d), ctx).get('boot.order')).toMatch(/at least one/);
    const e = base();
    while (e.networks.length <= MAX_NICS) e.networks.push(newNic(e.networks, 'virtio-net-pci', counter));
    expect(checkSettings(e, extraFor(e), ctx).get('networks')).toMatch(new RegExp(`At most ${MAX_NICS}`));
  });
  it('checks name, CPUs and the typed memory', () => {
    const c = base();
    c.name = 'other';
    c.system.cpus = 5;
    const m = checkSettings(c, { ...extraFor(c), memory: '9G' }, ctx);
    expect(m.get('name')).toMatch(/already exists/);
    expect(m.get('system.cpus')).toMatch(/at most 4/);
    expect(m.get('system.memoryMiB')).toMatch(/more than this host has/);
    expect(checkSettings(base(), { ...extraFor(base()), memory: 'lots' }, ctx).get('system.memoryMiB')).toMatch(/not a size/);
  });
});

describe('network cards', () => {
  it('take the lowest free id and a fresh MAC the schema accepts', () => {
    expect(nextNicId([])).toBe('net0');
    expect(nextNicId([{ id: 'net0' }, { id: 'net2' }])).toBe('net1');
    const taken = '52:54:00:00:01:02';
    seed = 0;
    // The first draw (00:01:02) is taken, so the next one is used.
    expect(newMac([{ mac: taken }], counter)).toBe('52:54:00:03:04:05');
    const c = base();
    c.networks.push(newNic(c.networks, 'rtl8139', counter));
    expect(c.networks[1]).toMatchObject({ id: 'net1', mode: 'user', model: 'rtl8139', portForwards: [] });
    expect(() => VmConfigSchema.parse(c)).not.toThrow();
  });
  it('send the whole list in the patch, so a removed card is removed and an added one carries its MAC', () => {
    const before = base();
    const after = structuredClone(before);
    after.networks.push(newNic(after.networks, 'e1000', counter));
    after.networks.splice(0, 1);
    const patch = diffPatch(before, applyExtra(after, extraFor(before), parseArgLines)) as { networks: VmConfig['networks'] };
    expect(patch.networks).toHaveLength(1);
    expect(patch.networks[0]).toMatchObject({ id: 'net1', model: 'e1000', mac: expect.stringMatching(/^52:54:00:/) });
  });
});
