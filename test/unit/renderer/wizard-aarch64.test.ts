import { describe, expect, it } from 'vitest';
import type { DetectResult, OsEntry } from '../../../electron/api/types.ts';
import { initialWizard, wizardReducer, type WizardAction } from '../../../renderer/src/lib/wizard-state.ts';
import { checkWizard, createArgs, type WizardForm } from '../../../renderer/src/lib/wizard.ts';

// The wizard's architecture: the ISO's picks the guest's, aarch64 means UEFI, and a guest the
// host cannot run natively is flagged as emulated (slow) before the VM is created.

const GiB = 1024 ** 3;
const host = { cpus: 2, memoryBytes: 8 * GiB, taken: [] };
const reduce = wizardReducer(host);
const run = (...actions: WizardAction[]) => actions.reduce(reduce, initialWizard(host));
const biosOs: OsEntry = {
  id: 'alpine3.19', name: 'Alpine 3.19', family: 'linux', version: '3.19',
  recommended: { cpus: 1, memoryMiB: 512, diskGiB: 4 }, firmware: 'bios', secureBoot: false, tpm: false, profile: 'modern',
};
const unknownArm: DetectResult = { status: 'unknown', reason: 'no OS in the table has install media labelled "X"', arch: 'aarch64', archEvidence: 'BOOTAA64.EFI in the El Torito EFI image' };
const detectedX86: DetectResult = { ...biosOs, status: 'detected', arch: 'x86_64', archEvidence: 'BOOTX64.EFI in the El Torito EFI image', iso: {} };
const x86Host = [{ arch: 'x86_64', native: true }, { arch: 'aarch64', native: false }];
const armHost = [{ arch: 'x86_64', native: false }, { arch: 'aarch64', native: true }];
const ctx = { hostCpus: 2, hostMemoryBytes: 8 * GiB, taken: [], os: null, tpmAvailable: true };

describe('the wizard and guest architectures', () => {
  it('detection of arm64 media makes the guest aarch64 with UEFI, even for an OS the table does not know', () => {
    const s = run({ type: 'detectStart' }, { type: 'detected', result: unknownArm });
    expect(s.form).toMatchObject({ arch: 'aarch64', firmware: 'uefi' });
    // Choosing an OS whose default is BIOS keeps UEFI for an aarch64 guest.
    expect(reduce(s, { type: 'chooseOs', os: biosOs }).form).toMatchObject({ arch: 'aarch64', firmware: 'uefi' });
    expect(createArgs(s.form, null)).toMatchObject({ arch: 'aarch64', firmware: 'uefi' });
    // x86 media put it back, and the detected OS entry carries no arch fields.
    const back = reduce(s, { type: 'detected', result: detectedX86 });
    expect(back.form).toMatchObject({ arch: 'x86_64', firmware: 'bios' });
    expect(back.os).not.toHaveProperty('archEvidence');
    expect(back.os).not.toHaveProperty('arch');
  });

  it('choosing aarch64 by hand switches to UEFI; BIOS with aarch64 is an error', () => {
    expect(run({ type: 'set', key: 'arch', value: 'aarch64' }).form.firmware).toBe('uefi');
    const f: WizardForm = { ...initialWizard(host).form, arch: 'aarch64', firmware: 'bios' };
    expect(checkWizard(f, ctx).errors.firmware).toBe('aarch64 guests boot only through UEFI.');
  });

  it('warns when the guest will be emulated: aarch64 on an x86_64 host, x86_64 on an arm64 host (slow)', () => {
    const arm: WizardForm = { ...initialWizard(host).form, arch: 'aarch64', firmware: 'uefi' };
    const x86: WizardForm = { ...initialWizard(host).form, arch: 'x86_64' };
    expect(checkWizard(arm, { ...ctx, arches: x86Host }).warnings.arch).toBe(
      'aarch64 guests are emulated on this x86_64 computer (no hardware accelerator runs them): expect them to run many times slower than native.',
    );
    expect(checkWizard(x86, { ...ctx, arches: x86Host }).warnings.arch).toBeUndefined();
    expect(checkWizard(x86, { ...ctx, arches: armHost }).warnings.arch).toMatch(/^x86_64 guests are emulated on this aarch64 computer .*Windows and desktop systems will feel very slow\.$/);
    expect(checkWizard(arm, { ...ctx, arches: armHost }).warnings.arch).toBeUndefined();
  });
});
