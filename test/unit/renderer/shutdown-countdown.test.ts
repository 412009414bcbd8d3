import { describe, expect, it } from 'vitest';
import { secondsLeft } from '../../../renderer/src/components/StopNotices.tsx';
import { SHUTDOWN_TIMEOUT_SEC } from '../../../electron/shared/states.ts';

// The shutdown countdown's arithmetic: whole seconds, rounded up (never "0 s" while time is
// left), never negative.

describe('secondsLeft', () => {
  it('starts at the timeout the UI passes to vms.stop and counts down to zero', () => {
    const t0 = 1_000_000;
    const deadline = t0 + SHUTDOWN_TIMEOUT_SEC * 1000;
    expect(secondsLeft(deadline, t0)).toBe(SHUTDOWN_TIMEOUT_SEC);
    expect(secondsLeft(deadline, t0 + 1)).toBe(SHUTDOWN_TIMEOUT_SEC);
    expect(secondsLeft(deadline, deadline - 1)).toBe(1);
    expect(secondsLeft(deadline, deadline)).toBe(0);
    expect(secondsLeft(deadline, deadline + 5000)).toBe(0);
  });
});
