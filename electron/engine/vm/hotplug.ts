import { VireoError } from '../../api/errors.ts';
import type { QmpClient } from '../qmp/client.ts';

// Hot-plug through QMP, shared by USB devices and disks: device_add, a device_del that waits
// for the guest to let go (DEVICE_DELETED), and the blockdev nodes under a device.

/** QMP's device_add takes the driver and the properties as one flat object. */
export async function deviceAdd(qmp: QmpClient, driver: string, props: Record<string, unknown>): Promise<void> {
  await qmp.execute('device_add', { driver, ...props });
}

/**
 * Unplug and wait until QEMU has removed the device. PCI devices need the guest's consent
 * (ACPI eject): a guest that ignores it leaves the device in place, which is said, not hidden.
 */
export async function deviceDel(qmp: QmpClient, id: string, timeoutMs = 30_000): Promise<void> {
  const gone = qmp.waitForEvent('DEVICE_DELETED', (e) => (e.data as { device?: string } | undefined)?.device === id, timeoutMs);
  gone.catch(() => {});
  await qmp.execute('device_del', { id });
  try {
    await gone;
  } catch {
    throw new VireoError('TIMEOUT', `the guest did not release device ${id} within ${timeoutMs / 1000} s (a PCI unplug needs the guest's cooperation): shut the guest down to remove it, or try again once it has booted`, { device: id });
  }
}

/** The ids of devices QEMU has now (user-created ones, i.e. with an id). */
export async function peripheralIds(qmp: QmpClient): Promise<Set<string>> {
  const list = await qmp.execute<{ name: string; type: string }[]>('qom-list', { path: '/machine/peripheral' });
  return new Set(list.filter((p) => p.type.startsWith('child<')).map((p) => p.name));
}

/** A file node and a format node on top of it, as argv's -blockdev pair. */
export async function blockdevAddImage(qmp: QmpClient, nodes: { file: string; format: string }, filename: string, format: string, opts: { readOnly?: boolean; cache?: { direct: boolean; 'no-flush': boolean }; discard?: 'unmap' | 'ignore' } = {}): Promise<void> {
  const common = { 'read-only': !!opts.readOnly, ...(opts.cache ? { cache: opts.cache } : {}), ...(opts.discard ? { discard: opts.discard } : {}) };
  await qmp.execute('blockdev-add', { driver: 'file', 'node-name': nodes.file, filename, ...common });
  try {
    await qmp.execute('blockdev-add', { driver: format, 'node-name': nodes.format, file: nodes.file, ...common });
  } catch (e) {
    await qmp.execute('blockdev-del', { 'node-name': nodes.file }).catch(() => {});
    throw e;
  }
}

/** Remove the pair again (after its device is gone); a node already gone is fine. */
export async function blockdevDelImage(qmp: QmpClient, nodes: { file: string; format: string }): Promise<void> {
  // A disk started under disk limits has a throttle filter above its format node (argv/limits.ts).
  await qmp.execute('blockdev-del', { 'node-name': `${nodes.format}-throttle` }).catch(() => {});
  await qmp.execute('blockdev-del', { 'node-name': nodes.format }).catch(() => {});
  await qmp.execute('blockdev-del', { 'node-name': nodes.file }).catch(() => {});
}
