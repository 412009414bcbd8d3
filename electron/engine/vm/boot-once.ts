import { VireoError } from '../../api/errors.ts';
import type { VmConfig } from '../../api/schemas/vm-config.ts';
import { QEMU_IDS, makeHelpers } from '../qemu/argv/index.ts';
import { cdromId } from '../qemu/argv/storage.ts';
import type { QmpClient } from '../qmp/client.ts';

// "Boot from CD this once" (vms.start bootOnce): QEMU starts with the CD drives first, and
// right after the start the devices get their saved boot indexes back through QOM. The
// firmware's boot list (fw_cfg "bootorder") was built at start-up and is rebuilt only at the
// next reset, so this boot uses the CD and the guest's next reboot the saved order. The
// saved config is never changed.

export type BootOnce = 'cdrom';

/** The config this one launch runs with. */
export function bootOnceConfig(config: VmConfig, once: BootOnce): VmConfig {
  const drives = [config.cdrom, ...config.cdrom.extra];
  if (!drives.some((d) => d.iso !== null)) {
    throw new VireoError('INVALID_ARGUMENT', `"${config.name}" has no ISO in any CD drive to boot from: insert one (Settings → CD/DVD) first`, { field: 'bootOnce' });
  }
  return { ...config, boot: { ...config.boot, order: [once, ...config.boot.order.filter((o) => o !== once)] } };
}

/** Every bootable device's QEMU id with its bootindex for this config (absent: none). */
export function bootIndexes(config: VmConfig): Map<string, number> {
  // The same numbering argv uses (helpers.ts bootProp), so the two cannot drift.
  const h = makeHelpers(config, { vmDir: '/', accel: 'tcg', caps: { versionParts: [0, 0, 0], machines: [], devices: [] }, platform: 'linux', sockets: { qmp: '', vnc: '', serial: '' }, pidFile: '', serialLog: '' });
  const keys: [string, string][] = [
    ...config.disks.map((d): [string, string] => [`disk:${d.id}`, QEMU_IDS.diskDevice(d)]),
    ['cdrom', cdromId(0)],
    ...config.cdrom.extra.map((_, i): [string, string] => [`cdrom:${i + 1}`, cdromId(i + 1)]),
    ...(config.networks[0] ? [['network', QEMU_IDS.nicDevice(config.networks[0])] as [string, string]] : []),
  ];
  const out = new Map<string, number>();
  for (const [key, dev] of keys) {
    const p = h.bootProp(key)[0];
    if (p) out.set(dev, Number(p.split('=')[1]));
  }
  return out;
}

/** Put the saved boot indexes back on the running devices (for the next reset). */
export async function restoreBootOrder(qmp: QmpClient, saved: VmConfig, launched: VmConfig): Promise<void> {
  const want = bootIndexes(saved);
  const devices = new Set([...want.keys(), ...bootIndexes(launched).keys()]);
  const set = (dev: string, value: number) => qmp.execute('qom-set', { path: `/machine/peripheral/${dev}`, property: 'bootindex', value });
  // Clear first: QEMU refuses an index another device still holds.
  for (const dev of devices) await set(dev, -1);
  for (const [dev, n] of want) await set(dev, n);
}
