import tableJson from '../../../resources/os/os-table.json' with { type: 'json' };
import { VireoError } from '../../api/errors.ts';
import { IsoReader, type IsoInfo } from './iso9660.ts';
import { matchIso, type MediaMatch } from './match.ts';
import { detectMediaArch, type MediaArchEvidence } from './arch.ts';
import type { MediaArch, OsFamily, OsTable, TableOs } from './os-table.ts';
import type { WimInfo } from './wim.ts';
import { readWim, windowsIdForBuild } from './windows.ts';
export { windowsIdForBuild } from './windows.ts';
import { bootPlatforms, readBootCatalog, type BootPlatforms } from './eltorito.ts';
import { chooseFirmwareFor } from './firmware-choice.ts';
import { requirementsOf, type Requirements } from './minimums.ts';
import { chooseOsTable, extraOsDir, hostOsinfoDirs } from './host-osinfo.ts';
import { familyTemplate, nameFromMedia, readMediaText, releaseName, compareVersions, type MediaText } from './naming.ts';

// Install-media detection for the new-VM wizard: read the ISO's volume descriptors, match them
// against the osinfo-derived table, and turn the OS's data into VM defaults (resources,
// firmware, Secure Boot, TPM, a modern or legacy device profile).

const BUNDLED_TABLE = tableJson as unknown as OsTable;
let current: OsTable | undefined;

/** The table in use: a newer osinfo-db on the host (host-osinfo.ts), else the bundled one; read once. */
export function osTable(): OsTable {
  current ??= chooseOsTable(BUNDLED_TABLE, hostOsinfoDirs(), extraOsDir()).table;
  return current;
}

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
  /** what the OS's installer refuses to run without (minimums.ts); absent: nothing is refused */
  requires?: Requirements;
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
  /** why this firmware: what the disc can start (El Torito) and what the OS needs */
  firmwareReason: string;
  boot: BootPlatforms;
  /** set when the release is newer than Vireo's OS list: what named it and whose defaults it got */
  newerThanList?: string;
}

export interface UnknownOs {
  status: 'unknown';
  reason: string;
  iso: IsoSummary;
  /** the media's architecture even when the OS is not known (arch.ts) */
  arch?: MediaArch;
  archEvidence?: string;
  /** even an unknown OS gets the firmware its disc can start */
  firmware: Firmware;
  firmwareReason: string;
  boot: BootPlatforms;
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
    ...(requirementsOf(os.id) ? { requires: requirementsOf(os.id) } : {}),
  };
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
export async function readIso(file: string): Promise<{ info: IsoInfo; wim?: WimInfo; media?: MediaArchEvidence; boot: BootPlatforms; text: MediaText }> {
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
    // A damaged catalog says nothing about firmware; it must not hide the rest either.
    const boot = bootPlatforms(await readBootCatalog(reader).catch((e: unknown) => {
      if (!(e instanceof VireoError) || e.code === 'IO_ERROR') throw e;
      return undefined;
    }));
    const text = await readMediaText(reader, info);
    return { info, wim, ...(media ? { media } : {}), boot, text };
  } finally {
    await reader.close();
  }
}

export async function detectOs(file: string, table: OsTable = osTable()): Promise<DetectResult> {
  const { info, wim, media, boot, text } = await readIso(file);
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

  // A release newer than the list: its family's naming scheme still says what it is.
  const named = byBuild ? undefined : nameFromMedia(text);
  const template = named && familyTemplate(table, named);
  let newerThanList: string | undefined;
  let naming: Partial<OsProfile> = {};
  const sameFamily = (o: TableOs) => named!.ids.test(o.id) || (o.distro !== undefined && o.distro === template?.distro);
  if (named && template && (!chosen || (sameFamily(chosen.os) && newer(named.version, chosen.os)))) {
    chosen = { os: template, arch: chosen?.arch ?? 'x86_64', live: chosen?.live ?? false };
    if (named.version) {
      const name = releaseName(named);
      naming = { name, version: named.version, released: undefined, eol: undefined };
      newerThanList = `${name} (from ${named.evidence}) is newer than the systems Vireo knows by name; it gets the settings of ${template.name}`;
    }
  }

  if (!chosen) {
    const fw = chooseFirmwareFor(info.bootable ? boot : undefined, undefined);
    return {
      status: 'unknown',
      reason: iso.volumeId ? `Vireo does not recognise a disc labelled "${iso.volumeId}"` : 'the image has no volume label to identify it by',
      iso,
      ...(media ? { arch: media.arch, archEvidence: media.evidence } : {}),
      firmware: fw.firmware,
      firmwareReason: fw.reason,
      boot,
    };
  }
  const editions = wim?.images.map((i) => i.displayName ?? i.name).filter((n): n is string => !!n);
  const base = { ...profileOf(chosen.os), ...naming };
  const fw = chooseFirmwareFor(info.bootable ? boot : undefined, {
    name: base.name,
    firmware: base.firmware,
    needsUefi: base.requires?.uefi === true || chosen.os.efi === 'required',
    needsBios: base.profile === 'legacy',
  });
  const result: DetectedOs = {
    status: 'detected',
    ...base,
    firmware: fw.firmware,
    firmwareReason: fw.reason,
    secureBoot: fw.firmware === 'uefi' && chosen.os.secureBoot === true,
    boot,
    ...(newerThanList ? { newerThanList } : {}),
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

/** The media's version is newer than the matched entry's (or the entry has none: Arch, "unknown"). */
function newer(version: string | undefined, os: TableOs): boolean {
  if (!version) return false;
  if (!os.version || !/^\d/.test(os.version) || os.id.endsWith('unknown')) return true;
  return compareVersions(version, os.version) > 0;
}

function alternativesOf(matches: MediaMatch[], chosenId: string): string[] {
  return matches.map((m) => m.os.id).filter((id) => id !== chosenId).slice(0, 5);
}

/** The full profile of one OS by its short id, or undefined. */
export function getOs(id: string, table: OsTable = osTable()): OsProfile | undefined {
  const os = table.oses.find((o) => o.id === id);
  return os ? profileOf(os) : undefined;
}

const compareVersionsDesc = (a: string | undefined, b: string | undefined) => compareVersions(b, a);

/**
 * The wizard's searchable list. Every whitespace-separated term of the query must appear in
 * the name, id, distro or version (case-insensitive). Sorted by distribution name, newest
 * release first within it; with a query, exact id and name-prefix hits come first.
 * Catch-all "unknown" entries (used only to recognise future point releases) are left out.
 */
export function listOses(query?: string, table: OsTable = osTable()): OsListItem[] {
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
