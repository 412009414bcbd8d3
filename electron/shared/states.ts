// VM state groups, one definition for the engine and the renderer. Dependency-free (no
// imports at all): the renderer bundles this file as it is. The state list itself is the
// contract's (electron/api/types.ts VM_STATES); a test keeps the two equal.

export const VM_STATE_NAMES = ['stopped', 'starting', 'running', 'paused', 'saving', 'restoring', 'stopping', 'crashed', 'saved'] as const;
export type VmStateName = (typeof VM_STATE_NAMES)[number];

/** A QEMU process exists for the VM (it may still be coming up or going down). */
export const ACTIVE_STATES: readonly VmStateName[] = ['starting', 'running', 'paused', 'saving', 'restoring', 'stopping'];

/** On the way from one steady state to another: other actions wait until it finishes. */
export const TRANSITIONAL_STATES: readonly VmStateName[] = ['starting', 'saving', 'restoring', 'stopping'];

/**
 * No QEMU process: the VM may start, be cloned or deleted; hardware may change except while
 * 'saved' (suspended to disk: a start resumes the saved state, which needs the same machine).
 */
export const INACTIVE_STATES: readonly VmStateName[] = ['stopped', 'crashed', 'saved'];

/** A guest is executing or held (the power button and reset make sense). */
export const GUEST_UP_STATES: readonly VmStateName[] = ['running', 'paused'];

/**
 * Counted as running (the status bar): a guest executing, or held only for a live snapshot
 * being taken or loaded, which resumes it afterwards. Paused by the user is not running.
 */
export const RUNNING_COUNT_STATES: readonly VmStateName[] = ['running', 'saving', 'restoring'];

export const isActive = (s: VmStateName): boolean => ACTIVE_STATES.includes(s);
export const countsAsRunning = (s: VmStateName): boolean => RUNNING_COUNT_STATES.includes(s);
export const isTransitional = (s: VmStateName): boolean => TRANSITIONAL_STATES.includes(s);
export const isInactive = (s: VmStateName): boolean => INACTIVE_STATES.includes(s);
export const isGuestUp = (s: VmStateName): boolean => GUEST_UP_STATES.includes(s);

/**
 * Seconds a guest gets to react to the ACPI power button before the stop escalates to QMP
 * quit and SIGKILL. The UI passes it to vms.stop as timeoutSec and counts it down, so the
 * countdown shown is the one the engine applies.
 */
export const SHUTDOWN_TIMEOUT_SEC = 60;
