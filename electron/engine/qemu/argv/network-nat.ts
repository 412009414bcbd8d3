import type { Nic } from '../../../api/schemas/vm-config.ts';
import type { ArgvContext } from './context.ts';
import type { Helpers } from './helpers.ts';

// The NAT netdev of one NIC: QEMU's built-in user-mode stack (slirp) with its port forwards.
// network.ts picks the netdev per NIC mode and calls this for mode "user".

export function natNetdev(nic: Nic, _ctx: ArgvContext, { esc }: Helpers): string {
  const netdev = [`user,id=${nic.id}`];
  for (const f of nic.portForwards) {
    netdev.push(`hostfwd=${f.protocol}:${esc(f.hostAddress)}:${f.hostPort}-:${f.guestPort}`);
  }
  return netdev.join(',');
}
