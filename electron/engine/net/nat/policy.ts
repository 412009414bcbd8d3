import { isIP } from 'node:net';
import { VireoError } from '../../../api/errors.ts';
import type { Caller } from '../../../api/define.ts';
import type { PortForward } from '../../../api/schemas/vm-config.ts';

// Who may open which host port. A forward opens a port on the host that runs the engine; a
// web caller (`vireo serve`) may be a remote token holder, so it may only bind loopback
// (127.0.0.0/8, ::1): reachable from that host alone, as the guest's own screen is. Opening a
// port to the network stays a decision of someone at the host (desktop app, CLI); serve has
// no flag to widen it. Used by forwards.add and, for vms.update, by policy/confine.ts.

type FwdKey = Pick<PortForward, 'protocol' | 'hostAddress' | 'hostPort'>;
/** The part of vm.json this looks at (structural, like confine.ts's VmConfigLike). */
export interface ConfigWithForwards {
  networks?: ReadonlyArray<{ portForwards: readonly FwdKey[] }>;
}

const sameKey = (a: FwdKey, b: FwdKey) => a.protocol === b.protocol && a.hostPort === b.hostPort && a.hostAddress === b.hostAddress;

export function isLoopback(addr: string): boolean {
  if (isIP(addr) === 4) return addr.startsWith('127.');
  return addr === '::1' || addr === '0:0:0:0:0:0:0:1';
}

/** A web caller's forward on a non-loopback host address is refused (see above). */
export function checkForwardCaller(caller: Caller | undefined, f: Pick<PortForward, 'hostAddress'>): void {
  if (caller?.kind === 'web' && !isLoopback(f.hostAddress)) {
    throw new VireoError(
      'INVALID_ARGUMENT',
      `a forward on host address ${f.hostAddress} would open the port to the network; through vireo serve only loopback (127.0.0.1, ::1) may be bound: use 127.0.0.1, or add it from the desktop app or the CLI on the host`,
      { field: 'hostAddress' },
    );
  }
}

/** A settings change (vms.update) from a web caller: every forward it adds must be on loopback. */
export function checkForwardsCaller(caller: Caller | undefined, before: ConfigWithForwards, after: ConfigWithForwards): void {
  const had = (before.networks ?? []).flatMap((n) => n.portForwards);
  for (const f of (after.networks ?? []).flatMap((n) => n.portForwards)) if (!had.some((h) => sameKey(h, f))) checkForwardCaller(caller, f);
}
