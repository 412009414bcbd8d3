import { isAbsolute, resolve } from 'node:path';
import { VireoError } from '../../api/errors.ts';
import type { Caller } from '../../api/define.ts';
import type { EventBus } from '../../api/dispatch.ts';
import { DiskFormat, USB_HOST_RE, VmConfigSchema, type UsbDevice, type VmConfig } from '../../api/schemas/vm-config.ts';
import type { HostUsbDevice, HostUsbList, VmUsbDevice } from '../../api/types.ts';
import type { LibraryEntry } from '../library/library.ts';
import type { HostService } from '../host.ts';
import { isWeb, type Confinement } from '../policy/confine.ts';
import { refused } from '../policy/refused.ts';
import type { VmService } from '../vm/service.ts';
import { QemuImg } from '../disk/qemu-img.ts';
import { usbDeviceProps, usbDriver, usbNodes } from '../qemu/argv/usb.ts';
import { blockdevAddImage, blockdevDelImage, deviceAdd, deviceDel, peripheralIds } from '../vm/hotplug.ts';
import { defaultRoots, listHostUsb, matches, type HostUsbRoots } from './host.ts';
import type { QmpClient } from '../qmp/client.ts';

// A VM's USB devices: attach and detach while it runs (QMP device_add/device_del on its usb0
// bus), saved in its config (usb[]) so the next start has them in argv, or for this run only.
// A saved host device that is not plugged in is attached by the watcher when it appears.

export interface UsbDeps {
  vms: VmService;
  host: HostService;
  bus: EventBus;
  confine: Confinement;
}

export interface AttachRequest {
  vm: string;
  /** "vendor:product", "bus-port", "keyboard", "mouse", or an image file for a storage stick */
  device: string;
  persist?: boolean;
  readOnly?: boolean;
}

const POLL_MS = 2000;

export class UsbService {
  /** devices attached for this run only, per VM id */
  private readonly runOnly = new Map<string, UsbDevice[]>();
  /** host devices seen plugged in at the last poll, per "vmId/usbId", so only an appearance triggers an attach */
  private readonly present = new Map<string, boolean>();
  private timer: NodeJS.Timeout | null = null;
  private polling = false;

  constructor(
    private readonly d: UsbDeps,
    private readonly roots: HostUsbRoots = defaultRoots(),
  ) {
    d.bus.on('vm.state', (e) => {
      if (e.state === 'stopped' || e.state === 'crashed') {
        this.runOnly.delete(e.id);
        for (const k of [...this.present.keys()]) if (k.startsWith(`${e.id}/`)) this.present.delete(k);
      }
      if (e.state === 'running') this.watch();
    });
  }

  hostList(): HostUsbList {
    const list = listHostUsb(this.roots);
    for (const dev of list.devices) {
      for (const entry of this.d.vms.library.list()) {
        for (const u of this.devicesOf(entry)) {
          if (u.kind === 'host' && u.host && matches(u.host, dev)) {
            dev.usedBy.push({ vmId: entry.id, name: entry.config?.name ?? entry.id, usbId: u.id, live: this.d.vms.machineFor(entry).isActive });
          }
        }
      }
    }
    return list;
  }

  /** Saved devices and run-only ones, saved first. */
  private devicesOf(entry: LibraryEntry): UsbDevice[] {
    return [...(entry.config?.usb ?? []), ...(this.runOnly.get(entry.id) ?? [])];
  }

  async vmDevices(ref: string): Promise<VmUsbDevice[]> {
    const entry = this.d.vms.resolve(ref);
    const m = this.d.vms.machineFor(entry);
    const qmp = m.isActive ? m.monitor('list the USB devices of') : null;
    const inQemu = qmp ? await peripheralIds(qmp).catch(() => new Set<string>()) : new Set<string>();
    const hostList = this.devicesOf(entry).some((u) => u.kind === 'host') ? listHostUsb(this.roots) : null;
    const saved = new Set((entry.config?.usb ?? []).map((u) => u.id));
    return this.devicesOf(entry).map((u) => {
      const plugged = u.kind === 'host' ? hostList?.devices.find((h) => matches(u.host!, h)) : undefined;
      let note: string | null = null;
      if (u.kind === 'host' && hostList) {
        if (!hostList.supported) note = hostList.reason;
        else if (!plugged) note = `not plugged in: it is attached when ${u.host} appears`;
        else if (!plugged.access.ok) note = `${plugged.access.reason}\n${plugged.access.fix}`;
      }
      return { id: u.id, kind: u.kind, host: u.host, file: u.file, label: u.label, saved: saved.has(u.id), live: inQemu.has(u.id), note };
    });
  }

  attach(req: AttachRequest, caller: Caller): Promise<VmUsbDevice[]> {
    const { id } = this.d.vms.resolve(req.vm);
    return this.d.vms.locks.run(id, 'a USB change', () => this.attachNow(id, req, caller));
  }

  private async attachNow(vmId: string, req: AttachRequest, caller: Caller): Promise<VmUsbDevice[]> {
    const entry = this.d.vms.resolve(vmId);
    const config = requireConfig(entry);
    const m = this.d.vms.machineFor(entry);
    const persist = req.persist ?? true;
    if (!m.isActive && !persist) throw new VireoError('INVALID_STATE', `"${config.name}" is not running, so a device for this run only has nowhere to go: start it, or save the device with the VM`, { state: m.state });
    if (config.devices.usb === 'none') throw new VireoError('INVALID_ARGUMENT', `"${config.name}" has no USB controller: choose xhci in Settings → Devices (with the VM stopped), then attach the device`, { field: 'devices.usb' });

    const dev = await this.describe(entry, req, caller);
    const existing = this.devicesOf(entry).find((u) => sameDevice(u, dev));
    if (existing) throw new VireoError('ALREADY_EXISTS', `"${config.name}" already has ${describeDevice(dev)} (as ${existing.id}): detach it first`, { usbId: existing.id });
    const taken = new Set(this.devicesOf(entry).map((u) => u.id));
    let n = 1;
    while (taken.has(`usb${n}`)) n++;
    const u: UsbDevice = { ...dev, id: `usb${n}` };
    // The whole config must stay valid (at most 16 devices, ...), before QEMU is touched.
    const next = VmConfigSchema.safeParse({ ...config, usb: [...config.usb, u] });
    if (!next.success) throw new VireoError('INVALID_ARGUMENT', `cannot add ${describeDevice(u)}: ${next.error.issues[0]?.message}`, { issues: next.error.issues });

    if (m.isActive) await this.plug(entry, m.monitor('attach a USB device to'), u);
    if (persist) await this.d.vms.library.saveConfig(entry, next.data);
    else this.runOnly.set(entry.id, [...(this.runOnly.get(entry.id) ?? []), u]);
    this.d.bus.emit('vm.changed', { id: entry.id });
    if (u.kind === 'host') this.watch();
    return this.vmDevices(entry.id);
  }

  /** What a request names, checked: host devices on this host, image files the caller may use. */
  private async describe(entry: LibraryEntry, req: AttachRequest, caller: Caller): Promise<Omit<UsbDevice, 'id'>> {
    const spec = req.device.trim();
    const base = { host: null, file: null, format: 'raw' as const, readOnly: !!req.readOnly, label: '' };
    if (spec === 'keyboard' || spec === 'mouse') return { ...base, kind: spec, label: `USB ${spec}` };
    if (USB_HOST_RE.test(spec.toLowerCase())) {
      if (isWeb(caller)) {
        throw refused('a client of vireo serve may not pass the server\'s USB devices into a VM: attach it in the desktop app or with `vireo usb attach` on the server itself', { field: 'device' });
      }
      const host = spec.toLowerCase();
      const plugged = listHostUsb(this.roots).devices.find((h) => matches(host, h));
      if (plugged?.hub) throw new VireoError('INVALID_ARGUMENT', `${host} is a USB hub: pass through the devices plugged into it instead`, { device: host });
      return { ...base, kind: 'host', host, label: plugged?.name ?? '' };
    }
    // Otherwise an image file: a USB stick backed by it.
    const shaped = isWeb(caller) || isAbsolute(spec) ? spec : resolve(spec);
    const { path, format: checked } = await this.d.confine.diskImage(caller, shaped, 'device');
    const format = checked ?? (await new QemuImg(await this.d.host.qemuImg()).info(path)).format;
    const f = DiskFormat.safeParse(format);
    if (!f.success) throw new VireoError('INVALID_ARGUMENT', `${path} is a ${format} image, which a USB stick cannot use: convert it to raw or qcow2`, { device: path, format });
    return { ...base, kind: 'storage', file: path, format: f.data, label: path.split(/[\\/]/).pop() ?? path };
  }

  /** Into the running QEMU. A host device that is not plugged in waits for the watcher. */
  private async plug(entry: LibraryEntry, qmp: QmpClient, u: UsbDevice): Promise<void> {
    if (u.kind === 'host') {
      const plugged = listHostUsb(this.roots).devices.find((h) => matches(u.host!, h));
      this.present.set(`${entry.id}/${u.id}`, !!plugged);
      if (!plugged) return;
      assertAccess(plugged);
    }
    if (u.kind === 'storage') await blockdevAddImage(qmp, usbNodes(u), this.d.vms.diskPath(entry, u.file!), u.format, { readOnly: u.readOnly });
    try {
      await deviceAdd(qmp, usbDriver(u), usbDeviceProps(u));
    } catch (e) {
      if (u.kind === 'storage') await blockdevDelImage(qmp, usbNodes(u));
      throw e;
    }
  }

  detach(vm: string, device: string): Promise<VmUsbDevice[]> {
    const { id } = this.d.vms.resolve(vm);
    return this.d.vms.locks.run(id, 'a USB change', () => this.detachNow(id, device));
  }

  private async detachNow(vmId: string, device: string): Promise<VmUsbDevice[]> {
    const entry = this.d.vms.resolve(vmId);
    const config = requireConfig(entry);
    const spec = device.trim();
    const full = isAbsolute(spec) ? spec : resolve(spec);
    const u = this.devicesOf(entry).find(
      (x) => x.id === spec || (x.kind === 'host' && x.host === spec.toLowerCase()) || (x.kind === spec) || (x.file !== null && (x.file === spec || this.d.vms.diskPath(entry, x.file) === full)),
    );
    if (!u) {
      const have = this.devicesOf(entry).map((x) => `${x.id} (${describeDevice(x)})`).join(', ') || 'none';
      throw new VireoError('NOT_FOUND', `"${config.name}" has no USB device "${spec}": it has ${have}`, { device: spec });
    }
    const m = this.d.vms.machineFor(entry);
    if (m.isActive) {
      const qmp = m.monitor('detach a USB device from');
      // USB unplug needs no guest cooperation: QEMU removes it at once and says DEVICE_DELETED.
      if ((await peripheralIds(qmp)).has(u.id)) await deviceDel(qmp, u.id, 10_000);
      if (u.kind === 'storage') await blockdevDelImage(qmp, usbNodes(u));
    }
    this.present.delete(`${entry.id}/${u.id}`);
    if (config.usb.some((x) => x.id === u.id)) await this.d.vms.library.saveConfig(entry, { ...config, usb: config.usb.filter((x) => x.id !== u.id) });
    else this.runOnly.set(entry.id, (this.runOnly.get(entry.id) ?? []).filter((x) => x.id !== u.id));
    this.d.bus.emit('vm.changed', { id: entry.id });
    return this.vmDevices(entry.id);
  }

  /** Why a running VM cannot be live-snapshotted, or null. */
  snapshotBlocker(entry: LibraryEntry): string | null {
    if (!this.d.vms.machineFor(entry).isActive) return null;
    const host = this.devicesOf(entry).filter((u) => u.kind === 'host');
    if (!host.length) return null;
    return `USB device ${host.map((u) => `${u.id} (${describeDevice(u)})`).join(', ')} is passed through from the host, and QEMU cannot save a host device's state in a live snapshot: detach it (Settings → USB, or vireo usb detach), take the snapshot, then attach it again; or shut the VM down for an offline snapshot`;
  }

  // ---- auto-attach ----------------------------------------------------------------------

  /** Poll while a running VM has host devices; one readdir of sysfs every 2 s, nothing otherwise. */
  watch(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.poll(), POLL_MS);
    this.timer.unref();
  }

  private watched(): LibraryEntry[] {
    return this.d.vms.library.list().filter((e) => this.d.vms.machineFor(e).state === 'running' && this.devicesOf(e).some((u) => u.kind === 'host'));
  }

  /** One pass: attach saved host devices that appeared since the last pass. Exported for tests through `pollNow`. */
  async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const entries = this.watched();
      if (!entries.length) {
        if (this.timer) clearInterval(this.timer);
        this.timer = null;
        return;
      }
      const list = listHostUsb(this.roots);
      if (!list.supported) return;
      for (const entry of entries) await this.pollVm(entry, list.devices);
    } finally {
      this.polling = false;
    }
  }

  private async pollVm(entry: LibraryEntry, devices: HostUsbDevice[]): Promise<void> {
    const m = this.d.vms.machineFor(entry);
    for (const u of this.devicesOf(entry).filter((x) => x.kind === 'host')) {
      const key = `${entry.id}/${u.id}`;
      const plugged = devices.find((h) => matches(u.host!, h));
      const was = this.present.get(key);
      this.present.set(key, !!plugged);
      // Only an appearance: QEMU itself reconnects a device it already has when it comes back.
      if (!plugged || was !== false || !plugged.access.ok) continue;
      try {
        const qmp = m.monitor('attach a USB device to');
        if ((await peripheralIds(qmp)).has(u.id)) continue;
        await deviceAdd(qmp, usbDriver(u), usbDeviceProps(u));
        this.d.bus.emit('vm.changed', { id: entry.id });
      } catch (e) {
        process.emitWarning(`vireo: could not attach ${describeDevice(u)} to ${entry.config?.name}: ${(e as Error).message}`);
      }
    }
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

function requireConfig(entry: LibraryEntry): VmConfig {
  if (!entry.config) throw new VireoError('BROKEN_CONFIG', `VM ${entry.id} cannot be used: ${entry.broken}`, { id: entry.id });
  return entry.config;
}

function assertAccess(d: HostUsbDevice): void {
  if (d.access.ok) return;
  throw new VireoError('PERMISSION_DENIED', `cannot pass ${d.name} (${d.vendorId}:${d.productId} at ${d.address}) through: ${d.access.reason}.\nTo fix it, ${d.access.fix ?? 'check the device node'}`, {
    device: d.address,
    devNode: d.devNode,
    fix: d.access.fix,
  });
}

const sameDevice = (a: Omit<UsbDevice, 'id'>, b: Omit<UsbDevice, 'id'>) =>
  a.kind === b.kind && (a.kind === 'host' ? a.host === b.host : a.kind === 'storage' ? a.file === b.file : true);

export function describeDevice(u: Omit<UsbDevice, 'id'>): string {
  switch (u.kind) {
    case 'host':
      return `host device ${u.host}${u.label ? ` "${u.label}"` : ''}`;
    case 'storage':
      return `USB stick ${u.file}`;
    default:
      return `USB ${u.kind}`;
  }
}
