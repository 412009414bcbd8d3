import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BootProblem } from '../../electron/api/types.ts';
import type { Engine } from '../../electron/engine/index.ts';
import { atEfiShell, vgaTextFromXp } from '../../electron/engine/vm/boot-problem.ts';
import { makeBootIso } from '../fixtures/osdetect/make-iso.ts';
import { disposeEngine, tempEngine } from './helpers.ts';

// The firmware's own "nothing to start" through real QEMU: Debian's OVMF opening its shell
// with a BIOS-only disc (seen on the serial log), SeaBIOS's "No bootable device." with an
// EFI-only disc (read from the VGA text screen), each with the firmware to switch to.

let dir: string;
let engine: Engine;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vireo-bootproblem-'));
  engine = await tempEngine();
});
afterAll(async () => {
  await disposeEngine(engine);
  await rm(dir, { recursive: true, force: true });
});

async function problemOf(vm: string, timeoutMs = 150_000): Promise<BootProblem> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const p = await engine.client.call('vms.bootProblem', { vm });
    if (p) return p;
    if (Date.now() > until) throw new Error(`no boot problem reported within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

describe('boot problems the firmware shows', () => {
  it('recognises the OVMF shell prompt and SeaBIOS screen text', () => {
    expect(atEfiShell('\x1b[33m\x1b[40mShell> \x1b[37m\x1b[40m')).toBe(true);
    expect(atEfiShell('Shell> ls\r\nfs0:\r\n')).toBe(false);
    const xp = '00000000000b8000: 0x4e 0x07 0x6f 0x07 0x20 0x07 0x62 0x07';
    expect(vgaTextFromXp(xp)).toBe('No b');
  });

  it('UEFI with a BIOS-only disc: the UEFI shell, fix BIOS; BIOS with an EFI-only disc: no bootable device, fix UEFI', async () => {
    const biosIso = await makeBootIso(dir, { volumeId: 'BIOS_ONLY', bios: true });
    const efiIso = await makeBootIso(dir, { volumeId: 'EFI_ONLY', efi: true });
    const uefiVm = await engine.client.call('vms.create', { name: 'uefi-shell', iso: biosIso, firmware: 'uefi', disk: '16M', memory: '256M', cpus: 1 });
    const biosVm = await engine.client.call('vms.create', { name: 'no-boot', iso: efiIso, firmware: 'bios', disk: '16M', memory: '64M', cpus: 1 });
    // nothing reported before the firmware gave up (and not for a stopped VM)
    expect(await engine.client.call('vms.bootProblem', { vm: uefiVm.id })).toBeNull();
    await engine.client.call('vms.start', { vm: uefiVm.id });
    await engine.client.call('vms.start', { vm: biosVm.id });

    const bios = await problemOf(biosVm.id);
    expect(bios).toEqual({
      kind: 'no-bootable-device', firmware: 'bios',
      message: "The BIOS found no bootable device. This VM's disc can only start with UEFI.",
      fix: { firmware: 'uefi', label: 'Switch to UEFI and restart' },
    });
    const uefi = await problemOf(uefiVm.id);
    expect(uefi).toEqual({
      kind: 'efi-shell', firmware: 'uefi',
      message: "The UEFI firmware found nothing it can start and opened the UEFI shell. This VM's disc can only start with BIOS.",
      fix: { firmware: 'bios', label: 'Switch to BIOS and restart' },
    });
    await engine.client.call('vms.stop', { vm: uefiVm.id, force: true });
    await engine.client.call('vms.stop', { vm: biosVm.id, force: true });
  }, 400_000);
});
