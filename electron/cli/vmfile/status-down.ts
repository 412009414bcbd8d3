import { toWireError, type WireError } from '../../api/errors.ts';
import type { NicAddresses } from '../../api/net-types.ts';
import type { VmState, VmSummary } from '../../api/types.ts';
import type { PortForward } from '../../api/schemas/vm-config.ts';
import { planFile } from '../../engine/vmfile/plan.ts';
import type { ParsedVmFile } from '../../engine/vmfile/parse.ts';
import type { CliKit } from '../kit.ts';
import { inPool } from './pool.ts';

// `vireo status` and `vireo down` for the VMs of a file (found by name, see plan.ts).

type Call = CliKit['call'];

export interface StatusEntry {
  vm: string;
  name: string;
  id: string | null;
  /** "absent": the file names it but the library has no such VM (not up yet, or removed) */
  state: VmState | 'absent' | 'broken';
  disposable: boolean;
  /** per card, while it runs: from the guest agent, else what the network knows */
  addresses: NicAddresses[];
  forwards: Array<PortForward & { nic: string }>;
}

export async function statusFile(call: Call, f: ParsedVmFile): Promise<StatusEntry[]> {
  const list = await call('vms.list', {});
  return Promise.all(planFile(f).map(async (p): Promise<StatusEntry> => {
    const v = list.find((x) => x.name === p.name);
    const base: StatusEntry = { vm: p.key, name: p.name, id: v?.id ?? null, state: v ? (v.broken ? 'broken' : v.state) : 'absent', disposable: p.spec.disposable, addresses: [], forwards: [] };
    if (!v || v.broken) return base;
    const fw = await call('forwards.list', { vm: v.id });
    base.forwards = fw.nics.flatMap((n) => n.forwards.map((x) => ({ nic: n.nic, ...x })));
    if (v.state === 'running' || v.state === 'paused') base.addresses = await call('net.addresses', { vm: v.id });
    return base;
  }));
}

export interface DownResult {
  vm: string;
  name: string;
  id: string | null;
  action: 'stopped' | 'removed' | 'absent' | 'already stopped' | 'failed';
  error: WireError | null;
}

export interface DownOptions {
  parallel: number;
  force: boolean;
  timeoutSec: number;
  log: (vm: string, line: string) => void;
}

/** Stops the file's VMs; the disposable ones are then deleted with their disks. */
export async function downFile(call: Call, f: ParsedVmFile, o: DownOptions): Promise<DownResult[]> {
  const list = await call('vms.list', {});
  return inPool(planFile(f), o.parallel, async (p) => {
    const v: VmSummary | undefined = list.find((x) => x.name === p.name);
    const r: DownResult = { vm: p.key, name: p.name, id: v?.id ?? null, action: 'absent', error: null };
    if (!v) return r;
    try {
      const live = !['stopped', 'crashed'].includes(v.state);
      if (live) {
        o.log(p.key, `stopping ${p.name}`);
        // A disposable VM is thrown away: no point in waiting for its guest to shut down.
        await call('vms.stop', { vm: v.id, force: o.force || p.spec.disposable, timeoutSec: o.timeoutSec });
      }
      r.action = live ? 'stopped' : 'already stopped';
      if (p.spec.disposable) {
        // a throwaway made by up is discarded (its base is told it is free again); one made
        // from an image or ISO is an ordinary VM, deleted with its files
        const marked = (await call('vms.get', { vm: v.id })).config?.disposable;
        if (marked) await call('disposables.discard', { vm: v.id });
        else await call('vms.delete', { vm: v.id });
        r.action = 'removed';
        o.log(p.key, `removed ${p.name}`);
      } else o.log(p.key, `${p.name} is stopped`);
    } catch (e) {
      r.action = 'failed';
      r.error = toWireError(e);
      o.log(p.key, `failed: ${r.error.message}`);
    }
    return r;
  });
}
