import { VireoError } from '../../api/errors.ts';
import type { RemoteDomainDetails, RemoteDomainState, RemoteHost } from '../../api/host-types.ts';
import { PeerChannel } from './channel.ts';
import type { PeerAction, PeerVm } from './peer-vms.ts';

// The source's side of a Vireo host's VMs (peer-vms.ts answers on the target): each question
// is one short paired channel, as hosts.ts's status is; what comes back is shaped like a
// libvirt domain's details, so the host views show both kinds the same way.

export function vireoState(s: string): RemoteDomainState {
  if (s === 'running' || s === 'paused' || s === 'stopped' || s === 'crashed') return s;
  if (s === 'saved') return 'suspended';
  return 'other';
}

export async function peerCall<T>(h: RemoteHost, op: string, args: Record<string, unknown>, timeoutMs = 30_000): Promise<T> {
  if (!h.secret) throw new VireoError('INVALID_ARGUMENT', `${h.name} is a libvirt host, not a Vireo one`);
  const ch = await PeerChannel.connect(h.uri, h.secret);
  try {
    return await ch.call<T>(op, args, timeoutMs);
  } finally {
    ch.close();
  }
}

function asDetails(h: RemoteHost, v: PeerVm): RemoteDomainDetails {
  if (!v.info) throw new VireoError('BROKEN_CONFIG', `${v.name} on ${h.name} has a broken config there: repair it on that machine`);
  return { hostId: h.id, name: v.name, uuid: v.id, state: vireoState(v.state), libvirtState: v.state, persistent: true, info: v.info, snapshots: v.snapshots ?? [] };
}

export async function peerVmDetails(h: RemoteHost, vm: string): Promise<RemoteDomainDetails> {
  return asDetails(h, await peerCall<PeerVm>(h, 'vm-get', { vm }));
}

/** Start, stop, pause… a VM on a Vireo host; a start may take as long as a boot there. */
export async function peerVmControl(h: RemoteHost, vm: string, action: PeerAction): Promise<RemoteDomainDetails> {
  return asDetails(h, await peerCall<PeerVm>(h, 'vm-control', { vm, action }, 5 * 60_000));
}
