import { useEffect, useState } from 'react';
import type { ApiClient } from '../../../electron/api/contract.ts';
import type { VmState } from '../../../electron/api/types.ts';

/**
 * The VM's state: the parent's value when it gives one, else fetched once and then followed
 * through `vm.state` events, so the views also work when dropped in without it.
 */
export function useVmState(client: ApiClient, vmId: string, given: VmState | undefined): VmState | null {
  const [own, setOwn] = useState<VmState | null>(null);
  useEffect(() => {
    if (given !== undefined) return;
    let alive = true;
    const off = client.on('vm.state', (p) => {
      if (p.id === vmId) setOwn(p.state);
    });
    client.call('vms.get', { vm: vmId }).then(
      (d) => alive && setOwn((s) => s ?? d.state),
      () => {},
    );
    return () => {
      alive = false;
      off();
    };
  }, [client, vmId, given]);
  return given ?? own;
}

/** States in which QEMU runs and so serves its VNC and serial sockets. */
export const hasScreen = (s: VmState | null): boolean => s === 'running' || s === 'paused' || s === 'saving' || s === 'restoring';
