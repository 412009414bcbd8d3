import { describe, expect, it } from 'vitest';
import type { DetectResult, OsEntry } from '../../../electron/api/types.ts';
import { checkWizard, defaultsFor, type WizardForm } from '../../../renderer/src/lib/wizard.ts';
import { initialWizard, wizardReducer } from '../../../renderer/src/lib/wizard-state.ts';
import { firmwareNote } from '../../../renderer/src/components/wizard/MediaNotes.tsx';

// Issue #23 in the wizard's pure rules: an OS's advisory minimums warn, only what its
// installer refuses (OsEntry.requires) is an error; the disc's firmware and its reason.

const GiB = 1024 ** 3;
const dos: OsEntry = {
  id: 'msdos6.22', name: 'MS-DOS 6.22', family: 'dos', version: '6.22',
  recommended: { cpus: 1, memoryMiB: 256, diskGiB: 4 }, minimum: { cpus: 1, memoryMiB: 32, diskGiB: 1 },
  firmware: 'bios', secureBoot: false, tpm: false, profile: 'legacy',
};
const win11: OsEntry = {
  id: 'win11', name: 'Windows 11', family: 'windows', version: '11',
  recommended: { cpus: 2, memoryMiB: 4096, diskGiB: 64 }, minimum: { cpus: 2, memoryMiB: 4096, diskGiB: 64 },
  firmware: 'uefi', secureBoot: true, tpm: true, profile: 'modern', requires: { memoryMiB: 4096, diskGiB: 64, tpm: true, uefi: true },
};
const ctx = { hostCpus: 2, hostMemoryBytes: 16 * GiB, taken: [], os: null, tpmAvailable: true };
const form = (over: Partial<WizardForm> = {}): WizardForm => ({
  source: 'iso', iso: '/isos/x.iso', importDisk: '', name: 'VM', cpus: 1, memory: '4G', disk: '64G',
  firmware: 'uefi', secureBoot: true, tpm: true, start: false, arch: 'x86_64', ...over,
});

describe('minimums in the wizard', () => {
  it('DOS on a 512 MiB disk: a warning, not an error', () => {
    const c = checkWizard(form({ disk: '512M', memory: '32M', firmware: 'bios', secureBoot: false, tpm: false }), { ...ctx, os: dos });
    expect(c.errors).toEqual({});
    expect(c.warnings.disk).toBe('MS-DOS 6.22 is usually installed on a disk of at least 1 GiB; it may run out of space.');
  });
  it('Windows 11: memory, disk, TPM and BIOS below what its setup checks are errors', () => {
    expect(checkWizard(form(), { ...ctx, os: win11 }).errors).toEqual({});
    const c = checkWizard(form({ memory: '2G', disk: '32G', tpm: false, firmware: 'bios', secureBoot: false }), { ...ctx, os: win11 });
    expect(Object.keys(c.errors).sort()).toEqual(['disk', 'firmware', 'memory', 'tpm']);
  });
  it('the default memory is never below what the installer refuses, where the host has it', () => {
    expect(defaultsFor(win11, 2, 6 * GiB).memory).toBe('4G');
  });
});

describe('the disc\'s firmware', () => {
  const host = { cpus: 2, memoryBytes: 16 * GiB, taken: [] };
  const unknown: DetectResult = { status: 'unknown', reason: 'not recognised', firmware: 'uefi', firmwareReason: 'This disc can only start with UEFI, so the VM uses UEFI', boot: { bios: false, efi: true } };
  it('an unknown OS gets the firmware its disc can start', () => {
    const s = wizardReducer(host)(initialWizard(host), { type: 'detected', result: unknown });
    expect(s.form.firmware).toBe('uefi');
  });
  it('the reason while the firmware is the disc\'s; a warning when changed to one the disc cannot start', () => {
    expect(firmwareNote(unknown, 'uefi')).toEqual({ text: 'This disc can only start with UEFI, so the VM uses UEFI.', warn: false });
    expect(firmwareNote(unknown, 'bios')).toEqual({ text: 'This disc cannot start with BIOS: the VM may not boot from it.', warn: true });
    expect(firmwareNote(null, 'bios')).toBeNull();
  });
});
