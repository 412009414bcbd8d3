import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ARCH_INFO, nativeGuestArch } from '../../../electron/engine/arch.ts';
import { decideAccel, detectPresence, foreignArchReason, probeArgv, PROBE_EXIT_CODES, type ProbeRun } from '../../../electron/engine/qemu/accel.ts';
import { parseCpuModels, type QemuCaps } from '../../../electron/engine/qemu/capabilities.ts';
import { chooseFirmware, discoverFirmware, parseDescriptor } from '../../../electron/engine/firmware/ovmf.ts';
import { aavmfFallback, paddedFlashCode, VIRT_FLASH_BYTES } from '../../../electron/engine/firmware/aavmf.ts';
import { archFromLabel } from '../../../electron/engine/osdetect/arch.ts';
import { VireoError } from '../../../electron/api/errors.ts';

// The host side of aarch64 guests, without booting one: which accelerators may run them, the
// probe guest, the CPU list, and AAVMF found by descriptor or by name and padded to 64 MiB.

const tmp = () => mkdtempSync(join(tmpdir(), 'vireo-a64-'));

describe('accelerators for a guest architecture', () => {
  it('only the host\'s own architecture gets hardware acceleration; the reason says why, and that x86 on arm64 is slow', () => {
    expect(nativeGuestArch('x64')).toBe('x86_64');
    expect(nativeGuestArch('arm64')).toBe('aarch64');
    expect(nativeGuestArch('riscv64')).toBeUndefined();
    expect(foreignArchReason('x86_64', 'x64')).toBeNull();
    expect(foreignArchReason('aarch64', 'arm64')).toBeNull();
    expect(foreignArchReason('aarch64', 'x64')).toBe("this host's CPU is x86_64: hardware accelerators run only x86_64 guests, so aarch64 guests are emulated with TCG");
    const x86OnArm = foreignArchReason('x86_64', 'arm64')!;
    expect(x86OnArm).toMatch(/^this host's CPU is aarch64: hardware accelerators run only aarch64 guests, so x86_64 guests are emulated with TCG; .*many times slower than native/);
  });

  it('a hardware accelerator for a foreign guest is absent, with that reason, even where it exists', async () => {
    const caps = { binary: '/usr/bin/qemu-system-aarch64', accels: ['tcg', 'kvm', 'hvf'] } as QemuCaps;
    const reason = foreignArchReason('aarch64', 'x64');
    const kvm = await detectPresence('kvm', caps, 'linux', '/dev/null', reason);
    expect(kvm).toEqual({ accel: 'kvm', present: false, presentReason: reason });
    const hvf = await detectPresence('hvf', caps, 'darwin', undefined, foreignArchReason('x86_64', 'arm64'));
    expect(hvf.present).toBe(false);
    expect(hvf.presentReason).toMatch(/x86_64 guests are emulated with TCG/);
    // Native: HVF on Apple Silicon for aarch64 guests is a candidate.
    expect((await detectPresence('hvf', caps, 'darwin', undefined, foreignArchReason('aarch64', 'arm64'))).present).toBe(true);
  });

  it('the aarch64 probe runs on virt through -kernel, cpu max under TCG and host under KVM/HVF, and ends with status 0', () => {
    expect(probeArgv('tcg', '/r/probe.elf', 'aarch64')).toEqual([
      '-nodefaults', '-no-user-config', '-display', 'none', '-machine', 'virt', '-accel', 'tcg', '-cpu', 'max', '-m', '64M',
      '-kernel', '/r/probe.elf', '-serial', 'stdio', '-no-reboot',
    ]);
    expect(probeArgv('hvf', '/r/probe.elf', 'aarch64')).toContain('host');
    expect(probeArgv('tcg', '/r/probe.img')).toContain('isa-debug-exit,iobase=0xf4,iosize=0x04');
    expect(PROBE_EXIT_CODES).toEqual({ x86_64: 85, aarch64: 0 });
  });

  it('an aarch64 verdict speaks of the MMU, not of x86 long mode', () => {
    const tcg: ProbeRun = { accel: 'tcg', arch: 'aarch64', ok: true, marks: { boot: 3, lm: 8, start: 9, end: 359 }, elapsedMs: 400, timedOut: false, deadlineMs: 9000, exitCode: 0, stderr: '' };
    const kvm: ProbeRun = { accel: 'kvm', arch: 'aarch64', ok: false, marks: { boot: 3 }, elapsedMs: 3000, timedOut: true, deadlineMs: 3000, exitCode: null, stderr: '' };
    const r = decideAccel(tcg, [{ accel: 'kvm', present: true, presentReason: '/dev/kvm' }], [kvm]);
    expect(r.candidates[0]!.verdict).toBe('works: paging (MMU on) after 8 ms, work took 350 ms');
    expect(r.reason).toMatch(/the probe did not reach paging \(MMU on\) within 3\.0 s under KVM, while under TCG it reached paging \(MMU on\) after 8 ms/);
    expect(r.reason).not.toMatch(/long mode/);
  });

  it('reads aarch64 CPU models (bare indented names) from `-cpu help`', () => {
    const text = 'Available CPUs:\n  a64fx\n  cortex-a57\n  cortex-a72\n  host\n  max\n';
    expect(parseCpuModels(text, ARCH_INFO.aarch64.cpuHelpPrefix)).toEqual(['a64fx', 'cortex-a57', 'cortex-a72', 'host', 'max']);
  });
});

describe('resources/probe-aarch64/probe.elf', () => {
  const dir = resolve(import.meta.dirname, '../../../resources/probe-aarch64');
  const committed = readFileSync(join(dir, 'probe.elf'));
  const haveAs = spawnSync('aarch64-linux-gnu-as', ['--version'], { stdio: 'ignore' }).status === 0;

  it('is an aarch64 ELF executable that prints the probe markers', () => {
    expect(committed.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    expect(committed.readUInt16LE(18)).toBe(183); // e_machine EM_AARCH64
    const text = committed.toString('latin1');
    for (const m of ['VIREO-PROBE-BOOT', 'VIREO-PROBE-LM', 'VIREO-PROBE-WORK-START', 'VIREO-PROBE-WORK-END']) expect(text).toContain(`${m}\r\n`);
  });

  it.skipIf(!haveAs)('is reproduced byte for byte by build.sh (needs binutils-aarch64-linux-gnu)', () => {
    const d = tmp();
    try {
      execFileSync('bash', [join(dir, 'build.sh'), join(d, 'probe.elf')], { stdio: 'pipe' });
      expect(readFileSync(join(d, 'probe.elf')).equals(committed)).toBe(true);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});

describe('aarch64 UEFI firmware', () => {
  const haveAavmf = spawnSync('test', ['-f', '/usr/share/qemu/firmware/60-edk2-aarch64.json']).status === 0;

  it.skipIf(!haveAavmf)('Debian qemu-efi-aarch64 is found through its descriptors; virt gets the plain build, Secure Boot an enrolled one', async () => {
    const list = await discoverFirmware({ platform: 'linux', arch: 'aarch64', home: tmp(), xdgConfigHome: tmp() });
    expect(list.length).toBeGreaterThan(0);
    expect(list.every((f) => f.machines.some((m) => m.startsWith('virt')))).toBe(true);
    const plain = chooseFirmware(list, { machine: 'virt', secureBoot: false });
    expect(plain.code).toBe('/usr/share/AAVMF/AAVMF_CODE.fd');
    expect(plain.secureBoot).toBe(false);
    const sb = chooseFirmware(list, { machine: 'virt', secureBoot: true });
    expect(sb.secureBoot).toBe(true);
    expect(sb.requiresSmm).toBe(false);
    // x86 lookups do not see it, and aarch64 ones do not see OVMF.
    const x86 = await discoverFirmware({ platform: 'linux', arch: 'x86_64', home: tmp(), xdgConfigHome: tmp() });
    expect(x86.some((f) => f.code.includes('AAVMF'))).toBe(false);
    expect(list.some((f) => f.code.includes('OVMF'))).toBe(false);
  });

  it('a Homebrew edk2-aarch64 descriptor whose paths point at the Cellar is found beside its folder', async () => {
    const prefix = tmp();
    mkdirSync(join(prefix, 'share', 'qemu', 'firmware'), { recursive: true });
    writeFileSync(join(prefix, 'share', 'qemu', 'edk2-aarch64-code.fd'), Buffer.alloc(1024));
    writeFileSync(join(prefix, 'share', 'qemu', 'edk2-arm-vars.fd'), Buffer.alloc(1024));
    const desc = {
      description: 'UEFI firmware for aarch64',
      'interface-types': ['uefi'],
      mapping: { device: 'flash', executable: { filename: '/opt/homebrew/Cellar/qemu/9.1.0/share/qemu/edk2-aarch64-code.fd', format: 'raw' }, 'nvram-template': { filename: '/opt/homebrew/Cellar/qemu/9.1.0/share/qemu/edk2-arm-vars.fd', format: 'raw' } },
      targets: [{ architecture: 'aarch64', machines: ['virt-*'] }],
      features: [],
      tags: [],
    };
    // Named apart from Debian's 60-edk2-aarch64.json, which a same-named system descriptor would override here.
    const file = join(prefix, 'share', 'qemu', 'firmware', '60-edk2-aarch64-brew.json');
    writeFileSync(file, JSON.stringify(desc));
    const fw = await parseDescriptor(file, JSON.stringify(desc), 'aarch64');
    expect(fw?.code).toBe(join(prefix, 'share', 'qemu', 'edk2-aarch64-code.fd'));
    expect(await parseDescriptor(file, JSON.stringify(desc), 'x86_64')).toBeNull();
    // Through discovery with the QEMU binary's prefix, as on a Mac.
    mkdirSync(join(prefix, 'bin'));
    const found = await discoverFirmware({ platform: 'darwin', arch: 'aarch64', qemuBinary: join(prefix, 'bin', 'qemu-system-aarch64'), home: tmp(), xdgConfigHome: tmp() });
    expect(found.map((f) => f.varsTemplate)).toContain(join(prefix, 'share', 'qemu', 'edk2-arm-vars.fd'));
  });

  it('without descriptors, well-known file names are found; with none, the error says which package to install', async () => {
    const d = tmp();
    writeFileSync(join(d, 'QEMU_EFI-pflash.raw'), Buffer.alloc(16));
    writeFileSync(join(d, 'vars-template-pflash.raw'), Buffer.alloc(16));
    const byName = (await aavmfFallback([d])).filter((f) => f.code.startsWith(d));
    expect(byName).toHaveLength(1);
    expect(byName[0]).toMatchObject({ code: join(d, 'QEMU_EFI-pflash.raw'), machines: ['virt-*'], requiresSmm: false });
    let err: unknown;
    try {
      chooseFirmware([], { machine: 'virt', secureBoot: false });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(VireoError);
    expect((err as VireoError).message).toMatch(/no UEFI firmware for the virt machine .*qemu-efi-aarch64.*edk2-aarch64/);
  });

  it('code smaller than the 64 MiB flash bank is padded once into the cache; a 64 MiB build is used in place', async () => {
    const d = tmp();
    const small = join(d, 'QEMU_EFI.fd');
    writeFileSync(small, Buffer.from('edk2'));
    const padded = await paddedFlashCode(small, join(d, 'cache'));
    expect(padded).not.toBe(small);
    expect(statSync(padded).size).toBe(VIRT_FLASH_BYTES);
    expect(readFileSync(padded).subarray(0, 4).toString()).toBe('edk2');
    expect(await paddedFlashCode(small, join(d, 'cache'))).toBe(padded);
    const full = join(d, 'full.fd');
    writeFileSync(full, Buffer.alloc(0));
    execFileSync('truncate', ['-s', String(VIRT_FLASH_BYTES), full]);
    expect(await paddedFlashCode(full, join(d, 'cache'))).toBe(full);
    execFileSync('truncate', ['-s', String(VIRT_FLASH_BYTES + 1), full]);
    await expect(paddedFlashCode(full, join(d, 'cache'))).rejects.toThrow(/more than the virt machine's 64 MiB flash bank/);
  });
});

describe('architecture in a volume label or file name', () => {
  it.each([
    ['debian-12.5.0-arm64-netinst', 'aarch64'],
    ['Fedora-S-dvd-aarch64-39', 'aarch64'],
    ['ubuntu-24.04-live-server-arm64.iso', 'aarch64'],
    ['debian-12.5.0-amd64-netinst', 'x86_64'],
    ['Fedora-WS-Live-x86_64-39', 'x86_64'],
    ['VIREO_TESTGUEST', undefined],
    ['CHARM64X', undefined],
  ])('%s → %s', (label, arch) => expect(archFromLabel(label)).toBe(arch));
});
