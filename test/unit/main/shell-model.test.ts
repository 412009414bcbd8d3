import { inflateSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Job, VmSummary } from '../../../electron/api/types.ts';
import { fileDialogOptions, jobNotification, menuSpec, trayTooltip, trayVmItems } from '../../../electron/main/shell-model.ts';
import { initialBounds, parseWindowState } from '../../../electron/main/window-state.ts';
import { parseShellSettings, shellPaths } from '../../../electron/main/paths.ts';
import { encodePng, rasterize, svgFor, ICON_SIZES } from '../../../build/make-icons.ts';

const vm = (name: string, state: VmSummary['state']): VmSummary => ({
  id: `id-${name}`, name, os: { id: 'x', name: 'X', family: 'linux' }, state, broken: null, cpus: 1, memoryMiB: 256,
  createdAt: '2025-01-01T00:00:00Z', accel: 'tcg', crash: null,
});

describe('tray model', () => {
  it('lists running VMs by name with Stop where it applies', () => {
    const items = trayVmItems([vm('b', 'running'), vm('a', 'paused'), vm('c', 'stopped'), vm('d', 'crashed'), vm('e', 'stopping')]);
    expect(items.map((i) => i.label)).toEqual(['a (paused)', 'b', 'e (stopping)']);
    expect(items.map((i) => i.canStop)).toEqual([true, true, false]);
    expect(trayTooltip([])).toBe('Vireo: no VM running');
    expect(trayTooltip([vm('a', 'running'), vm('b', 'running')])).toBe('Vireo: 2 VMs running');
  });
});

describe('job notifications', () => {
  const job = (state: Job['state'], error: Job['error'] = null): Job => ({
    id: 'j', kind: 'clone', title: 'Clone "deb"', vmId: null, state, progress: null, startedAt: '', endedAt: null, error, cancellable: true,
  });
  it('speaks when a job ends, not while it runs', () => {
    expect(jobNotification(job('running'))).toBeNull();
    expect(jobNotification(job('done'))?.title).toBe('Clone "deb": done');
    expect(jobNotification(job('failed', { code: 'TOOL_FAILED', message: 'qemu-img failed' }))?.body).toBe('qemu-img failed (TOOL_FAILED)');
    expect(jobNotification(job('cancelled'))?.title).toMatch(/cancelled/);
  });
});

describe('menus and dialogs', () => {
  it('have App, VM, View and Help menus with unique accelerators', () => {
    for (const platform of ['linux', 'darwin', 'win32'] as const) {
      const spec = menuSpec(platform);
      expect(spec.map((m) => m.label)).toEqual([platform === 'darwin' ? 'Vireo' : 'File', 'Edit', 'VM', 'View', 'Help']);
      const accels = spec.flatMap((m) => m.items.flatMap((i) => ('accelerator' in i && i.accelerator ? [i.accelerator] : [])));
      expect(new Set(accels).size).toBe(accels.length);
      const commands = spec.flatMap((m) => m.items.flatMap((i) => ('command' in i && i.command ? [i.command] : [])));
      expect(commands).toEqual(expect.arrayContaining(['new-vm', 'open-iso', 'import-disk', 'settings']));
    }
  });
  it('filter ISOs and disk images', () => {
    expect(fileDialogOptions('iso').filters[0]!.extensions).toEqual(['iso']);
    expect(fileDialogOptions('disk').filters[0]!.extensions).toEqual(expect.arrayContaining(['qcow2', 'vmdk', 'vdi', 'vhdx', 'raw']));
  });
});

describe('window state', () => {
  const primary = { x: 0, y: 0, width: 1920, height: 1040 };
  it('falls back to a centred default for garbage or off-screen bounds', () => {
    expect(parseWindowState('nope')).toEqual({ bounds: null, maximized: false });
    expect(parseWindowState({ bounds: { x: 'a' } }).bounds).toBeNull();
    expect(initialBounds(parseWindowState(null), [primary])).toEqual({ x: 360, y: 130, width: 1200, height: 780 });
    // saved on a second monitor that is gone
    expect(initialBounds(parseWindowState({ bounds: { x: 2500, y: 100, width: 1000, height: 700 } }), [primary])).toEqual({ x: 360, y: 130, width: 1200, height: 780 });
  });
  it('keeps saved bounds that are on screen, shrunk to fit', () => {
    expect(initialBounds(parseWindowState({ bounds: { x: 100, y: 50, width: 1000, height: 700 }, maximized: true }), [primary])).toEqual({ x: 100, y: 50, width: 1000, height: 700 });
    expect(initialBounds(parseWindowState({ bounds: { x: -100, y: 0, width: 3000, height: 700 } }), [primary])).toEqual({ x: 0, y: 0, width: 1920, height: 700 });
  });
});

describe('shell paths and settings', () => {
  it('finds preload, renderer and icons where electron-builder puts them', () => {
    const p = shellPaths({ buildDir: '/opt/Vireo/resources/app.asar/.vite/build', isPackaged: true, resourcesPath: '/opt/Vireo/resources', appPath: '/opt/Vireo/resources/app.asar', platform: 'linux' });
    expect(p.preload).toBe('/opt/Vireo/resources/app.asar/.vite/build/preload.js');
    expect(p.rendererDir).toBe('/opt/Vireo/resources/app.asar/.vite/renderer/main_window');
    expect(p.trayIcon).toBe('/opt/Vireo/resources/icons/32x32.png');
    const dev = shellPaths({ buildDir: '/src/.vite/build', isPackaged: false, resourcesPath: '/x', appPath: '/src', platform: 'linux' });
    expect(dev.windowIcon).toBe('/src/build/icons/512x512.png');
  });
  it('reads only known close choices', () => {
    expect(parseShellSettings({ closeChoice: 'shut-down' })).toEqual({ closeChoice: 'shut-down' });
    expect(parseShellSettings({ closeChoice: 'rm -rf' })).toEqual({ closeChoice: null });
    expect(parseShellSettings(null)).toEqual({ closeChoice: null });
  });
});

describe('icons', () => {
  function decode(png: Buffer) {
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    const w = png.readUInt32BE(16);
    const h = png.readUInt32BE(20);
    let off = 8;
    const idat: Buffer[] = [];
    while (off < png.length) {
      const len = png.readUInt32BE(off);
      const type = png.toString('latin1', off + 4, off + 8);
      if (type === 'IDAT') idat.push(png.subarray(off + 8, off + 8 + len));
      off += 12 + len;
    }
    return { w, h, raw: inflateSync(Buffer.concat(idat)) };
  }
  it('encodes a PNG that decodes back to the same pixels', () => {
    const px = rasterize(16);
    const { w, h, raw } = decode(encodePng(16, 16, px));
    expect([w, h]).toEqual([16, 16]);
    for (let y = 0; y < 16; y++) expect(raw.subarray(y * 65 + 1, y * 65 + 65)).toEqual(Buffer.from(px.subarray(y * 64, y * 64 + 64)));
    // rounded corners are transparent, the centre is opaque
    expect(px[3]).toBe(0);
    expect(px[(8 * 16 + 8) * 4 + 3]).toBe(255);
  });
  it('committed icons are what make-icons.ts renders', () => {
    const root = new URL('../../../build/', import.meta.url);
    expect(readFileSync(new URL('icon.svg', root), 'utf8')).toBe(svgFor());
    for (const n of [16, 32] as const) {
      expect(ICON_SIZES).toContain(n);
      expect(readFileSync(new URL(`icons/${n}x${n}.png`, root)).equals(encodePng(n, n, rasterize(n)))).toBe(true);
    }
  });
});
