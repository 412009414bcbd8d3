import { describe, expect, it } from 'vitest';
import { VM_STATES } from '../../../electron/api/types.ts';
import { canTransition } from '../../../electron/engine/vm/state-machine.ts';
import {
  ACTIVE_STATES, GUEST_UP_STATES, INACTIVE_STATES, TRANSITIONAL_STATES, VM_STATE_NAMES, isActive, isTransitional,
} from '../../../electron/shared/states.ts';

// The state groups the renderer and the engine share, checked against the contract's state
// list and the engine's transition table, so a new state cannot fall between the groups.

describe('VM state groups', () => {
  it('name exactly the contract\'s states', () => {
    expect([...VM_STATE_NAMES]).toEqual([...VM_STATES]);
  });

  it('split every state into active or inactive, never both', () => {
    for (const s of VM_STATE_NAMES) expect(ACTIVE_STATES.includes(s) !== INACTIVE_STATES.includes(s)).toBe(true);
    expect([...ACTIVE_STATES, ...INACTIVE_STATES].sort()).toEqual([...VM_STATE_NAMES].sort());
  });

  it('keep transitional and guest-up states inside the active ones', () => {
    for (const s of [...TRANSITIONAL_STATES, ...GUEST_UP_STATES]) expect(isActive(s)).toBe(true);
    for (const s of GUEST_UP_STATES) expect(isTransitional(s)).toBe(false);
  });

  it('agree with the engine: only an inactive VM can begin starting; a transitional state always ends', () => {
    for (const s of VM_STATE_NAMES) expect(s !== 'starting' && canTransition(s, 'starting')).toBe(INACTIVE_STATES.includes(s));
    for (const s of TRANSITIONAL_STATES) {
      expect(VM_STATE_NAMES.filter((t) => t !== s && !isTransitional(t) && canTransition(s, t)).length).toBeGreaterThan(0);
    }
  });
});
