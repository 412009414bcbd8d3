import { describe, expect, it } from 'vitest';
import {
  parseAccels,
  parseChardevs,
  parseCpuModels,
  parseDevices,
  parseMachines,
  parseVersion,
} from '../../../electron/engine/qemu/capabilities.ts';

// Samples are trimmed copies of QEMU 7.2's real output.

describe('capability parsers', () => {
  it('reads the version, including distro suffixes and two-part versions', () => {
    expect(parseVersion('QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)\nCopyright (c) 2003-2022 Fabrice Bellard\n')).toEqual({
      version: '7.2.22',
      versionParts: [7, 2, 22],
    });
    expect(parseVersion('QEMU emulator version 9.0 (v9.0.0-dirty)\n').versionParts).toEqual([9, 0, 0]);
    expect(() => parseVersion('something else')).toThrow(/could not read a version/);
  });

  it('lists machines and their aliases from -machine help', () => {
    const text = [
      'Supported machines are:',
      'microvm              microvm (i386)',
      'pc                   Standard PC (i440FX + PIIX, 1996) (alias of pc-i440fx-7.2)',
      'pc-i440fx-7.2        Standard PC (i440FX + PIIX, 1996) (default)',
      'q35                  Standard PC (Q35 + ICH9, 2009) (alias of pc-q35-7.2)',
      'pc-q35-7.2           Standard PC (Q35 + ICH9, 2009)',
      'isapc                ISA-only PC',
      'none                 empty machine',
      '',
    ].join('\n');
    expect(parseMachines(text)).toEqual(['microvm', 'pc', 'pc-i440fx-7.2', 'q35', 'pc-q35-7.2', 'isapc', 'none']);
  });

  it('lists device names from -device help, across categories', () => {
    const text = [
      'Controller/Bridge/Hub devices:',
      'name "pci-bridge", bus PCI, desc "Standard PCI Bridge"',
      'name "usb-hub", bus usb-bus',
      '',
      'Network devices:',
      'name "e1000", bus PCI, alias "e1000-82540em", desc "Intel Gigabit Ethernet"',
      'name "virtio-net-pci", bus PCI, alias "virtio-net", desc "virtio network device"',
      '',
    ].join('\n');
    expect(parseDevices(text)).toEqual(['pci-bridge', 'usb-hub', 'e1000', 'virtio-net-pci']);
  });

  it('lists compiled-in accelerators from -accel help', () => {
    expect(parseAccels('Accelerators supported in QEMU binary:\ntcg\nkvm\n')).toEqual(['tcg', 'kvm']);
    expect(parseAccels('Accelerators supported in QEMU binary:\ntcg\nhvf\n')).toEqual(['tcg', 'hvf']);
  });

  it('lists CPU models and stops before the CPUID flag section', () => {
    const text = [
      'Available CPUs:',
      'x86 486                   (alias configured by machine type)',
      'x86 Skylake-Client-v4     Intel Core Processor (Skylake, IBRS, no TSX)',
      'x86 max                   Enables all features supported by the accelerator in the current host',
      '',
      'Recognized CPUID flags:',
      '  3dnow 3dnowext 3dnowprefetch abm ace2 acpi adx aes',
    ].join('\n');
    expect(parseCpuModels(text)).toEqual(['486', 'Skylake-Client-v4', 'max']);
  });

  it('lists chardev backends', () => {
    expect(parseChardevs('Available chardev backend types: \n  stdio\n  socket\n  qemu-vdagent\n')).toEqual(['stdio', 'socket', 'qemu-vdagent']);
  });
});
