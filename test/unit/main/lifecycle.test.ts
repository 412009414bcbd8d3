import { describe, expect, it } from 'vitest';
import { CLOSE_DIALOG_CHOICES, closeDecision, closeDialogText, countActive } from '../../../electron/main/lifecycle.ts';

describe('closeDecision', () => {
  it.each([
    // runningVms, remembered, user → decision
    [0, null, null, 'keep-running'],
    [0, 'shut-down', null, 'keep-running'],
    [0, null, 'save-state', 'keep-running'],
    [1, null, null, 'ask'],
    [3, null, null, 'ask'],
    [2, 'keep-running', null, 'keep-running'],
    [2, 'save-state', null, 'save-state'],
    [2, 'shut-down', null, 'shut-down'],
    [2, null, 'keep-running', 'keep-running'],
    [2, null, 'shut-down', 'shut-down'],
    [2, 'shut-down', 'keep-running', 'keep-running'],
    [1, 'keep-running', 'save-state', 'save-state'],
  ] as const)('%i running, remembered %s, answered %s → %s', (runningVms, rememberedChoice, userChoice, want) => {
    expect(closeDecision({ runningVms, rememberedChoice, userChoice })).toBe(want);
  });

  it('offers keep running first (the default button)', () => {
    expect(CLOSE_DIALOG_CHOICES[0]!.choice).toBe('keep-running');
    expect(CLOSE_DIALOG_CHOICES.map((c) => c.choice)).toContain('cancel');
  });

  it('counts VMs that closing could affect, and says how many', () => {
    expect(countActive([{ state: 'running' }, { state: 'stopped' }, { state: 'paused' }, { state: 'crashed' }, { state: 'starting' }])).toBe(3);
    expect(closeDialogText(1).message).toBe('1 virtual machine is still running');
    expect(closeDialogText(2).message).toBe('2 virtual machines are still running');
  });
});
