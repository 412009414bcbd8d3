import { describe, expect, it } from 'vitest';
import { VmConfigSchema } from '../../../electron/api/schemas/vm-config.ts';
import { mergePatch } from '../../../electron/engine/library/config-store.ts';
import { buildArgv } from '../../../electron/engine/qemu/argv/index.ts';
import { defaultConfigFor, defaultsForOs, windowsClass, type DefaultsInput } from '../../../electron/engine/qemu/defaults.ts';
import { cfg, contextFor } from './golden/fixtures.ts';

const build = (input: DefaultsInput) => {
  const config = VmConfigSchema.parse(mergePatch(cfg({}), defaultsForOs(input)));
  const ctx = contextFor({
    config,
    ctx: {
      accel: 'tcg',
      firmware: input.firmware === 'uefi'
        ? { code: '/fw/code.fd', vars: '/vms/x/nvram.qcow2', varsFormat: 'qcow2', secureBoot: input.secureBoot, requiresSmm: input.secureBoot }
        : undefined,
      tpmSocket: input.tpm ? '/run/x/tpm.sock' : undefined,
    },
  });
  return { config, argv: buildArgv(config, ctx) };
};

describe('defaultsForOs', () => {
  it('Windows 11: q35, SATA (no virtio drivers at install), e1000e, std VGA, tablet, HDA, UEFI+SB+TPM, Hyper-V, local RTC', () => {
    const { config, argv } = build({ family: 'windows', id: 'win11', profile: 'modern', firmware: 'uefi', secureBoot: true, tpm: true });
    expect(config.system).toMatchObject({ machine: 'q35', firmware: 'uefi', secureBoot: true, tpm: true, hyperv: true, rtcLocalTime: true });
    expect(config.disks[0]!.bus).toBe('sata');
    expect(config).toMatchObject({ networks: [{ model: 'e1000e' }], display: { device: 'std' }, input: { tablet: true }, sound: { device: 'hda' } });
    expect(argv.join(' ')).toContain('tpm-crb');
  });

  it('DOS: i440fx, IDE, PS/2 mouse only, no virtio helpers', () => {
    const { config, argv } = build({ family: 'dos', id: 'msdos6.22', profile: 'legacy', firmware: 'bios', secureBoot: false, tpm: false });
    expect(config.system.machine).toBe('pc');
    expect(config.disks[0]!.bus).toBe('ide');
    expect(config.devices).toMatchObject({ usb: 'none', rng: false, balloon: false });
    expect(config.input.tablet).toBe(false);
    expect(argv.join(' ')).not.toMatch(/virtio|usb/);
  });

  it('modern Linux: virtio everywhere', () => {
    const { config } = build({ family: 'linux', id: 'debian12', profile: 'modern', firmware: 'bios', secureBoot: false, tpm: false });
    expect(config.disks[0]!.bus).toBe('virtio');
    expect(config).toMatchObject({ system: { machine: 'q35' }, networks: [{ model: 'virtio-net-pci' }], devices: { usb: 'xhci', rng: true, balloon: true } });
  });

  it('legacy profile: i440fx-era devices', () => {
    const d = defaultConfigFor('legacy', 'linux');
    expect(d).toMatchObject({ system: { machine: 'pc' }, networks: [{ model: 'e1000' }], display: { device: 'cirrus' }, devices: { rng: false, balloon: false } });
  });

  it('forces q35 when a legacy OS asks for Secure Boot', () => {
    expect(defaultsForOs({ family: 'linux', id: 'x', profile: 'legacy', firmware: 'uefi', secureBoot: true, tpm: false }).system?.machine).toBe('q35');
  });

  it('classifies Windows generations', () => {
    expect(['win11', 'win10', 'win7', 'winxp', 'win98', 'win3.1', 'winnt4.0'].map(windowsClass)).toEqual(['win11', 'nt6+', 'nt6.0', 'nt5', 'win9x', 'ancient', 'ancient']);
  });

  it('every OS family and Windows generation gives a config QEMU argv can be built from', () => {
    const ids = ['win11', 'win10', 'win7', 'winxp', 'win98', 'win3.1', 'msdos6.22', 'debian12', 'freebsd14', 'unknown'];
    for (const family of ['linux', 'windows', 'bsd', 'dos', 'macos', 'solaris', 'other'] as const) {
      for (const profile of ['modern', 'legacy'] as const) {
        for (const id of ids) expect(() => build({ family, id, profile, firmware: 'bios', secureBoot: false, tpm: false })).not.toThrow();
      }
    }
  });
});
