import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createEngine, type Engine } from '../../electron/engine/index.ts';
import { startServer, type RunningServer } from '../../electron/server/server.ts';
import { HttpDisk } from '../../renderer/src/v86/http-disk.ts';
import { V86Lease } from '../../renderer/src/v86/lease.ts';
import { ensureI386, I386_MARKERS, I386_PROMPT, type I386Fixtures } from '../fixtures/guest-i386.ts';

// The wasm/v86 backend's drives over `vireo serve`'s transport (issue 20, acceptance 3 at the
// engine's side): real engine, real HTTP on 127.0.0.1, and real v86 (the npm package's wasm,
// run in Node here the way the renderer runs it) booting the 32-bit test guest from the ISO
// it reads in ranges, with Debian's SeaBIOS served by the engine. The guest writes its disk;
// the renderer's HttpDisk sends the dirty blocks back; the write is in the image after the
// engine is restarted.

const TOKEN = 'v86-drives-token-0123456789';
const cookie = { Cookie: `vireo_token=${TOKEN}` };
let home: string;
let fx: I386Fixtures;
let engine: Engine | null = null;
let server: RunningServer | null = null;
let vmId: string;

async function up() {
  engine = await createEngine({ home });
  // What serve gives its server: the engine's dispatch and events, and its wasm drives.
  server = await startServer({ engine: { dispatch: engine.dispatch, bus: engine.bus, bridge: engine.bridge, wasm: engine.wasm }, port: 0, token: TOKEN, staticDir: join(import.meta.dirname, '..', '..', '.vite', 'renderer', 'main_window') });
}
async function down() {
  await server?.close();
  await engine?.dispose();
  server = null;
  engine = null;
}
const base = () => `http://127.0.0.1:${server!.port}`;
const drive = (name: string) => `${base()}/wasm/vms/${vmId}/drives/${name}`;
const hold = async (q = '') => fetch(`${base()}/wasm/vms/${vmId}/hold${q}`, { method: 'POST', headers: cookie });

beforeAll(async () => {
  fx = await ensureI386();
  home = mkdtempSync(join(tmpdir(), 'vireo-v86-'));
  await up();
  const vm = await engine!.client.call('vms.create', { name: 'v86-drives', memory: '128M', cpus: 1 });
  vmId = vm.id;
  copyFileSync(fx.disk, join(vm.dir, 'disk-i386.img'));
  await engine!.client.call('vms.update', {
    vm: vmId,
    patch: {
      backend: 'wasm/v86',
      profile: 'legacy',
      system: { machine: 'pc', cpus: 1, memoryMiB: 128, firmware: 'bios', secureBoot: false, tpm: false },
      disks: [{ id: 'disk0', file: 'disk-i386.img', format: 'raw', bus: 'ide' }],
      cdrom: { iso: fx.iso, bus: 'ide', extra: [] },
      networks: [],
      display: { device: 'std' },
      sound: { device: 'none' },
      usb: [],
    },
  });
}, 120_000);

afterAll(async () => {
  await down();
  if (home) rmSync(home, { recursive: true, force: true });
});

describe('wasm/v86 drives over the server', () => {
  it('refuses a config v86 cannot run, naming the field', async () => {
    await expect(engine!.client.call('vms.update', { vm: vmId, patch: { system: { cpus: 2 } } })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/system\.cpus: 2 CPUs: it has exactly one \(no SMP\)/),
    });
    await expect(engine!.client.call('vms.start', { vm: vmId })).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringMatching(/inside the window/) });
  });

  it('needs the token, serves ranges, and takes writes only from the lease holder', async () => {
    expect((await fetch(drive('disk0'), { headers: { Range: 'bytes=0-511' } })).status).toBe(401);
    const r = await fetch(drive('cdrom'), { headers: { ...cookie, Range: 'bytes=32768-34815' } });
    expect(r.status).toBe(206);
    expect(r.headers.get('content-range')).toBe(`bytes 32768-34815/${readFileSync(fx.iso).length}`);
    expect(Buffer.from(await r.arrayBuffer())).toEqual(readFileSync(fx.iso).subarray(32768, 34816));
    expect((await fetch(drive('disk0'), { headers: { ...cookie, Range: 'bytes=99999999-' } })).status).toBe(416);
    expect((await fetch(drive('../vm.json'), { headers: cookie })).status).toBe(404);
    expect((await fetch(`${base()}/wasm/bios/bios.bin`, { headers: cookie })).status).toBe(200);

    const put = (lease: string, offset = 0) => fetch(`${drive('disk0')}?offset=${offset}`, { method: 'PUT', headers: { ...cookie, 'X-Vireo-Lease': lease }, body: new Uint8Array(512) });
    expect((await put('nope')).status).toBe(409);
    const first = (await (await hold()).json()) as { lease: string };
    const second = await hold();
    expect(second.status).toBe(409);
    expect(((await second.json()) as { error: { message: string } }).error.message).toMatch(/is running in another window or tab \(a browser at 127\.0\.0\.1, since /);
    // A reloaded page takes over; the old page's writes are refused from then on.
    const taken = (await (await hold('?take=1')).json()) as { lease: string };
    expect((await put(first.lease)).status).toBe(409);
    expect((await put(taken.lease, 4 * 1024 * 1024)).status).toBe(400); // past the end
    expect((await fetch(`${base()}/wasm/vms/${vmId}/hold?lease=${taken.lease}`, { method: 'DELETE', headers: cookie })).status).toBe(200);
    // Another site's page cannot write even with the cookie.
    expect((await fetch(`${drive('disk0')}?offset=0`, { method: 'PUT', headers: { ...cookie, Origin: 'http://evil.example', 'X-Vireo-Lease': taken.lease }, body: new Uint8Array(512) })).status).toBe(403);
  });

  it("boots the i386 guest in v86 from the engine's drives; its disk write survives an engine restart", async () => {
    const { V86 } = (await import('v86')) as unknown as { V86: new (o: object) => V86Like };
    // The page's lease, renewed while it runs the guest (the boot takes longer than its ttl).
    const keeper = new V86Lease(base(), vmId, cookie);
    await keeper.take();
    const lease = () => keeper.current();
    const size = async (name: string) => Number((await fetch(drive(name), { method: 'HEAD', headers: cookie })).headers.get('content-length'));
    const errors: Error[] = [];
    const hda = new HttpDisk({ url: drive('disk0'), size: await size('disk0'), writable: true, lease, headers: cookie, onError: (e) => errors.push(e) });
    const cdrom = new HttpDisk({ url: drive('cdrom'), size: await size('cdrom'), writable: false, headers: cookie, onError: (e) => errors.push(e) });
    const bin = async (name: string) => ({ buffer: await (await fetch(`${base()}/wasm/bios/${name}`, { headers: cookie })).arrayBuffer() });
    const emu = new V86({
      wasm_path: join(import.meta.dirname, '..', '..', 'node_modules', 'v86', 'build', 'v86.wasm'),
      bios: await bin('bios.bin'),
      vga_bios: await bin('vgabios.bin'),
      memory_size: 128 * 1024 * 1024,
      hda,
      cdrom,
      boot_order: 0x123, // CD first
      autostart: true,
      disable_speaker: true,
    });
    let serial = '';
    const waitFor = (re: RegExp | string, ms: number) =>
      new Promise<void>((resolve, reject) => {
        const t = setInterval(() => {
          if (typeof re === 'string' ? serial.includes(re) : re.test(serial)) {
            clearInterval(t);
            clearTimeout(to);
            resolve();
          }
        }, 100);
        const to = setTimeout(() => {
          clearInterval(t);
          reject(new Error(`no ${String(re)} on the guest's serial within ${ms} ms; got: ${serial.slice(-800)}`));
        }, ms);
      });
    emu.add_listener('serial0-output-byte', (b: number) => (serial += String.fromCharCode(b)));
    const text = `v86-${randomBytes(6).toString('hex')}`;
    try {
      await waitFor(I386_MARKERS.boot, 240_000);
      await waitFor(I386_MARKERS.ready, 120_000);
      expect(I386_MARKERS.ready.exec(serial)?.[1]).toBe('1');
      await waitFor(I386_PROMPT, 60_000);
      emu.serial0_send(`diskwrite ${text}; echo WROTE-$((40+2))\n`);
      await waitFor('WROTE-42', 60_000);
      expect(hda.dirtyBlocks).toBeGreaterThan(0);
      await hda.flush();
      expect(hda.dirtyBlocks).toBe(0);
      // The drive is read in ranges as the guest reads it, never copied whole.
      expect(hda.bytesRead).toBeLessThan(hda.byteLength);
      expect(errors).toEqual([]);
    } finally {
      await emu.destroy();
      await keeper.release();
    }

    await down();
    await up();
    const r = await fetch(drive('disk0'), { headers: { ...cookie, Range: 'bytes=0-255' } });
    expect(r.status).toBe(206);
    const head = Buffer.from(await r.arrayBuffer());
    expect(head.subarray(0, text.length + 1).toString('latin1')).toBe(`${text}\0`);
  }, 600_000);
});

interface V86Like {
  add_listener(ev: string, fn: (b: number) => void): void;
  serial0_send(s: string): void;
  destroy(): Promise<void>;
}
