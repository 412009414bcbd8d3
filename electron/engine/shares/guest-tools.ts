import { readdir, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { GuestToolImage, GuestToolsInfo } from '../../api/types.ts';
import { VIRTIO_WIN_URL } from './mount.ts';

// Driver and tools media for Windows guests, found on the host: the virtio-win ISO (virtio
// storage, network, balloon, viofs drivers and the guest agent) and the SPICE guest tools.
// Vireo never downloads them; when none is here it says where they come from. "Attach" puts
// a found ISO in the VM's CD drive, so only files found by this search can be attached: a
// web caller cannot name an arbitrary host file through it.

export const SPICE_TOOLS_URL = 'https://www.spice-space.org/download.html';

export const GUEST_TOOLS_GUIDANCE =
  `No Windows guest tools were found on this host. The virtio-win driver ISO comes from Fedora's virtio-win project (${VIRTIO_WIN_URL}; ` +
  'Fedora/RHEL: `dnf install virtio-win`, which puts it in /usr/share/virtio-win/); the SPICE guest tools from ' +
  `${SPICE_TOOLS_URL}. Put the ISO in one of the folders listed, or in ~/Downloads, and it will be offered here.`;

const KINDS: ReadonlyArray<{ kind: GuestToolImage['kind']; re: RegExp }> = [
  { kind: 'virtio-win', re: /^virtio-win.*\.iso$/i },
  { kind: 'spice-guest-tools', re: /^spice-guest-tools.*\.(iso|exe)$/i },
];

/** $VIREO_GUEST_TOOLS_PATH first (a path list), then where distributions and browsers put them. */
export function guestToolsDirs(env: NodeJS.ProcessEnv = process.env, home = homedir()): string[] {
  const configured = (env.VIREO_GUEST_TOOLS_PATH ?? '').split(delimiter).filter(Boolean);
  return [...new Set([...configured, '/usr/share/virtio-win', '/usr/share/spice-guest-tools', join(home, 'Downloads'), home])];
}

export async function findGuestTools(dirs = guestToolsDirs()): Promise<GuestToolsInfo> {
  const found: GuestToolImage[] = [];
  for (const dir of dirs) {
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names.sort()) {
      const k = KINDS.find((x) => x.re.test(name));
      if (!k) continue;
      const path = join(dir, name);
      const st = await stat(path).catch(() => null);
      if (!st?.isFile() || found.some((f) => f.path === path)) continue;
      const iso = /\.iso$/i.test(name);
      found.push({
        kind: k.kind,
        name,
        path,
        size: st.size,
        attachable: iso,
        note: iso ? null : 'an installer, not a CD image: copy it into the guest (vireo cp) and run it there',
      });
    }
  }
  return { found, searched: dirs, guidance: found.length ? null : GUEST_TOOLS_GUIDANCE };
}
