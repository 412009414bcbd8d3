import { useEffect, useState } from 'react';
import { useClient } from '../api/context.tsx';

/** Names of a VM's snapshots, kept current through snapshots.changed (empty until loaded). */
export function useSnapshotNames(vmId: string): string[] {
  const client = useClient();
  const [names, setNames] = useState<string[]>([]);
  const [tick, setTick] = useState(0);
  useEffect(() => client.on('snapshots.changed', (p) => p.vmId === vmId && setTick((t) => t + 1)), [client, vmId]);
  useEffect(() => {
    let live = true;
    // A VM whose snapshots cannot be listed still gets its dialog; the engine has the last word.
    client.call('snapshots.list', { vm: vmId }).then((t) => live && setNames(t.nodes.map((n) => n.name)), () => undefined);
    return () => {
      live = false;
    };
  }, [client, vmId, tick]);
  return names;
}
