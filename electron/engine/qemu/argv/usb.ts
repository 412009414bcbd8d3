import { VireoError } from '../../../api/errors.ts';
import type { UsbDevice, VmConfig } from '../../../api/schemas/vm-config.ts';
import { QEMU_IDS } from './context.ts';
import type { Builder, Helpers } from './helpers.ts';

// USB devices on the VM's controller (input.ts adds the controller as usb0): host devices
// passed through, emulated storage sticks, keyboards and mice. The same properties serve the
// hot-plug path (electron/engine/usb/attach.ts sends them through QMP device_add).

const QEMU_DEVICE: Record<UsbDevice['kind'], string> = { host: 'usb-host', storage: 'usb-storage', keyboard: 'usb-kbd', mouse: 'usb-mouse' };

/** usb-host's match properties: vendorid/productid for "046d:c52b", hostbus/hostport for "1-2.3". */
export function hostMatchProps(host: string): Record<string, string | number> {
  const vp = /^([0-9a-f]{4}):([0-9a-f]{4})$/.exec(host);
  if (vp) return { vendorid: Number.parseInt(vp[1]!, 16), productid: Number.parseInt(vp[2]!, 16) };
  const [bus, port] = host.split('-', 2);
  return { hostbus: Number(bus), hostport: port! };
}

/** The `-device`/device_add properties of one USB device (without the driver name). */
export function usbDeviceProps(u: UsbDevice): Record<string, string | number | boolean> {
  const props: Record<string, string | number | boolean> = { bus: `${QEMU_IDS.usb}.0`, id: u.id };
  if (u.kind === 'host') Object.assign(props, hostMatchProps(u.host!));
  // removable: the guest treats it as a stick (ejectable), not a fixed disk.
  if (u.kind === 'storage') Object.assign(props, { drive: u.id, removable: true });
  return props;
}

export const usbDriver = (u: UsbDevice) => QEMU_DEVICE[u.kind];

/** Node names of a storage stick's image: the format node carries the device's id. */
export const usbNodes = (u: Pick<UsbDevice, 'id'>) => ({ file: `${u.id}-file`, format: u.id });

function prop(k: string, v: string | number | boolean, esc: Helpers['esc']): string {
  if (typeof v === 'boolean') return `${k}=${v ? 'on' : 'off'}`;
  // QEMU reads vendorid/productid as numbers; hex keeps them recognisable in logs.
  if (typeof v === 'number' && (k === 'vendorid' || k === 'productid')) return `${k}=0x${v.toString(16).padStart(4, '0')}`;
  return `${k}=${typeof v === 'string' ? esc(v) : v}`;
}

export function checkUsb(config: VmConfig): void {
  if (config.usb.length > 0 && config.devices.usb === 'none') {
    throw new VireoError('INVALID_ARGUMENT', `${config.usb.length} USB device(s) are set but the VM has no USB controller: choose xhci in Settings → Devices, or remove the USB devices`, { field: 'devices.usb' });
  }
}

export const usbArgs: Builder = (config, _ctx, h) => {
  const args: string[] = [];
  for (const u of config.usb) {
    h.need(usbDriver(u), `USB device ${u.id} (${u.kind})`);
    if (u.kind === 'storage') {
      const n = usbNodes(u);
      const ro = u.readOnly ? ',read-only=on' : '';
      args.push('-blockdev', `driver=file,node-name=${n.file},filename=${h.esc(h.resolve(u.file!))}${ro}`);
      args.push('-blockdev', `driver=${u.format},node-name=${n.format},file=${n.file}${ro}`);
    }
    const props = Object.entries(usbDeviceProps(u)).map(([k, v]) => prop(k, v, h.esc));
    args.push('-device', [usbDriver(u), ...props].join(','));
  }
  return args;
};
