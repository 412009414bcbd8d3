import { describe, expect, it } from 'vitest';
import type { DetectResult, Job, OsEntry } from '../../../electron/api/types.ts';
import { ALL_FIELDS, fieldStep, initialWizard, wizardReducer, type WizardAction, type WizardState } from '../../../renderer/src/lib/wizard-state.ts';

// The wizard's one reducer: each transition the dialog relies on, without a browser.

const GiB = 1024 ** 3;
const host = { cpus: 2, memoryBytes: 8 * GiB, taken: ['New VM'] };
const reduce = wizardReducer(host);
const run = (...actions: WizardAction[]) => actions.reduce(reduce, initialWizard(host));
const debian: OsEntry = {
  id: 'debian12', name: 'Debian 12', family: 'linux', version: '12',
  recommended: { cpus: 2, memoryMiB: 2048, diskGiB: 20 }, minimum: { cpus: 1, memoryMiB: 1024, diskGiB: 10 },
  firmware: 'uefi', secureBoot: false, tpm: false, profile: 'modern',
};
const job = (id: string): Job => ({ id, kind: 'create', title: `job ${id}`, startedAt: '2026-12-01T00:00:00Z' } as Job);

describe('wizardReducer', () => {
  it('starts on the ISO source with a free name and host-bounded defaults', () => {
    const s = initialWizard(host);
    expect(s).toMatchObject({ step: 0, form: { source: 'iso', name: 'New VM (2)', cpus: 1, memory: '2G', disk: '20G', firmware: 'bios' } });
  });

  it('renames the VM after the chosen OS until the user types a name', () => {
    expect(run({ type: 'chooseOs', os: debian }).form).toMatchObject({ name: 'Debian 12', firmware: 'uefi' });
    const typed = run({ type: 'set', key: 'name', value: 'Mine' }, { type: 'chooseOs', os: debian });
    expect(typed.form.name).toBe('Mine');
    expect(typed.nameEdited).toBe(true);
  });

  it('marks a field touched when set, clears its engine message, and drops Secure Boot with BIOS', () => {
    let s: WizardState = run({ type: 'detectFailed', message: 'not an ISO' });
    expect(s.serverErrors).toEqual({ iso: 'not an ISO' });
    s = reduce(s, { type: 'set', key: 'iso', value: '/x.iso' });
    expect(s.serverErrors).toEqual({});
    expect(s.touched).toEqual(['iso']);
    s = reduce(reduce(reduce(s, { type: 'set', key: 'firmware', value: 'uefi' }), { type: 'set', key: 'secureBoot', value: true }), { type: 'set', key: 'firmware', value: 'bios' });
    expect(s.form.secureBoot).toBe(false);
  });

  it('moves to the OS step with what detection found, or with no OS when it found none', () => {
    const found = { ...debian, status: 'detected', arch: 'x86_64', build: null, iso: '/d.iso' } as unknown as DetectResult;
    expect(run({ type: 'detectStart' }, { type: 'detected', result: found })).toMatchObject({ step: 1, detecting: false, os: debian, form: { name: 'Debian 12' } });
    const unknown = { status: 'unknown', reason: 'volume id VIREO_TESTGUEST' } as unknown as DetectResult;
    expect(run({ type: 'chooseOs', os: debian }, { type: 'detected', result: unknown })).toMatchObject({ step: 1, os: null });
  });

  it('closes the file browser when the source changes', () => {
    expect(run({ type: 'browse', open: true }, { type: 'set', key: 'source', value: 'import' }).browse).toBe(false);
  });

  it('sends engine field errors to their step, other errors to the summary', () => {
    const s = run({ type: 'goto', step: 3 }, { type: 'createStart' }, { type: 'createFailed', fieldErrors: { name: 'taken' }, error: { code: 'ALREADY_EXISTS', message: 'taken' } });
    expect(s).toMatchObject({ step: 1, creating: false, serverErrors: { name: 'taken' }, createError: null });
    const t = run({ type: 'goto', step: 3 }, { type: 'createStart' }, { type: 'createFailed', fieldErrors: {}, error: { code: 'QEMU_FAILED', message: 'boom' } });
    expect(t).toMatchObject({ step: 3, createError: { code: 'QEMU_FAILED' } });
    expect(fieldStep('memory')).toBe(2);
    expect(fieldStep('importDisk')).toBe(0);
    expect(ALL_FIELDS).toContain('tpm');
  });

  it('follows the first job only', () => {
    const s = run({ type: 'job', job: job('a') }, { type: 'job', job: job('b') }, { type: 'job', job: { ...job('a'), title: 'later' } });
    expect(s.job).toMatchObject({ id: 'a', title: 'later' });
  });
});
