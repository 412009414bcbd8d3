import { VireoError } from '../../../api/errors.ts';
import type { Share, VmConfig } from '../../../api/schemas/vm-config.ts';
import type { ArgvContext } from './context.ts';
import type { Builder } from './helpers.ts';

// Shared folders (electron/engine/shares/). 9p is served by QEMU itself; virtiofs by a
// virtiofsd helper the engine starts before QEMU, reached over a vhost-user socket.
//
// 9p's security model is mapped-xattr: QEMU creates every file and folder as itself (the host
// user running the VM) and keeps the owner and mode the guest asked for in user.virtfs.*
// extended attributes. With "passthrough" a root QEMU would chown files to whatever uid the
// guest used (a guest's uid 1000 is not the host's), and an unprivileged one could not create
// them at all; with "none" a root QEMU still chowns. mapped-xattr is the one that leaves the
// host user owning what the guest writes, whoever runs QEMU. multidevs=remap keeps inode
// numbers unique when the folder spans several host file systems (else the guest can confuse
// files).

/** QEMU ids of a share's parts, by position: tags may hold "." which ids may not. */
export const shareIds = (i: number) => ({ fsdev: `fsdev${i}`, chardev: `vfs${i}`, device: `share${i}` });

/** The guest RAM object a virtiofs share needs: vhost-user maps guest memory, so it must be shared. */
export const SHARED_RAM_ID = 'mem';

export const hasVirtiofs = (config: Pick<VmConfig, 'shares'>) => config.shares.some((s) => s.type === 'virtiofs');

export function checkShares(config: VmConfig, ctx: ArgvContext): void {
  if (hasVirtiofs(config) && ctx.platform !== 'linux') {
    throw new VireoError('UNSUPPORTED', `virtiofs shares need a Linux host (virtiofsd and shared memfd RAM): make the share 9p in Settings → Shared folders`, { vm: config.id });
  }
  const missing = config.shares.filter((s) => s.type === 'virtiofs' && !ctx.shareSockets?.[s.tag]);
  if (missing.length) {
    throw new VireoError('INTERNAL', `the VM has virtiofs share ${missing.map((s) => s.tag).join(', ')} but no virtiofsd was started before building the QEMU command line`, { vm: config.id });
  }
}

export const sharesArgs: Builder = (config, ctx, { esc, need }) =>
  config.shares.flatMap((s: Share, i) => {
    const id = shareIds(i);
    if (s.type === '9p') {
      need('virtio-9p-pci', `shared folder "${s.tag}" (9p)`);
      const fsdev = ['local', `id=${id.fsdev}`, `path=${esc(s.path)}`, 'security_model=mapped-xattr', 'multidevs=remap', ...(s.readOnly ? ['readonly=on'] : [])];
      return ['-fsdev', fsdev.join(','), '-device', `virtio-9p-pci,id=${id.device},fsdev=${id.fsdev},mount_tag=${s.tag}`];
    }
    need('vhost-user-fs-pci', `shared folder "${s.tag}" (virtiofs)`);
    const socket = ctx.shareSockets?.[s.tag];
    if (!socket) return [];
    return ['-chardev', `socket,id=${id.chardev},path=${esc(socket)}`, '-device', `vhost-user-fs-pci,id=${id.device},chardev=${id.chardev},tag=${s.tag}`];
  });
