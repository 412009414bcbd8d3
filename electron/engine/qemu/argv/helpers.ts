import { posix, win32 } from 'node:path';
import { VireoError } from '../../../api/errors.ts';
import type { VmConfig } from '../../../api/schemas/vm-config.ts';
import type { ArgvContext } from './context.ts';
import { qemuOptEscape } from './escape.ts';

// What every builder shares: device checks against the probe, boot order as bootindex, path
// rules of the host, escaping. Built once per buildArgv call from the config and context.

export interface Helpers {
  /** refuse (UNSUPPORTED, with what to do) a device this QEMU build lacks */
  need(device: string, why: string): void;
  /** whether this QEMU build has the device (true when devices were not probed) */
  has(device: string): boolean;
  /** `bootindex=N` for a boot key ("disk:<id>", "cdrom", "network"), or nothing */
  bootProp(key: string): string[];
  /** a config path made absolute against the VM folder, with the host's path rules */
  resolve(file: string): string;
  esc: typeof qemuOptEscape;
}

export const onOff = (b: boolean) => (b ? 'on' : 'off');

export function makeHelpers(config: VmConfig, ctx: ArgvContext): Helpers {
  const p = ctx.platform === 'win32' ? win32 : posix;
  const { devices } = ctx.caps;
  const has = (device: string) => devices.length === 0 || devices.includes(device);
  const need = (device: string, why: string) => {
    if (!has(device)) {
      throw new VireoError(
        'UNSUPPORTED',
        `this QEMU build has no "${device}" device, needed for ${why}: pick another device in the VM's settings or install a QEMU build that includes it`,
        { device },
      );
    }
  };

  // Boot order as bootindex per device: works for SeaBIOS and OVMF alike.
  const bootIndex = new Map<string, number>();
  let nextBoot = 1;
  for (const what of config.boot.order) {
    if (what === 'disk') for (const d of config.disks) bootIndex.set(`disk:${d.id}`, nextBoot++);
    else if (what === 'cdrom') {
      bootIndex.set('cdrom', nextBoot++);
      config.cdrom.extra.forEach((_, i) => bootIndex.set(`cdrom:${i + 1}`, nextBoot++));
    }
    else if (what === 'network' && config.networks.length > 0) bootIndex.set('network', nextBoot++);
  }
  const bootProp = (key: string) => (bootIndex.has(key) ? [`bootindex=${bootIndex.get(key)}`] : []);

  return { need, has, bootProp, resolve: (file) => (p.isAbsolute(file) ? file : p.join(ctx.vmDir, file)), esc: qemuOptEscape };
}

/** Every builder has this shape: pure, no I/O, one concern's arguments in QEMU's order. */
export type Builder = (config: VmConfig, ctx: ArgvContext, h: Helpers) => string[];
