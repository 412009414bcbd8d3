import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Engine } from '../../electron/engine/index.ts';
import type { HostInfo } from '../../electron/api/types.ts';
import { createNvram } from '../../electron/engine/firmware/ovmf.ts';
import { detectOs } from '../../electron/engine/osdetect/detect.ts';
import { run } from '../../electron/engine/util/proc.ts';
import { runVireo } from './cli-helpers.ts';
import { disposeEngine, tempEngine } from './helpers.ts';

// Issue 19, acceptance 2 and 3 (the parts that need no booted guest): `vireo host --json` lists
// both guest architectures with their accelerators (the aarch64 probe really timed under TCG)
// and firmware; install ISOs say their architecture by their EFI boot file or label; a VM
// created from one follows it, and contradictions are refused before anything is made.

let dir: string;
let engine: Engine;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vireo-a64h-'));
  engine = await tempEngine();
});
afterAll(async () => {
  await disposeEngine(engine);
  rmSync(dir, { recursive: true, force: true });
});

/** A small ISO: optional El Torito EFI image holding EFI/BOOT/<efiName>, optional files in the tree. */
async function makeIso(name: string, opts: { label: string; efiName?: string; treeFiles?: string[] }): Promise<string> {
  const root = join(dir, `${name}-root`);
  mkdirSync(join(root, 'boot'), { recursive: true });
  writeFileSync(join(root, 'README'), 'vireo test media\n');
  for (const f of opts.treeFiles ?? []) {
    mkdirSync(join(root, f, '..'), { recursive: true });
    writeFileSync(join(root, f), 'MZ');
  }
  const efiArgs: string[] = [];
  if (opts.efiName) {
    const img = join(root, 'boot', 'efi.img');
    await run('truncate', ['-s', '2M', img]);
    await run('mformat', ['-i', img, '-N', '0', '::']);
    await run('mmd', ['-i', img, '::/EFI', '::/EFI/BOOT']);
    const stub = join(dir, `${name}.efi`);
    writeFileSync(stub, 'MZ');
    await run('mcopy', ['-i', img, stub, `::/EFI/BOOT/${opts.efiName}`]);
    efiArgs.push('--efi-boot', 'boot/efi.img', '-efi-boot-part', '--efi-boot-image');
  }
  const iso = join(dir, `${name}.iso`);
  await run('xorriso', ['-as', 'mkisofs', '-quiet', '-r', '-J', '-V', opts.label, '-o', iso, ...efiArgs, root]);
  return iso;
}

describe('vireo host --json', () => {
  it('lists x86_64 and aarch64 guests with their QEMU, accelerators (self-tested) and firmware', async () => {
    const home = join(dir, 'home');
    const r = await runVireo(home, ['host', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const h = JSON.parse(r.stdout) as HostInfo;
    expect(h.arches.map((a) => a.arch)).toEqual(['x86_64', 'aarch64']);
    const x86 = h.arches[0]!;
    const arm = h.arches[1]!;
    expect(x86.native).toBe(process.arch === 'x64');
    expect(arm.native).toBe(process.arch === 'arm64');
    expect(x86.qemu).toMatchObject({ found: true, binary: expect.stringMatching(/qemu-system-x86_64$/) });
    expect(arm.qemu).toMatchObject({ found: true, binary: expect.stringMatching(/qemu-system-aarch64$/), accels: expect.arrayContaining(['tcg']) });
    // The aarch64 probe ran under TCG and its work was timed.
    const armTcg = arm.accel!.candidates.find((c) => c.accel === 'tcg')!;
    expect(armTcg).toMatchObject({ present: true, ok: true });
    expect(armTcg.workMs).toBeGreaterThan(0);
    expect(arm.accel!.chosen).toBe('tcg');
    if (process.arch === 'x64') {
      // On an x86 host only TCG can run aarch64 guests, and the reason says so.
      const hw = arm.accel!.candidates.filter((c) => c.accel !== 'tcg');
      expect(hw.length).toBeGreaterThan(0);
      for (const c of hw) expect(c).toMatchObject({ present: false, presentReason: expect.stringMatching(/CPU is x86_64: .*aarch64 guests are emulated with TCG/) });
      expect(arm.accel!.reason).toMatch(/aarch64 guests are emulated with TCG.*using TCG$/);
    }
    expect(arm.firmware.map((f) => f.code)).toContain('/usr/share/AAVMF/AAVMF_CODE.fd');
    expect(arm.firmware.some((f) => f.code.includes('OVMF'))).toBe(false);
    expect(x86.firmware.some((f) => f.code.includes('OVMF'))).toBe(true);
    // The human form names the aarch64 side too.
    const human = await runVireo(home, ['host']);
    expect(human.stdout).toMatch(/aarch64 guests: QEMU \d+\.\d+\.\d+ \(.*qemu-system-aarch64\)\n {2}accelerator: TCG — /);
  }, 120_000);
});

describe('aarch64 NVRAM', () => {
  it('a variable store template smaller than 64 MiB becomes a 64 MiB qcow2 for aarch64 and stays as it is for x86_64', async () => {
    const tpl = join(dir, 'vars.fd');
    writeFileSync(tpl, Buffer.alloc(768 * 1024));
    const virtual = async (f: string) => (JSON.parse((await run('qemu-img', ['info', '--output=json', f])).stdout) as { 'virtual-size': number })['virtual-size'];
    mkdirSync(join(dir, 'arm-vm'));
    mkdirSync(join(dir, 'x86-vm'));
    const arm = await createNvram({ varsTemplate: tpl, varsFormat: 'raw' }, join(dir, 'arm-vm'), 'qemu-img', { arch: 'aarch64' });
    const x86 = await createNvram({ varsTemplate: tpl, varsFormat: 'raw' }, join(dir, 'x86-vm'), 'qemu-img', { arch: 'x86_64' });
    expect(arm.format).toBe('qcow2');
    expect(await virtual(arm.path)).toBe(64 * 1024 * 1024);
    expect(await virtual(x86.path)).toBe(768 * 1024);
  });
});

describe('the architecture of install media', () => {
  it('comes from the El Torito EFI image, the disc\'s EFI/BOOT, or the label, in that order', async () => {
    const x86 = await detectOs(await makeIso('x86', { label: 'SOMETHING_ARM64', efiName: 'BOOTX64.EFI' }));
    expect(x86).toMatchObject({ arch: 'x86_64', archEvidence: 'BOOTX64.EFI in the El Torito EFI image' });
    const tree = await detectOs(await makeIso('tree', { label: 'PLAIN', treeFiles: ['EFI/BOOT/BOOTAA64.EFI'] }));
    expect(tree).toMatchObject({ arch: 'aarch64', archEvidence: 'EFI/BOOT/BOOTAA64.EFI on the disc' });
    const label = await detectOs(await makeIso('label', { label: 'debian-12.5.0-arm64-netinst' }));
    expect(label).toMatchObject({ arch: 'aarch64', archEvidence: 'the volume label "debian-12.5.0-arm64-netinst"' });
    // A Debian arm64 installer's label, as osinfo knows it: the OS and its arch from the table.
    const debian = await detectOs(await makeIso('debian', { label: 'Debian 11.7.0 arm64 n', efiName: 'BOOTAA64.EFI' }));
    expect(debian).toMatchObject({ status: 'detected', id: 'debian11', arch: 'aarch64' });
    const none = await detectOs(await makeIso('none', { label: 'PLAIN' }));
    expect(none).not.toHaveProperty('arch');
  });

  it('vms.create follows an arm64 ISO (virt, UEFI), refuses a contradicting arch or BIOS, and leaves nothing behind', async () => {
    const iso = join(dir, 'label.iso');
    const vm = await engine.client.call('vms.create', { name: 'from-arm-iso', iso, memory: '256M', disk: '16M', cpus: 1 });
    expect(vm.config).toMatchObject({ arch: 'aarch64', system: { machine: 'virt', firmware: 'uefi' }, display: { device: 'ramfb' }, cdrom: { bus: 'scsi' } });
    const before = engine.vms.list().length;
    await expect(engine.client.call('vms.create', { name: 'wrong-arch', iso, arch: 'x86_64' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/the ISO is for aarch64 but the VM was asked to be x86_64/) });
    await expect(engine.client.call('vms.create', { name: 'arm-bios', arch: 'aarch64', firmware: 'bios' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/aarch64 guests boot only through UEFI/) });
    expect(engine.vms.list().length).toBe(before);
    const deb = await engine.client.call('vms.create', { name: 'debian-arm', iso: join(dir, 'debian.iso'), memory: '256M', disk: '10G', cpus: 1 });
    expect(deb.config).toMatchObject({ arch: 'aarch64', os: { id: 'debian11' }, system: { machine: 'virt', firmware: 'uefi' }, disks: [{ bus: 'virtio' }] });
    // Explicit arch without an ISO.
    const blank = await engine.client.call('vms.create', { name: 'arm-blank', arch: 'aarch64', memory: '256M', disk: '16M', cpus: 1 });
    expect(blank.config).toMatchObject({ arch: 'aarch64', system: { machine: 'virt' } });
  });
});
