import { basename, join, resolve } from 'node:path';
import { stat, writeFile } from 'node:fs/promises';
import { VireoError } from '../../api/errors.ts';
import { formatBytes } from '../../api/schemas/common.ts';
import { CloudInitConfig, type CloudCreateArgs } from '../../api/schemas/cloud-init.ts';
import type { VmConfig } from '../../api/schemas/vm-config.ts';
import type { QemuImg } from '../disk/qemu-img.ts';
import { isIso9660 } from '../disk/qemu-img.ts';
import { getOs, listOses, type OsProfile } from '../osdetect/detect.ts';
import { sha512Crypt } from './sha-crypt.ts';
import { seedFiles } from './seed.ts';
import { generateSshKey } from './ssh-key.ts';

// A VM from a cloud image. The image is copied into the VM folder as qcow2 by the same
// `qemu-img convert` an imported disk uses — not used as a backing file: a backing file would
// tie every VM to a file outside the library that the user may move, delete or overwrite
// (and a raw/vmdk image cannot be shared as a qcow2 backing anyway); a copy is the one way
// the user's image is never modified and the VM stays whole. The copy is then grown to the
// requested size and the seed settings land in vm.json (`cloudInit`).

const IMAGE_FORMATS = new Set(['qcow2', 'raw', 'vmdk']);
/** The private key file a generated key is written to, inside the VM folder. */
export const GENERATED_KEY_FILE = 'cloud-ssh-key';

export interface CloudPlan {
  image: string;
  virtualSize: number;
  /** bytes to grow the copy to; 0 keeps the image's size */
  diskBytes: number;
  /** from the caller's os id, else a guess from the file name */
  os?: OsProfile;
  settings: CloudInitConfig;
}

/** Everything checked before the VM folder exists: the image, its size, the seed's content. */
export async function planCloud(cloud: CloudCreateArgs, vmName: string, diskBytes: number, img: QemuImg): Promise<CloudPlan> {
  const image = resolve(cloud.image);
  const st = await stat(image).catch(() => null);
  if (!st) throw new VireoError('NOT_FOUND', `cloud image ${image} does not exist: check the path`, { field: 'cloud.image', path: image });
  if (!st.isFile()) throw new VireoError('INVALID_ARGUMENT', `${image} is not a file: give a cloud image (qcow2, raw or vmdk)`, { field: 'cloud.image' });
  if (await isIso9660(image)) {
    throw new VireoError('INVALID_ARGUMENT', `${image} is an ISO (install media), not a cloud disk image: create the VM with --iso instead, or give a .qcow2/.img cloud image`, { field: 'cloud.image' });
  }
  const info = await img.info(image);
  if (!IMAGE_FORMATS.has(info.format)) {
    throw new VireoError('INVALID_ARGUMENT', `${basename(image)} is a ${info.format} image: cloud images are qcow2, raw or vmdk; convert it first (vireo disk convert)`, { field: 'cloud.image', format: info.format });
  }
  if (diskBytes && diskBytes < info.virtualSize) {
    throw new VireoError('INVALID_ARGUMENT', `disk ${formatBytes(diskBytes)} is smaller than the cloud image (${formatBytes(info.virtualSize)}): choose at least that, or leave the size out to keep it`, { field: 'disk' });
  }
  if (cloud.password !== undefined && cloud.passwordHash !== undefined) {
    throw new VireoError('INVALID_ARGUMENT', 'give either a password or a password hash, not both', { field: 'cloud.password' });
  }
  const passwordHash = cloud.passwordHash ?? (cloud.password !== undefined ? sha512Crypt(cloud.password) : null);
  const settings = CloudInitConfig.parse({
    user: cloud.user,
    passwordHash,
    sshAuthorizedKeys: cloud.sshKeys ?? [],
    hostname: cloud.hostname ?? hostnameFrom(vmName),
    userData: cloud.userData ?? '',
    networkConfig: cloud.networkConfig ?? null,
    installAgent: cloud.installAgent ?? true,
  });
  // A bad extra user-data or network-config is refused now, not at the first start.
  seedFiles({ vmId: '00000000-0000-0000-0000-000000000000', createdAt: new Date(0).toISOString(), cloud: settings });
  return { image, virtualSize: info.virtualSize, diskBytes, os: osFromImageName(basename(image)), settings };
}

/** Inside the staging folder, after the copy: grow it, make a key if none was given, record the seed. */
export async function installCloud(plan: CloudPlan, staging: string, img: QemuImg, config: VmConfig, signal?: AbortSignal): Promise<void> {
  const disk = config.disks[0];
  if (!disk) throw new VireoError('INTERNAL', 'the cloud image copy has no disk entry');
  if (plan.diskBytes > plan.virtualSize) await img.resize(join(staging, disk.file), plan.diskBytes, { signal });
  let settings = plan.settings;
  if (settings.sshAuthorizedKeys.length === 0) {
    // No key given: one is made so `vireo ssh` works; its private half stays in the VM folder.
    const key = generateSshKey(`vireo@${settings.hostname}`);
    await writeFile(join(staging, GENERATED_KEY_FILE), key.privatePem, { mode: 0o600 });
    settings = { ...settings, sshAuthorizedKeys: [key.publicLine], generatedKeyFile: GENERATED_KEY_FILE };
  }
  config.cloudInit = settings;
  config.cdrom.iso = null;
  config.boot.order = ['disk', 'cdrom'];
}

/** The VM's name as an RFC 1123 label ("My Test VM" → "my-test-vm"). */
export function hostnameFrom(name: string): string {
  const h = name.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63).replace(/-+$/, '');
  return h || 'vireo-vm';
}

const CODENAMES: Record<string, string> = { noble: '24.04', jammy: '22.04', focal: '20.04', bionic: '18.04', bookworm: '12', bullseye: '11', buster: '10' };

/**
 * The OS from a cloud image's usual file name: debian-12-genericcloud-amd64.qcow2,
 * ubuntu-24.04-server-cloudimg-amd64.img, noble-server-cloudimg-amd64.img,
 * Fedora-Cloud-Base-Generic-41-1.4.x86_64.qcow2. An unknown version picks the distro's newest
 * entry in the OS table (the defaults that matter — virtio, UEFI or not — do not change).
 */
export function osFromImageName(file: string): OsProfile | undefined {
  const f = file.toLowerCase();
  const code = Object.keys(CODENAMES).find((c) => f.includes(c));
  const pick = (distro: string, version: string | undefined) =>
    (version && getOs(`${distro}${version}`)) || getOs(listOses(distro).find((o) => o.id.startsWith(distro))?.id ?? '');
  if (f.includes('ubuntu') || (code && CODENAMES[code]!.includes('.'))) return pick('ubuntu', /ubuntu-(\d\d\.\d\d)/.exec(f)?.[1] ?? (code ? CODENAMES[code] : undefined));
  if (f.includes('debian') || code) return pick('debian', /debian-(\d+)/.exec(f)?.[1] ?? (code ? CODENAMES[code] : undefined));
  if (f.includes('fedora')) return pick('fedora', /-(\d{2})-/.exec(f)?.[1]);
  return undefined;
}
