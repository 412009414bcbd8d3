import type { Disk, VmConfig } from '../../../api/schemas/vm-config.ts';
import type { Builder } from './helpers.ts';

// Disk I/O limits: one QEMU throttle group per VM that every disk's throttle filter node joins,
// so the limit holds for the VM as a whole (a noisy guest cannot spread its writes over two
// disks to double its share). The group's limits are a QOM property, so the engine changes
// them live with qom-set (electron/engine/resources/live.ts) without touching the node graph.
// The CPU cap is not argv: the engine puts the QEMU process into a cgroup (resources/cgroup.ts).

export const THROTTLE_GROUP = 'vireo-io';
/** the throttle filter above a disk's format node; the guest device reads through it */
export const throttleNode = (d: Pick<Disk, 'id'>) => `${d.id}-throttle`;

/** Whether this config's disks run behind the throttle group (only when a disk limit is set). */
export const diskThrottled = (config: VmConfig) => config.limits.diskBytesPerSec !== null || config.limits.diskIops !== null;

/** The group's limits as QEMU's ThrottleLimits; 0 is "no limit" there. */
export function throttleLimits(limits: VmConfig['limits']): { 'bps-total': number; 'iops-total': number } {
  return { 'bps-total': limits.diskBytesPerSec ?? 0, 'iops-total': limits.diskIops ?? 0 };
}

export const limitsArgs: Builder = (config) => {
  if (!diskThrottled(config) || config.disks.length === 0) return [];
  const l = throttleLimits(config.limits);
  return ['-object', `throttle-group,id=${THROTTLE_GROUP},x-bps-total=${l['bps-total']},x-iops-total=${l['iops-total']}`];
};

/**
 * For the storage builder: the node a disk's guest device reads from. With disk limits a
 * throttle filter node is pushed onto `args` above the format node and named here.
 */
export function diskTopNode(config: VmConfig, d: Pick<Disk, 'id'>, formatNode: string, args: string[]): string {
  if (!diskThrottled(config)) return formatNode;
  args.push('-blockdev', `driver=throttle,node-name=${throttleNode(d)},throttle-group=${THROTTLE_GROUP},file=${formatNode}`);
  return throttleNode(d);
}
