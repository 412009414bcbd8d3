import { open, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { VireoError } from '../../api/errors.ts';
import type { VmConfig } from '../../api/schemas/vm-config.ts';
import type { LibraryEntry } from '../library/library.ts';
import type { EventBus } from '../../api/dispatch.ts';
import type { VmSummary } from '../../api/types.ts';
import { WasmSnapshots } from './snapshots.ts';

// The engine's side of the wasm/v86 backend (issue 20): the guest runs in a renderer, the
// engine keeps its config and its images. A renderer holds a VM by a lease (one holder at a
// time); it reads the VM's drives in ranges and writes changed blocks back, each write on the
// host file and fsynced before it is acknowledged, so whatever the renderer has flushed
// survives its reload and an engine restart. Nothing of the host is reachable but the drives
// the VM's config names.

/** A lease not renewed for this long is gone (the page was closed or crashed). */
export const LEASE_TTL_MS = 15_000;
/** Largest single block write; the renderer sends runs of dirty blocks in pieces this big. */
export const MAX_WRITE_BYTES = 1024 * 1024;
export const DRIVE_NAME_RE = /^(disk[0-9]|cdrom|floppy)$/;

/** The BIOS images v86 boots with: SeaBIOS from the host's package (the npm package has none). */
export const V86_BIOS_FILES = {
  'bios.bin': ['/usr/share/seabios/bios.bin'],
  'vgabios.bin': ['/usr/share/seabios/vgabios-stdvga.bin'],
} as const;
export type BiosName = keyof typeof V86_BIOS_FILES;

export function biosPath(name: BiosName): string {
  const found = V86_BIOS_FILES[name].find((p) => existsSync(p));
  if (!found) throw new VireoError('NOT_FOUND', `the v86 BIOS image ${name} is missing (looked for ${V86_BIOS_FILES[name].join(', ')}): install the seabios package (apt-get install seabios)`);
  return found;
}

export interface Lookup {
  resolve(ref: string): LibraryEntry;
}

export interface Drive {
  path: string;
  size: number;
  writable: boolean;
}

/** Who holds a VM: the page's browser and address, and since when (for a second page's refusal and the library). */
export interface Holder {
  who: string;
  since: string;
}

/** What the engine shows of a held VM (VmService.inRenderer): running, and by whom. */
export interface RunningInRenderer {
  inRenderer: (id: string) => Partial<Pick<VmSummary, 'state' | 'heldBy'>>;
  locks: { run<T>(vmId: string, what: string, fn: () => Promise<T>): Promise<T> };
}

export function isV86(c: VmConfig): boolean {
  return (c.backend as string) === 'wasm/v86';
}

export class WasmDrives {
  private readonly leases = new Map<string, { lease: string; until: number; holder: Holder; expiry: ReturnType<typeof setTimeout> }>();
  /** v86 state + drive copies per snapshot (snapshots.ts) */
  readonly snapshots = new WasmSnapshots(this);
  /** told when a VM becomes held (running in a page) or free again (released, taken over, expired) */
  onHeld: (id: string, held: boolean) => void = () => {};
  /** how long a lease lives unrenewed (a test shortens it to see one run out) */
  ttlMs = LEASE_TTL_MS;

  constructor(private readonly library: Lookup, private readonly now: () => number = Date.now) {}

  /**
   * The engine's drives, wired so a VM a page holds shows as running (vms.list, vms.get, the
   * vm.state event), with who holds it; a lease that dies without a release (the page closed
   * or crashed) turns it back to stopped when it runs out.
   */
  static attach(library: Lookup, vms: RunningInRenderer, bus: EventBus): WasmDrives {
    const d = new WasmDrives(library);
    vms.inRenderer = (id) => {
      const h = d.holderInfo(id);
      return h ? { state: 'running', heldBy: h } : {};
    };
    d.snapshots.lock = (id, fn) => vms.locks.run(id, 'a snapshot operation', fn);
    d.snapshots.changed = (vmId) => bus.emit('snapshots.changed', { vmId });
    d.onHeld = (id, held) => bus.emit('vm.state', { id, state: held ? 'running' : 'stopped', previous: held ? 'stopped' : 'running', ...(held ? {} : { reason: 'the window or tab running it let it go' }) });
    return d;
  }

  /** Who holds the VM (browser, address, since when), if a live lease does. */
  holderInfo(id: string): Holder | null {
    const l = this.leases.get(id);
    return l && l.until > this.now() ? l.holder : null;
  }

  private drop(id: string) {
    const l = this.leases.get(id);
    if (!l) return;
    clearTimeout(l.expiry);
    this.leases.delete(id);
    this.onHeld(id, false);
  }

  v86Entry(ref: string): { entry: LibraryEntry; config: VmConfig } {
    const entry = this.library.resolve(ref);
    const config = entry.config;
    if (!config) throw new VireoError('BROKEN_CONFIG', `VM ${entry.id} cannot be used: ${entry.broken}`, { id: entry.id });
    if (!isV86(config)) throw new VireoError('UNSUPPORTED', `"${config.name}" runs on the ${config.backend} backend, not in the window: start it as usual`, { backend: config.backend });
    return { entry, config };
  }

  /** Who holds the VM now (a live lease), if anyone. */
  holder(id: string): string | null {
    const l = this.leases.get(id);
    return l && l.until > this.now() ? l.lease : null;
  }

  /**
   * Take the VM for one renderer. A second holder is refused while the first renews its lease,
   * unless it asks to take over (a reloaded page: the old one gets CONFLICT on its next write).
   */
  hold(ref: string, opts: { lease?: string; takeOver?: boolean; who?: string } = {}): { id: string; lease: string; ttlMs: number } {
    const { entry, config } = this.v86Entry(ref);
    const current = this.holder(entry.id);
    const held = this.leases.get(entry.id);
    if (current && held && current !== opts.lease && !opts.takeOver) {
      throw new VireoError('INVALID_STATE', `"${config.name}" is running in another window or tab (${held.holder.who}, since ${held.holder.since}): close it there, or take it over here`, { id: entry.id, heldBy: held.holder });
    }
    const renew = !!current && current === opts.lease;
    if (held && !renew) this.drop(entry.id); // taken over, or expired without a release
    const lease = renew ? current : randomBytes(18).toString('base64url');
    const holder = renew && held ? held.holder : { who: (opts.who ?? 'a page').slice(0, 120), since: new Date(this.now()).toISOString() };
    this.keep(entry.id, lease, holder);
    if (!renew) this.onHeld(entry.id, true);
    return { id: entry.id, lease, ttlMs: this.ttlMs };
  }

  /** (Re)arm the lease's ttl: when it runs out with nobody renewing, the VM is free again. */
  private keep(id: string, lease: string, holder: Holder) {
    const old = this.leases.get(id);
    if (old) clearTimeout(old.expiry);
    const expiry = setTimeout(() => {
      const l = this.leases.get(id);
      if (l?.lease === lease && l.until <= this.now()) this.drop(id);
    }, this.ttlMs + 50);
    expiry.unref();
    this.leases.set(id, { lease, until: this.now() + this.ttlMs, holder, expiry });
  }

  release(ref: string, lease: string): void {
    const { entry } = this.v86Entry(ref);
    if (this.holder(entry.id) === lease) this.drop(entry.id);
  }

  requireLease(id: string, name: string, lease: string | undefined) {
    const h = this.holder(id);
    const held = this.leases.get(id);
    if (!h || !held || h !== lease) throw new VireoError('INVALID_STATE', `this window no longer holds "${name}" (another took it over, or the lease ran out): reload to run it here`, { id });
    this.keep(id, h, held.holder);
  }

  /** The file behind one of the VM's drives (disk0.., cdrom, floppy), as its config names it. */
  async drive(ref: string, name: string): Promise<Drive> {
    const { entry, config } = this.v86Entry(ref);
    if (!DRIVE_NAME_RE.test(name)) throw new VireoError('INVALID_ARGUMENT', `no drive "${name.slice(0, 40)}": drives are disk0, disk1, cdrom and floppy`);
    const inDir = (f: string) => (isAbsolute(f) ? f : join(entry.paths.dir, f));
    let path: string | null = null;
    let writable = false;
    if (name === 'cdrom') path = config.cdrom.iso;
    else if (name === 'floppy') {
      const f = (config as { floppy?: string | null }).floppy ?? null;
      path = f ? inDir(f) : null;
      writable = path !== null;
    } else {
      const d = config.disks.find((x) => x.id === name);
      if (d) {
        path = inDir(d.file);
        writable = !d.readOnly;
      }
    }
    if (!path) throw new VireoError('NOT_FOUND', `"${config.name}" has no ${name}: add it in Settings`, { drive: name });
    const s = await stat(path).catch(() => null);
    if (!s?.isFile()) throw new VireoError('NOT_FOUND', `${name} of "${config.name}" is missing (${path}): restore the file or remove it in Settings`, { drive: name });
    return { path, size: s.size, writable };
  }

  /** Write changed blocks at `offset` (the holder only), fsynced before returning. */
  async write(ref: string, name: string, lease: string | undefined, offset: number, data: Uint8Array): Promise<void> {
    const { entry, config } = this.v86Entry(ref);
    this.requireLease(entry.id, config.name, lease);
    const d = await this.drive(entry.id, name);
    if (!d.writable) throw new VireoError('INVALID_ARGUMENT', `${name} of "${config.name}" is read-only`, { drive: name });
    if (!Number.isSafeInteger(offset) || offset < 0 || data.byteLength === 0 || data.byteLength > MAX_WRITE_BYTES || offset + data.byteLength > d.size) {
      throw new VireoError('INVALID_ARGUMENT', `a write of ${data.byteLength} bytes at ${offset} does not fit ${name} (${d.size} bytes; at most ${MAX_WRITE_BYTES} bytes per write)`, { drive: name });
    }
    const fh = await open(d.path, 'r+');
    try {
      let done = 0;
      while (done < data.byteLength) {
        const { bytesWritten } = await fh.write(data, done, data.byteLength - done, offset + done);
        done += bytesWritten;
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
  }
}
