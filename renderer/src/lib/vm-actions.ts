import type { VmState, VmSummary } from '../../../electron/api/types.ts';
import { isActive, isGuestUp, isInactive, isTransitional } from '../../../electron/shared/states.ts';

// Which toolbar actions a VM allows right now, and why not when it does not: a disabled
// button always carries its reason.

export type Action =
  | 'start' | 'pause' | 'resume' | 'shutdown' | 'poweroff' | 'reset'
  | 'settings' | 'snapshot' | 'clone' | 'delete' | 'savestate' | 'discardstate';

export type Availability = { ok: true } | { ok: false; reason: string };

const yes: Availability = { ok: true };
const no = (reason: string): Availability => ({ ok: false, reason });

export function actionAvailability(vm: VmSummary | null | undefined, action: Action): Availability {
  if (!vm) return no('Select a VM first.');
  if (vm.broken && action !== 'delete') return no(`This VM's configuration cannot be read: ${vm.broken}`);
  // A wasm/v86 VM a page runs (its lease holder) is started, stopped and snapshotted in that page.
  if (vm.heldBy && action !== 'settings') return no(`It runs in a window or tab (${vm.heldBy.who}): use its Screen tab there.`);
  const s = vm.state;
  const busy = isTransitional(s) ? no(`The VM is ${s}; wait until it finishes.`) : null;
  switch (action) {
    case 'start':
      if (isInactive(s)) return yes;
      if (s === 'paused') return no('The VM is paused: use Resume.');
      return busy ?? no('The VM is already running.');
    case 'pause':
      if (s === 'running') return yes;
      return busy ?? no(s === 'paused' ? 'The VM is already paused.' : 'The VM is not running.');
    case 'resume':
      return s === 'paused' ? yes : no('The VM is not paused.');
    case 'shutdown':
    case 'poweroff':
    case 'reset':
      if (isGuestUp(s)) return action === 'reset' && s === 'paused' ? no('Resume the VM before resetting it.') : yes;
      if (action === 'poweroff' && s === 'stopping') return yes; // escape hatch for a hung shutdown
      return busy ?? no('The VM is not running.');
    case 'settings':
      return busy ?? yes;
    case 'snapshot':
      if (s === 'saved') return no('The VM has a saved state: start it (it resumes where it was) or discard the saved state first.');
      return busy ?? yes;
    case 'savestate':
      if (isGuestUp(s)) return yes;
      return busy ?? no(s === 'saved' ? 'The state is already saved: Start resumes it.' : 'The VM is not running.');
    case 'discardstate':
      return s === 'saved' ? yes : no('The VM has no saved state.');
    case 'clone':
      // A running VM is cloned from one of its snapshots (the dialog says so when it has none).
      if (isInactive(s) || s === 'running' || s === 'paused') return yes;
      return busy ?? no(`Stop the VM first (it is ${s}).`);
    case 'delete':
      if (isInactive(s)) return yes;
      return no(`Stop the VM first (it is ${s}).`);
  }
}

export const STATE_LABEL: Record<VmState, string> = {
  stopped: 'Stopped',
  starting: 'Starting',
  running: 'Running',
  paused: 'Paused',
  saving: 'Saving',
  restoring: 'Restoring',
  stopping: 'Stopping',
  crashed: 'Crashed',
  saved: 'Saved',
};

/** A QEMU process exists (the shared state groups say which states those are). */
export const isLive = (s: VmState) => isActive(s);
