import { readFileSync } from 'node:fs';

// Vendor and product names from the usb.ids database (linux-usb.org), where the host has it:
// Debian's usbutils/hwdata put it in /usr/share/misc or /usr/share/hwdata. Without it the
// device's own strings (manufacturer, product) name it.

export const USB_IDS_PATHS = ['/usr/share/hwdata/usb.ids', '/usr/share/misc/usb.ids', '/usr/share/usb.ids', '/var/lib/usbutils/usb.ids'];

export interface UsbIds {
  vendor(vendorId: string): string | null;
  product(vendorId: string, productId: string): string | null;
}

/**
 * The format: "vvvv  Vendor name" at column 0, "\tpppp  Product name" under it, interfaces
 * with two tabs; the vendor list ends where the class lists ("C 00  ...") begin.
 */
export function parseUsbIds(text: string): UsbIds {
  const vendors = new Map<string, string>();
  const products = new Map<string, string>();
  let vendor: string | null = null;
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const v = /^([0-9a-f]{4})\s+(.+)$/.exec(line);
    if (v) {
      vendor = v[1]!;
      vendors.set(vendor, v[2]!.trim());
      continue;
    }
    const p = /^\t([0-9a-f]{4})\s+(.+)$/.exec(line);
    if (p && vendor) {
      products.set(`${vendor}:${p[1]}`, p[2]!.trim());
      continue;
    }
    if (/^[A-Z]{1,3} /.test(line)) break; // classes, languages, HID usages: not devices
  }
  return {
    vendor: (id) => vendors.get(id.toLowerCase()) ?? null,
    product: (vid, pid) => products.get(`${vid.toLowerCase()}:${pid.toLowerCase()}`) ?? null,
  };
}

let cached: { key: string; ids: UsbIds | null } | null = null;

/** The first usb.ids found, parsed once per process (it is ~1 MB); null when none is there. */
export function loadUsbIds(paths: readonly string[] = USB_IDS_PATHS): UsbIds | null {
  const key = paths.join('\0');
  if (cached?.key === key) return cached.ids;
  let ids: UsbIds | null = null;
  for (const p of paths) {
    try {
      ids = parseUsbIds(readFileSync(p, 'latin1'));
      break;
    } catch {
      /* not here: try the next place */
    }
  }
  cached = { key, ids };
  return ids;
}
