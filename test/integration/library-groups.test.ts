import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import type { Engine } from '../../electron/engine/index.ts';
import type { VmDetails } from '../../electron/api/types.ts';
import { directBootArgs } from '../fixtures/guest.ts';
import { createGuestVm, disposeEngine, qemuPidsFor, tempEngine, waitForReady } from './helpers.ts';
import { runVireo } from './cli-helpers.ts';

// The library's groups and faces on a real engine with two real guests (direct-kernel boot,
// booted once for the file): groups stored atomically beside the VMs, a group started and
// stopped as a whole, the CLI over the owner engine, a running VM's face taken from its screen
// and kept after it stops.

let engine: Engine;
let a: VmDetails;
let b: VmDetails;
let c: VmDetails;

/** Pixels of a PNG from encodePng (8-bit RGB, filters None and Up): enough to tell blank from not. */
function pngPixels(png: Buffer): { width: number; height: number; rgb: Buffer } {
  expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
  const width = png.readUInt32BE(16);
  const height = png.readUInt32BE(20);
  const idat: Buffer[] = [];
  for (let pos = 8; pos < png.length; ) {
    const len = png.readUInt32BE(pos);
    if (png.toString('latin1', pos + 4, pos + 8) === 'IDAT') idat.push(png.subarray(pos + 8, pos + 8 + len));
    pos += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * 3;
  const rgb = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)]!;
    for (let x = 0; x < stride; x++) {
      const v = raw[y * (stride + 1) + 1 + x]!;
      rgb[y * stride + x] = f === 2 && y > 0 ? (v + rgb[(y - 1) * stride + x]!) & 0xff : v;
    }
  }
  return { width, height, rgb };
}

const distinctColours = (rgb: Buffer) => {
  const s = new Set<number>();
  for (let i = 0; i < rgb.length; i += 3) s.add((rgb[i]! << 16) | (rgb[i + 1]! << 8) | rgb[i + 2]!);
  return s.size;
};

beforeAll(async () => {
  engine = await tempEngine();
  const extra = await directBootArgs();
  const make = async (name: string) => {
    const vm = await createGuestVm(engine, name, { iso: null, disk: '64M' });
    return engine.client.call('vms.update', { vm: vm.id, patch: { advanced: { extraArgs: extra } } });
  };
  [a, b, c] = [await make('lg-alpha'), await make('lg-beta'), await make('lg-gamma')];
}, 120_000);

afterAll(async () => {
  await disposeEngine(engine);
  expect(qemuPidsFor([a?.id, b?.id, c?.id].filter(Boolean))).toEqual([]);
}, 60_000);

describe('library groups', () => {
  it('creates, moves, renames and deletes groups in one atomically written file; a VM is in one group at most', async () => {
    const events: unknown[] = [];
    const off = engine.bus.on('groups.changed', (e) => events.push(e));
    await engine.client.call('groups.create', { name: 'Lab' });
    await engine.client.call('groups.create', { name: 'Other' });
    await engine.client.call('groups.move', { vm: a.id, group: 'lab' });
    await engine.client.call('groups.move', { vm: 'lg-beta', group: 'Lab' });
    await engine.client.call('groups.move', { vm: c.id, group: 'Other' });
    // moving on takes it out of the first group
    let l = await engine.client.call('groups.move', { vm: c.id, group: 'Lab' });
    expect(l.groups.map((g) => [g.name, g.vms])).toEqual([['Lab', [a.id, b.id, c.id]], ['Other', []]]);
    l = await engine.client.call('groups.move', { vm: c.id, group: null });
    expect(l.groups[0]!.vms).toEqual([a.id, b.id]);
    expect((await engine.client.call('groups.rename', { group: 'Other', name: 'Spare' })).groups[1]!.name).toBe('Spare');
    l = await engine.client.call('groups.delete', { group: 'Spare' });
    expect(l.groups.map((g) => g.name)).toEqual(['Lab']);
    off();
    expect(events.length).toBe(9);

    const file = join(engine.home, 'groups.json');
    const stored = JSON.parse(readFileSync(file, 'utf8'));
    expect(stored).toMatchObject({ version: 1, groups: [{ name: 'Lab', vms: [a.id, b.id] }] });
    // no temp files of the atomic writes left beside it
    expect(readFileSync(file, 'utf8').endsWith('\n')).toBe(true);
    const leftovers = (await import('node:fs')).readdirSync(engine.home).filter((n) => n.includes('groups.json') && n !== 'groups.json');
    expect(leftovers).toEqual([]);
  });

  it('refuses bad input with what was wrong, changing nothing', async () => {
    const before = readFileSync(join(engine.home, 'groups.json'), 'utf8');
    const err = (p: Promise<unknown>) => p.then(() => null, (e: { code: string; message: string }) => e);
    expect(await err(engine.client.call('groups.create', { name: 'lab' }))).toMatchObject({ code: 'ALREADY_EXISTS', message: expect.stringContaining('"lab" already exists') });
    expect(await err(engine.client.call('groups.create', { name: '   ' }))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('group name is empty') });
    expect(await err(engine.client.call('groups.create', { name: 'x'.repeat(65) }))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('longer than 64') });
    expect(await err(engine.client.call('groups.move', { vm: a.id, group: 'Nope' }))).toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('the groups are "Lab"') });
    expect(await err(engine.client.call('groups.move', { vm: 'no-such-vm', group: 'Lab' }))).toMatchObject({ code: 'NOT_FOUND' });
    expect(await err(engine.client.call('groups.start', { group: 'Nope' }))).toMatchObject({ code: 'NOT_FOUND' });
    expect(readFileSync(join(engine.home, 'groups.json'), 'utf8')).toBe(before);
  });

  it('a corrupt groups file is reported naming it, and the VMs still list', async () => {
    const file = join(engine.home, 'groups.json');
    const good = readFileSync(file, 'utf8');
    writeFileSync(file, '{"version": 1, "groups": [');
    try {
      const e = await engine.client.call('groups.list', {}).then(() => null, (x: { code: string; message: string }) => x);
      expect(e).toMatchObject({ code: 'BROKEN_CONFIG', message: expect.stringContaining(file) });
      expect((await engine.client.call('vms.list', {})).length).toBe(3);
    } finally {
      writeFileSync(file, good);
    }
  });

  it('starts a group (both VMs run), shows their faces from the screen, stops the group, and keeps the last face', async () => {
    expect((await engine.client.call('vms.face', { vm: a.id })).png).toBeNull();
    const started = await engine.client.call('groups.start', { group: 'Lab' });
    expect(started.results.map((r) => [r.name, r.outcome])).toEqual([['lg-alpha', 'done'], ['lg-beta', 'done']]);
    expect(engine.vms.list().filter((v) => v.state === 'running').map((v) => v.name).sort()).toEqual(['lg-alpha', 'lg-beta']);
    // starting again skips what runs, saying so
    const again = await engine.client.call('groups.start', { group: 'Lab' });
    expect(again.results.map((r) => r.outcome)).toEqual(['skipped', 'skipped']);
    await Promise.all([waitForReady(await engine.client.call('vms.get', { vm: a.id })), waitForReady(await engine.client.call('vms.get', { vm: b.id }))]);

    const face = await engine.client.call('vms.face', { vm: a.id });
    expect(face.live).toBe(true);
    const px = pngPixels(Buffer.from(face.png!, 'base64'));
    expect(px.width).toBeLessThanOrEqual(320);
    expect(px.height).toBeGreaterThan(0);
    // the boot text on the VGA screen: more than one colour, not a blank frame
    expect(distinctColours(px.rgb)).toBeGreaterThan(1);

    const used = await engine.client.call('vms.lastUsed', {});
    expect(Date.parse(used.lastUsed[a.id]!)).toBeGreaterThan(Date.now() - 60_000);
    expect(used.lastUsed[c.id]).toBeNull();

    const stopped = await engine.client.call('groups.stop', { group: 'Lab', force: true });
    expect(stopped.results.map((r) => r.outcome)).toEqual(['done', 'done']);
    expect(qemuPidsFor([a.id, b.id])).toEqual([]);
    const kept = await engine.client.call('vms.face', { vm: a.id });
    expect(kept).toMatchObject({ live: false, png: face.png });
    expect(existsSync(join(engine.vms.resolve(a.id).paths.dir, 'face.png'))).toBe(true);
    const usedAfter = (await engine.client.call('vms.lastUsed', {})).lastUsed[a.id]!;
    expect(Date.parse(usedAfter)).toBeGreaterThanOrEqual(statSync(join(engine.vms.resolve(a.id).paths.dir, 'face.png')).mtimeMs - 1);
  }, 240_000);

  it('vireo group ls|add|mv|rm talk to the owner engine', async () => {
    const add = await runVireo(engine.home, ['group', 'add', 'CLI set']);
    expect(add.code, add.stderr).toBe(0);
    const mv = await runVireo(engine.home, ['group', 'mv', 'lg-gamma', 'CLI set']);
    expect(mv.code, mv.stderr).toBe(0);
    const ls = await runVireo(engine.home, ['group', 'ls']);
    expect(ls.stdout).toMatch(/^Lab\tlg-alpha, lg-beta$/m);
    expect(ls.stdout).toMatch(/^CLI set\tlg-gamma$/m);
    const json = JSON.parse((await runVireo(engine.home, ['--json', 'group', 'ls'])).stdout);
    expect(json.groups.find((g: { name: string }) => g.name === 'CLI set').vms).toEqual([c.id]);
    const bad = await runVireo(engine.home, ['group', 'mv', 'lg-gamma']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--none');
    const stop = await runVireo(engine.home, ['group', 'stop', 'CLI set']);
    expect(stop.code, stop.stderr).toBe(0);
    expect(stop.stdout).toContain('lg-gamma: skipped (not running)');
    const rm = await runVireo(engine.home, ['group', 'rm', 'CLI set']);
    expect(rm.code, rm.stderr).toBe(0);
    expect((await engine.client.call('groups.list', {})).groups.map((g) => g.name)).toEqual(['Lab']);
  }, 120_000);

  it('a stop takes the face as it begins: a VM nobody looked at while it ran still shows its last screen', async () => {
    const file = join(engine.vms.resolve(c.id).paths.dir, 'face.png');
    expect(existsSync(file)).toBe(false);
    await engine.client.call('vms.start', { vm: c.id });
    await waitForReady(await engine.client.call('vms.get', { vm: c.id }));
    // a shutdown request the tiny guest ignores: the engine escalates after 2 s
    await engine.client.call('vms.stop', { vm: c.id, timeoutSec: 2 });
    expect(qemuPidsFor([c.id])).toEqual([]);
    const kept = await engine.client.call('vms.face', { vm: c.id });
    expect(kept.live).toBe(false);
    expect(distinctColours(pngPixels(Buffer.from(kept.png!, 'base64')).rgb)).toBeGreaterThan(1);
  }, 120_000);

  it('a deleted VM drops out of its group', async () => {
    await engine.client.call('vms.delete', { vm: b.id });
    expect((await engine.client.call('groups.list', {})).groups[0]!.vms).toEqual([a.id]);
  });
});
