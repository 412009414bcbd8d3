import { readdirSync, readFileSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import type { HostUsbDevice, HostUsbList } from '../../api/types.ts';
import { loadUsbIds, type UsbIds } from './ids.ts';

// The host's USB devices, read from Linux sysfs (/sys/bus/usb/devices): one folder per
// device named "<bus>-<port path>" ("1-3.2"), root hubs as "usbN", interfaces as "1-3.2:1.0".
// Only attribute files are read, so a captured tree (test/fixtures/sysfs-usb) parses the same.

export interface HostUsbRoots {
  /** /sys/bus/usb/devices */
  sysfs: string;
  /** /dev/bus/usb */
  dev: string;
}

/** Read when a service is made: a container (or a test) may mount these elsewhere. */
export const defaultRoots = (): HostUsbRoots => ({
  sysfs: process.env.VIREO_USB_SYSFS ?? '/sys/bus/usb/devices',
  dev: process.env.VIREO_USB_DEV ?? '/dev/bus/usb',
});

/** The user whose access counts: this engine's process (QEMU runs as the same user). */
export interface Who {
  uid: number;
  gids: number[];
}

export const currentUser = (): Who => ({ uid: process.getuid?.() ?? -1, gids: process.getgroups?.() ?? [] });

const DEVICE_DIR = /^([0-9]{1,3})-([0-9]{1,2}(?:\.[0-9]{1,2}){0,6})$/;

function attr(dir: string, name: string): string | null {
  try {
    const v = readFileSync(join(dir, name), 'utf8').trim();
    return v === '' ? null : v;
  } catch {
    return null;
  }
}

/** The fix for a device node this user cannot open: a udev rule, exact text and commands. */
export function permissionFix(vendorId: string, productId: string): string {
  const rule = `SUBSYSTEM=="usb", ATTR{idVendor}=="${vendorId}", ATTR{idProduct}=="${productId}", TAG+="uaccess"`;
  return [
    // uaccess is applied by 73-seat-late.rules, so the rule must sort before 73.
    `add this line to /etc/udev/rules.d/70-vireo-usb.rules (uaccess gives the logged-in desktop user access):`,
    `  ${rule}`,
    `then run: sudo udevadm control --reload-rules && sudo udevadm trigger --attr-match=idVendor=${vendorId}`,
    `and unplug and replug the device. On a machine without a desktop login (vireo serve as a service), use`,
    `  SUBSYSTEM=="usb", ATTR{idVendor}=="${vendorId}", ATTR{idProduct}=="${productId}", MODE="0660", GROUP="plugdev"`,
    `and add the service user to that group: sudo usermod -aG plugdev <user> (takes effect at its next login).`,
  ].join('\n');
}

/** Whether `who` may read and write the node, by its mode bits (what open(O_RDWR) checks). */
export function nodeAccess(node: string, st: Stats | null, who: Who, vendorId: string, productId: string): HostUsbDevice['access'] {
  if (!st) return { ok: false, reason: `its device node ${node} does not exist (is /dev mounted, or did the device just go away?)`, fix: null };
  if (who.uid === 0) return { ok: true, reason: null, fix: null };
  const m = st.mode;
  const ok = st.uid === who.uid ? (m & 0o600) === 0o600 : who.gids.includes(st.gid) ? (m & 0o060) === 0o060 : (m & 0o006) === 0o006;
  if (ok) return { ok: true, reason: null, fix: null };
  const mode = (m & 0o777).toString(8).padStart(3, '0');
  return {
    ok: false,
    reason: `${node} (mode ${mode}, owner uid ${st.uid}, group gid ${st.gid}) is not readable and writable by this user (uid ${who.uid}), so QEMU cannot open the device`,
    fix: permissionFix(vendorId, productId),
  };
}

function statOrNull(p: string): Stats | null {
  try {
    return statSync(p);
  } catch {
    return null;
  }
}

/** Parse one sysfs device folder; null for root hubs, interfaces and half-gone devices. */
export function readDevice(roots: HostUsbRoots, name: string, ids: UsbIds | null, who: Who): HostUsbDevice | null {
  const m = DEVICE_DIR.exec(name);
  if (!m) return null;
  const dir = join(roots.sysfs, name);
  const vendorId = attr(dir, 'idVendor')?.toLowerCase();
  const productId = attr(dir, 'idProduct')?.toLowerCase();
  const busnum = Number(attr(dir, 'busnum') ?? m[1]);
  const devnum = Number(attr(dir, 'devnum'));
  // A device unplugged while we read it leaves a folder without its attributes.
  if (!vendorId || !productId || !Number.isInteger(devnum) || devnum <= 0) return null;
  const manufacturer = attr(dir, 'manufacturer');
  const product = attr(dir, 'product');
  const idsVendor = ids?.vendor(vendorId) ?? null;
  const idsProduct = ids?.product(vendorId, productId) ?? null;
  // "QEMU" + "QEMU USB Keyboard" reads better as the product alone.
  const strings = product && manufacturer && product.startsWith(manufacturer) ? product : [manufacturer, product].filter(Boolean).join(' ');
  // usb.ids' names when it knows the product; a vendor name alone ("QEMU" for 46f4, whose
  // products Debian's usb.ids lists none of) says less than the device's own strings.
  const name2 = idsProduct ? [idsVendor, idsProduct].filter(Boolean).join(' ') : strings || idsVendor || '';
  const speed = Number(attr(dir, 'speed'));
  const devNode = join(roots.dev, String(busnum).padStart(3, '0'), String(devnum).padStart(3, '0'));
  return {
    address: name,
    bus: busnum,
    port: attr(dir, 'devpath') ?? m[2]!,
    devnum,
    vendorId,
    productId,
    name: name2 || `${vendorId}:${productId}`,
    manufacturer,
    product,
    serial: attr(dir, 'serial'),
    speedMbps: Number.isFinite(speed) && speed > 0 ? speed : null,
    hub: attr(dir, 'bDeviceClass') === '09',
    devNode,
    access: nodeAccess(devNode, statOrNull(devNode), who, vendorId, productId),
    usedBy: [],
  };
}

const NOT_YET: Partial<Record<NodeJS.Platform, string>> = {
  darwin:
    'not yet on macOS: listing needs IOKit, and QEMU can only claim a device there when it runs as root or is signed with the com.apple.security.device.usb entitlement, which the QEMU Vireo finds is not; Vireo does not do either yet',
  win32:
    'not yet on Windows: QEMU reaches USB devices there only through libusb with a WinUSB driver bound to each device (Zadig), which Vireo cannot check or install yet',
};

/** The host list; on hosts other than Linux it says "not yet" and why. */
export function listHostUsb(roots: HostUsbRoots = defaultRoots(), opts: { platform?: NodeJS.Platform; ids?: UsbIds | null; who?: Who } = {}): HostUsbList {
  const platform = opts.platform ?? process.platform;
  if (platform !== 'linux') {
    return { supported: false, reason: NOT_YET[platform] ?? `not yet on ${platform}: Vireo reads USB devices from Linux sysfs only`, namesFrom: 'device strings', devices: [] };
  }
  let names: string[];
  try {
    names = readdirSync(roots.sysfs);
  } catch (e) {
    return { supported: false, reason: `cannot read ${roots.sysfs} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): this host has no USB bus, or sysfs is not mounted`, namesFrom: 'device strings', devices: [] };
  }
  const ids = opts.ids === undefined ? loadUsbIds() : opts.ids;
  const who = opts.who ?? currentUser();
  const devices = names
    .map((n) => readDevice(roots, n, ids, who))
    .filter((d): d is HostUsbDevice => d !== null)
    .sort((a, b) => a.bus - b.bus || a.port.localeCompare(b.port, 'en', { numeric: true }));
  return { supported: true, reason: null, namesFrom: ids ? 'usb.ids' : 'device strings', devices };
}

/** Whether a saved match ("vendor:product" or "bus-port") names this device. */
export function matches(host: string, d: Pick<HostUsbDevice, 'address' | 'vendorId' | 'productId'>): boolean {
  return host.includes(':') ? host === `${d.vendorId}:${d.productId}` : host === d.address;
}
