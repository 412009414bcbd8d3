import { resolve } from 'node:path';
import { USB_HOST_RE } from '../../api/schemas/vm-config.ts';
import type { HostUsbList, VmUsbDevice } from '../../api/types.ts';
import type { CliKit, Registrar } from '../kit.ts';

// `vireo usb ls` (the host's devices, who may open them, who uses them) and
// `vireo usb attach|detach VM <vendor:product | bus-port | keyboard | mouse | image file>`.
// attach saves the device with the VM unless --temporary; on a running VM it goes in at once.

const human = <T>(f: (r: T) => string) => f as (r: never) => string;

export function formatHostUsb(l: HostUsbList): string {
  if (!l.supported) return `USB passthrough: ${l.reason}`;
  if (!l.devices.length) return 'no USB devices on this host';
  return l.devices
    .map((d) => {
      const flags = [d.hub ? 'hub' : null, d.usedBy.length ? `used by ${d.usedBy.map((u) => `${u.name} (${u.usbId}${u.live ? ', attached' : ''})`).join(', ')}` : null].filter(Boolean);
      const access = d.access.ok ? '' : `\n    cannot be opened: ${d.access.reason}${d.access.fix ? `\n    ${d.access.fix.replaceAll('\n', '\n    ')}` : ''}`;
      return `${d.address}\t${d.vendorId}:${d.productId}\t${d.name}${flags.length ? `\t(${flags.join('; ')})` : ''}${access}`;
    })
    .join('\n');
}

export function formatVmUsb(list: VmUsbDevice[]): string {
  if (!list.length) return 'no USB devices';
  return list
    .map((u) => `${u.id}\t${u.kind}\t${u.host ?? u.file ?? ''}${u.label ? `\t${u.label}` : ''}\t(${[u.saved ? 'saved' : 'this run only', u.live ? 'attached' : 'not attached'].join(', ')})${u.note ? `\n    ${u.note.replaceAll('\n', '\n    ')}` : ''}`)
    .join('\n');
}

/** An image file is made absolute here (the engine may run elsewhere); ids and kinds stay as typed. */
const asDevice = (d: string) => (USB_HOST_RE.test(d.toLowerCase()) || /^(keyboard|mouse|usb\d{1,2})$/.test(d) ? d : resolve(d));

export const registerUsb: Registrar = (kit: CliKit) => {
  const usb = kit.program.command('usb').description("USB devices: the host's, and a VM's (passthrough, emulated stick, keyboard, mouse)");
  usb
    .command('ls [vm]')
    .description("list the host's USB devices (names, whether you may pass them through, which VMs use them); with a VM, its USB devices")
    .action(kit.action(async (vm?: string) => {
      if (vm) return kit.print(await kit.call('usb.devices', { vm }), human(formatVmUsb));
      kit.print(await kit.call('usb.list', {}), human(formatHostUsb));
    }));
  usb
    .command('attach <vm> <device>')
    .description('attach vendor:product (046d:c52b), bus-port (1-2.3), keyboard, mouse, or an image file as a USB stick; live when the VM runs')
    .option('--temporary', 'only while the VM runs now; do not save it with the VM')
    .option('--read-only', 'a USB stick the guest cannot write')
    .action(kit.action(async (vm: string, device: string, o: { temporary?: boolean; readOnly?: boolean }) =>
      kit.print(await kit.call('usb.attach', { vm, device: asDevice(device), persist: !o.temporary, readOnly: o.readOnly }), human(formatVmUsb))));
  usb
    .command('detach <vm> <device>')
    .description('detach by id (usb1), vendor:product, bus-port, keyboard/mouse or image file; live when the VM runs')
    .action(kit.action(async (vm: string, device: string) => kit.print(await kit.call('usb.detach', { vm, device: asDevice(device) }), human(formatVmUsb))));
};
