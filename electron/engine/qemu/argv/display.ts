import type { VmConfig } from '../../../api/schemas/vm-config.ts';
import type { Builder } from './helpers.ts';

// The guest's graphics card. The VNC socket the engine reads it through is a channel
// (channels.ts).

const DISPLAY_DEVICES: Record<VmConfig['display']['device'], string | null> = {
  'virtio-vga': 'virtio-vga',
  'virtio-gpu-pci': 'virtio-gpu-pci',
  std: 'VGA',
  cirrus: 'cirrus-vga',
  qxl: 'qxl-vga',
  // aarch64: the framebuffer UEFI's GOP and Linux's efifb use as is (no guest driver needed)
  ramfb: 'ramfb',
  none: null,
};

export const displayArgs: Builder = (config, _ctx, { need }) => {
  const display = DISPLAY_DEVICES[config.display.device];
  if (!display) return [];
  need(display, 'the display');
  // xres/yres: the mode the device offers first (virtio-gpu's display info, VGA's and qxl's
  // EDID). A Linux console allocates its framebuffer at that size once and can later shrink
  // to a smaller hint but not grow, so this is also the largest a console-only guest follows.
  const r = config.display.resolution;
  const size = r ? `,xres=${r.width},yres=${r.height}` : '';
  return ['-device', `${display},id=video0${size}`];
};
