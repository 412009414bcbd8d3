// What each display device can do for the screen tab and Settings, as plain data shared by
// the engine, the argv builder and the renderer (this module imports nothing).

/** The most characters one "Type text" call types (about half a minute at its pace). */
export const TYPE_TEXT_MAX = 1000;

export type Availability = { ok: true } | { ok: false; reason: string };

/**
 * Whether the guest's resolution can follow the viewer's size. The viewer asks with RFB
 * SetDesktopSize; QEMU's VNC server passes it on only to a device that takes a size hint
 * from the host (ui_info: the virtio-gpu family), and answers everything else with "invalid
 * screen layout" — which is what noVNC reported as "Server did not accept the resize request".
 * A forwarded request QEMU answers with status 4 ("forwarded"), which noVNC 1.7 still logs as
 * that warning with "Unknown reason"; the guest's new size follows as a server-side resize.
 */
export function resizeAvailability(device: string): Availability {
  switch (device) {
    case 'virtio-vga':
    case 'virtio-gpu-pci':
      return { ok: true };
    case 'std':
    case 'cirrus':
    case 'ramfb':
      return { ok: false, reason: `the ${device === 'std' ? 'std VGA' : device} display device cannot tell the guest a new size: choose virtio-vga in Settings → Display (Linux has its driver; Windows needs the virtio-win display driver)` };
    case 'qxl':
      return { ok: false, reason: 'qxl resizes only through SPICE and its guest agent, which Vireo\'s VNC screen does not use: choose virtio-vga in Settings → Display' };
    case 'none':
      return { ok: false, reason: 'this VM has no display device' };
    default:
      return { ok: false, reason: `the ${device} display device has no resize support` };
  }
}

/** Whether the device takes an initial resolution (QEMU's xres/yres properties). */
export function resolutionAvailability(device: string): Availability {
  switch (device) {
    case 'virtio-vga':
    case 'virtio-gpu-pci':
    case 'std':
    case 'qxl':
      return { ok: true };
    case 'none':
      return { ok: false, reason: 'this VM has no display device' };
    default:
      return { ok: false, reason: `the ${device} display device has no resolution setting (QEMU offers xres/yres for virtio-vga, virtio-gpu-pci, std and qxl): choose one of those, or leave the resolution to the guest` };
  }
}

/** Initial resolutions offered in Settings (any width×height within the limits is valid). */
export const RESOLUTION_PRESETS = [
  [800, 600], [1024, 768], [1280, 800], [1280, 1024], [1366, 768], [1440, 900],
  [1600, 900], [1920, 1080], [1920, 1200], [2560, 1440],
] as const;
export const RESOLUTION_MIN = { width: 640, height: 480 } as const;
/** virtio-gpu's own ceiling for a scanout is far higher; 8K keeps guest memory sane. */
export const RESOLUTION_MAX = { width: 7680, height: 4320 } as const;
