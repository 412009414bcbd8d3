import type { VmSummary } from '../../../electron/api/types.ts';
import { isActive } from '../../../electron/shared/states.ts';

export type StateFilter = 'all' | 'running' | 'stopped';

/** In-memory filter over the whole library: every word must match name, OS or state. */
export function filterVms(vms: readonly VmSummary[], query: string, state: StateFilter = 'all'): VmSummary[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  return vms.filter((vm) => {
    if (state === 'running' && !isActive(vm.state)) return false;
    if (state === 'stopped' && isActive(vm.state)) return false;
    if (!words.length) return true;
    const hay = `${vm.name} ${vm.os.name} ${vm.os.family} ${vm.state}`.toLowerCase();
    return words.every((w) => hay.includes(w));
  });
}

export function sortVms(vms: readonly VmSummary[]): VmSummary[] {
  return [...vms].sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true, sensitivity: 'base' }));
}
