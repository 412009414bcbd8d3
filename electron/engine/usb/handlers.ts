import type { Handlers } from '../../api/contract.ts';
import type { EngineParts } from '../parts.ts';
import { UsbService } from './service.ts';

// The usb.* methods. The service also tells snapshots why a running VM with a passed-through
// host device cannot be live-snapshotted.

export function usbHandlers(p: EngineParts): Pick<Handlers, 'usb.list' | 'usb.devices' | 'usb.attach' | 'usb.detach'> {
  const usb = new UsbService({ vms: p.vms, host: p.host, bus: p.bus, confine: p.confine });
  p.snapshots.blockers.push((entry) => usb.snapshotBlocker(entry));
  return {
    'usb.list': async () => usb.hostList(),
    'usb.devices': (a) => usb.vmDevices(a.vm),
    'usb.attach': (a, c) => usb.attach(a, c),
    'usb.detach': (a) => usb.detach(a.vm, a.device),
  };
}
