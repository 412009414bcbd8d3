import { VireoError } from '../../../api/errors.ts';
import type { Nic } from '../../../api/schemas/vm-config.ts';
import { switchFiles } from '../../net/switch/paths.ts';
import { QEMU_IDS, type ArgvContext } from './context.ts';
import type { Builder, Helpers } from './helpers.ts';
import { natNetdev } from './network-nat.ts';

// NICs: NIC i is netdev net<i> (its config id) and device nic<i>, so the first NIC keeps the
// ids v1 gave the only one. Boot order "network" boots the first NIC. The netdev comes from
// the NIC's mode (NAT in network-nat.ts, the others here); the guest-side device is the same
// for every mode, and a card with no cable ("none") is the device without a netdev.

/** Host-only without root: the address a guest opens the allowed host ports at (slirp keeps 10.0.2.2 for itself). */
export const HOSTONLY_HOST_ADDR = '10.0.2.100';

function privateNetdev(nic: Nic, ctx: ArgvContext, { esc }: Helpers): string {
  if (!ctx.privateNetDir) throw new VireoError('INTERNAL', `NIC ${nic.id} is on private network "${nic.network}" but the engine named no folder for its switch`);
  // QEMU is the client of the network's switch (net/switch/): one stream connection, frames
  // with a 4-byte big-endian length, as -netdev socket used to carry them.
  const path = switchFiles(ctx.privateNetDir, nic.network!).socket;
  return `stream,id=${nic.id},server=off,addr.type=unix,addr.path=${esc(path)}`;
}

function hostOnlyNetdev(nic: Nic, ctx: ArgvContext, { esc }: Helpers): string {
  // macOS has a real host-only network without root (vmnet; the app needs the
  // com.apple.vm.networking entitlement). Elsewhere a host-only bridge needs root, so the
  // rootless form is user-mode networking with restrict=on: the guest reaches nothing but the
  // host ports listed (guestfwd), the host reaches the guest through the card's forwards.
  if (ctx.platform === 'darwin') return `vmnet-host,id=${nic.id}`;
  const netdev = [`user,id=${nic.id}`, 'restrict=on'];
  for (const f of nic.portForwards) netdev.push(`hostfwd=${f.protocol}:${esc(f.hostAddress)}:${f.hostPort}-:${f.guestPort}`);
  for (const port of nic.hostPorts ?? []) netdev.push(`guestfwd=tcp:${HOSTONLY_HOST_ADDR}:${port}-tcp:127.0.0.1:${port}`);
  return netdev.join(',');
}

function bridgedNetdev(nic: Nic, ctx: ArgvContext, { esc }: Helpers): string {
  const br = esc(nic.bridge!);
  // Windows: a TAP adapter the user created (OpenVPN's tap-windows6) and bridged in Network
  // Connections; macOS: vmnet-bridged on a host interface (entitlement as for vmnet-host);
  // Linux: qemu-bridge-helper (setuid) attaches a tap to the bridge, so QEMU needs no root.
  if (ctx.platform === 'win32') return `tap,id=${nic.id},ifname=${br}`;
  if (ctx.platform === 'darwin') return `vmnet-bridged,id=${nic.id},ifname=${br}`;
  return [`bridge,id=${nic.id}`, `br=${br}`, ...(ctx.bridgeHelper ? [`helper=${esc(ctx.bridgeHelper)}`] : [])].join(',');
}

/** The -netdev value of a NIC, or null for a card with no cable. */
export function netdevFor(nic: Nic, ctx: ArgvContext, h: Helpers): string | null {
  switch (nic.mode) {
    case 'user':
      return natNetdev(nic, ctx, h);
    case 'private':
      return privateNetdev(nic, ctx, h);
    case 'hostonly':
      return hostOnlyNetdev(nic, ctx, h);
    case 'bridged':
      return bridgedNetdev(nic, ctx, h);
    case 'none':
      return null;
  }
}

export const networkArgs: Builder = (config, ctx, h) =>
  config.networks.flatMap((nic, i) => {
    const netdev = netdevFor(nic, ctx, h);
    h.need(nic.model, 'the network card');
    const device = [nic.model, ...(netdev ? [`netdev=${nic.id}`] : []), `mac=${nic.mac}`, `id=${QEMU_IDS.nicDevice(nic)}`, ...(i === 0 ? h.bootProp('network') : [])];
    return [...(netdev ? ['-netdev', netdev] : []), '-device', device.join(',')];
  });
