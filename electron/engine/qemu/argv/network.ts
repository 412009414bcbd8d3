import { QEMU_IDS } from './context.ts';
import type { Builder } from './helpers.ts';

// NICs: NIC i is netdev net<i> (its config id) and device nic<i>, so the first NIC keeps the
// ids v1 gave the only one. Boot order "network" boots the first NIC.

export const networkArgs: Builder = (config, _ctx, { esc, need, bootProp }) =>
  config.networks.flatMap((nic, i) => {
    const netdev = [`user,id=${nic.id}`];
    for (const f of nic.portForwards) {
      netdev.push(`hostfwd=${f.protocol}:${esc(f.hostAddress)}:${f.hostPort}-:${f.guestPort}`);
    }
    need(nic.model, 'the network card');
    const device = [nic.model, `netdev=${nic.id}`, `mac=${nic.mac}`, `id=${QEMU_IDS.nicDevice(nic)}`, ...(i === 0 ? bootProp('network') : [])];
    return ['-netdev', netdev.join(','), '-device', device.join(',')];
  });
