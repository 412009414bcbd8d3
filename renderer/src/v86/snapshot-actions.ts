import { useSyncExternalStore } from 'react';
import type { VmConfig } from '../../../electron/api/types.ts';
import { V86Runner } from './runner.ts';

// The Snapshots tab's Take and Restore for a wasm/v86 VM (issue 20). Its snapshots are in the
// VM's snapshot tree like a QEMU VM's, and the engine lists, renames and deletes them; but the
// guest's state lives in the page that runs it, so taking one needs the guest running in this
// page, and restoring one boots it here from the snapshot's state (runner.ts).

export interface V86SnapshotActions {
  /** why Take is not possible now; null: it is */
  takeReason: string | null;
  take(): Promise<void>;
  restore(id: string): Promise<void>;
}

export function useV86SnapshotActions(vmId: string, config: VmConfig | null | undefined): V86SnapshotActions | null {
  const v86 = config?.backend === 'wasm/v86';
  // a QEMU VM gets no runner (each holds a screen element for the page's lifetime)
  const runner = v86 ? V86Runner.for(vmId) : null;
  const state = useSyncExternalStore((fn) => (runner ? runner.onChange(fn) : () => {}), () => runner?.state ?? 'idle');
  if (!runner || !config) return null;
  return {
    takeReason: state === 'running' ? null : 'A wasm/v86 VM is snapshotted while it runs in this window: start it on its Screen tab first.',
    take: () => runner.takeSnapshot(`Snapshot ${new Date().toLocaleString()}`),
    restore: (id) => runner.restoreSnapshot(config, id),
  };
}
