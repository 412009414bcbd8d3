import { describe, expect, it } from 'vitest';
import type { OsEntry } from '../../../electron/api/types.ts';
import { initialWizard, wizardReducer } from '../../../renderer/src/lib/wizard-state.ts';
import { checkWizard, createArgs } from '../../../renderer/src/lib/wizard.ts';

// The wizard's wasm/v86 choice (issue 20): taking it fits the form to v86's one PC, leaving it
// brings the OS's defaults back, and what v86 cannot have is a field error before vms.create.

const GiB = 1024 ** 3;
const host = { cpus: 4, memoryBytes: 8 * GiB, taken: [] };
const reduce = wizardReducer(host);
const win98: OsEntry = {
  id: 'win98', name: 'Windows 98', family: 'windows', version: '98',
  recommended: { cpus: 2, memoryMiB: 1024, diskGiB: 2 }, firmware: 'uefi', secureBoot: false, tpm: true, profile: 'legacy',
};
const ctx = { hostCpus: 4, hostMemoryBytes: 8 * GiB, taken: [], os: win98, tpmAvailable: true };

describe('the wizard with the wasm/v86 backend', () => {
  it('taking it gives one CPU, BIOS, no TPM, memory under the cap; createArgs names the backend; leaving it restores the defaults', () => {
    const start = reduce(initialWizard(host), { type: 'set', key: 'source', value: 'empty' });
    const s = reduce(reduce(start, { type: 'chooseOs', os: win98 }), { type: 'set', key: 'backend', value: 'wasm/v86' });
    expect(s.form).toMatchObject({ backend: 'wasm/v86', cpus: 1, memory: '512M', firmware: 'bios', secureBoot: false, tpm: false, start: false });
    expect(checkWizard(s.form, ctx).errors).toEqual({});
    expect(createArgs(s.form, 'win98')).toMatchObject({ backend: 'wasm/v86', cpus: 1, memory: '512M', firmware: 'bios' });
    // another OS keeps the v86 fit
    expect(reduce(s, { type: 'chooseOs', os: { ...win98, id: 'win95', name: 'Windows 95' } }).form).toMatchObject({ cpus: 1, firmware: 'bios', tpm: false });
    const back = reduce(s, { type: 'set', key: 'backend', value: 'qemu' });
    expect(back.form).toMatchObject({ backend: 'qemu', cpus: 2, firmware: 'uefi', tpm: true });
    expect(createArgs(back.form, 'win98')).not.toHaveProperty('backend');
  });

  it('refuses what v86 cannot have, field by field', () => {
    const f = { ...initialWizard(host).form, backend: 'wasm/v86' as const, cpus: 2, memory: '1G', firmware: 'uefi' as const, secureBoot: true, tpm: true, source: 'import' as const, importDisk: '/x.qcow2' };
    const e = checkWizard(f, { ...ctx, os: null }).errors;
    expect(e.cpus).toMatch(/exactly one CPU/);
    expect(e.memory).toMatch(/at most 512 MiB/);
    expect(e.firmware).toMatch(/BIOS only/);
    expect(e.secureBoot).toMatch(/Secure Boot/);
    expect(e.tpm).toMatch(/no TPM/);
    expect(e.importDisk).toMatch(/^Not yet with the wasm\/v86 backend/);
  });
});
