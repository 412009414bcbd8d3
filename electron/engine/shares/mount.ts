import type { Share } from '../../api/schemas/vm-config.ts';
import type { ShareMountHint } from '../../api/types.ts';

// What the person (or the guest agent) runs inside the guest to see a shared folder, per OS
// family. The tag is restricted by the config schema to [A-Za-z0-9_.-], so it is one safe
// word both in a shell line shown to a person and in an argv sent through the agent.

export const VIRTIO_WIN_URL = 'https://github.com/virtio-win/virtio-win-pkg-scripts/blob/master/README.md';
export const WINFSP_URL = 'https://winfsp.dev/rel/';

export const defaultMountPoint = (s: Pick<Share, 'tag'>, family: string) => (family === 'macos' ? `/Volumes/${s.tag}` : `/mnt/${s.tag}`);

/** The mount as argv for a Linux guest (no shell in between): what `shares.mount` runs. */
export function linuxMountArgv(s: Pick<Share, 'tag' | 'type' | 'readOnly'>, mountPoint: string): string[] {
  const opts = s.type === '9p' ? ['trans=virtio', 'version=9p2000.L', 'msize=524288'] : [];
  if (s.readOnly) opts.push('ro');
  return ['mount', '-t', s.type, ...(opts.length ? ['-o', opts.join(',')] : []), s.tag, mountPoint];
}

export function mountHint(s: Pick<Share, 'tag' | 'type' | 'readOnly'>, family: string): ShareMountHint {
  const mp = defaultMountPoint(s, family);
  if (family === 'linux') {
    return {
      family,
      commands: [`mkdir -p ${mp}`, linuxMountArgv(s, mp).join(' ')],
      note:
        s.type === '9p'
          ? 'needs the 9p and 9pnet_virtio modules (in every mainstream distribution kernel); to mount at boot add to /etc/fstab: ' +
            `${s.tag} ${mp} 9p trans=virtio,version=9p2000.L${s.readOnly ? ',ro' : ''},nofail 0 0`
          : `needs Linux 5.4 or newer (virtiofs module); to mount at boot add to /etc/fstab: ${s.tag} ${mp} virtiofs ${s.readOnly ? 'ro,' : ''}nofail 0 0`,
      viaAgent: true,
    };
  }
  if (family === 'windows') {
    if (s.type === '9p') return { family, commands: [], note: 'Windows has no 9p client: make the share virtiofs (Settings → Shared folders), then follow the steps shown for it', viaAgent: false };
    return {
      family,
      commands: ['sc.exe config VirtioFsSvc start= auto', 'sc.exe start VirtioFsSvc'],
      note:
        `first install the virtio-win drivers (the "viofs" driver and its VirtioFsSvc service; ISO from ${VIRTIO_WIN_URL}, or attach it with Guest tools) ` +
        `and WinFsp (${WINFSP_URL}); the service then shows the share as drive Z:`,
      viaAgent: false,
    };
  }
  if (family === 'macos') {
    if (s.type === '9p') return { family, commands: [], note: 'macOS has no 9p client for QEMU: make the share virtiofs (macOS 13 or newer)', viaAgent: false };
    return { family, commands: [`sudo mkdir -p ${mp}`, `sudo mount_virtiofs ${s.tag} ${mp}`], note: 'macOS 13 or newer has virtiofs built in', viaAgent: false };
  }
  return {
    family,
    commands: [],
    note: `no known ${s.type} client for this guest's OS family (${family}); a Linux guest mounts it with \`${linuxMountArgv(s, `/mnt/${s.tag}`).join(' ')}\``,
    viaAgent: false,
  };
}
