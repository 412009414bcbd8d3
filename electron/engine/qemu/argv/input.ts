import type { VmConfig } from '../../../api/schemas/vm-config.ts';
import { QEMU_IDS } from './context.ts';
import type { Builder } from './helpers.ts';

// The USB controller and the absolute pointer on it.

const USB_CONTROLLERS: Record<VmConfig['devices']['usb'], string | null> = {
  xhci: 'qemu-xhci',
  ehci: 'usb-ehci',
  uhci: 'piix3-usb-uhci',
  none: null,
};

export const inputArgs: Builder = (config, _ctx, { need }) => {
  const usb = USB_CONTROLLERS[config.devices.usb];
  // Without a USB controller the guest keeps the machine's PS/2 mouse (what DOS wants).
  if (!usb) return [];
  need(usb, 'the USB controller');
  const args = ['-device', `${usb},id=${QEMU_IDS.usb}`];
  // The virt machine has no PS/2 controller: an aarch64 guest's keyboard is a USB one.
  if (config.arch === 'aarch64') args.push('-device', `usb-kbd,bus=${QEMU_IDS.usb}.0,id=kbd0`);
  if (config.input.tablet) args.push('-device', `usb-tablet,bus=${QEMU_IDS.usb}.0,id=tablet0`);
  return args;
};
