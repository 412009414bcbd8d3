import { SECTOR, type IsoInfo, type IsoReader } from './iso9660.ts';
import type { MediaArch } from './os-table.ts';
import { PLATFORM_EFI, readBootCatalog } from './eltorito.ts';

// Which CPU an install ISO is for, from what its firmware would boot. UEFI looks for
// \EFI\BOOT\BOOT<arch>.EFI on the El Torito EFI image (a FAT file system inside the ISO) and on
// the ISO's own tree; each architecture has its own name (UEFI spec 3.5.1.1). The volume label
// ("debian-12.5.0-arm64-netinst", "Fedora-S-dvd-aarch64-39") is the weaker fallback.

export interface MediaArchEvidence {
  arch: MediaArch;
  /** what decided it, for the wizard and logs: "EFI/BOOT/BOOTAA64.EFI in the El Torito EFI image" */
  evidence: string;
}

const EFI_BOOT_NAMES: Record<string, MediaArch> = { 'BOOTAA64.EFI': 'aarch64', 'BOOTX64.EFI': 'x86_64', 'BOOTIA32.EFI': 'i686' };

const MAX_CLUSTERS = 64;

/** The one architecture a set of EFI boot file names points at; none when absent or mixed. */
function archOfBootNames(names: string[]): MediaArch | undefined {
  const arches = new Set(names.map((n) => EFI_BOOT_NAMES[n.toUpperCase()]).filter((a): a is MediaArch => !!a));
  // x86_64 media often carry a 32-bit loader too (BOOTIA32 for 32-bit UEFI tablets): 64-bit wins.
  if (arches.has('x86_64') && arches.has('i686') && arches.size === 2) return 'x86_64';
  return arches.size === 1 ? [...arches][0] : undefined;
}

/** Byte offsets of the El Torito images whose platform is EFI (0xEF). */
async function efiImageOffsets(reader: IsoReader): Promise<number[]> {
  const cat = await readBootCatalog(reader);
  return (cat?.entries ?? []).filter((e) => e.bootable && e.platform === PLATFORM_EFI).map((e) => e.lba * SECTOR);
}

interface Fat {
  base: number;
  bytesPerSector: number;
  clusterBytes: number;
  fatOffset: number;
  dataOffset: number;
  kind: 12 | 16 | 32;
  root: { offset: number; bytes: number } | { cluster: number };
}

async function openFat(reader: IsoReader, base: number): Promise<Fat | undefined> {
  if (base + 512 > reader.fileBytes) return undefined;
  const b = await reader.read(base, 512, 'EFI boot image');
  if (b[510] !== 0x55 || b[511] !== 0xaa) return undefined;
  const bps = b.readUInt16LE(11);
  const spc = b[13]!;
  const reserved = b.readUInt16LE(14);
  const fats = b[16]!;
  const rootEntries = b.readUInt16LE(17);
  const total = b.readUInt16LE(19) || b.readUInt32LE(32);
  const fatSize = b.readUInt16LE(22) || b.readUInt32LE(36);
  if (![512, 1024, 2048, 4096].includes(bps) || spc === 0 || fats === 0 || fatSize === 0) return undefined;
  const rootSectors = Math.ceil((rootEntries * 32) / bps);
  const dataSector = reserved + fats * fatSize + rootSectors;
  const clusters = Math.floor((total - dataSector) / spc);
  const kind = clusters < 4085 ? 12 : clusters < 65525 ? 16 : 32;
  return {
    base,
    bytesPerSector: bps,
    clusterBytes: bps * spc,
    fatOffset: base + reserved * bps,
    dataOffset: base + dataSector * bps,
    kind,
    root: kind === 32 ? { cluster: b.readUInt32LE(44) } : { offset: base + (reserved + fats * fatSize) * bps, bytes: rootEntries * 32 },
  };
}

async function nextCluster(reader: IsoReader, fat: Fat, n: number): Promise<number | undefined> {
  if (fat.kind === 12) {
    const v = (await reader.read(fat.fatOffset + n + (n >> 1), 2, 'FAT')).readUInt16LE(0);
    const next = n & 1 ? v >> 4 : v & 0xfff;
    return next >= 0xff8 || next < 2 ? undefined : next;
  }
  if (fat.kind === 16) {
    const next = (await reader.read(fat.fatOffset + n * 2, 2, 'FAT')).readUInt16LE(0);
    return next >= 0xfff8 || next < 2 ? undefined : next;
  }
  const next = (await reader.read(fat.fatOffset + n * 4, 4, 'FAT')).readUInt32LE(0) & 0x0fffffff;
  return next >= 0x0ffffff8 || next < 2 ? undefined : next;
}

async function readDir(reader: IsoReader, fat: Fat, where: { offset: number; bytes: number } | { cluster: number }): Promise<{ name: string; dir: boolean; cluster: number }[]> {
  const chunks: Buffer[] = [];
  if ('offset' in where) chunks.push(await reader.read(where.offset, where.bytes, 'FAT root directory'));
  else {
    let c: number | undefined = where.cluster;
    for (let i = 0; c !== undefined && i < MAX_CLUSTERS; i++) {
      chunks.push(await reader.read(fat.dataOffset + (c - 2) * fat.clusterBytes, fat.clusterBytes, 'FAT directory'));
      c = await nextCluster(reader, fat, c);
    }
  }
  const data = Buffer.concat(chunks);
  const out: { name: string; dir: boolean; cluster: number }[] = [];
  for (let off = 0; off + 32 <= data.length; off += 32) {
    const first = data[off]!;
    if (first === 0) break;
    const attr = data[off + 11]!;
    // 0xE5: deleted; 0x0F: a long-name part (the 8.3 name that follows is enough for BOOT*.EFI)
    if (first === 0xe5 || attr === 0x0f || attr & 0x08) continue;
    const base = data.toString('latin1', off, off + 8).trimEnd();
    const ext = data.toString('latin1', off + 8, off + 11).trimEnd();
    const cluster = (fat.kind === 32 ? data.readUInt16LE(off + 20) << 16 : 0) | data.readUInt16LE(off + 26);
    out.push({ name: ext ? `${base}.${ext}` : base, dir: (attr & 0x10) !== 0, cluster });
  }
  return out;
}

/** File names in \EFI\BOOT of a FAT image, or undefined when it is not one or has no such folder. */
async function fatBootNames(reader: IsoReader, base: number): Promise<string[] | undefined> {
  const fat = await openFat(reader, base);
  if (!fat) return undefined;
  let where: Fat['root'] = fat.root;
  for (const part of ['EFI', 'BOOT']) {
    const hit = (await readDir(reader, fat, where)).find((e) => e.dir && e.name.toUpperCase() === part);
    if (!hit || hit.cluster < 2) return undefined;
    where = { cluster: hit.cluster };
  }
  return (await readDir(reader, fat, where)).filter((e) => !e.dir).map((e) => e.name);
}

/** The architecture in a volume label or file name: "arm64"/"aarch64", "amd64"/"x86_64"/"x64". */
export function archFromLabel(label: string): MediaArch | undefined {
  if (/(^|[^a-z0-9])(arm64|aarch64|aa64)([^a-z0-9]|$)/i.test(label)) return 'aarch64';
  if (/(^|[^a-z0-9])(amd64|x86_64|x86-64|x64)([^a-z0-9]|$)/i.test(label)) return 'x86_64';
  if (/(^|[^a-z0-9])(i386|i686)([^a-z0-9]|$)/i.test(label)) return 'i686';
  return undefined;
}

/**
 * The ISO's architecture: the El Torito EFI image's boot file first, then the ISO tree's
 * \EFI\BOOT, then the volume label and the file's name. Undefined when nothing says.
 */
export async function detectMediaArch(reader: IsoReader, info: IsoInfo): Promise<MediaArchEvidence | undefined> {
  for (const off of await efiImageOffsets(reader)) {
    const names = await fatBootNames(reader, off);
    const arch = names && archOfBootNames(names);
    if (arch) return { arch, evidence: `${names.find((n) => EFI_BOOT_NAMES[n.toUpperCase()] === arch)} in the El Torito EFI image` };
  }
  const inTree: string[] = [];
  for (const n of Object.keys(EFI_BOOT_NAMES)) if (await reader.findFile(info, `EFI/BOOT/${n}`)) inTree.push(n);
  const treeArch = archOfBootNames(inTree);
  if (treeArch) return { arch: treeArch, evidence: `EFI/BOOT/${inTree.find((n) => EFI_BOOT_NAMES[n] === treeArch)} on the disc` };
  for (const [label, what] of [[info.primary.volumeId, 'the volume label'], [info.joliet?.volumeId ?? '', 'the Joliet volume label'], [reader.file.split(/[\\/]/).pop() ?? '', 'the file name']] as const) {
    const arch = archFromLabel(label);
    if (arch) return { arch, evidence: `${what} "${label}"` };
  }
  return undefined;
}
