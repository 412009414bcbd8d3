import { readdirSync, existsSync } from 'node:fs';
import { VireoError } from '../../api/errors.ts';
import type { Handlers } from '../../api/contract.ts';
import type { NetModeInfo } from '../../api/net-types.ts';
import type { EngineParts } from '../parts.ts';
import { QEMU_IDS } from '../qemu/argv/context.ts';
import { nicAddresses } from './addresses.ts';
import { bridgeAvailability } from './bridge.ts';

// The network modes' methods: the cable of a running VM's card, the guests' addresses, and
// what this host offers per mode (with why not and what to do).

/** Host bridges (Linux: interfaces with a bridge/ folder in sysfs). */
export function hostBridges(sysNet = '/sys/class/net'): string[] {
  if (process.platform !== 'linux') return [];
  try {
    return readdirSync(sysNet).filter((n) => existsSync(`${sysNet}/${n}/bridge`)).sort();
  } catch {
    return [];
  }
}

export function netModes(bridge?: string, platform = process.platform): NetModeInfo[] {
  const macEntitlement = 'the app needs Apple\'s com.apple.vm.networking entitlement (or runs as root)';
  const bridged: NetModeInfo =
    platform === 'linux'
      ? (() => {
          const br = bridge ?? hostBridges()[0];
          if (!br) return { mode: 'bridged', available: false, reason: 'this host has no network bridge: create one with `sudo ip link add br0 type bridge && sudo ip link set br0 up` and add the LAN interface to it (`sudo ip link set eth0 master br0`)', how: 'qemu-bridge-helper attaches a tap to a host bridge' };
          const r = bridgeAvailability(br);
          return { mode: 'bridged', available: r.available, reason: r.reason, how: `qemu-bridge-helper attaches a tap to the host bridge (${br})` };
        })()
      : platform === 'darwin'
        ? { mode: 'bridged', available: true, reason: null, how: `vmnet-bridged on a host interface (e.g. en0); ${macEntitlement}` }
        : platform === 'win32'
          ? { mode: 'bridged', available: true, reason: null, how: 'a TAP adapter you create (OpenVPN tap-windows6) and bridge with your LAN adapter in Network Connections; give its name' }
          : { mode: 'bridged', available: false, reason: `bridging is not supported on ${platform}`, how: '' };
  return [
    { mode: 'user', available: true, reason: null, how: 'user-mode NAT (QEMU\'s slirp; passt per card where installed)' },
    platform === 'win32'
      ? { mode: 'private', available: false, reason: 'not yet on Windows: the switch needs QEMU unix stream sockets, untested with QEMU for Windows', how: '' }
      : { mode: 'private', available: true, reason: null, how: 'Vireo\'s switch per network name, on a socket only your user can open; no root, no DHCP (give guests static addresses)' },
    platform === 'darwin'
      ? { mode: 'hostonly', available: true, reason: null, how: `vmnet-host: a real host-only network; ${macEntitlement}` }
      : { mode: 'hostonly', available: true, reason: null, how: 'without root: user-mode networking with restrict=on. The guest reaches only the host ports you list, at 10.0.2.100; the host reaches the guest through the card\'s port forwards; nothing else gets out. QEMU opens each listed port once, when the VM starts, and carries one stream over it: the host service must listen before the VM starts. (A real host-only bridge needs root: bridge the card to one instead.)' },
    bridged,
    { mode: 'none', available: true, reason: null, how: 'the card is present with no cable' },
  ];
}

export function netHandlers(p: EngineParts): Pick<Handlers, 'net.link' | 'net.addresses' | 'net.modes'> {
  return {
    'net.link': async (a) => {
      const entry = p.vms.resolve(a.vm);
      const nic = entry.config?.networks.find((n) => n.id === a.nic);
      if (!nic) throw new VireoError('NOT_FOUND', `"${entry.config?.name ?? a.vm}" has no network card ${a.nic}: see its cards with \`vireo net ls\``, { nic: a.nic });
      const m = p.vms.machineFor(entry);
      if (!m.isActive) throw new VireoError('INVALID_STATE', `"${entry.config?.name}" is not running: the cable is plugged or unplugged on a running VM`);
      if (nic.mode === 'none') throw new VireoError('INVALID_STATE', `${nic.id} of "${entry.config?.name}" is not connected to any network (mode "none"): pick a mode in its settings first`);
      // set_link on the guest device: the guest sees its carrier go down or up.
      await m.monitor('change the network cable of').execute('set_link', { name: QEMU_IDS.nicDevice(nic), up: a.up });
      return { nic: nic.id, up: a.up };
    },
    'net.addresses': async (a) => {
      const d = await p.vms.details(a.vm);
      if (!d.config) throw new VireoError('INVALID_STATE', `"${d.name}" cannot be read (${d.broken}): fix or delete it`);
      const running = d.state === 'running' || d.state === 'paused';
      return nicAddresses(d.config, d.runtime.agent, p.rtRoot, running);
    },
    'net.modes': async (a) => ({ modes: netModes(a.bridge), bridges: hostBridges() }),
  };
}
