import type { Nic } from '../../../api/schemas/vm-config.ts';
import type { ArgvContext } from './context.ts';
import type { Helpers } from './helpers.ts';

// The NAT netdev of one NIC, as the engine resolved its backend (ctx.nat, engine/net/nat/plan.ts):
// - slirp: QEMU's built-in user-mode stack; its port forwards are hostfwd rules (and later
//   hostfwd_add/hostfwd_remove while it runs).
// - passt: QEMU *connects* to a unix stream socket where Vireo's passt keeper listens
//   (resources/net/passt-relay.mjs), which hands that connection to passt (`passt -F`) and keeps
//   it across a change of forwards, which replaces passt without touching QEMU (QEMU 7.2's
//   stream client cannot reconnect). The forwards are passt's arguments, not QEMU's.
//   (`-netdev passt` of newer QEMU would make QEMU spawn passt itself, out of the engine's
//   reach for a live change, so the stream form is used on every version.)
// network.ts picks the netdev per NIC mode and calls this for mode "user".

export function natNetdev(nic: Nic, ctx: ArgvContext, { esc }: Helpers): string {
  const plan = ctx.nat?.[nic.id];
  if (plan?.backend === 'passt') return `stream,id=${nic.id},server=off,addr.type=unix,addr.path=${esc(plan.socket)}`;
  const netdev = [`user,id=${nic.id}`];
  for (const f of nic.portForwards) {
    netdev.push(`hostfwd=${f.protocol}:${esc(f.hostAddress)}:${f.hostPort}-:${f.guestPort}`);
  }
  return netdev.join(',');
}
