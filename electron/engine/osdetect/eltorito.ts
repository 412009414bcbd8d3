import { SECTOR, type IsoReader } from './iso9660.ts';

// El Torito ("Bootable CD-ROM Format Specification" 1.0, Phoenix/IBM 1995): what firmware an
// install disc can start from. The Boot Record Volume Descriptor (type 0, "EL TORITO
// SPECIFICATION", among the descriptors from sector 16) points at the boot catalog: a
// validation entry (header 0x01, platform id, key bytes 0x55 0xAA at 30–31), the initial /
// default entry (for the validation entry's platform), then section headers (0x90 more follow,
// 0x91 last) each naming a platform and counting the section entries after it.

const FIRST_DESCRIPTOR_LBA = 16;
const MAX_DESCRIPTORS = 64;
const ENTRY = 32;
/** a catalog may span sectors; real ones hold 2–8 entries, so 4 sectors (256 entries) is plenty */
const MAX_CATALOG_SECTORS = 4;

/** platform ids: 0 x86 (BIOS), 1 PowerPC, 2 Mac, 0xEF EFI (added by UEFI 2.x) */
export const PLATFORM_X86 = 0x00;
export const PLATFORM_EFI = 0xef;

export interface BootEntry {
  /** the platform of the entry's section (the validation entry's for the default entry) */
  platform: number;
  /** boot indicator 0x88; 0x00 entries are listed but not bootable */
  bootable: boolean;
  /** 0 no emulation, 1–3 floppy emulation, 4 hard disk emulation */
  media: number;
  /** sectors (512-byte) the firmware loads; 0 means "the whole image" for EFI */
  sectorCount: number;
  /** LBA (2048-byte sectors) of the boot image */
  lba: number;
}

export interface BootCatalog {
  catalogLba: number;
  entries: BootEntry[];
}

export interface BootPlatforms {
  /** a bootable entry for x86 BIOS */
  bios: boolean;
  /** a bootable entry for EFI */
  efi: boolean;
}

/** Parses the catalog bytes (one or more sectors); undefined when the validation entry is bad. */
export function parseBootCatalog(cat: Buffer, catalogLba = 0): BootCatalog | undefined {
  if (cat.length < 2 * ENTRY || cat[0] !== 0x01 || cat[30] !== 0x55 || cat[31] !== 0xaa) return undefined;
  // the validation entry's 16-bit words (checksum included) sum to zero
  let sum = 0;
  for (let i = 0; i < ENTRY; i += 2) sum = (sum + cat.readUInt16LE(i)) & 0xffff;
  if (sum !== 0) return undefined;
  const entries: BootEntry[] = [];
  const entryAt = (off: number, platform: number): BootEntry => ({
    platform,
    bootable: cat[off] === 0x88,
    media: cat[off + 1]! & 0x0f,
    sectorCount: cat.readUInt16LE(off + 6),
    lba: cat.readUInt32LE(off + 8),
  });
  // the initial/default entry follows the validation entry
  const def = cat[ENTRY];
  if (def !== 0x88 && def !== 0x00) return { catalogLba, entries };
  entries.push(entryAt(ENTRY, cat[1]!));
  let off = 2 * ENTRY;
  while (off + ENTRY <= cat.length) {
    const header = cat[off];
    if (header !== 0x90 && header !== 0x91) break;
    const platform = cat[off + 1]!;
    const count = cat.readUInt16LE(off + 2);
    off += ENTRY;
    for (let i = 0; i < count && off + ENTRY <= cat.length; i++) {
      const ind = cat[off];
      // 0x44: a section entry extension continues the previous entry, it is not an image
      if (ind === 0x44) {
        i--;
      } else if (ind === 0x88 || ind === 0x00) {
        entries.push(entryAt(off, platform));
      } else {
        return { catalogLba, entries };
      }
      off += ENTRY;
    }
    if (header === 0x91) break;
  }
  return { catalogLba, entries };
}

/** The image's boot catalog, or undefined when it has no (valid) El Torito boot record. */
export async function readBootCatalog(reader: IsoReader): Promise<BootCatalog | undefined> {
  let catalogLba: number | undefined;
  for (let lba = FIRST_DESCRIPTOR_LBA; lba < FIRST_DESCRIPTOR_LBA + MAX_DESCRIPTORS; lba++) {
    if ((lba + 1) * SECTOR > reader.fileBytes) return undefined;
    const d = await reader.read(lba * SECTOR, SECTOR, 'volume descriptors');
    if (d.toString('latin1', 1, 6) !== 'CD001' || d[0] === 255) break;
    if (d[0] === 0 && d.toString('latin1', 7, 30).startsWith('EL TORITO SPECIFICATION')) {
      catalogLba = d.readUInt32LE(71);
      break;
    }
  }
  if (catalogLba === undefined || (catalogLba + 1) * SECTOR > reader.fileBytes) return undefined;
  const sectors = Math.min(MAX_CATALOG_SECTORS, Math.floor(reader.fileBytes / SECTOR) - catalogLba);
  const cat = await reader.read(catalogLba * SECTOR, sectors * SECTOR, 'El Torito boot catalog');
  return parseBootCatalog(cat, catalogLba);
}

export function bootPlatforms(cat: BootCatalog | undefined): BootPlatforms {
  const bootable = cat?.entries.filter((e) => e.bootable) ?? [];
  return { bios: bootable.some((e) => e.platform === PLATFORM_X86), efi: bootable.some((e) => e.platform === PLATFORM_EFI) };
}
