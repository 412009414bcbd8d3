// Result types of the usb.* methods (electron/engine/usb/).

/** A USB device of the host, as the host list (usb.list) reads it from sysfs. */
export interface HostUsbDevice {
  /** "bus-port" as sysfs names it ("1-3.2"): the physical port, stable while it stays plugged there */
  address: string;
  bus: number;
  /** port path on the bus ("3.2") */
  port: string;
  devnum: number;
  /** lower-case hex, 4 digits */
  vendorId: string;
  productId: string;
  /** from usb.ids when the host has it, else the device's own strings, else "vendor:product" */
  name: string;
  manufacturer: string | null;
  product: string | null;
  serial: string | null;
  speedMbps: number | null;
  /** a hub: its ports are the host's, it cannot be passed through as a device */
  hub: boolean;
  /** the node QEMU opens (/dev/bus/usb/BBB/DDD) */
  devNode: string;
  /** whether this engine's user may open it, and if not the exact fix */
  access: { ok: boolean; reason: string | null; fix: string | null };
  /** VMs that have it: saved in their config or attached while they run */
  usedBy: { vmId: string; name: string; usbId: string; live: boolean }[];
}

export interface HostUsbList {
  /** false where Vireo cannot list this host's USB devices yet (reason says why) */
  supported: boolean;
  reason: string | null;
  /** where device names come from */
  namesFrom: 'usb.ids' | 'device strings';
  devices: HostUsbDevice[];
}

/** One USB device of a VM (saved in usb[] or attached only for this run). */
export interface VmUsbDevice {
  id: string;
  kind: 'host' | 'storage' | 'keyboard' | 'mouse';
  host: string | null;
  file: string | null;
  label: string;
  saved: boolean;
  /** QEMU has the device right now (false: stopped, or a saved host device not plugged in) */
  live: boolean;
  /** why it is not attached / what is wrong (permission fix, not plugged in) */
  note: string | null;
}
