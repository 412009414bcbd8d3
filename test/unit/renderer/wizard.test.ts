import { describe, expect, it } from 'vitest';
import type { OsEntry } from '../../../electron/api/types.ts';
import { checkWizard, createArgs, defaultsFor, hasErrors, type WizardForm } from '../../../renderer/src/lib/wizard.ts';

const GiB = 1024 ** 3;
const win11: OsEntry = {
  id: 'win11', name: 'Windows 11', family: 'windows', version: '11',
  recommended: { cpus: 4, memoryMiB: 8192, diskGiB: 80 }, minimum: { cpus: 2, memoryMiB: 4096, diskGiB: 64 },
  firmware: 'uefi', secureBoot: true, tpm: true, profile: 'modern',
  requires: { memoryMiB: 4096, diskGiB: 64, tpm: true, uefi: true },
};
const ctx = { hostCpus: 2, hostMemoryBytes: 8 * GiB, taken: ['Existing'], os: null, tpmAvailable: true };
const form = (over: Partial<WizardForm> = {}): WizardForm => ({
  source: 'iso', iso: '/isos/x.iso', importDisk: '', name: 'My VM', cpus: 1, memory: '2G', disk: '20G',
  firmware: 'bios', secureBoot: false, tpm: false, start: false, arch: 'x86_64', ...over,
});

describe('checkWizard', () => {
  it('passes a sensible form', () => {
    const c = checkWizard(form(), ctx);
    expect(c.errors).toEqual({});
  });
  it('flags empty and taken names', () => {
    expect(checkWizard(form({ name: '' }), ctx).errors.name).toMatch(/empty/);
    expect(checkWizard(form({ name: 'existing' }), ctx).errors.name).toMatch(/already exists/);
  });
  it('bounds CPUs and memory by the host, warns about overcommit', () => {
    expect(checkWizard(form({ cpus: 3 }), ctx).errors.cpus).toMatch(/at most 2/);
    expect(checkWizard(form({ cpus: 2 }), ctx).warnings.cpus).toBeDefined();
    expect(checkWizard(form({ memory: '16G' }), ctx).errors.memory).toMatch(/more than this host has/);
    expect(checkWizard(form({ memory: '7G' }), ctx).warnings.memory).toMatch(/75%/);
    expect(checkWizard(form({ memory: 'much' }), ctx).errors.memory).toBeDefined();
  });
  it('refuses a disk below the OS minimum, and an ISO path missing', () => {
    const c = checkWizard(form({ disk: '32G', memory: '4G', firmware: 'uefi', secureBoot: true, tpm: true }), { ...ctx, os: win11 });
    expect(c.errors.disk).toMatch(/at least 64 GiB/);
    expect(checkWizard(form({ iso: ' ' }), ctx).errors.iso).toBeDefined();
    expect(checkWizard(form({ source: 'empty', iso: '' }), ctx).errors.iso).toBeUndefined();
  });
  it('checks firmware consistency and TPM availability', () => {
    expect(checkWizard(form({ secureBoot: true }), ctx).errors.secureBoot).toBeDefined();
    expect(checkWizard(form({ tpm: true }), { ...ctx, tpmAvailable: false }).errors.tpm).toMatch(/swtpm/);
    expect(checkWizard(form(), { ...ctx, os: win11 }).warnings.tpm).toMatch(/TPM/);
  });
  it('ignores disk size when importing a disk', () => {
    const c = checkWizard(form({ source: 'import', iso: '', importDisk: '/d.qcow2', disk: 'nonsense' }), ctx);
    expect(hasErrors(c)).toBe(false);
  });
});

describe('defaultsFor / createArgs', () => {
  it('bounds recommendations by the host', () => {
    const d = defaultsFor(win11, 2, 8 * GiB);
    // one of the host's two CPUs stays free (all of them is what checkWizard warns about)
    expect(d.cpus).toBe(1);
    expect(checkWizard(form({ cpus: d.cpus }), ctx).warnings.cpus).toBeUndefined();
    expect(d.memory).toBe('4G'); // half the host, not the recommended 8 GiB
    expect(d).toMatchObject({ firmware: 'uefi', secureBoot: true, tpm: true, disk: '80G' });
  });
  it('builds vms.create arguments for each source', () => {
    expect(createArgs(form(), 'debian12')).toMatchObject({ name: 'My VM', iso: '/isos/x.iso', os: 'debian12', memory: '2048M', disk: '20480M' });
    expect(createArgs(form({ source: 'empty' }), null)).toMatchObject({ iso: null });
    const imp = createArgs(form({ source: 'import', importDisk: '/d.vmdk' }), null);
    expect(imp).toMatchObject({ importDisk: '/d.vmdk', iso: null });
    expect(imp).not.toHaveProperty('disk');
    expect(imp).not.toHaveProperty('os');
  });
});
