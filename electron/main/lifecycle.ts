// What closing the last window (or quitting) does to running VMs. VMs run detached from the
// app (QEMU has its own pidfile and QMP socket and a later engine re-attaches), so leaving them
// running is the safe default: closing a window must never cost a guest its unsaved work.

export type CloseAction = 'keep-running' | 'save-state' | 'shut-down';
export type CloseDecision = CloseAction | 'ask';

export interface CloseInput {
  /** number of VMs in a state that closing could affect (running, paused, starting...) */
  runningVms: number;
  /** what the person ticked "remember my choice" for, if anything */
  rememberedChoice?: CloseAction | null;
  /** the answer to the dialog, once asked (a cancelled dialog aborts the close before this) */
  userChoice?: CloseAction | null;
}

/**
 * Decision table:
 *   no running VM                    → keep-running (nothing to do, the app just quits)
 *   the person answered the dialog   → that answer
 *   a remembered choice              → that choice
 *   otherwise                        → ask
 */
export function closeDecision({ runningVms, rememberedChoice, userChoice }: CloseInput): CloseDecision {
  if (runningVms <= 0) return 'keep-running';
  if (userChoice) return userChoice;
  if (rememberedChoice) return rememberedChoice;
  return 'ask';
}

/** Buttons of the close dialog, default first: the index maps back to an answer. */
export const CLOSE_DIALOG_CHOICES: ReadonlyArray<{ label: string; choice: CloseAction | 'cancel' }> = [
  { label: 'Keep running in background', choice: 'keep-running' },
  { label: 'Save state and quit', choice: 'save-state' },
  { label: 'Shut down VMs and quit', choice: 'shut-down' },
  { label: 'Cancel', choice: 'cancel' },
];

export function closeDialogText(runningVms: number): { message: string; detail: string } {
  const n = runningVms === 1 ? '1 virtual machine is' : `${runningVms} virtual machines are`;
  return {
    message: `${n} still running`,
    detail: 'Running VMs keep going after Vireo closes and reappear when you open it again. You can also save their state or shut them down now.',
  };
}

export const ACTIVE_STATES = new Set(['starting', 'running', 'paused', 'saving', 'restoring', 'stopping']);

export function countActive(vms: ReadonlyArray<{ state: string }>): number {
  return vms.filter((v) => ACTIVE_STATES.has(v.state)).length;
}
