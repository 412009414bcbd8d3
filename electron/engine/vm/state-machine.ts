import { VireoError } from '../../api/errors.ts';
import type { VmState } from '../../api/types.ts';

// Allowed transitions, written out so an impossible one is a bug caught at once rather than
// a UI that shows "running" for a dead process. Machine is the only writer of a VM's state and
// goes through assertTransition for every change.
export const TRANSITIONS: Record<VmState, readonly VmState[]> = {
  // 'saved' from 'stopped': QEMU has quit after writing its state, or an engine found the state file.
  stopped: ['starting', 'restoring', 'saved'],
  starting: ['running', 'paused', 'stopped', 'crashed'],
  running: ['paused', 'stopping', 'saving', 'restoring', 'stopped', 'crashed'],
  paused: ['running', 'stopping', 'saving', 'restoring', 'stopped', 'crashed'],
  saving: ['running', 'paused', 'stopped', 'crashed'],
  restoring: ['running', 'paused', 'stopped', 'crashed'],
  stopping: ['stopped', 'crashed', 'running', 'paused'],
  crashed: ['starting', 'stopped', 'restoring'],
  // Start resumes it (or fails and leaves it saved, through 'stopped'); discarding makes it stopped.
  saved: ['starting', 'stopped'],
};

/**
 * Re-attaching finds a QEMU that an earlier engine (or another one) started: the machine was
 * "stopped" only as far as this engine knew, so it may jump to what QEMU reports.
 */
export const ADOPTABLE: { from: readonly VmState[]; to: readonly VmState[] } = {
  // 'saved': another engine resumed it meanwhile.
  from: ['stopped', 'crashed', 'saved'],
  to: ['running', 'paused'],
};

export function canTransition(from: VmState, to: VmState): boolean {
  return from === to || TRANSITIONS[from].includes(to);
}

export function canAdopt(from: VmState, to: VmState): boolean {
  return ADOPTABLE.from.includes(from) && ADOPTABLE.to.includes(to);
}

/** Throws INTERNAL for a transition the table does not allow: the caller has a bug. */
export function assertTransition(vm: string, from: VmState, to: VmState, how: 'change' | 'adopt' = 'change'): void {
  const ok = how === 'adopt' ? canAdopt(from, to) : canTransition(from, to);
  if (!ok) {
    throw new VireoError('INTERNAL', `illegal VM state transition ${from} → ${to}${how === 'adopt' ? ' (re-attach)' : ''} for ${vm}`, { from, to, vm });
  }
}

/** Which states an operation may start from, and the message when it may not. */
export function requireState(op: string, name: string, state: VmState, allowed: readonly VmState[]): void {
  if (!allowed.includes(state)) {
    const hint =
      state === 'saved'
        ? 'its state is saved: start it (it resumes where it was) or discard the saved state first'
        : state === 'stopped' || state === 'crashed'
        ? 'start it first'
        : state === 'running' || state === 'paused'
          ? 'stop it first'
          : 'wait until it has finished';
    throw new VireoError('INVALID_STATE', `cannot ${op} "${name}" while it is ${state}: ${hint}`, { state, allowed });
  }
}
