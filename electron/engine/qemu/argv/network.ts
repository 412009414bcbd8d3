import { QEMU_IDS } from './context.ts';
import type { Builder } from './helpers.ts';
import { natNetdev } from './network-nat.ts';

// NICs: NIC i is netdev net<i> (its config id) and device nic<i>, so the first NIC keeps the
// ids v1 gave the only one. Boot order "network" boots the first NIC. The netdev comes from
// the NIC's mode (NAT in network-nat.ts); the guest-side device is the same for every mode.

export const networkArgs: Builder = (config, ctx, h) =>
  config.networks.flatMap((nic, i) => {
    const netdev = natNetdev(nic, ctx, h);
    h.need(nic.model, 'the network card');
    const device = [nic.model, `netdev=${nic.id}`, `mac=${nic.mac}`, `id=${QEMU_IDS.nicDevice(nic)}`, ...(i === 0 ? h.bootProp('network') : [])];
    return ['-netdev', netdev, '-device', device.join(',')];
  });
