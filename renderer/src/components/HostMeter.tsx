import { useEffect, useState } from 'react';
import type { HostResources } from '../../../electron/api/limits-types.ts';
import type { VmSummary } from '../../../electron/api/types.ts';
import { useClient } from '../api/context.tsx';

// The library's host meter (issue 18): memory the running VMs are given against the host's,
// and their vCPUs against its CPUs. Read again whenever the set of running VMs changes; the
// engine counts (host.resources), nothing is estimated here.

export function HostMeter({ vms }: { vms: VmSummary[] }) {
  const client = useClient();
  const [r, setR] = useState<HostResources | null>(null);
  const key = vms.filter((v) => v.state !== 'stopped' && v.state !== 'crashed').map((v) => `${v.id}:${v.memoryMiB}`).join(',');
  useEffect(() => {
    let live = true;
    client.call('host.resources', {}).then((x) => live && setR(x), () => live && setR(null));
    return () => {
      live = false;
    };
  }, [client, key]);
  if (!r) return null;
  // Of what the host could give VMs: what it has available now plus what the VMs already hold.
  const capacity = r.memAvailableMiB + r.vmsResidentMiB;
  const used = Math.min(r.vmsMemoryMiB, capacity);
  const gib = (m: number) => `${(m / 1024).toFixed(1)} GiB`;
  const text = `VMs ${gib(r.vmsMemoryMiB)} of ${gib(capacity)} memory · ${r.vmsVcpus}/${r.cpus} vCPUs`;
  return (
    <span className="flex items-center gap-2" data-testid="host-meter" title={`${r.running} running VM(s): ${r.vmsMemoryMiB} MiB configured, ${r.vmsResidentMiB} MiB resident; host ${r.memAvailableMiB} MiB available of ${r.memTotalMiB} MiB`}>
      <meter aria-label="Host memory given to running VMs" min={0} max={capacity || 1} value={used} high={capacity * 0.8} className="h-2 w-20" />
      <span>{text}</span>
    </span>
  );
}
