import { useEffect, useState } from 'react';
import type { ApiClient } from '../../../electron/api/contract.ts';
import type { VmConfig } from '../../../electron/api/types.ts';

/** The VM's config, fetched and refetched when the VM changes (Settings saved elsewhere). */
export function useVmConfig(client: ApiClient, vmId: string): VmConfig | null {
  const [config, setConfig] = useState<VmConfig | null>(null);
  useEffect(() => {
    let alive = true;
    const load = () =>
      client.call('vms.get', { vm: vmId }).then(
        (d) => alive && setConfig(d.config),
        () => {},
      );
    void load();
    const off = client.on('vm.changed', (p) => {
      if (p.id === vmId && !p.removed) void load();
    });
    return () => {
      alive = false;
      off();
    };
  }, [client, vmId]);
  return config;
}
