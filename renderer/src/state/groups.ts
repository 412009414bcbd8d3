import { useCallback, useEffect, useState } from 'react';
import { pageAnswer, type ApiClient } from '../api/client.ts';
import type { VmGroup } from '../../../electron/api/library-types.ts';
import type { VmSummary } from '../../../electron/api/types.ts';

// The library's groups as the sidebar sees them: groups.list at start and again on every
// groups.changed event (any client's change: the CLI, another window), and after a reconnect
// (`epoch`), when events may have been missed.

export function useGroups(client: ApiClient, epoch: number): { groups: VmGroup[]; error: unknown } {
  const [groups, setGroups] = useState<VmGroup[]>(() => pageAnswer('groups.list')?.groups ?? []);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let live = true;
    const load = () =>
      client.call('groups.list', {}).then(
        (l) => live && (setGroups(l.groups), setError(null)),
        (e) => live && setError(e),
      );
    const off = client.on('groups.changed', () => void load());
    void load();
    return () => {
      live = false;
      off();
    };
  }, [client, epoch]);
  return { groups, error };
}

/** When each VM last ran, read only while the library is sorted by it (and again as VMs start and stop). */
export function useLastUsed(client: ApiClient, enabled: boolean, vms: readonly VmSummary[]): Record<string, string | null> {
  const [lastUsed, setLastUsed] = useState<Record<string, string | null>>({});
  // A key that changes when a VM starts or stops, not on every unrelated re-render.
  const activeKey = vms.map((v) => (v.state === 'stopped' ? '' : v.id)).join(',');
  const load = useCallback(() => client.call('vms.lastUsed', {}).then((r) => setLastUsed(r.lastUsed), () => undefined), [client]);
  useEffect(() => {
    if (enabled) void load();
  }, [enabled, load, activeKey]);
  return lastUsed;
}
