import { VireoError } from '../../api/errors.ts';
import type { VmState } from '../../api/types.ts';

// Allowed transitions, written out so an impossible one is a bug caught at once rather than
// a UI that shows "running" for a dead process.
const TRANSITIONS: Record<VmState, readonly VmState[]> = {
  stopped: ['starting', 'restoring'],
  starting: ['running', 'paused', 'stopped', 'crashed'],
  running: ['paused', 'stopping', 'saving', 'restoring', 'stopped', 'crashed'],
  paused: ['running', 'stopping', 'saving', 'restoring', 'stopped', 'crashed'],
  saving: ['running', 'paused', 'stopped', 'crashed'],
  restoring: ['running', 'paused', 'stopped', 'crashed'],
  stopping: ['stopped', 'crashed', 'running', 'paused'],
  crashed: ['starting', 'stopped', 'restoring'],
};

export function canTransition(from: VmState, to: VmState): boolean {
  return from === to || TRANSITIONS[from].includes(to);
}

/** Which states an operation may start from, and the message when it may not. */
export function requireState(op: string, name: string, state: VmState, allowed: readonly VmState[]): void {
  if (!allowed.includes(state)) {
    const hint =
      state === 'stopped' || state === 'crashed'
        ? 'start it first'
        : state === 'running' || state === 'paused'
          ? 'stop it first'
          : 'wait until it has finished';
    throw new VireoError('INVALID_STATE', `cannot ${op} "${name}" while it is ${state}: ${hint}`, { state, allowed });
  }
}
