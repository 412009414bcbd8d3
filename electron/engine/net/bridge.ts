import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { VireoError } from '../../api/errors.ts';
import type { VmConfig } from '../../api/schemas/vm-config.ts';
import type { HelperProcess } from '../vm/helpers.ts';

// Bridged cards on Linux: QEMU runs qemu-bridge-helper, which creates a tap, adds it to the
// bridge and hands it back, so QEMU itself needs no root. That works only when (1) the helper
// exists, (2) it is setuid root (or Vireo runs as root), (3) /etc/qemu/bridge.conf allows the
// bridge, and (4) the bridge exists. Each missing piece is named with the command that fixes it.

export const BRIDGE_HELPERS = ['/usr/lib/qemu/qemu-bridge-helper', '/usr/libexec/qemu-bridge-helper', '/usr/local/libexec/qemu-bridge-helper'];
export const BRIDGE_CONF = '/etc/qemu/bridge.conf';

export const findBridgeHelper = (): string | null => BRIDGE_HELPERS.find((p) => existsSync(p)) ?? null;

/** The bridges the ACL allows: `allow NAME` and `allow all`, following `include FILE` (as the helper does). */
export function allowedBridges(conf = BRIDGE_CONF, depth = 0): { allowed: Set<string>; error?: string } {
  const allowed = new Set<string>();
  let text: string;
  try {
    text = readFileSync(conf, 'utf8');
  } catch (e) {
    return { allowed, error: (e as NodeJS.ErrnoException).code === 'ENOENT' ? `${conf} does not exist` : `${conf} cannot be read: ${(e as Error).message}` };
  }
  for (const raw of text.split('\n')) {
    const [cmd, arg] = raw.replace(/#.*/, '').trim().split(/\s+/);
    if (cmd === 'allow' && arg) allowed.add(arg);
    if (cmd === 'include' && arg && depth < 8) for (const b of allowedBridges(isAbsolute(arg) ? arg : join(dirname(conf), arg), depth + 1).allowed) allowed.add(b);
  }
  return { allowed };
}

export interface BridgeCheck {
  available: boolean;
  /** what is missing and the command that fixes it; null when available */
  reason: string | null;
  helper: string | null;
}

/** Whether a VM can be bridged to `bridge` on this Linux host, and if not, exactly why. */
export function bridgeAvailability(bridge: string, opts: { isRoot?: boolean; conf?: string; helper?: string | null; sysNet?: string } = {}): BridgeCheck {
  const isRoot = opts.isRoot ?? process.getuid?.() === 0;
  const helper = opts.helper === undefined ? findBridgeHelper() : opts.helper;
  const conf = opts.conf ?? BRIDGE_CONF;
  const sysNet = opts.sysNet ?? '/sys/class/net';
  const missing: string[] = [];
  if (!helper) missing.push('qemu-bridge-helper is not installed: `sudo apt install qemu-system-common` (Fedora: `sudo dnf install qemu-common`)');
  else if (!isRoot && !(statSync(helper).mode & 0o4000)) missing.push(`${helper} is not setuid root, so it cannot attach a tap to the bridge: \`sudo chmod u+s ${helper}\``);
  const acl = allowedBridges(conf);
  if (!acl.allowed.has(bridge) && !acl.allowed.has('all')) {
    missing.push(`${acl.error ?? `${conf} does not allow "${bridge}"`}: \`echo 'allow ${bridge}' | sudo tee -a ${conf}\``);
  }
  if (!existsSync(join(sysNet, bridge, 'bridge'))) {
    missing.push(existsSync(join(sysNet, bridge))
      ? `"${bridge}" is a network interface but not a bridge: make a bridge with it as a port, e.g. \`sudo ip link add br0 type bridge && sudo ip link set ${bridge} master br0 && sudo ip link set br0 up\` (NetworkManager: \`nmcli con add type bridge ifname br0\`), and bridge the VM to br0`
      : `there is no bridge "${bridge}" on this host: \`sudo ip link add ${bridge} type bridge && sudo ip link set ${bridge} up\`, then add the LAN interface to it`);
  }
  return { available: missing.length === 0, reason: missing.length ? `bridging to "${bridge}" needs: ${missing.join('; ')}` : null, helper };
}

/** A check before QEMU starts: a bridged card whose host lacks a piece fails with what to do. */
export function bridgeHelpers(config: VmConfig): HelperProcess[] {
  if (process.platform !== 'linux') return [];
  const bridges = [...new Set(config.networks.filter((n) => n.mode === 'bridged').map((n) => n.bridge!))];
  return bridges.map((bridge) => ({
    name: `bridge ${bridge}`,
    start: async () => {
      const r = bridgeAvailability(bridge);
      if (!r.available) throw new VireoError('UNSUPPORTED', r.reason!, { bridge });
    },
    stop: async () => {},
  }));
}
