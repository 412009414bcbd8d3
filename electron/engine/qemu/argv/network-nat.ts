import type { Nic } from '../../../api/schemas/vm-config.ts';
import type { ArgvContext } from './context.ts';
import type { Helpers } from './helpers.ts';

// The NAT netdev of one NIC, as the engine resolved its backend (ctx.nat, engine/net/nat/plan.ts):
// - slirp: QEMU's built-in user-mode stack; its port forwards are hostfwd rules (and later
//   hostfwd_add/hostfwd_remove while it runs).
// - passt: QEMU *serves* a unix stream socket and the engine hands passt a connection to it
//   (`passt -F`). QEMU 7.2's stream server listens again when its client goes, so a change of
//   forwards replaces passt without touching QEMU. The forwards are passt's arguments, not
//   QEMU's. (`-netdev passt` of newer QEMU would make QEMU spawn passt itself, out of the
//   engine's reach for a live change, so the stream form is used on every version.)
// network.ts picks the netdev per NIC mode and calls this for mode "user".

export function natNetdev(nic: Nic, ctx: ArgvContext, { esc }: Helpers): string {
  const plan = ctx.nat?.[nic.id];
  if (plan?.backend === 'passt') return `stream,id=${nic.id},server=on,addr.type=unix,addr.path=${esc(plan.socket)}`;
  const netdev = [`user,id=${nic.id}`];
  for (const f of nic.portForwards) {
    netdev.push(`hostfwd=${f.protocol}:${esc(f.hostAddress)}:${f.hostPort}-:${f.guestPort}`);
  }
  return netdev.join(',');
}
