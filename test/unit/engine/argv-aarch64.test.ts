import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildArgv, type ArgvContext } from '../../../electron/engine/qemu/argv/index.ts';
import { gicVersion } from '../../../electron/engine/qemu/argv/machine-aarch64.ts';
import { VmConfigSchema, type VmConfig } from '../../../electron/api/schemas/vm-config.ts';
import { ARCH_RULES, archIssues } from '../../../electron/shared/arch-rules.ts';
import { ARCHES, CDROM_BUSES, DISK_BUSES, DISPLAY_DEVICES, MACHINE_TYPES, SOUND_DEVICES } from '../../../electron/shared/config-enums.ts';
import { after } from './argv-test-helpers.ts';

// aarch64 guests' argv, pinned by golden files for the three host/accelerator combinations an
// aarch64 VM meets: Linux without KVM for arm (TCG, as on an x86 host), an arm64 Linux host (KVM),
// and Apple Silicon (HVF). Rewrite after an intended change with
// `VIREO_UPDATE_GOLDEN=1 npx vitest run --project unit test/unit/engine/argv-aarch64.test.ts`.

const GOLDEN = join(import.meta.dirname, 'golden', 'aarch64');
const update = process.env.VIREO_UPDATE_GOLDEN === '1';

/** What `qemu-system-aarch64` 7.2 lists that these configs use (and some they must not get). */
const CAPS_AARCH64: ArgvContext['caps'] = {
  versionParts: [7, 2, 0],
  machines: ['virt', 'virt-7.2', 'virt-7.1', 'none'],
  devices: [
    'virtio-blk-pci', 'virtio-scsi-pci', 'ich9-ahci', 'ide-hd', 'ide-cd', 'scsi-hd', 'scsi-cd',
    'virtio-net-pci', 'e1000', 'virtio-gpu-pci', 'ramfb', 'VGA',
    'qemu-xhci', 'usb-ehci', 'usb-tablet', 'usb-kbd', 'intel-hda', 'hda-duplex', 'AC97',
    'virtio-rng-pci', 'virtio-balloon-pci', 'virtio-serial-pci', 'virtserialport', 'tpm-tis-device', 'virtio-9p-pci', 'vhost-user-fs-pci',
  ],
  chardevs: ['socket', 'qemu-vdagent', 'null', 'file'],
};

function armConfig(over: Record<string, unknown> = {}): VmConfig {
  return VmConfigSchema.parse({
    schemaVersion: 2,
    id: '3f2c1b7e-8a4d-4c2e-9b1a-0d5e6f7a8b9c',
    name: 'Debian 12 arm64',
    createdAt: '2025-01-01T00:00:00.000Z',
    arch: 'aarch64',
    os: { id: 'debian12', name: 'Debian 12', family: 'linux' },
    system: { machine: 'virt', cpus: 4, memoryMiB: 4096, firmware: 'uefi' },
    disks: [{ id: 'disk0', file: 'disk0.qcow2', bus: 'virtio' }],
    cdrom: { iso: '/isos/debian-12-arm64-netinst.iso', bus: 'scsi' },
    boot: { order: ['cdrom', 'disk'] },
    networks: [{ id: 'net0', model: 'virtio-net-pci', mac: '52:54:00:12:34:56' }],
    display: { device: 'ramfb' },
    devices: { usb: 'xhci', rng: true, balloon: true },
    ...over,
  });
}

function ctx(platform: NodeJS.Platform, accel: ArgvContext['accel'], fwDir: string): ArgvContext {
  return {
    vmDir: '/vms/arm',
    accel,
    caps: CAPS_AARCH64,
    platform,
    pidFile: '/run/vireo/3f2c1b7e/qemu.pid',
    serialLog: '/vms/arm/logs/serial.log',
    sockets: { qmp: '/run/vireo/3f2c1b7e/qmp.sock', vnc: '/run/vireo/3f2c1b7e/vnc.sock', serial: '/run/vireo/3f2c1b7e/serial.sock' },
    firmware: { code: `${fwDir}/code.fd`, codeFormat: 'raw', vars: '/vms/arm/nvram.qcow2', varsFormat: 'qcow2', secureBoot: false, requiresSmm: false },
  };
}

const CASES: Record<string, ArgvContext> = {
  'linux-tcg': ctx('linux', 'tcg', '/usr/share/AAVMF'),
  'linux-kvm': ctx('linux', 'kvm', '/usr/share/AAVMF'),
  'macos-hvf': ctx('darwin', 'hvf', '/opt/homebrew/share/qemu'),
};


describe('aarch64 argv golden files (Linux/TCG, Linux/KVM, macOS/HVF)', () => {
  for (const [name, c] of Object.entries(CASES)) {
    it(name, () => {
      const argv = buildArgv(armConfig(), c);
      const file = join(GOLDEN, `${name}.argv.json`);
      if (update) {
        mkdirSync(GOLDEN, { recursive: true });
        writeFileSync(file, JSON.stringify(argv, null, 2) + '\n');
      }
      if (!existsSync(file)) throw new Error(`golden file ${file} is missing: run with VIREO_UPDATE_GOLDEN=1 to create it`);
      expect(argv).toEqual(JSON.parse(readFileSync(file, 'utf8')));
    });
  }
});

describe('aarch64 argv', () => {
  it('virt with a GIC per accelerator, cpu max under TCG and host under KVM/HVF, UEFI from pflash', () => {
    for (const [name, c] of Object.entries(CASES)) {
      const argv = buildArgv(armConfig(), c);
      const [machine] = after(argv, '-machine');
      expect(machine, name).toBe(`virt,gic-version=${gicVersion(c.accel)},pflash0=pflash0,pflash1=pflash1`);
      expect(after(argv, '-cpu'), name).toEqual([c.accel === 'tcg' ? 'max' : 'host']);
      expect(after(argv, '-accel'), name).toEqual([c.accel]);
    }
    expect([gicVersion('tcg'), gicVersion('kvm'), gicVersion('hvf')]).toEqual(['max', 'host', '3']);
  });

  it('has no PC devices: CD on virtio-scsi, ramfb, a USB keyboard and tablet, no SMM, no Hyper-V flags', () => {
    const argv = buildArgv(armConfig({ system: { machine: 'virt', firmware: 'uefi', hyperv: true } }), CASES['linux-kvm']!);
    const devices = after(argv, '-device');
    expect(devices).toContain('virtio-scsi-pci,id=scsi0');
    expect(devices.some((d) => d.startsWith('scsi-cd,'))).toBe(true);
    expect(devices).toContain('ramfb,id=video0');
    expect(devices).toContain('usb-kbd,bus=usb0.0,id=kbd0');
    expect(devices).toContain('usb-tablet,bus=usb0.0,id=tablet0');
    expect(argv.join(' ')).not.toMatch(/ide-|VGA|smm=|hv_|cfi\.pflash01/);
  });

  it('a TPM is the sysbus tpm-tis-device (virt has no ISA bus)', () => {
    const c = { ...CASES['linux-tcg']!, tpmSocket: '/run/vireo/3f2c1b7e/swtpm.sock' };
    const devices = after(buildArgv(armConfig({ system: { machine: 'virt', firmware: 'uefi', tpm: true } }), c), '-device');
    expect(devices).toContain('tpm-tis-device,tpmdev=tpm0,id=tpm0-dev');
  });

  it('a virtiofs share gives the guest shared memfd RAM, as on x86', () => {
    const config = armConfig({ shares: [{ tag: 'code', path: '/home/me/code', type: 'virtiofs' }] });
    const argv = buildArgv(config, { ...CASES['linux-tcg']!, shareSockets: { code: '/run/vireo/3f2c1b7e/virtiofs-code.sock' } });
    expect(after(argv, '-machine')[0]).toMatch(/^virt,gic-version=max,pflash0=pflash0,pflash1=pflash1,memory-backend=mem$/);
    expect(after(argv, '-object')).toContain('memory-backend-memfd,id=mem,size=4096M,share=on');
  });

  it('cpu "host" in the settings becomes "max" when the VM falls back to TCG', () => {
    const argv = buildArgv(armConfig({ system: { machine: 'virt', firmware: 'uefi', cpuModel: 'host' } }), CASES['linux-tcg']!);
    expect(after(argv, '-cpu')).toEqual(['max']);
  });
});

describe('arch rules in the config schema', () => {
  const issues = (over: Record<string, unknown>) => {
    const r = VmConfigSchema.safeParse({ schemaVersion: 2, id: '3f2c1b7e-8a4d-4c2e-9b1a-0d5e6f7a8b9c', name: 'x', createdAt: '2025-01-01T00:00:00.000Z', networks: [], ...over });
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('virt is for aarch64 only, q35/pc for x86_64 only, each refused with what to pick', () => {
    expect(issues({ arch: 'aarch64', system: { machine: 'q35', firmware: 'uefi' } })).toEqual([
      'system.machine: machine "q35" is for x86_64 guests, not aarch64: choose "virt" (or change the VM\'s architecture)',
      'display.device: display "std" does not exist for aarch64 guests: choose "ramfb", "virtio-gpu-pci", "none"',
    ]);
    expect(issues({ system: { machine: 'virt' } })[0]).toBe('system.machine: machine "virt" is for aarch64 guests, not x86_64: choose "q35", "pc" (or change the VM\'s architecture)');
  });

  it('aarch64 refuses BIOS, IDE, VGA-family displays and ISA sound, and accepts a proper aarch64 config', () => {
    const bad = issues({
      arch: 'aarch64',
      system: { machine: 'virt', firmware: 'bios' },
      disks: [{ id: 'disk0', file: 'd.qcow2', bus: 'ide' }],
      cdrom: { bus: 'ide' },
      display: { device: 'virtio-vga' },
      sound: { device: 'sb16' },
    });
    expect(bad).toEqual([
      'system.firmware: aarch64 guests boot only through UEFI: set the firmware to "uefi"',
      'disks.0.bus: disk disk0: aarch64 guests have no IDE controller: choose bus "virtio", "sata", "scsi"',
      'cdrom.bus: the CD-ROM: aarch64 guests have no IDE controller: choose bus "scsi", "sata"',
      'display.device: display "virtio-vga" does not exist for aarch64 guests: choose "ramfb", "virtio-gpu-pci", "none"',
      'sound.device: sound card "sb16" does not exist for aarch64 guests: choose "none", "hda", "ac97"',
    ]);
    expect(() => armConfig()).not.toThrow();
    // ramfb has no size properties; the display schema refuses a resolution with it (display-caps.ts).
    const withSize = VmConfigSchema.safeParse({ ...armConfig(), display: { device: 'ramfb', resolution: { width: 1920, height: 1080 } } });
    expect(withSize.success ? [] : withSize.error.issues.map((i) => i.path.join('.'))).toEqual(['display.resolution']);
  });

  it('the rules name only values the enums have, and every arch and machine type has rules', () => {
    for (const arch of ARCHES) {
      const r = ARCH_RULES[arch];
      for (const m of r.machines) expect(MACHINE_TYPES).toContain(m);
      for (const d of r.displays) expect(DISPLAY_DEVICES).toContain(d);
      for (const b of r.diskBuses) expect(DISK_BUSES).toContain(b);
      for (const b of r.cdromBuses) expect(CDROM_BUSES).toContain(b);
      for (const s of r.sound) expect(SOUND_DEVICES).toContain(s);
    }
    expect(new Set(ARCHES.flatMap((a) => ARCH_RULES[a].machines))).toEqual(new Set(MACHINE_TYPES));
    // x86 keeps every value it had before aarch64 came (existing vm.json files stay valid).
    expect(archIssues({ arch: 'x86_64', system: { machine: 'pc', firmware: 'bios' }, disks: [{ id: 'd', bus: 'ide' }], cdrom: { bus: 'ide' }, display: { device: 'cirrus' }, sound: { device: 'sb16' } })).toEqual([]);
  });
});
