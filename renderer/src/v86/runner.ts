import type { VmConfig } from '../../../electron/api/types.ts';
import { HttpDisk } from './http-disk.ts';
import { LeaseHeld, V86Lease } from './lease.ts';

// One running wasm/v86 guest in this page (issue 20). The emulator outlives the Screen and
// Console tabs (they attach to it and detach again), so it lives here, one per VM, not in a
// component. It runs on the page's main thread, not in a worker: v86's screen, keyboard and
// mouse adapters work on the page's DOM (its own builds have no worker mode for them); its
// x86→wasm JIT is what takes the time either way.
//
// The engine holds the drives: the runner takes the VM's lease (its own again after a reload;
// another page's only when the person asks to take it over), reads the drives in ranges and flushes the guest's writes every second and
// when the page goes away.

/** `held`: another window or tab runs it (heldBy says which); this page may take it over */
export type RunnerState = 'idle' | 'starting' | 'running' | 'stopped' | 'failed' | 'held';

interface V86Emulator {
  add_listener(ev: string, fn: (arg: never) => void): void;
  serial0_send(s: string): void;
  destroy(): Promise<void>;
  stop(): Promise<void>;
  run(): Promise<void>;
  save_state(): Promise<ArrayBuffer>;
  restore_state(s: ArrayBuffer): Promise<void>;
  keyboard_set_enabled(on: boolean): void;
  mouse_set_enabled(on: boolean): void;
  lock_mouse(): void;
  screen_make_screenshot(): HTMLElement;
  is_running(): boolean;
}

const FLUSH_MS = 1000;
const SERIAL_KEEP = 256 * 1024;

export class V86Runner {
  private static readonly runners = new Map<string, V86Runner>();

  static for(vmId: string): V86Runner {
    let r = V86Runner.runners.get(vmId);
    if (!r) {
      r = new V86Runner(vmId);
      V86Runner.runners.set(vmId, r);
    }
    return r;
  }

  /** the element v86 draws into (text mode div + graphics canvas), moved into whichever tab shows it */
  readonly screen: HTMLDivElement;
  state: RunnerState = 'idle';
  error: string | null = null;
  heldBy: { who: string; since: string } | null = null;
  serial = '';
  private emu: V86Emulator | null = null;
  private disks: HttpDisk[] = [];
  private lease: V86Lease | null = null;
  private flushTimer: ReturnType<typeof setInterval> | null = null;
  private readonly listeners = new Set<() => void>();
  private readonly serialListeners = new Set<(text: string) => void>();

  private constructor(readonly vmId: string) {
    this.screen = document.createElement('div');
    this.screen.className = 'v86-screen';
    const text = document.createElement('div');
    text.style.cssText = 'white-space: pre; font: 14px monospace; line-height: 14px';
    const canvas = document.createElement('canvas');
    canvas.style.display = 'none';
    this.screen.append(text, canvas);
    this.screen.tabIndex = 0;
    this.screen.setAttribute('role', 'application');
    this.screen.setAttribute('aria-label', 'Screen of the VM (v86): click to send keyboard and mouse to the guest');
  }

  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  onSerial(fn: (text: string) => void): () => void {
    this.serialListeners.add(fn);
    return () => this.serialListeners.delete(fn);
  }

  private set(state: RunnerState, error: string | null = null) {
    this.state = state;
    this.error = error;
    for (const fn of this.listeners) fn();
  }

  private driveUrl(name: string) {
    return `${location.origin}/wasm/vms/${encodeURIComponent(this.vmId)}/drives/${name}`;
  }

  private async drive(name: string, writable: boolean): Promise<HttpDisk> {
    const r = await fetch(this.driveUrl(name), { method: 'HEAD', credentials: 'same-origin' });
    if (!r.ok) throw new Error(`the engine does not serve ${name} of this VM (HTTP ${r.status}): check it in Settings`);
    const disk = new HttpDisk({
      url: this.driveUrl(name),
      size: Number(r.headers.get('content-length')),
      writable,
      lease: () => this.lease?.current() ?? null,
      onError: (e) => void this.fail(e.message),
    });
    this.disks.push(disk);
    return disk;
  }

  private async bios(name: string): Promise<{ buffer: ArrayBuffer }> {
    const r = await fetch(`${location.origin}/wasm/bios/${name}`, { credentials: 'same-origin' });
    if (!r.ok) throw new Error(((await r.json().catch(() => null)) as { error?: { message?: string } } | null)?.error?.message ?? `the BIOS ${name} is not available (HTTP ${r.status})`);
    return { buffer: await r.arrayBuffer() };
  }

  /** Boot the VM in this page (an initial state: a snapshot being restored; takeOver: from the page that holds it). */
  async start(config: VmConfig, initialState?: ArrayBuffer, takeOver = false): Promise<void> {
    if (this.state === 'starting' || this.state === 'running') return;
    // A serve page (http, https) or the desktop window (app://vireo, main/protocol.ts): the same /wasm/ routes on the page's origin.
    if (!['http:', 'https:', 'app:'].includes(location.protocol)) {
      this.set('failed', `not yet: a page loaded from ${location.protocol} has no route to the engine's drives; run it in the Vireo window or through \`vireo serve\``);
      return;
    }
    this.set('starting');
    this.serial = '';
    try {
      this.lease = new V86Lease(location.origin, this.vmId, {}, (why) => void this.fail(`the VM was taken by another window or tab: ${why}`));
      try {
        await this.lease.take(takeOver);
      } catch (e) {
        this.lease = null;
        if (!(e instanceof LeaseHeld)) throw e;
        this.heldBy = e.heldBy;
        this.set('held', e.message);
        return;
      }
      this.heldBy = null;
      const [{ V86 }, wasm] = await Promise.all([import('v86'), import('v86/build/v86.wasm?url')]);
      const opts: Record<string, unknown> = {
        wasm_path: (wasm as { default: string }).default,
        bios: await this.bios('bios.bin'),
        vga_bios: await this.bios('vgabios.bin'),
        memory_size: config.system.memoryMiB * 1024 * 1024,
        vga_memory_size: 8 * 1024 * 1024,
        screen_container: this.screen,
        autostart: !initialState,
        disable_speaker: config.sound.device === 'none',
        // v86's boot order: one nibble per device, 1 = floppy, 2 = hard disk, 3 = CD (first in the lowest)
        boot_order: bootOrder(config),
      };
      if (config.disks[0]) opts.hda = await this.drive(config.disks[0].id, !config.disks[0].readOnly);
      if (config.disks[1]) opts.hdb = await this.drive(config.disks[1].id, !config.disks[1].readOnly);
      if (config.cdrom.iso) opts.cdrom = await this.drive('cdrom', false);
      const floppy = (config as { floppy?: string | null }).floppy;
      if (floppy) opts.fda = await this.drive('floppy', true);
      if (config.networks[0]) opts.net_device = { type: 'ne2k' };
      const emu = new (V86 as unknown as new (o: object) => V86Emulator)(opts);
      this.emu = emu;
      emu.add_listener('serial0-output-byte', ((b: number) => {
        const ch = String.fromCharCode(b);
        this.serial = (this.serial + ch).slice(-SERIAL_KEEP);
        for (const fn of this.serialListeners) fn(ch);
      }) as never);
      await new Promise<void>((resolve) => emu.add_listener('emulator-loaded', (() => resolve()) as never));
      if (initialState) {
        await emu.restore_state(initialState);
        await emu.run();
      }
      this.flushTimer = setInterval(() => void this.flush().catch(() => {}), FLUSH_MS);
      addEventListener('pagehide', this.onPageHide);
      this.set('running');
    } catch (e) {
      await this.fail((e as Error).message);
    }
  }

  private readonly onPageHide = () => {
    void this.flush().catch(() => {});
    void this.lease?.release(true);
  };

  /** Every drive's dirty blocks to the engine; resolves when they are on its disk. */
  async flush(): Promise<void> {
    await Promise.all(this.disks.map((d) => d.flush()));
  }

  sendSerial(text: string): void {
    this.emu?.serial0_send(text);
  }

  setInputEnabled(on: boolean): void {
    this.emu?.keyboard_set_enabled(on);
    this.emu?.mouse_set_enabled(on);
  }

  lockMouse(): void {
    this.emu?.lock_mouse();
  }

  screenshot(): HTMLElement | null {
    return this.emu ? this.emu.screen_make_screenshot() : null;
  }

  async saveState(): Promise<ArrayBuffer> {
    if (!this.emu) throw new Error('the VM is not running in this page');
    await this.flush();
    return this.emu.save_state();
  }

  private snapUrl(rest = '') {
    return `${location.origin}/wasm/vms/${encodeURIComponent(this.vmId)}/snapshots${rest}`;
  }

  /** Take a snapshot: RAM and devices from v86, the drives copied by the engine, a thumbnail of the screen. */
  async takeSnapshot(name: string): Promise<void> {
    const state = await this.saveState();
    const lease = this.lease?.current() ?? '';
    const r = await fetch(this.snapUrl(`?name=${encodeURIComponent(name)}`), { method: 'POST', body: state, headers: { 'Content-Type': 'application/octet-stream', 'X-Vireo-Lease': lease }, credentials: 'same-origin' });
    const snap = (await r.json().catch(() => null)) as { id?: string; error?: { message?: string } } | null;
    if (!r.ok || !snap?.id) throw new Error(snap?.error?.message ?? `the snapshot was not taken (HTTP ${r.status})`);
    const png = pngOf(this.screenshot());
    if (png) await fetch(this.snapUrl(`/${snap.id}/thumb`), { method: 'PUT', body: png.buffer as ArrayBuffer, headers: { 'Content-Type': 'image/png', 'X-Vireo-Lease': lease }, credentials: 'same-origin' }).catch(() => {});
  }

  async listSnapshots(): Promise<{ id: string; name: string; createdAt: string; hasThumbnail: boolean }[]> {
    const r = await fetch(this.snapUrl(), { credentials: 'same-origin' });
    return r.ok ? ((await r.json()) as { id: string; name: string; createdAt: string; hasThumbnail: boolean }[]) : [];
  }

  thumbnailUrl(id: string): string {
    return this.snapUrl(`/${id}/thumb`);
  }

  /** Restore one: stop the guest here, have the engine put the drives back, boot from its state. */
  async restoreSnapshot(config: VmConfig, id: string): Promise<void> {
    if (this.emu) await this.stop();
    const lease = new V86Lease(location.origin, this.vmId);
    try {
      const l = await lease.take();
      const r = await fetch(this.snapUrl(`/${id}/restore`), { method: 'POST', headers: { 'X-Vireo-Lease': l }, credentials: 'same-origin' });
      if (!r.ok) throw new Error(((await r.json().catch(() => null)) as { error?: { message?: string } } | null)?.error?.message ?? `restoring the drives failed (HTTP ${r.status})`);
      const st = await fetch(this.snapUrl(`/${id}/state`), { credentials: 'same-origin' });
      if (!st.ok) throw new Error(`reading the snapshot's state failed (HTTP ${st.status})`);
      const state = await st.arrayBuffer();
      await lease.release();
      this.state = 'idle';
      await this.start(config, state);
    } catch (e) {
      await lease.release();
      throw e;
    }
  }

  async stop(): Promise<void> {
    const emu = this.emu;
    this.emu = null;
    if (this.flushTimer) clearInterval(this.flushTimer);
    this.flushTimer = null;
    removeEventListener('pagehide', this.onPageHide);
    if (emu) await emu.stop().catch(() => {});
    const flushed = this.flush().catch((e: Error) => e);
    if (emu) await emu.destroy().catch(() => {});
    const err = await flushed;
    this.disks = [];
    await this.lease?.release();
    this.lease = null;
    if (err instanceof Error) this.set('failed', err.message);
    else this.set('stopped');
  }

  private async fail(message: string): Promise<void> {
    if (this.state === 'failed') return;
    const emu = this.emu;
    this.emu = null;
    if (this.flushTimer) clearInterval(this.flushTimer);
    this.flushTimer = null;
    if (emu) await emu.destroy().catch(() => {});
    this.disks = [];
    await this.lease?.release();
    this.lease = null;
    this.set('failed', message);
  }
}

/** The config's boot order as v86's boot_order word (floppy first when the VM has one). */
export function bootOrder(config: Pick<VmConfig, 'boot'> & { floppy?: string | null }): number {
  const code = { cdrom: 3, disk: 2, network: 0 } as const;
  const seq = [...(config.floppy ? [1] : []), ...config.boot.order.map((d) => code[d]).filter((n) => n > 0)];
  for (const n of [3, 2, 1]) if (!seq.includes(n)) seq.push(n);
  return seq.slice(0, 3).reduce((acc, n, i) => acc | (n << (4 * i)), 0);
}

/** The PNG bytes of v86's screenshot (an <img> with a data: URL), decoded here: the CSP allows no fetch of data: URLs. */
function pngOf(el: HTMLElement | null): Uint8Array | null {
  const src = (el as HTMLImageElement | null)?.src ?? '';
  const m = /^data:image\/png;base64,(.*)$/.exec(src);
  if (!m) return null;
  const bin = atob(m[1]!);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
