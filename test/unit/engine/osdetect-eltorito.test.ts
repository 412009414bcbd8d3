import { describe, expect, it } from 'vitest';
import { bootPlatforms, parseBootCatalog, PLATFORM_EFI, PLATFORM_X86 } from '../../../electron/engine/osdetect/eltorito.ts';
import { chooseFirmwareFor } from '../../../electron/engine/osdetect/firmware-choice.ts';
import { checkMinimums } from '../../../electron/engine/osdetect/minimums.ts';
import { nameFromMedia } from '../../../electron/engine/osdetect/naming.ts';

// Boot catalogs built byte by byte from the El Torito 1.0 layout (validation entry, default
// entry, section headers 0x90/0x91 and their entries), so the reader follows the spec rather
// than one mastering tool.

function validation(platform: number): Buffer {
  const e = Buffer.alloc(32);
  e[0] = 0x01;
  e[1] = platform;
  e.write('VIREO TEST', 4, 'latin1');
  e[30] = 0x55;
  e[31] = 0xaa;
  let sum = 0;
  for (let i = 0; i < 32; i += 2) sum = (sum + e.readUInt16LE(i)) & 0xffff;
  e.writeUInt16LE((0x10000 - sum) & 0xffff, 28);
  return e;
}
function entry(bootable: boolean, lba: number, sectors = 4): Buffer {
  const e = Buffer.alloc(32);
  e[0] = bootable ? 0x88 : 0x00;
  e.writeUInt16LE(sectors, 6);
  e.writeUInt32LE(lba, 8);
  return e;
}
function section(last: boolean, platform: number, count: number): Buffer {
  const e = Buffer.alloc(32);
  e[0] = last ? 0x91 : 0x90;
  e[1] = platform;
  e.writeUInt16LE(count, 2);
  return e;
}
const catalog = (...parts: Buffer[]) => Buffer.concat([...parts, Buffer.alloc(2048 - 32 * parts.length)]);

describe('El Torito boot catalog', () => {
  it('BIOS default entry only', () => {
    const c = parseBootCatalog(catalog(validation(PLATFORM_X86), entry(true, 40)));
    expect(c?.entries).toEqual([{ platform: 0, bootable: true, media: 0, sectorCount: 4, lba: 40 }]);
    expect(bootPlatforms(c)).toEqual({ bios: true, efi: false });
  });
  it('sections: a 0x90 header with two BIOS entries, then a last 0x91 EFI section', () => {
    const c = parseBootCatalog(catalog(validation(PLATFORM_X86), entry(true, 40), section(false, PLATFORM_X86, 2), entry(true, 41), entry(false, 42), section(true, PLATFORM_EFI, 1), entry(true, 50, 0)));
    expect(c?.entries.map((e) => [e.platform, e.bootable, e.lba])).toEqual([[0, true, 40], [0, true, 41], [0, false, 42], [0xef, true, 50]]);
    expect(bootPlatforms(c)).toEqual({ bios: true, efi: true });
  });
  it('EFI as the validation entry\'s platform (an EFI-only disc); a non-bootable default counts for nothing', () => {
    expect(bootPlatforms(parseBootCatalog(catalog(validation(PLATFORM_EFI), entry(true, 40))))).toEqual({ bios: false, efi: true });
    expect(bootPlatforms(parseBootCatalog(catalog(validation(PLATFORM_X86), entry(false, 40))))).toEqual({ bios: false, efi: false });
  });
  it('a catalog whose validation entry fails its checksum or key bytes is no catalog', () => {
    const bad = validation(PLATFORM_X86);
    bad[4] = bad[4]! ^ 0xff;
    expect(parseBootCatalog(catalog(bad, entry(true, 40)))).toBeUndefined();
    const nokey = validation(PLATFORM_X86);
    nokey[31] = 0;
    expect(parseBootCatalog(catalog(nokey, entry(true, 40)))).toBeUndefined();
  });
});

describe('firmware choice', () => {
  const debian = { name: 'Debian 12', firmware: 'uefi' as const, needsUefi: false, needsBios: false };
  it('UEFI when both, BIOS when only BIOS, UEFI when only EFI; the table only when the disc says nothing', () => {
    expect(chooseFirmwareFor({ bios: true, efi: true }, debian).firmware).toBe('uefi');
    expect(chooseFirmwareFor({ bios: true, efi: false }, debian)).toEqual({ firmware: 'bios', reason: 'This disc can only start with BIOS, so the VM uses BIOS' });
    expect(chooseFirmwareFor({ bios: false, efi: true }, { ...debian, firmware: 'bios' }).firmware).toBe('uefi');
    expect(chooseFirmwareFor(undefined, debian).firmware).toBe('uefi');
  });
  it('the OS\'s needs outrank the disc', () => {
    expect(chooseFirmwareFor({ bios: true, efi: true }, { ...debian, name: 'MS-DOS', needsBios: true }).firmware).toBe('bios');
    expect(chooseFirmwareFor({ bios: true, efi: false }, { ...debian, name: 'Windows 11', needsUefi: true }).firmware).toBe('uefi');
  });
});

describe('minimums', () => {
  const dos = { id: 'msdos6.22', name: 'MS-DOS 6.22', minimum: { memoryMiB: 32, diskGiB: 1 } };
  const win11 = { id: 'win11', name: 'Windows 11', minimum: { memoryMiB: 4096, diskGiB: 64 } };
  const ok = { memoryMiB: 4096, diskBytes: 64 * 1024 ** 3, firmware: 'uefi' as const, tpm: true };
  it('DOS below its advisory disk: a warning, no refusal', () => {
    const r = checkMinimums(dos, { memoryMiB: 32, diskBytes: 512 * 1024 ** 2, firmware: 'bios', tpm: false });
    expect(r.refusals).toEqual([]);
    expect(r.warnings.map((w) => w.field)).toEqual(['disk']);
  });
  it('Windows 11: each thing its setup checks is refused; a complete VM passes', () => {
    expect(checkMinimums(win11, ok)).toEqual({ refusals: [], warnings: [] });
    expect(checkMinimums(win11, { ...ok, diskBytes: 63 * 1024 ** 3 }).refusals.map((r) => r.field)).toEqual(['disk']);
    expect(checkMinimums(win11, { ...ok, memoryMiB: 2048, tpm: false, firmware: 'bios' }).refusals.map((r) => r.field)).toEqual(['memory', 'tpm', 'firmware']);
    // an imported disk is not sized here
    expect(checkMinimums(win11, { ...ok, diskBytes: null }).refusals).toEqual([]);
  });
});

describe('naming schemes', () => {
  it('prefers a versioned text over a versionless one', () => {
    expect(nameFromMedia({ volumeId: 'ARCH', treeinfo: '[release]\nname = Fedora\nversion = 43\n' })).toMatchObject({ family: 'Fedora', version: '43' });
    const tw = nameFromMedia({ volumeId: 'openSUSE-Tumbleweed-DVD-x86_64' });
    expect(tw?.family).toBe('openSUSE Tumbleweed');
    expect(tw?.version).toBeUndefined();
    expect(nameFromMedia({ volumeId: 'SOMETHING ELSE' })).toBeUndefined();
  });
});
