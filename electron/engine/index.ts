import { watch, type FSWatcher, existsSync } from 'node:fs';
import { basename, dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VireoError } from '../api/errors.ts';
import { EventBus, createDispatcher, inProcessClient, type Dispatch } from '../api/dispatch.ts';
import type { ApiClient, Handlers } from '../api/contract.ts';
import type { ImageInfo } from '../api/types.ts';
import { formatBytes, parseSize } from '../api/schemas/common.ts';
import { resolveHome, runtimeRoot, ensurePrivateDir, ownerSocketPath } from './paths.ts';
import { acquireLibraryLock, type LibraryLock, type OwnerRole } from './owner/lock.ts';
import { startOwnerServer } from './owner/server.ts';
import { Library } from './library/library.ts';
import { HostService } from './host.ts';
import { Jobs } from './jobs.ts';
import { jobsFile } from './paths.ts';
import { VmService } from './vm/service.ts';
import { SnapshotService } from './snapshots/service.ts';
import { CloneService } from './clone/clone.ts';
import { screendump } from './display/screenshot.ts';
import { DisplayBridge } from './display/bridge.ts';
import { QemuImg } from './disk/qemu-img.ts';
import { osHandlers } from './osdetect/handlers.ts';
import { Confinement } from './policy/confine.ts';
import { listFiles } from './policy/browse.ts';
import type { EngineParts } from './parts.ts';
import { netHandlers } from './net/handlers.ts';
import { usbHandlers } from './usb/handlers.ts';
import { confineDevices } from './usb/confine-devices.ts';
import { driveHandlers } from './vm/drive-handlers.ts';
import { natHandlers } from './net/nat/handlers.ts';
import { AgentService } from './agent/service.ts';
import { agentHandlers } from './agent/handlers.ts';
import { displayHandlers } from './display/handlers.ts';
import { bootProblemHandlers } from './vm/boot-problem.ts';
import { sharesArea } from './shares/handlers.ts';
import { resourcesHandlers } from './resources/handlers.ts';
import { assertStartFits } from './resources/overcommit.ts';
import { unattendedHandlers } from './unattended/handlers.ts';
import { statsArea } from './stats/handlers.ts';
import { disposableArea } from './vm/disposable-handlers.ts';
import { remoteHandlers } from './remote/handlers.ts';
import { Migrations } from './migrate/service.ts';
import { WasmDrives } from './wasm/drives.ts';
import { backupArea } from './backup/handlers.ts';
import { libraryArea } from './library/handlers.ts';
import { applianceHandlers } from './appliance/handlers.ts';

// The engine: plain Node, no Electron. It owns the library, the machines and the jobs, and
// implements every method of the contract as a handler. Transports (IPC, WebSocket,
// in-process) wrap `dispatch`; none of them reaches past it.

export interface EngineOptions {
  /** library root; else VIREO_HOME, else the OS's app-data folder */
  home?: string;
  /** the app's resources folder (probe image, OS table, bundled QEMU) */
  resourcesDir?: string;
  qemuSetting?: string;
  /** follow changes other engines (the CLI) make to the library; on for long-lived engines */
  watch?: boolean;
  /** origins the display bridge's loopback listener accepts besides loopback pages (the desktop's app://vireo) */
  allowedOrigins?: string[];
  /** who owns the library (told to processes that find it taken) */
  role?: OwnerRole;
}

export interface Engine {
  home: string;
  handlers: Handlers;
  dispatch: Dispatch;
  bus: EventBus;
  client: ApiClient;
  vms: VmService;
  host: HostService;
  bridge: DisplayBridge;
  /** the wasm/v86 backend's leases and drives, served by `vireo serve` (server/wasm-routes.ts) */
  wasm: WasmDrives;
  /** Vireo↔Vireo moves: the target's /migrate route of `vireo serve`, the pairing secret (engine/migrate/) */
  migrations: Migrations;
  /** stop watching; running VMs keep running */
  dispose(): Promise<void>;
}

export function defaultResourcesDir(): string {
  // From electron/engine/ (source) two levels up; the packaged app passes its own.
  const here = dirname(fileURLToPath(import.meta.url));
  for (const cand of [join(here, '..', '..', 'resources'), join(here, '..', '..', '..', 'resources'), join(process.cwd(), 'resources')]) {
    if (existsSync(join(cand, 'probe'))) return cand;
  }
  return join(process.cwd(), 'resources');
}

export async function createEngine(opts: EngineOptions = {}): Promise<Engine> {
  const home = resolveHome(opts.home);
  ensurePrivateDir(home);
  const rtRoot = ensurePrivateDir(runtimeRoot(home));
  // One owner per library: the lock comes before anything reads or sweeps the library, so a
  // second engine fails here with BUSY (naming the owner) and touches nothing.
  const lock = await acquireLibraryLock(home, rtRoot, opts.role ?? 'engine');
  try {
    return await ownLibrary(opts, home, rtRoot, lock);
  } catch (e) {
    await lock.release();
    throw e;
  }
}

async function ownLibrary(opts: EngineOptions, home: string, rtRoot: string, lock: LibraryLock): Promise<Engine> {
  const resourcesDir = opts.resourcesDir ?? defaultResourcesDir();
  const bus = new EventBus();
  const jobs = new Jobs(bus, { file: jobsFile(home) });
  const host = new HostService({ home, resourcesDir, qemuSetting: opts.qemuSetting });
  const library = new Library(home, rtRoot);
  const vms = new VmService(library, host, jobs, bus);
  const snapshots = new SnapshotService(vms, host, jobs, bus);
  vms.snapshotAvailability = (entry) => snapshots.availability(entry);
  const agent = new AgentService(vms, bus);
  snapshots.quiesce = (id) => agent.quiesce(id);
  const clones = new CloneService(vms, host, jobs, bus, { tree: (entry) => snapshots.meta(entry), images: (entry) => snapshots.images(entry) });
  const bridge = new DisplayBridge({ allowedOrigins: opts.allowedOrigins });
  // A screen or console token dies with the VM's run: a stop (or crash) revokes it and closes
  // its viewers, so a URL handed out for one run never opens the next one.
  bus.on('vm.state', (e) => {
    if (e.state === 'stopped' || e.state === 'crashed') bridge.revoke(e.id);
  });
  await vms.load();
  // Jobs a killed engine left: reported as interrupted, their temp files removed.
  await jobs.load();
  // Guests a killed engine left paused mid-snapshot go on (in the background: QEMU may still
  // be saving their RAM); the ones that cannot say why in vms.get.
  void snapshots.recoverInterrupted().catch(() => {});

  const img = async () => new QemuImg(await host.qemuImg());
  const confine = new Confinement(home, () => host.qemuImg());
  const imageInfo = async (path: string): Promise<ImageInfo> => {
    const i = await (await img()).info(path);
    return { path, format: i.format, virtualSize: i.virtualSize, actualSize: i.actualSize ?? null, backingFile: i.backingFile ?? null, snapshots: i.snapshots.length };
  };
  const socketOf = (id: string, kind: 'vnc' | 'serial') => () => {
    const entry = library.get(id);
    const m = entry ? vms.machineFor(entry) : null;
    if (!entry || !m?.isActive) return null;
    const ep = vms.endpoints(entry);
    return (kind === 'vnc' ? ep?.display?.socket : ep?.console?.socket) ?? null;
  };

  const parts: EngineParts = { home, rtRoot, resourcesDir, library, vms, host, jobs, bus, snapshots, clones, bridge, confine, agent };
  const migrations = new Migrations(parts);
  const shares = sharesArea(parts);
  const stats = statsArea(parts);
  const disposables = disposableArea(parts);
  const backups = backupArea(parts);
  // Group start/stop go through the table's own vms.start/vms.stop (bound once it exists).
  const libraryParts = libraryArea(parts, () => handlers);
  const handlers: Handlers = {
    ...usbHandlers(parts),
    ...driveHandlers(parts),
    'host.info': async (a) => ({ ...(await host.info(a.refresh)), shares: await shares.availability(a.refresh) }),
    'host.selfTest': (a) => host.accelReport(a.force, a.arch),

    'vms.list': async () => vms.list(),
    'vms.get': async (a) => {
      const d = { ...(await vms.details(a.vm)), shares: await shares.list(a.vm), clones: await clones.info(a.vm) };
      const note = snapshots.pauseNote(d.id);
      return note ? { ...d, warnings: [...d.warnings, note] } : d;
    },
    // Paths a client names pass the caller's policy first (policy/confine.ts): a web client
    // reaches only the library and its media folders; local callers get them made absolute.
    'vms.create': async (a, c) =>
      vms.create({
        ...a,
        ...(a.iso ? { iso: await confine.existingFile(c, a.iso, 'iso', 'ISO') } : {}),
        ...(a.importDisk ? { importDisk: (await confine.diskImage(c, a.importDisk, 'importDisk')).path } : {}),
        ...(a.cloud ? { cloud: { ...a.cloud, image: (await confine.diskImage(c, a.cloud.image, 'cloud.image')).path } } : {}),
      }),
    'vms.update': (a, c) =>
      vms.update(a.vm, a.patch, async (before, after, dir) => {
        await confine.vmConfig(c, dir, before, after);
        await confineDevices(confine, c, dir, before, after);
      }),
    'vms.delete': async (a) => {
      const entry = vms.resolve(a.vm);
      await clones.assertNotBase(entry.id);
      disposables.assertNotBacking(entry.id, 'delete');
      bridge.revoke(entry.id);
      const r = await vms.delete(a.vm, a.keepDisks);
      // The shared bases it built on lose a user (the last one removes a base): kept disks
      // were written out whole (vm/keep.ts), so they need no base.
      await clones.released(entry.id, false);
      return r;
    },
    // Overcommit is checked first (resources/overcommit.ts): a start the host's memory cannot cover is refused with the numbers.
    'vms.start': async (a) => (disposables.assertNotBacking(a.vm, 'start'), await assertStartFits(vms, a.vm, a.overcommit), vms.start(a.vm, { bootOnce: a.bootOnce })),
    'vms.stop': (a) => vms.stop(a.vm, a),
    'vms.saveState': (a) => vms.saveState(a.vm),
    'vms.discardState': (a) => vms.discardState(a.vm),
    'vms.pause': (a) => vms.pause(a.vm),
    'vms.resume': (a) => vms.resume(a.vm),
    'vms.reset': (a) => vms.reset(a.vm),
    'vms.sendKeys': (a) => vms.sendKeys(a.vm, a.keys),
    'vms.setMemory': (a) => vms.setMemory(a.vm, a.memoryMiB),
    'vms.changeMedia': async (a, c) => vms.changeMedia(a.vm, a.iso && (await confine.existingFile(c, a.iso, 'iso', 'ISO'))),
    'vms.screenshot': async (a) => {
      const entry = vms.resolve(a.vm);
      return { png: (await screendump(entry, vms.machineFor(entry))).toString('base64') };
    },
    'vms.clone': (a) => clones.clone(a.vm, a.name, { linked: a.linked, fromSnapshot: a.fromSnapshot, withSnapshots: a.withSnapshots, fromTemplate: a.fromTemplate }),
    'vms.stats': (a) => vms.stats(a.vm),

    'snapshots.list': (a) => snapshots.list(a.vm),
    // A saved VM's disks belong with its saved state: a snapshot of them, or one restored onto them, would not match it.
    'snapshots.save': (a) => (vms.assertNotSaved(a.vm, 'take a snapshot of'), snapshots.save(a.vm, a.name, a.description ?? '')),
    'snapshots.restore': async (a) => (vms.assertNotSaved(a.vm, 'restore a snapshot of'), disposables.assertNotBacking(a.vm, 'restore'), snapshots.restore(a.vm, a.snapshot)),
    'snapshots.delete': (a) => snapshots.delete(a.vm, a.snapshot),
    'snapshots.rename': (a) => snapshots.rename(a.vm, a.snapshot, { name: a.name, description: a.description }),
    'snapshots.thumbnail': async (a) => {
      const png = await snapshots.thumbnail(a.vm, a.snapshot);
      return { png: png ? png.toString('base64') : null };
    },

    'display.open': async (a) => {
      const entry = vms.resolve(a.vm);
      if (!vms.machineFor(entry).isActive) throw new VireoError('INVALID_STATE', `"${entry.config?.name}" is not running: start it to see its screen`);
      return bridge.openSession({ kind: 'vnc', vmId: entry.id, socketPath: socketOf(entry.id, 'vnc') });
    },
    'console.open': async (a) => {
      const entry = vms.resolve(a.vm);
      if (!entry.config?.serial.enabled) throw new VireoError('UNSUPPORTED', `"${entry.config?.name}" has no serial port: enable it in Settings → Serial`);
      if (!vms.machineFor(entry).isActive) throw new VireoError('INVALID_STATE', `"${entry.config?.name}" is not running: start it to use its console`);
      return bridge.openSession({ kind: 'serial', vmId: entry.id, socketPath: socketOf(entry.id, 'serial') });
    },

    ...osHandlers(confine),

    'disks.create': async (a, c) => {
      const bytes = sizeOrThrow(a.size);
      const path = await confine.newDiskFile(c, a.path, 'path', a.format ?? 'qcow2');
      await (await img()).create(path, { format: a.format ?? 'qcow2', sizeBytes: bytes });
      return imageInfo(path);
    },
    'disks.info': async (a, c) => imageInfo((await confine.diskImage(c, a.path, 'path')).path),
    'disks.resize': async (a, c) => {
      const bytes = sizeOrThrow(a.size);
      const { path } = await confine.diskImage(c, a.path, 'path');
      // A job: shrinking a big qcow2 takes minutes; qemu-img prints no progress for resize,
      // so the job says "working" (null) until it ends, and can be cancelled.
      await jobs.run({ kind: 'disk-resize', title: `Resize ${basename(path)} to ${formatBytes(bytes)}` }, async (job) => {
        job.progress(null);
        await (await img()).resize(path, bytes, { shrink: a.shrink, signal: job.signal });
      });
      return imageInfo(path);
    },
    'disks.convert': async (a, c) => {
      const { path: src, format } = await confine.diskImage(c, a.path, 'path');
      const out = await confine.newDiskFile(c, a.output, 'output', 'qcow2');
      // For a web caller, the format its check saw: a guest writing a new header into the
      // image in between must not change how qemu-img opens it.
      await jobs.run({ kind: 'convert', title: `Convert ${a.path} to qcow2` }, async (job) => {
        // qemu-img's -p counts through the image's virtual size: that many bytes in all.
        job.bytes(await (await img()).info(src, format ? { format } : {}).then((i) => i.virtualSize, () => null));
        return (await img()).convert(src, out, { ...(format ? { fromFormat: format } : {}), toFormat: 'qcow2', onProgress: (f) => job.progress(f), signal: job.signal, onTempFile: (p) => job.leftover(p) });
      });
      return imageInfo(out);
    },
    'disks.check': async (a, c) => {
      const r = await (await img()).check((await confine.diskImage(c, a.path, 'path')).path);
      return { ok: r.ok, corruptions: r.corruptions, leaks: r.leaks };
    },

    'jobs.list': async () => jobs.list(),
    'jobs.cancel': async (a) => jobs.cancel(a.id),

    'files.list': (a, c) => listFiles(confine, c, a.dir, a.filter ?? 'any'),
    ...natHandlers(parts),
    ...agentHandlers(parts),
    ...netHandlers(parts),
    ...displayHandlers(parts),
    ...bootProblemHandlers(parts),
    ...resourcesHandlers(parts),
    ...shares.handlers,
    ...unattendedHandlers(parts),
    ...stats.handlers,
    ...disposables.handlers,
    ...remoteHandlers(parts, migrations),
    ...backups.handlers,
    ...libraryParts.handlers,
    ...applianceHandlers(parts),
  };

  // Backups a killed engine left running: failed, their partial files removed; then the schedule.
  await backups.service.recoverAll();
  backups.service.startScheduler();
  const dispatch = createDispatcher(handlers);
  migrations.bind(dispatch);
  const client = inProcessClient(dispatch, bus);
  // Every other process on this library (the CLI, a second app) talks to us through this.
  const ownerServer = await startOwnerServer({ path: ownerSocketPath(rtRoot, home), dispatch, bus, info: lock.info }).catch(async (e: Error) => {
    await bridge.close();
    vms.detachAll();
    throw new VireoError('IO_ERROR', `cannot open the library's socket in ${rtRoot}: ${e.message}`);
  });

  // Follow other engines: the CLI creating, changing, starting or stopping VMs shows up here.
  const watchers: FSWatcher[] = [];
  if (opts.watch) {
    const onChange = async () => {
      const before = new Map(vms.list().map((v) => [v.id, JSON.stringify(v)]));
      await vms.refresh();
      const after = vms.list();
      for (const v of after) if (before.get(v.id) !== JSON.stringify(v)) bus.emit('vm.changed', { id: v.id });
      for (const id of before.keys()) if (!after.some((v) => v.id === id)) bus.emit('vm.changed', { id, removed: true });
    };
    const debounced = debounce(onChange, 200);
    // Only what says "a VM appeared, changed, started or stopped": never disk or log writes,
    // which a running guest makes all the time.
    const relevant = (file: string) => !file.includes(sep) || /(^|[\\/])(vm\.json|qemu\.pid|state\.json)$/.test(file);
    for (const dir of [library.vmsDir, rtRoot]) {
      const w = watchDir(dir, relevant, debounced);
      if (w) watchers.push(w);
    }
  }

  return {
    home,
    handlers,
    dispatch,
    bus,
    client,
    vms,
    host,
    bridge,
    wasm: WasmDrives.attach(library, vms, bus),
    migrations,
    async dispose() {
      // Clients' requests already read still run on this engine: drain them first.
      await ownerServer.close();
      watchers.forEach((w) => w.close());
      agent.dispose();
      stats.sampler.dispose();
      backups.service.stopScheduler();
      migrations.screens.close();
      await bridge.close();
      vms.detachAll();
      await lock.release();
    },
  };
}

function debounce(fn: () => Promise<void>, ms: number): () => void {
  let timer: NodeJS.Timeout | null = null;
  let running = false;
  const fire = (): void => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(async () => {
      if (running) return fire();
      running = true;
      try {
        await fn();
      } catch {
        /* a half-written folder: the next change event retries */
      } finally {
        running = false;
      }
    }, ms);
    timer.unref();
  };
  return fire;
}

function watchDir(dir: string, relevant: (file: string) => boolean, onChange: () => void): FSWatcher | null {
  try {
    const w = watch(dir, { recursive: true }, (_ev, file) => {
      if (file && (/^\.(creating|deleting)-/.test(String(file)) || !relevant(String(file)))) return;
      onChange();
    });
    w.on('error', () => {});
    return w;
  } catch {
    return null;
  }
}

function sizeOrThrow(size: string | number): number {
  try {
    return parseSize(size, 'G');
  } catch (e) {
    throw new VireoError('INVALID_ARGUMENT', (e as Error).message, { field: 'size' });
  }
}
