import { join, isAbsolute, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { VireoError } from '../../api/errors.ts';
import { VmConfigSchema, type VmConfig } from '../../api/schemas/vm-config.ts';
import type { EventBus } from '../../api/dispatch.ts';
import type { ParsedArgs } from '../../api/contract.ts';
import type { AgentInfo, DiskDetails, VmDetails, VmSummary } from '../../api/types.ts';
import { Library, newMac, type LibraryEntry } from '../library/library.ts';
import { mergePatch } from '../library/config-store.ts';
import type { HostService } from '../host.ts';
import type { Jobs } from '../jobs.ts';
import { Machine } from './machine.ts';
import { requireState } from './state-machine.ts';
import { QemuBackend } from '../backend/qemu/index.ts';
import { V86Backend } from '../backend/v86/index.ts';
import type { Backend, BackendId, LaunchOptions, VmEndpoints } from '../backend/types.ts';
import { bootOnceConfig, restoreBootOrder } from './boot-once.ts';
import { VmLocks } from './locks.ts';
import { SHUTDOWN_TIMEOUT_SEC } from '../../shared/states.ts';
import { keepVmFiles } from './keep.ts';
import { QemuImg } from '../disk/qemu-img.ts';
import { createVm, requireIso } from './create.ts';
import { osMinimumWarnings } from '../osdetect/vm-warnings.ts';
import { secureSocket } from '../display/bridge.ts';
import { assertKnownKeys } from '../policy/patch-keys.ts';
import { natStatus, passtAvailability } from '../net/nat/plan.ts';
import { SavedStates, savedEditRefusal } from './saved-states.ts';
import { hostFitWarnings } from './host-fit.ts';

// VM operations on top of the library (folders + vm.json) and the machines (running QEMUs).

/** A check of a settings change by who asks for it; throws to refuse. */
export type UpdateGuard = (before: VmConfig, after: VmConfig, vmDir: string) => Promise<void>;

/** Fields whose change only takes effect at the next start, so they are refused while it runs. */
const LIVE_EDITABLE_TOP = new Set(['name', 'notes', 'os']);

export class VmService {
  private machines = new Map<string, Machine>();
  private readonly backends: Record<BackendId, Backend>;
  /** one operation at a time per VM: start, delete, settings, snapshots, clones */
  readonly locks = new VmLocks();
  private readonly saved: SavedStates;
  /** areas' steps around a start (unattended/lifecycle.ts): `before` may change and save the config, `after` runs once QEMU is up */
  readonly startHooks: { before(e: LibraryEntry, c: VmConfig): Promise<VmConfig>; after(e: LibraryEntry, c: VmConfig): Promise<void> }[] = [];

  constructor(
    readonly library: Library,
    private readonly host: HostService,
    private readonly jobs: Jobs,
    private readonly bus: EventBus,
  ) {
    this.backends = { qemu: new QemuBackend(host), 'wasm/v86': new V86Backend() };
    this.saved = new SavedStates(this, jobs);
  }

  backendFor(config: VmConfig): Backend {
    return this.backends[config.backend];
  }

  /** Where a VM's screen and console are served while it runs (inside the engine only). */
  endpoints(entry: LibraryEntry): VmEndpoints | null {
    return entry.config ? this.backendFor(entry.config).endpoints(entry, entry.config) : null;
  }

  async load(): Promise<void> {
    await this.library.sweep();
    await this.library.load();
    await Promise.all(this.library.list().map((e) => this.machineFor(e).attach().catch(() => {})));
  }

  machineFor(entry: LibraryEntry): Machine {
    let m = this.machines.get(entry.id);
    if (!m) {
      // Read the config at the time of need: a re-attached VM's helpers follow its settings.
      const helpersOf = () => {
        const c = this.library.get(entry.id)?.config;
        return c ? this.backendFor(c).helpersFor(entry, c) : [];
      };
      m = new Machine(entry.id, entry.config?.name ?? entry.id, entry.paths, helpersOf);
      m.on('state', (state, previous, reason) => {
        this.bus.emit('vm.state', { id: entry.id, state, previous, ...(reason ? { reason } : {}) });
      });
      this.machines.set(entry.id, m);
    }
    return m;
  }

  /**
   * Re-read the library from disk and pick up VMs another engine (the CLI) started: a long-
   * lived engine (serve, the app) calls this when the library or runtime folders change.
   */
  async refresh(): Promise<void> {
    await this.library.load();
    await Promise.all(
      this.library.list().map((e) => {
        const m = this.machineFor(e);
        if (e.config) m.setName(e.config.name);
        return m.isActive ? undefined : m.attach().catch(() => {});
      }),
    );
  }

  /** Snapshot availability comes from the snapshot service, which knows every reason. */
  snapshotAvailability: (entry: LibraryEntry) => { available: boolean; reason: string | null } = (e) =>
    e.config ? { available: true, reason: null } : { available: false, reason: 'the VM configuration is broken' };
  inRenderer: (id: string) => Partial<Pick<VmSummary, 'state' | 'heldBy'>> = () => ({}); // a wasm/v86 VM held by a page runs there (wasm/drives.ts attach)

  /** The guest agent (engine/agent/ sets it): what vms.get shows, and the stop path's second try. */
  agent: { info(id: string): AgentInfo; shutdown(id: string): Promise<boolean> } = {
    info: () => ({ state: 'absent', reason: 'no guest agent support in this engine', version: null, os: null, hostname: null, addresses: [], since: null }),
    shutdown: async () => false,
  };

  summary(entry: LibraryEntry): VmSummary {
    const m = this.machineFor(entry);
    const c = entry.config;
    return {
      id: entry.id,
      name: c?.name ?? `(broken) ${entry.id.slice(0, 8)}`,
      os: c ? { id: c.os.id, name: c.os.name, family: c.os.family } : { id: 'unknown', name: 'Unknown', family: 'other' },
      state: m.state,
      broken: entry.broken,
      cpus: c?.system.cpus ?? 0,
      memoryMiB: c?.system.memoryMiB ?? 0,
      createdAt: c?.createdAt ?? '',
      accel: m.info?.accel ?? null,
      crash: m.crash,
      template: c?.template ?? false,
      ...this.inRenderer(entry.id),
    };
  }

  list(): VmSummary[] {
    return this.library.list().map((e) => this.summary(e));
  }

  resolve(ref: string): LibraryEntry {
    return this.library.resolve(ref);
  }

  private requireConfig(entry: LibraryEntry): VmConfig {
    if (!entry.config) throw new VireoError('BROKEN_CONFIG', `VM ${entry.id} cannot be used: ${entry.broken}`, { id: entry.id });
    return entry.config;
  }

  diskPath(entry: LibraryEntry, file: string): string {
    return isAbsolute(file) ? file : join(entry.paths.dir, file);
  }

  async details(ref: string): Promise<VmDetails> {
    const entry = this.resolve(ref);
    const m = this.machineFor(entry);
    const c = entry.config;
    const img = new QemuImg(await this.host.qemuImg());
    const disks: DiskDetails[] = await Promise.all(
      (c?.disks ?? []).map(async (d) => {
        const path = this.diskPath(entry, d.file);
        try {
          // -U: the image may be open by a running QEMU; a read-only query is safe.
          const info = await img.infoCached(path);
          return { id: d.id, path, format: d.format, bus: d.bus, virtualSize: info.virtualSize, actualSize: info.actualSize ?? null };
        } catch (e) {
          return { id: d.id, path, format: d.format, bus: d.bus, virtualSize: null, actualSize: null, error: (e as Error).message };
        }
      }),
    );
    const rt = m.info;
    const ep = c ? this.endpoints(entry) : null;
    return {
      ...this.summary(entry),
      dir: entry.paths.dir,
      config: c,
      runtime: {
        pid: m.pid,
        accel: rt?.accel ?? null,
        accelReason: rt?.accelReason ?? null,
        startedAt: rt?.startedAt ?? null,
        display: (m.isActive && ep?.display?.protocol) || null,
        console: (m.isActive && ep?.console?.protocol) || null,
        argv: rt?.argv.length ? [rt.binary, ...rt.argv] : null,
        agent: this.agent.info(entry.id),
      },
      paths: { serialLog: entry.paths.serialLog, qemuLog: entry.paths.qemuLog },
      disks,
      snapshots: this.snapshotAvailability(entry),
      warnings: [...(m.state === 'paused' && m.ioPause ? [m.ioPause] : []), ...(c ? [...hostFitWarnings(c), ...osMinimumWarnings(c, disks)] : [])],
      nat: c ? natStatus(c, await passtAvailability(), (await this.host.capabilities(c.arch).catch(() => null))?.versionParts ?? [0, 0, 0], m.isActive ? (rt?.argv ?? []) : null) : [],
    };
  }

  // ---- creation -------------------------------------------------------------------------

  async create(args: ParsedArgs<'vms.create'>): Promise<VmDetails> {
    const entry = await createVm({ library: this.library, host: this.host, jobs: this.jobs }, args);
    this.machineFor(entry);
    this.bus.emit('vm.changed', { id: entry.id });
    if (args.start) await this.start(entry.id);
    return this.details(entry.id);
  }

  // ---- settings -------------------------------------------------------------------------

  /** `guard` sees the config before and after (the caller's policy: electron/engine/policy/confine.ts) and may refuse. */
  update(ref: string, patch: Record<string, unknown>, guard?: UpdateGuard): Promise<VmDetails> {
    const { id } = this.resolve(ref);
    return this.locks.run(id, 'a settings change', () => this.updateNow(id, patch, guard));
  }

  private async updateNow(ref: string, patch: Record<string, unknown>, guard?: UpdateGuard): Promise<VmDetails> {
    const entry = this.resolve(ref);
    const config = this.requireConfig(entry);
    const m = this.machineFor(entry);
    for (const forbidden of ['id', 'schemaVersion', 'createdAt']) {
      if (Object.hasOwn(patch, forbidden)) throw new VireoError('INVALID_ARGUMENT', `${forbidden} cannot be changed`, { field: forbidden });
    }
    // A misspelt key would otherwise be stripped by the schema and the change silently lost.
    assertKnownKeys(VmConfigSchema, patch);
    if (m.isActive || m.state === 'saved') {
      const blocked = Object.keys(patch).filter((k) => !LIVE_EDITABLE_TOP.has(k));
      if (blocked.length && m.state === 'saved') throw savedEditRefusal(config.name, blocked);
      if (blocked.length) {
        throw new VireoError('INVALID_STATE', `${blocked.join(', ')} can only be changed while "${config.name}" is stopped: shut it down first`, { fields: blocked, state: m.state });
      }
    }
    if (typeof patch.name === 'string') patch.name = this.library.checkName(patch.name, entry.id);
    const merged = mergePatch(config, patch);
    const parsed = VmConfigSchema.safeParse(merged);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
      throw new VireoError('INVALID_ARGUMENT', `invalid settings: ${issues[0]?.path}: ${issues[0]?.message}`, { issues });
    }
    const next = parsed.data;
    if (next.system.secureBoot && next.system.firmware !== 'uefi') {
      throw new VireoError('INVALID_ARGUMENT', 'Secure Boot needs UEFI firmware: set firmware to uefi', { issues: [{ path: 'system.secureBoot', message: 'needs UEFI' }] });
    }
    await guard?.(config, next, entry.paths.dir);
    if (next.cdrom.iso && next.cdrom.iso !== config.cdrom.iso) {
      await requireIso(next.cdrom.iso, { issues: [{ path: 'cdrom.iso', message: 'not an ISO' }] });
    }
    const saved = await this.library.saveConfig(entry, next);
    m.setName(next.name);
    this.bus.emit('vm.changed', { id: saved.id });
    return this.details(saved.id);
  }

  // ---- lifecycle ------------------------------------------------------------------------

  /** `opts.loadvm`: start into this snapshot (snapshot restore of a stopped VM). */
  start(ref: string, opts: LaunchOptions = {}): Promise<VmDetails> {
    const { id } = this.resolve(ref);
    // Two starts of one VM queue here; the second then finds it running (INVALID_STATE).
    return this.locks.run(id, 'a start', () => this.startNow(id, opts));
  }

  private async startNow(ref: string, opts: LaunchOptions): Promise<VmDetails> {
    const entry = this.resolve(ref);
    let config = this.requireConfig(entry);
    const m = this.machineFor(entry);
    if (m.state === 'saved') return this.saved.resume(entry, config, m);
    requireState('start', config.name, m.state, ['stopped', 'crashed']);
    for (const h of this.startHooks) config = await h.before(entry, config);

    if (config.cdrom.iso && !existsSync(config.cdrom.iso)) {
      throw new VireoError('NOT_FOUND', `the ISO in the CD-ROM drive is missing (${config.cdrom.iso}): eject it or choose another in Settings → CD-ROM`, { field: 'cdrom.iso' });
    }
    for (const d of config.disks) {
      const p = this.diskPath(entry, d.file);
      if (!existsSync(p)) throw new VireoError('NOT_FOUND', `disk ${d.id} is missing (${p}): restore the file or remove the disk in Settings → Disks`, { disk: d.id });
    }

    await m.start(await this.backendFor(config).prepareLaunch(entry, config, opts));
    for (const h of this.startHooks) await h.after(entry, config);
    // A one-time boot: the saved order goes back on the devices for the guest's next reset.
    if (opts.bootOnce) await restoreBootOrder(m.monitor('restore the boot order of'), config, bootOnceConfig(config, opts.bootOnce));
    const ep = this.endpoints(entry);
    await Promise.all([ep?.display?.socket, ep?.console?.socket].map((p) => p && secureSocket(p).catch(() => {})));
    return this.details(entry.id);
  }

  saveState = (ref: string): Promise<VmDetails> => this.saved.save(ref);
  discardState = (ref: string): Promise<VmDetails> => this.saved.discard(ref);
  assertNotSaved = (ref: string, op: string): void => this.saved.assertNotSaved(ref, op);
  async stop(ref: string, opts: { force?: boolean; timeoutSec?: number }): Promise<VmDetails> {
    const entry = this.resolve(ref);
    const m = this.machineFor(entry);
    if (!m.isActive) {
      throw new VireoError('INVALID_STATE', `"${entry.config?.name ?? entry.id}" is not running (it is ${m.state})`, { state: m.state });
    }
    await m.stop({ force: opts.force, timeoutMs: (opts.timeoutSec ?? SHUTDOWN_TIMEOUT_SEC) * 1000, guestShutdown: () => this.agent.shutdown(entry.id) });
    return this.details(entry.id);
  }

  async pause(ref: string) {
    const entry = this.resolve(ref);
    await this.machineFor(entry).pause();
    return this.details(entry.id);
  }

  async resume(ref: string) {
    const entry = this.resolve(ref);
    await this.machineFor(entry).resume();
    return this.details(entry.id);
  }

  async reset(ref: string) {
    const entry = this.resolve(ref);
    await this.machineFor(entry).reset();
    return this.details(entry.id);
  }

  async sendKeys(ref: string, keys: string[]) {
    const m = this.machineFor(this.resolve(ref));
    await m.monitor('send keys to').execute('send-key', { keys: keys.map((k) => ({ type: 'qcode', data: k })) });
    return { ok: true as const };
  }

  async setMemory(ref: string, memoryMiB: number) {
    const entry = this.resolve(ref);
    const config = this.requireConfig(entry);
    if (!config.devices.balloon) throw new VireoError('UNSUPPORTED', `"${config.name}" has no memory balloon: enable it in Settings → Advanced devices and restart`);
    if (memoryMiB > config.system.memoryMiB) throw new VireoError('INVALID_ARGUMENT', `the balloon can only shrink memory below the VM's ${config.system.memoryMiB} MiB`);
    const qmp = this.machineFor(entry).monitor('resize memory of');
    await qmp.execute('balloon', { value: memoryMiB * 1024 * 1024 });
    const r = await qmp.execute<{ actual: number }>('query-balloon');
    return { actualMiB: Math.round(r.actual / 1024 ** 2) };
  }

  changeMedia(ref: string, iso: string | null): Promise<VmDetails> {
    const { id } = this.resolve(ref);
    return this.locks.run(id, 'a CD change', () => this.changeMediaNow(id, iso));
  }

  private async changeMediaNow(ref: string, iso: string | null): Promise<VmDetails> {
    const entry = this.resolve(ref);
    const config = this.requireConfig(entry);
    const m = this.machineFor(entry);
    if (iso) {
      iso = resolve(iso);
      await requireIso(iso, { field: 'iso' });
    }
    if (m.isActive) {
      const qmp = m.monitor('change the CD of');
      if (iso) await qmp.execute('blockdev-change-medium', { id: 'cdrom0', filename: iso, format: 'raw', 'read-only-mode': 'read-only' });
      else await qmp.execute('eject', { id: 'cdrom0', force: true });
    }
    await this.library.saveConfig(entry, { ...config, cdrom: { ...config.cdrom, iso } });
    this.bus.emit('vm.changed', { id: entry.id });
    return this.details(entry.id);
  }

  delete(ref: string, keepDisks = false): Promise<{ deleted: string; keptIn?: string }> {
    const { id } = this.resolve(ref);
    return this.locks.run(id, 'a delete', () => this.deleteNow(id, keepDisks));
  }

  /**
   * Removes the VM entry. With `keepDisks` its disk images, UEFI variables and TPM state are
   * first moved to a folder under <home>/kept/ (returned as keptIn), from which a disk can be
   * imported into a new VM; only the entry and its logs, thumbnails and sockets go.
   */
  private async deleteNow(ref: string, keepDisks: boolean): Promise<{ deleted: string; keptIn?: string }> {
    const entry = this.resolve(ref);
    // A saved state lives in the VM's folder and goes with it; a v86 VM a page runs stays (summary's state).
    requireState('delete', entry.config?.name ?? entry.id, this.summary(entry).state, ['stopped', 'crashed', 'saved']);
    const kept = keepDisks ? await keepVmFiles(this.library.home, entry, new QemuImg(await this.host.qemuImg())) : null;
    await this.library.remove(entry.id);
    this.machines.delete(entry.id);
    this.bus.emit('vm.changed', { id: entry.id, removed: true });
    return kept ? { deleted: entry.id, keptIn: kept.dir } : { deleted: entry.id };
  }

  async stats(ref: string) {
    const entry = this.resolve(ref);
    const m = this.machineFor(entry);
    if (!m.pid || !m.isActive) throw new VireoError('INVALID_STATE', `"${entry.config?.name}" is not running`);
    const { processStats } = await import('./policy.ts');
    const s = await processStats(m.pid);
    let balloonMiB: number | null;
    try {
      const b = await m.monitor('query').execute<{ actual: number }>('query-balloon');
      balloonMiB = Math.round(b.actual / 1024 ** 2);
    } catch {
      balloonMiB = null; // no balloon device, or the guest has no driver for it
    }
    return { ...s, balloonMiB };
  }

  /** Engine shutdown: stop watching; VMs keep running (they are detached). */
  detachAll() {
    for (const m of this.machines.values()) m.detach();
  }

  allMachines() {
    return [...this.machines.values()];
  }
}

export { newMac };
