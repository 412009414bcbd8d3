import { describe, expect, it } from 'vitest';
import { VmConfigSchema } from '../../../electron/api/schemas/vm-config.ts';
import { DISPLAY_DEVICES } from '../../../electron/shared/config-enums.ts';
import { resizeAvailability, resolutionAvailability } from '../../../electron/shared/display-caps.ts';
import { cfg } from '../engine/golden/fixtures.ts';

// Which display devices follow the viewer's size and take an initial resolution, with the
// reason where they do not (the screen toolbar and Settings show it).
describe('display capabilities', () => {
  it('only the virtio-gpu family follows the viewer; std VGA says why and what to choose', () => {
    const ok = DISPLAY_DEVICES.filter((d) => resizeAvailability(d).ok);
    expect(ok).toEqual(['virtio-vga', 'virtio-gpu-pci']);
    const std = resizeAvailability('std');
    expect(std.ok).toBe(false);
    if (!std.ok) expect(std.reason).toMatch(/std VGA.*virtio-vga/);
    for (const d of DISPLAY_DEVICES) {
      const a = resizeAvailability(d);
      if (!a.ok) expect(a.reason.length).toBeGreaterThan(20);
    }
  });

  it('a resolution is refused by the config schema on a device without xres/yres', () => {
    const base = cfg({ display: { device: 'virtio-vga', resolution: { width: 1920, height: 1080 } } });
    expect(VmConfigSchema.safeParse(base).success).toBe(true);
    const cirrus = { ...base, display: { device: 'cirrus', resolution: { width: 1024, height: 768 } } };
    const r = VmConfigSchema.safeParse(cirrus);
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(['display', 'resolution']);
    expect(r.error?.issues[0]?.message).toMatch(/cirrus display device has no resolution setting/);
    expect(resolutionAvailability('cirrus').ok).toBe(false);
    // No resolution is fine with every device; out-of-range sizes are refused.
    expect(VmConfigSchema.safeParse({ ...base, display: { device: 'cirrus', resolution: null } }).success).toBe(true);
    expect(VmConfigSchema.safeParse({ ...base, display: { device: 'std', resolution: { width: 100, height: 100 } } }).success).toBe(false);
  });
});
