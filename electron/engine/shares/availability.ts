import type { Share } from '../../api/schemas/vm-config.ts';
import type { ShareTypeAvailability, SharesAvailability } from '../../api/types.ts';
import { VIRTIOFSD_INSTALL_HINT, findVirtiofsd, refusal, type Virtiofsd } from './virtiofsd.ts';

// Whether this host can serve each kind of shared folder, and why not (style habit 8). Facts,
// each checked on this machine with QEMU 7.2 and Debian 12's C virtiofsd:
// - 9p needs only QEMU (virtio-9p-pci); QEMU refuses to save a VM while its guest has a 9p
//   export mounted ("Migration is disabled when VirtFS export path … is mounted"), so a live
//   snapshot needs the share unmounted first.
// - virtiofs needs a virtiofsd and shared-memory RAM; QEMU cannot save a vhost-user-fs
//   device's state at all ("State blocked by non-migratable device …/vhost-user-fs"), so a
//   running VM with a virtiofs share cannot be live-snapshotted or migrated; offline
//   snapshots (VM stopped) are unaffected.

export const LIVE_SNAPSHOT_9P =
  'QEMU refuses a live snapshot while the guest has a 9p share mounted: unmount it in the guest first (umount /mnt/<tag>), or take the snapshot with the VM stopped';
export const LIVE_SNAPSHOT_VIRTIOFS =
  'QEMU cannot save the state of a virtiofs device (vhost-user-fs is non-migratable): a running VM with a virtiofs share cannot be live-snapshotted or migrated; stop the VM to take an offline snapshot, or make the share 9p';

export interface HostFacts {
  platform: NodeJS.Platform;
  uid: number;
  /** QEMU's `-device help` names; empty when QEMU could not be probed */
  devices: string[];
  qemuError?: string;
  virtiofsd: Virtiofsd | null;
  looked: string[];
}

export function availabilityFrom(f: HostFacts): SharesAvailability {
  const qemu = (device: string): string | null =>
    f.qemuError ? `QEMU could not be probed: ${f.qemuError}` : f.devices.length && !f.devices.includes(device) ? `this QEMU build has no ${device} device: install a QEMU build that includes it` : null;
  const p9 = f.platform === 'win32' ? 'QEMU on Windows has no 9p file server: use virtiofs from a Linux host, or share files over the network' : qemu('virtio-9p-pci');
  const ninep: ShareTypeAvailability = { available: !p9, reason: p9, readOnly: true, liveSnapshot: LIVE_SNAPSHOT_9P, daemon: null };

  let vf = f.platform !== 'linux' ? 'virtiofs needs a Linux host (virtiofsd and shared-memory guest RAM): use 9p' : qemu('vhost-user-fs-pci');
  const d = f.virtiofsd;
  if (!vf && !d) vf = `no virtiofsd found (looked in ${f.looked.join(', ')}): ${VIRTIOFSD_INSTALL_HINT}`;
  if (!vf && d) vf = refusal({ daemon: d, source: '/', readOnly: false }, null, f.uid);
  const virtiofs: ShareTypeAvailability = {
    available: !vf,
    reason: vf,
    readOnly: !!d?.readOnly,
    liveSnapshot: LIVE_SNAPSHOT_VIRTIOFS,
    daemon: d ? { binary: d.binary, flavour: d.flavour, version: d.version, needsRoot: d.flavour === 'c' } : null,
  };
  return { '9p': ninep, virtiofs };
}

export async function hostShareFacts(caps: () => Promise<{ devices: string[] }>): Promise<HostFacts> {
  let devices: string[] = [];
  let qemuError: string | undefined;
  try {
    devices = (await caps()).devices;
  } catch (e) {
    qemuError = (e as Error).message;
  }
  const { found, looked } = process.platform === 'linux' ? await findVirtiofsd() : { found: null, looked: [] };
  return { platform: process.platform, uid: process.getuid?.() ?? -1, devices, qemuError, virtiofsd: found, looked };
}

/** Why one share of a VM cannot be served on this host, or null. */
export function shareRefusal(s: Share, a: SharesAvailability, f: HostFacts): string | null {
  const t = a[s.type];
  if (!t.available) return `${s.type} shares are not available here: ${t.reason}`;
  if (s.type === 'virtiofs' && f.virtiofsd) return refusal({ daemon: f.virtiofsd, source: s.path, readOnly: s.readOnly }, s.tag, f.uid);
  return null;
}

/** Why a running VM cannot be live-snapshotted because of its shares, or null (snapshots service). */
export function liveSnapshotBlocker(config: { shares: ReadonlyArray<Pick<Share, 'tag' | 'type'>> } | null): string | null {
  const vfs = (config?.shares ?? []).filter((s) => s.type === 'virtiofs');
  return vfs.length ? `shared folder ${vfs.map((s) => `"${s.tag}"`).join(', ')} is virtiofs: ${LIVE_SNAPSHOT_VIRTIOFS}` : null;
}
