import { existsSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { VireoError } from '../../api/errors.ts';
import type { Caller } from '../../api/define.ts';
import type { EventBus } from '../../api/dispatch.ts';
import { parseSize } from '../../api/schemas/common.ts';
import { DiskFormat, VmConfigSchema, type Disk, type VmConfig } from '../../api/schemas/vm-config.ts';
import type { VmDetails } from '../../api/types.ts';
import type { LibraryEntry } from '../library/library.ts';
import type { HostService } from '../host.ts';
import { isWeb, within, type Confinement } from '../policy/confine.ts';
import { QemuImg } from '../disk/qemu-img.ts';
import { HOTPLUG_PORTS, QEMU_IDS } from '../qemu/argv/index.ts';
import { cdromId } from '../qemu/argv/storage.ts';
import type { QmpClient } from '../qmp/client.ts';
import { requireIso } from './create.ts';
import type { VmService } from './service.ts';
import { blockdevAddImage, blockdevDelImage, deviceAdd, deviceDel, peripheralIds } from './hotplug.ts';

// A VM's disks from Settings → Disks and `vireo drive`: add (a new image or an existing one),
// remove (keeping or deleting the file), resize, and the extra CD drives' media. While the VM
// runs, what QEMU can do live is done live: virtio and SCSI disks hot-plug (on q35 into the
// spare root ports argv adds), IDE/SATA ones cannot (AHCI has no hot-plug in QEMU).

export interface DriveDeps {
  vms: VmService;
  host: HostService;
  bus: EventBus;
  confine: Confinement;
}

export interface AddDrive {
  vm: string;
  /** an existing image; or `size` for a new one in the VM's folder */
  file?: string;
  size?: string | number;
  format?: 'qcow2' | 'raw';
  bus?: Disk['bus'];
  cache?: Disk['cache'];
  readOnly?: boolean;
}

const HOT_BUSES: ReadonlySet<Disk['bus']> = new Set(['virtio', 'scsi']);

export class DriveService {
  constructor(private readonly d: DriveDeps) {}

  private img = async () => new QemuImg(await this.d.host.qemuImg());

  private run<T>(vm: string, what: string, fn: (entry: LibraryEntry, config: VmConfig) => Promise<T>): Promise<T> {
    const { id } = this.d.vms.resolve(vm);
    return this.d.vms.locks.run(id, what, async () => {
      const entry = this.d.vms.resolve(id);
      if (!entry.config) throw new VireoError('BROKEN_CONFIG', `VM ${entry.id} cannot be used: ${entry.broken}`, { id: entry.id });
      return fn(entry, entry.config);
    });
  }

  private async save(entry: LibraryEntry, next: unknown): Promise<VmDetails> {
    const parsed = VmConfigSchema.safeParse(next);
    if (!parsed.success) throw new VireoError('INVALID_ARGUMENT', `invalid disks: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`, { issues: parsed.error.issues });
    await this.d.vms.library.saveConfig(entry, parsed.data);
    this.d.bus.emit('vm.changed', { id: entry.id });
    return this.d.vms.details(entry.id);
  }

  add(a: AddDrive, caller: Caller): Promise<VmDetails> {
    return this.run(a.vm, 'a disk change', async (entry, config) => {
      if ((a.file === undefined) === (a.size === undefined)) throw new VireoError('INVALID_ARGUMENT', 'give either an existing image (file) or the size of a new one (size), not both or neither', { field: 'file' });
      const bus = a.bus ?? (config.profile === 'legacy' ? 'ide' : 'virtio');
      const m = this.d.vms.machineFor(entry);
      if (m.isActive && !HOT_BUSES.has(bus)) {
        throw new VireoError('INVALID_STATE', `QEMU cannot add a ${bus.toUpperCase()} disk to a running VM: choose virtio or SCSI, or shut "${config.name}" down first`, { field: 'bus', bus });
      }
      const id = nextId(config.disks.map((x) => x.id), 'disk');
      let file: string;
      let format: Disk['format'];
      let created: string | null = null;
      if (a.size !== undefined) {
        const bytes = sizeOrThrow(a.size);
        format = a.format ?? 'qcow2';
        let n = Number(id.slice(4));
        while (existsSync(join(entry.paths.dir, `disk${n}.${format === 'qcow2' ? 'qcow2' : 'img'}`))) n++;
        file = `disk${n}.${format === 'qcow2' ? 'qcow2' : 'img'}`;
        created = join(entry.paths.dir, file);
        await (await this.img()).create(created, { format, sizeBytes: bytes });
      } else {
        const shaped = isWeb(caller) || isAbsolute(a.file!) ? a.file! : resolve(a.file!);
        const checked = await this.d.confine.diskImage(caller, shaped, 'file');
        file = checked.path;
        const f = DiskFormat.safeParse(checked.format ?? (await (await this.img()).info(file)).format);
        if (!f.success) throw new VireoError('INVALID_ARGUMENT', `${file} is not an image format Vireo attaches (${DiskFormat.options.join(', ')})`, { field: 'file' });
        format = f.data;
        if (config.disks.some((x) => this.d.vms.diskPath(entry, x.file) === file)) throw new VireoError('ALREADY_EXISTS', `${file} is already a disk of "${config.name}"`, { field: 'file' });
      }
      const disk: Disk = { id, file, format, bus, readOnly: !!a.readOnly, cache: a.cache ?? 'writeback', discard: true };
      try {
        if (m.isActive) await this.hotplug(entry, config, m.monitor('add a disk to'), disk);
        return await this.save(entry, { ...config, disks: [...config.disks, disk] });
      } catch (e) {
        // Nothing half-made: a new image that did not make it into the VM goes again.
        if (created) await unlink(created).catch(() => {});
        throw e;
      }
    });
  }

  private async hotplug(entry: LibraryEntry, config: VmConfig, qmp: QmpClient, disk: Disk): Promise<void> {
    const nodes = { file: QEMU_IDS.diskFileNode(disk), format: QEMU_IDS.diskNode(disk) };
    await blockdevAddImage(qmp, nodes, this.d.vms.diskPath(entry, disk.file), disk.format, {
      readOnly: disk.readOnly,
      cache: { direct: disk.cache === 'none', 'no-flush': disk.cache === 'unsafe' },
      discard: disk.discard ? 'unmap' : 'ignore',
    });
    try {
      const dev = { drive: nodes.format, id: QEMU_IDS.diskDevice(disk) };
      if (disk.bus === 'virtio') await this.onPciSlot(config, qmp, 'virtio-blk-pci', dev);
      else {
        const have = await peripheralIds(qmp);
        if (!have.has('scsi0')) await this.onPciSlot(config, qmp, 'virtio-scsi-pci', { id: 'scsi0' });
        await firstThatFits(Array.from({ length: 16 }, (_, i) => i), (n) => deviceAdd(qmp, 'scsi-hd', { ...dev, bus: 'scsi0.0', channel: 0, 'scsi-id': n, lun: 0 }), 'the SCSI controller has no free target (16 in use)');
      }
    } catch (e) {
      await blockdevDelImage(qmp, nodes);
      throw e;
    }
  }

  /** i440fx: anywhere on pci.0; q35: the first free spare root port. */
  private async onPciSlot(config: VmConfig, qmp: QmpClient, driver: string, props: Record<string, unknown>): Promise<void> {
    if (config.system.machine !== 'q35') return deviceAdd(qmp, driver, props);
    const ports = await peripheralIds(qmp);
    const spare = HOTPLUG_PORTS.filter((p) => ports.has(p));
    if (!spare.length) {
      throw new VireoError('UNSUPPORTED', `"${config.name}" was started without spare PCIe ports for hot-plug (an older Vireo started it): shut it down and add the disk then; its next start has them`, { field: 'bus' });
    }
    await firstThatFits(spare, (bus) => deviceAdd(qmp, driver, { ...props, bus }), `all ${spare.length} spare PCIe ports are in use by disks added while it runs: restart the VM (saved disks then sit on the main bus) to free them`);
  }

  remove(vm: string, diskId: string, deleteFile: boolean): Promise<VmDetails> {
    return this.run(vm, 'a disk change', async (entry, config) => {
      const disk = config.disks.find((x) => x.id === diskId);
      if (!disk) throw new VireoError('NOT_FOUND', `"${config.name}" has no disk "${diskId}": it has ${config.disks.map((x) => x.id).join(', ') || 'none'}`, { disk: diskId });
      const path = this.d.vms.diskPath(entry, disk.file);
      // Vireo deletes only what it holds: an image kept elsewhere may belong to someone else.
      if (deleteFile && !within(entry.paths.dir, resolve(path))) {
        throw new VireoError('INVALID_ARGUMENT', `${path} is outside the VM's folder, so Vireo will not delete it: remove the disk keeping the file, then delete the file yourself if you mean to`, { disk: diskId, path });
      }
      const m = this.d.vms.machineFor(entry);
      if (m.isActive) {
        if (!HOT_BUSES.has(disk.bus)) throw new VireoError('INVALID_STATE', `QEMU cannot remove a ${disk.bus.toUpperCase()} disk from a running VM: shut "${config.name}" down first`, { disk: diskId });
        const qmp = m.monitor('remove a disk from');
        await deviceDel(qmp, QEMU_IDS.diskDevice(disk));
        await blockdevDelImage(qmp, { file: QEMU_IDS.diskFileNode(disk), format: QEMU_IDS.diskNode(disk) });
      }
      const next = { ...config, disks: config.disks.filter((x) => x.id !== diskId) };
      const details = await this.save(entry, next);
      if (deleteFile) await unlink(path).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? undefined : Promise.reject(e)));
      return deleteFile ? details : { ...details, warnings: [...details.warnings, `disk ${diskId} removed; its image ${relative(entry.paths.dir, path).startsWith('..') ? path : relative(entry.paths.dir, path)} was kept`] };
    });
  }

  resize(vm: string, diskId: string, size: string | number, shrink = false): Promise<VmDetails> {
    return this.run(vm, 'a disk resize', async (entry, config) => {
      const disk = config.disks.find((x) => x.id === diskId);
      if (!disk) throw new VireoError('NOT_FOUND', `"${config.name}" has no disk "${diskId}"`, { disk: diskId });
      const bytes = sizeOrThrow(size);
      const path = this.d.vms.diskPath(entry, disk.file);
      const m = this.d.vms.machineFor(entry);
      if (m.isActive) {
        const cur = (await (await this.img()).info(path)).virtualSize;
        if (bytes < cur) throw new VireoError('INVALID_STATE', `shrinking a disk while "${config.name}" runs would pull storage from under the guest: shut it down, shrink the guest's partitions first, then shrink with the VM stopped`, { disk: diskId });
        // The guest sees the new size at once (virtio-blk and SCSI report a capacity change).
        if (bytes > cur) await m.monitor('resize a disk of').execute('block_resize', { 'node-name': QEMU_IDS.diskNode(disk), size: bytes });
      } else {
        await (await this.img()).resize(path, bytes, { shrink });
      }
      this.d.bus.emit('vm.changed', { id: entry.id });
      return this.d.vms.details(entry.id);
    });
  }

  /** Insert or eject the ISO of CD drive `drive` (0 is the first), live when running. */
  media(vm: string, drive: number, iso: string | null, caller: Caller): Promise<VmDetails> {
    return this.run(vm, 'a CD change', async (entry, config) => {
      const drives = [config.cdrom, ...config.cdrom.extra];
      if (!drives[drive]) throw new VireoError('NOT_FOUND', `"${config.name}" has no CD drive ${drive}: it has ${drives.length}`, { drive });
      const path = iso === null ? null : await this.d.confine.existingFile(caller, isWeb(caller) || isAbsolute(iso) ? iso : resolve(iso), 'iso', 'ISO');
      if (path) await requireIso(path, { field: 'iso' });
      const m = this.d.vms.machineFor(entry);
      if (m.isActive) {
        const qmp = m.monitor('change the CD of');
        if (path) await qmp.execute('blockdev-change-medium', { id: cdromId(drive), filename: path, format: 'raw', 'read-only-mode': 'read-only' });
        else await qmp.execute('eject', { id: cdromId(drive), force: true });
      }
      const cdrom = drive === 0 ? { ...config.cdrom, iso: path } : { ...config.cdrom, extra: config.cdrom.extra.map((c, i) => (i === drive - 1 ? { ...c, iso: path } : c)) };
      return this.save(entry, { ...config, cdrom });
    });
  }
}

function nextId(taken: string[], prefix: string): string {
  let n = 0;
  while (taken.includes(`${prefix}${n}`)) n++;
  return `${prefix}${n}`;
}

async function firstThatFits<T>(candidates: T[], tryOne: (c: T) => Promise<void>, noneLeft: string): Promise<void> {
  let last: unknown = null;
  for (const c of candidates) {
    try {
      return await tryOne(c);
    } catch (e) {
      last = e; // occupied: QEMU says so, the next one may be free
    }
  }
  throw new VireoError('UNSUPPORTED', `${noneLeft} (QEMU: ${(last as Error | null)?.message ?? 'no candidates'})`);
}

function sizeOrThrow(size: string | number): number {
  try {
    return parseSize(size, 'G');
  } catch (e) {
    throw new VireoError('INVALID_ARGUMENT', (e as Error).message, { field: 'size' });
  }
}
