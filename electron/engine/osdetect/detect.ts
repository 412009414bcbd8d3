import tableJson from '../../../resources/os/os-table.json' with { type: 'json' };
import { VireoError } from '../../api/errors.ts';
import { IsoReader, type IsoInfo } from './iso9660.ts';
import { matchIso, type MediaMatch } from './match.ts';
import { detectMediaArch, type MediaArchEvidence } from './arch.ts';
import { findUdfFile, readUdfFile } from './udf.ts';
import type { MediaArch, OsFamily, OsTable, TableOs } from './os-table.ts';
import { MAX_XML_BYTES, WIM_HEADER_BYTES, parseWimHeader, parseWimXml, type WimInfo } from './wim.ts';

// Install-media detection for the new-VM wizard: read the ISO's volume descriptors, match them
// against the osinfo-derived table, and turn the OS's data into VM defaults (resources,
// firmware, Secure Boot, TPM, a modern or legacy device profile).

const DEFAULT_TABLE = tableJson as unknown as OsTable;

export interface Resources {
  cpus: number;
  memoryMiB: number;
  diskGiB: number;
}

export type Firmware = 'bios' | 'uefi';
export type Profile = 'modern' | 'legacy';

/** What the wizard needs to pre-fill a VM for an OS. */
export interface OsProfile {
  id: string;
  name: string;
  family: OsFamily;
  version?: string;
  vendor?: string;
  released?: string;
  eol?: string;
  recommended: Resources;
  minimum: Resources;
  firmware: Firmware;
  secureBoot: boolean;
  tpm: boolean;
  profile: Profile;
}

export interface IsoSummary {
  volumeId: string;
  systemId: string;
  publisherId: string;
  applicationId: string;
  volumeSetId: string;
  dataPreparerId: string;
  creationDate?: string;
  jolietVolumeId?: string;
  bootable: boolean;
  udf: boolean;
  volumeBytes: number;
}

export interface DetectedOs extends OsProfile {
  status: 'detected';
  arch: MediaArch;
  /** what decided arch: the media's EFI boot file or label (arch.ts), else the OS table's media entry */
  archEvidence: string;
  live: boolean;
  iso: IsoSummary;
  /** Windows build from sources/install.wim, e.g. "22621" */
  build?: string;
  /** Windows editions in the image, e.g. ["Windows 11 Pro", ...] */
  editions?: string[];
  /** other OS ids whose media also matched, best first (the wizard may offer them) */
  alternatives: string[];
}

export interface UnknownOs {
  status: 'unknown';
  reason: string;
  iso: IsoSummary;
  /** the media's architecture even when the OS is not known (arch.ts) */
  arch?: MediaArch;
  archEvidence?: string;
}

export type DetectResult = DetectedOs | UnknownOs;

export interface OsListItem {
  id: string;
  name: string;
  family: OsFamily;
  version?: string;
  released?: string;
  recommended: Resources;
}

// ---------------------------------------------------------------------------------------------
// OS data → VM defaults

const LEGACY_BEFORE = '2005-01-01';
const LEGACY_FAMILIES = new Set(['msdos', 'win9x', 'win16']);
// Windows 10 and later (and their servers) install and run best on UEFI
const WINDOWS_UEFI_FROM = '2015-01-01';

const DEFAULTS: Record<'modern' | 'legacy' | 'windows', { minimum: Resources; recommended: Resources }> = {
  modern: { minimum: { cpus: 1, memoryMiB: 1024, diskGiB: 10 }, recommended: { cpus: 2, memoryMiB: 2048, diskGiB: 20 } },
  windows: { minimum: { cpus: 1, memoryMiB: 2048, diskGiB: 32 }, recommended: { cpus: 2, memoryMiB: 4096, diskGiB: 64 } },
  legacy: { minimum: { cpus: 1, memoryMiB: 32, diskGiB: 1 }, recommended: { cpus: 1, memoryMiB: 256, diskGiB: 4 } },
};

function isLegacy(os: TableOs): boolean {
  if (os.family === 'dos') return true;
  if (os.osinfoFamily && LEGACY_FAMILIES.has(os.osinfoFamily)) return true;
  return os.released !== undefined && os.released < LEGACY_BEFORE;
}

export function profileOf(os: TableOs): OsProfile {
  const profile: Profile = isLegacy(os) ? 'legacy' : 'modern';
  const d = profile === 'legacy' ? DEFAULTS.legacy : os.family === 'windows' ? DEFAULTS.windows : DEFAULTS.modern;
  const minimum: Resources = {
    cpus: os.minimum.cpus ?? d.minimum.cpus,
    memoryMiB: os.minimum.memoryMiB ?? d.minimum.memoryMiB,
    diskGiB: os.minimum.diskGiB ?? d.minimum.diskGiB,
  };
  // osinfo sometimes recommends less than a newer OS's minimum (Windows 11 inherits Windows
  // 10's recommendation), so the recommendation never drops below the minimum
  const recommended: Resources = {
    cpus: Math.max(os.recommended.cpus ?? d.recommended.cpus, minimum.cpus),
    memoryMiB: Math.max(os.recommended.memoryMiB ?? d.recommended.memoryMiB, minimum.memoryMiB),
    diskGiB: Math.max(os.recommended.diskGiB ?? d.recommended.diskGiB, minimum.diskGiB),
  };
  let firmware: Firmware = 'bios';
  if (os.efi === 'required') firmware = 'uefi';
  else if (profile === 'modern' && os.efi === 'supported') firmware = 'uefi';
  else if (profile === 'modern' && os.family === 'windows' && (os.released ?? '') >= WINDOWS_UEFI_FROM) firmware = 'uefi';
  return {
    id: os.id,
    name: os.name,
    family: os.family,
    version: os.version,
    vendor: os.vendor,
    released: os.released,
    eol: os.eol,
    recommended,
    minimum,
    firmware,
    secureBoot: firmware === 'uefi' && os.secureBoot === true,
    tpm: os.tpm === true,
    profile,
  };
}

// ---------------------------------------------------------------------------------------------
// Windows builds

/** Client/server OS id for an NT build number (from the WIM's XML). */
export function windowsIdForBuild(build: number, server: boolean): string | undefined {
  if (server) {
    if (build >= 26100) return 'win2k25';
    if (build >= 20348) return 'win2k22';
    if (build >= 17763) return 'win2k19';
    if (build >= 14393) return 'win2k16';
    if (build >= 9600) return 'win2k12r2';
    if (build >= 9200) return 'win2k12';
    if (build >= 7600) return 'win2k8r2';
    if (build >= 6001) return 'win2k8';
    return undefined;
  }
  if (build >= 22000) return 'win11';
  if (build >= 10240) return 'win10';
  if (build >= 9600) return 'win8.1';
  if (build >= 9200) return 'win8';
  if (build >= 7600) return 'win7';
  if (build >= 6000) return 'winvista';
  return undefined;
}

/** A file inside the image, read by offset; undefined when the range is not in the image. */
interface FileView {
  size: number;
  read(offset: number, len: number, what: string): Promise<Buffer | undefined>;
}

async function wimFrom(view: FileView, path: string): Promise<WimInfo | undefined> {
  if (view.size < WIM_HEADER_BYTES) return undefined;
  const head = await view.read(0, WIM_HEADER_BYTES, `${path} header`);
  const header = head && parseWimHeader(head);
  if (!header || header.xml.compressed || header.xml.size === 0 || header.xml.size > MAX_XML_BYTES) return undefined;
  const xml = await view.read(header.xml.offset, header.xml.size, `${path} XML metadata`);
  return xml && parseWimXml(xml);
}

async function readWim(reader: IsoReader, info: IsoInfo): Promise<WimInfo | undefined> {
  for (const path of ['sources/install.wim', 'sources/install.esd']) {
    const f = await reader.findFile(info, path);
    if (f) {
      const base = f.lba * 2048;
      const wim = await wimFrom(
        {
          size: f.size,
          // a >4 GiB install.wim is stored as several ISO 9660 extents; mastering tools lay
          // them out contiguously, so offsets past the first extent still land in the file
          read: async (off, len, what) => (base + off + len > reader.fileBytes ? undefined : reader.read(base + off, len, what)),
        },
        path,
      );
      if (wim) return wim;
    }
  }
  // Windows media hide their files from ISO 9660 (only a README is there) and keep them in UDF
  if (!info.udf) return undefined;
  for (const path of ['sources/install.wim', 'sources/install.esd']) {
    const f = await findUdfFile(reader, path);
    if (!f) continue;
    const wim = await wimFrom({ size: f.size, read: (off, len) => readUdfFile(reader, f, off, len) }, path);
    if (wim) return wim;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// public API

function summary(info: IsoInfo): IsoSummary {
  const p = info.primary;
  return {
    volumeId: p.volumeId,
    systemId: p.systemId,
    publisherId: p.publisherId,
    applicationId: p.applicationId,
    volumeSetId: p.volumeSetId,
    dataPreparerId: p.dataPreparerId,
    creationDate: p.creationDate,
    jolietVolumeId: info.joliet?.volumeId,
    bootable: info.bootable,
    udf: info.udf,
    volumeBytes: info.volumeBytes,
  };
}

/** Reads the ISO's descriptors (and install.wim metadata for Windows media). */
export async function readIso(file: string): Promise<{ info: IsoInfo; wim?: WimInfo; media?: MediaArchEvidence }> {
  const reader = await IsoReader.open(file);
  try {
    const info = await reader.readInfo();
    if (info.fileBytes < info.volumeBytes) {
      throw new VireoError(
        'INVALID_ARGUMENT',
        `${file} is truncated: its volume descriptor declares ${info.volumeBytes} bytes but the file has ${info.fileBytes}; download the image again`,
        { file, volumeBytes: info.volumeBytes, fileBytes: info.fileBytes },
      );
    }
    let wim: WimInfo | undefined;
    try {
      wim = await readWim(reader, info);
    } catch (e) {
      // the build only refines a detection; damaged Windows metadata must not hide the rest
      if (!(e instanceof VireoError) || e.code === 'IO_ERROR') throw e;
    }
    // The architecture only refines a detection too: odd boot images must not hide the rest.
    const media = await detectMediaArch(reader, info).catch((e: unknown) => {
      if (!(e instanceof VireoError) || e.code === 'IO_ERROR') throw e;
      return undefined;
    });
    return { info, wim, ...(media ? { media } : {}) };
  } finally {
    await reader.close();
  }
}

export async function detectOs(file: string, table: OsTable = DEFAULT_TABLE): Promise<DetectResult> {
  const { info, wim, media } = await readIso(file);
  const iso = summary(info);
  const matches = matchIso(table, {
    volumeId: iso.volumeId,
    systemId: iso.systemId,
    publisherId: iso.publisherId,
    applicationId: iso.applicationId,
    volumeBytes: iso.volumeBytes,
  });

  let chosen: { os: TableOs; arch: MediaArch; live: boolean } | undefined = matches[0]
    ? { os: matches[0].os, arch: matches[0].arch, live: matches[0].media.live === true }
    : undefined;

  // Windows 10 and 11 (and client/server editions) share volume-id patterns in osinfo; the
  // build in install.wim is authoritative. It also identifies Windows media whose label no
  // osinfo pattern knows.
  const server = wim?.images.some((i) => /server/i.test(i.installationType ?? '')) ?? false;
  const byBuild = wim?.build ? windowsIdForBuild(Number(wim.build), server) : undefined;
  const buildOs = byBuild ? table.oses.find((o) => o.id === byBuild) : undefined;
  if (buildOs && (!chosen || chosen.os.family === 'windows')) {
    const wimArch = wim?.images.find((i) => i.arch)?.arch;
    const arch: MediaArch = wimArch === 'i686' ? 'i686' : chosen?.arch ?? 'x86_64';
    chosen = { os: buildOs, arch, live: false };
  }

  if (!chosen) {
    return {
      status: 'unknown',
      reason: iso.volumeId
        ? `no OS in the table (${table.source}) has install media labelled "${iso.volumeId}"`
        : 'the image has no volume label to identify it by',
      iso,
      ...(media ? { arch: media.arch, archEvidence: media.evidence } : {}),
    };
  }
  const editions = wim?.images.map((i) => i.displayName ?? i.name).filter((n): n is string => !!n);
  const result: DetectedOs = {
    status: 'detected',
    ...profileOf(chosen.os),
    // The EFI boot file on the media outranks the table (osinfo labels often say nothing of the arch).
    arch: media?.arch ?? chosen.arch,
    archEvidence: media?.evidence ?? `the ${chosen.arch} install media of ${chosen.os.name} in the OS table`,
    live: chosen.live,
    iso,
    alternatives: alternativesOf(matches, chosen.os.id),
  };
  if (wim?.build) result.build = wim.build;
  if (editions?.length) result.editions = [...new Set(editions)];
  return result;
}

function alternativesOf(matches: MediaMatch[], chosenId: string): string[] {
  return matches.map((m) => m.os.id).filter((id) => id !== chosenId).slice(0, 5);
}

/** The full profile of one OS by its short id, or undefined. */
export function getOs(id: string, table: OsTable = DEFAULT_TABLE): OsProfile | undefined {
  const os = table.oses.find((o) => o.id === id);
  return os ? profileOf(os) : undefined;
}

function compareVersionsDesc(a: string | undefined, b: string | undefined): number {
  const pa = (a ?? '').split(/[.-]/).map((x) => (/^\d+$/.test(x) ? Number(x) : -1));
  const pb = (b ?? '').split(/[.-]/).map((x) => (/^\d+$/.test(x) ? Number(x) : -1));
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pb[i] ?? -1) - (pa[i] ?? -1);
    if (d) return d;
  }
  return 0;
}

/**
 * The wizard's searchable list. Every whitespace-separated term of the query must appear in
 * the name, id, distro or version (case-insensitive). Sorted by distribution name, newest
 * release first within it; with a query, exact id and name-prefix hits come first.
 * Catch-all "unknown" entries (used only to recognise future point releases) are left out.
 */
export function listOses(query?: string, table: OsTable = DEFAULT_TABLE): OsListItem[] {
  const terms = (query ?? '').toLowerCase().split(/\s+/).filter(Boolean);
  const q = terms.join(' ');
  const hits = table.oses.filter((o) => {
    if (o.id.endsWith('unknown')) return false;
    const hay = `${o.name} ${o.id} ${o.distro ?? ''} ${o.version ?? ''}`.toLowerCase();
    return terms.every((t) => hay.includes(t));
  });
  const rank = (o: TableOs) => (!q ? 0 : o.id.toLowerCase() === q ? 0 : o.name.toLowerCase().startsWith(q) ? 1 : 2);
  const group = (o: TableOs) => (o.distro ?? o.name).toLowerCase();
  hits.sort(
    (a, b) =>
      rank(a) - rank(b) ||
      group(a).localeCompare(group(b)) ||
      (b.released ?? '').localeCompare(a.released ?? '') ||
      compareVersionsDesc(a.version, b.version) ||
      a.id.localeCompare(b.id),
  );
  return hits.map((o) => {
    const p = profileOf(o);
    return { id: o.id, name: o.name, family: o.family, version: o.version, released: o.released, recommended: p.recommended };
  });
}
