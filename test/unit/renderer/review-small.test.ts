import { describe, expect, it } from 'vitest';
import type { DetectResult } from '../../../electron/api/types.ts';
import { nameFromPath } from '../../../renderer/src/lib/names.ts';
import { snapshotNameProblem } from '../../../renderer/src/lib/snapshot-names.ts';
import { initialWizard, wizardReducer, type WizardAction } from '../../../renderer/src/lib/wizard-state.ts';

const host = { cpus: 2, memoryBytes: 8 * 1024 ** 3, taken: ['tool'] };

describe('nameFromPath', () => {
  it('drops the folder and extension and spaces underscores', () => {
    expect(nameFromPath('/isos/my_tool-1.2.iso')).toBe('my tool-1.2');
    expect(nameFromPath('C:\\isos\\MSDOS622.ISO')).toBe('MSDOS622');
    expect(nameFromPath('  /x/testguest.iso ')).toBe('testguest');
    expect(nameFromPath('/x/.iso')).toBeNull();
  });
});

describe('wizard: an unknown OS', () => {
  it('names the VM after the ISO, unique in the library, unless the user typed a name', () => {
    const r = wizardReducer(host);
    const run = (...as: WizardAction[]) => as.reduce(r, initialWizard(host));
    const unknown = { status: 'unknown', reason: 'volume id X' } as unknown as DetectResult;
    expect(run({ type: 'set', key: 'iso', value: '/isos/tool.iso' }, { type: 'detected', result: unknown }).form.name).toBe('tool (2)');
    expect(run({ type: 'set', key: 'name', value: 'Mine' }, { type: 'set', key: 'iso', value: '/isos/tool.iso' }, { type: 'detected', result: unknown }).form.name).toBe('Mine');
  });
});

describe('snapshotNameProblem', () => {
  it('refuses an empty, a too long and a taken name (ignoring case)', () => {
    expect(snapshotNameProblem('  ', [])).toMatch(/Give the snapshot a name/);
    expect(snapshotNameProblem('x'.repeat(65), [])).toMatch(/64/);
    expect(snapshotNameProblem(' Clean ', ['clean'])).toBe('A snapshot named “clean” exists: choose another name.');
    expect(snapshotNameProblem('clean 2', ['clean'])).toBeNull();
  });
});
