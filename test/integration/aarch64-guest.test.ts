import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import { join } from 'node:path';
import type { Engine } from '../../electron/engine/index.ts';
import type { VmDetails } from '../../electron/api/types.ts';
import { SerialShell } from '../fixtures/guest.ts';
import { ensureArm64Fixtures } from '../fixtures/guest-arm64.ts';
import { disposeEngine, qemuPidsFor, serialSocketOf, tempEngine, waitForReady } from './helpers.ts';
import { run } from '../../electron/engine/util/proc.ts';

// Issue 19, acceptance 1 and 3: the arm64 test guest (build-arm64.sh) created from its ISO is an
// aarch64 VM on the virt machine, boots under TCG through AAVMF to its READY marker, shows its
// console on the display (ramfb → UEFI GOP → Linux's EFI framebuffer), and a live snapshot
// brings its RAM back. One booted guest serves the whole file (aarch64 TCG boots are slow).

let engine: Engine;
let shell: SerialShell | undefined;
let vm: VmDetails;
beforeAll(async () => {
  engine = await tempEngine();
});
afterAll(async () => {
  shell?.close();
  await disposeEngine(engine);
});

const counter = async (sh: SerialShell) => Number(/COUNTER (\d+)/.exec(await sh.run('counter'))![1]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Pixels of the engine's screenshot PNG (its encoder writes filters 0 and 2 only). */
function decodeRgb(png: Buffer): { width: number; height: number; rgb: Buffer } {
  let pos = 8;
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  while (pos < png.length) {
    const len = png.readUInt32BE(pos);
    const type = png.toString('latin1', pos + 4, pos + 8);
    const data = png.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
    }
    if (type === 'IDAT') idat.push(data);
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

/**
 * Text on a dark console: a few percent of the pixels lit, spread over many rows, with many
 * lit/unlit changes along each text row (glyph strokes), unlike a blank or a solid screen.
 */
function textStats(img: { width: number; height: number; rgb: Buffer }) {
  let lit = 0;
  let rowsWithText = 0;
  let transitions = 0;
  for (let y = 0; y < img.height; y++) {
    let prev = false;
    let rowLit = 0;
    for (let x = 0; x < img.width; x++) {
      const i = (y * img.width + x) * 3;
      const on = img.rgb[i]! + img.rgb[i + 1]! + img.rgb[i + 2]! > 300;
      if (on) rowLit++;
      if (on !== prev) transitions++;
      prev = on;
    }
    lit += rowLit;
    if (rowLit > 0) rowsWithText++;
  }
  return { litFraction: lit / (img.width * img.height), rowsWithText, transitions };
}

describe('an aarch64 guest (TCG, AAVMF) through the engine', () => {
  it('an arm64 ISO is detected as aarch64, and a VM created from it is an aarch64 virt VM with 64 MiB qcow2 NVRAM', async () => {
    const fx = await ensureArm64Fixtures();
    const det = await engine.client.call('os.detect', { path: fx.iso });
    expect(det.arch).toBe('aarch64');
    expect(det.archEvidence).toMatch(/BOOTAA64\.EFI in the El Torito EFI image/);

    vm = await engine.client.call('vms.create', { name: 'arm', iso: fx.iso, memory: '384M', disk: '64M', cpus: 1 });
    expect(vm.config).toMatchObject({
      arch: 'aarch64',
      system: { machine: 'virt', firmware: 'uefi' },
      cdrom: { bus: 'scsi' },
      display: { device: 'ramfb' },
      devices: { usb: 'xhci' },
    });
    expect(vm.config!.disks[0]!.bus).toBe('virtio');
    const nvram = join(vm.dir, 'nvram.qcow2');
    expect(existsSync(nvram)).toBe(true);
    const info = JSON.parse((await run('qemu-img', ['info', '--output=json', nvram])).stdout) as { format: string; 'virtual-size': number };
    expect(info).toMatchObject({ format: 'qcow2', 'virtual-size': 64 * 1024 * 1024 });
  });

  it('boots under TCG through AAVMF to its READY marker on the PL011 serial console', async () => {
    const started = await engine.client.call('vms.start', { vm: vm.id });
    expect(started.runtime.accel).toBe('tcg');
    const [pid] = qemuPidsFor([vm.id]);
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    expect(argv[0]).toMatch(/qemu-system-aarch64$/);
    expect(argv[argv.indexOf('-machine') + 1]).toMatch(/^virt,gic-version=max,pflash0=pflash0,pflash1=pflash1/);
    expect(argv.some((a) => a.includes('AAVMF_CODE.fd'))).toBe(true);
    const ready = await waitForReady(vm, 240_000);
    expect(ready[0]).toMatch(/firmware=uefi/);
    shell = await SerialShell.connect(serialSocketOf(engine, started));
    expect(await shell.run('uname -m')).toBe('aarch64');
  });

  it('shows its console on the display: the screenshot is not blank and holds text', async () => {
    // The console text (boot marker, tick lines) reaches the framebuffer within a second or two.
    let stats = { litFraction: 0, rowsWithText: 0, transitions: 0 };
    let img: { width: number; height: number; rgb: Buffer } = { width: 0, height: 0, rgb: Buffer.alloc(0) };
    for (let i = 0; i < 30; i++) {
      img = decodeRgb(Buffer.from((await engine.client.call('vms.screenshot', { vm: vm.id })).png, 'base64'));
      stats = textStats(img);
      if (stats.rowsWithText >= 20 && stats.transitions >= 200) break;
      await sleep(1000);
    }
    expect(img.width).toBeGreaterThanOrEqual(640);
    expect(stats.litFraction).toBeGreaterThan(0.001);
    expect(stats.litFraction).toBeLessThan(0.5);
    expect(stats.rowsWithText).toBeGreaterThanOrEqual(20);
    expect(stats.transitions).toBeGreaterThanOrEqual(200);
  });

  it('takes a live snapshot and restores it: the RAM counter comes back, the guest runs on', async () => {
    const n1 = await counter(shell!);
    const tree = await engine.client.call('snapshots.save', { vm: vm.id, name: 'arm live' });
    expect(tree.available).toBe(true);
    const snap = tree.nodes[0]!;
    expect(snap).toMatchObject({ live: true, vmState: 'running' });
    let later = await counter(shell!);
    while (later < n1 + 4) {
      await sleep(1000);
      later = await counter(shell!);
    }
    const restored = await engine.client.call('snapshots.restore', { vm: vm.id, snapshot: snap.id });
    expect(restored.current).toBe(snap.id);
    expect((await engine.client.call('vms.get', { vm: vm.id })).state).toBe('running');
    const n2 = await counter(shell!);
    expect(n2).toBeGreaterThanOrEqual(n1);
    expect(n2).toBeLessThan(later);
    await sleep(2500);
    expect(await counter(shell!)).toBeGreaterThan(n2);

    shell!.close();
    shell = undefined;
    await engine.client.call('vms.stop', { vm: vm.id, force: true });
    expect(qemuPidsFor([vm.id])).toEqual([]);
  });

  it('a full clone is an aarch64 VM with its own NVRAM, and boots', async () => {
    const clone = await engine.client.call('vms.clone', { vm: vm.id, name: 'arm clone' });
    expect(clone.config).toMatchObject({ arch: 'aarch64', system: { machine: 'virt', firmware: 'uefi' } });
    expect(existsSync(join(clone.dir, 'nvram.qcow2'))).toBe(true);
    await engine.client.call('vms.start', { vm: clone.id });
    expect((await waitForReady(clone, 240_000))[0]).toMatch(/firmware=uefi/);
    await engine.client.call('vms.stop', { vm: clone.id, force: true });
    expect(qemuPidsFor([clone.id])).toEqual([]);
  });
});
