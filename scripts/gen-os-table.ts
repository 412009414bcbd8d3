// Generates resources/os/os-table.json from Debian's osinfo-db (the `osinfo-db` package,
// /usr/share/osinfo). The output is committed, so it must be byte-for-byte deterministic for
// the same input: files and OSes are sorted, keys are written in a fixed order.
//
//   npx tsx scripts/gen-os-table.ts [--osinfo /usr/share/osinfo] [--extra resources/os/extra]
//                                   [--out resources/os/os-table.json]
//
// osinfo's XML is regular and machine-written, so a small tolerant element parser is enough
// (no new dependency; scripts/os-table/xml.ts). Only what the wizard and the detector use is
// kept: x86 and aarch64 media, x86 resources, firmware hints.

import { readdirSync, readFileSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type {
  MediaArch,
  OsFamily,
  OsTable,
  TableMedia,
  TableOs,
  TableResources,
} from '../electron/engine/osdetect/os-table.ts';
import { childText, kid, kids, parseXml, type XmlElement } from './os-table/xml.ts';
import { convertRegex } from './os-table/regex.ts';

// The XML parser and the regex conversion live beside this script (scripts/os-table/); the
// tests import them from here.
export { decodeEntities, parseXml, type XmlElement } from './os-table/xml.ts';
export { convertRegex } from './os-table/regex.ts';

// ---------------------------------------------------------------------------------------------
// osinfo OS → table entry

interface RawOs {
  uri: string;
  el: XmlElement;
  derives: string[];
}

const X86: Record<string, MediaArch | undefined> = { x86_64: 'x86_64', i686: 'i686', i386: 'i686', all: 'x86_64' };
/** Media Vireo can run: x86 and, since aarch64 guests, aarch64 (resources and firmware hints stay x86's). */
const MEDIA_ARCH: Record<string, MediaArch | undefined> = { ...X86, aarch64: 'aarch64' };

export function mapFamily(osinfoFamily: string | undefined, distro: string | undefined): OsFamily {
  const f = (osinfoFamily ?? '').toLowerCase();
  // FreeDOS's installer is a Linux-booted ISO, so osinfo files it under linux
  if (f === 'msdos' || distro === 'freedos') return 'dos';
  if (f === 'linux' || f === 'hurd') return 'linux';
  if (f.startsWith('win')) return 'windows';
  if (f.endsWith('bsd')) return 'bsd';
  if (f === 'darwin') return 'macos';
  if (f === 'solaris') return 'solaris';
  return 'other';
}

function resourcesOf(el: XmlElement, kind: 'minimum' | 'recommended'): TableResources | undefined {
  // x86_64 first, then arch-independent, then i686 for OSes that only ever shipped 32-bit
  const blocks = kids(el, 'resources');
  for (const arch of ['x86_64', 'all', 'i686']) {
    const block = blocks.find((b) => (b.attrs.arch ?? 'all') === arch);
    const k = block && kid(block, kind);
    if (!k) continue;
    const out: TableResources = {};
    const cpus = Number(childText(k, 'n-cpus'));
    const ram = Number(childText(k, 'ram'));
    const storage = Number(childText(k, 'storage'));
    if (cpus > 0) out.cpus = cpus;
    if (ram > 0) out.memoryMiB = Math.ceil(ram / 2 ** 20);
    if (storage > 0) out.diskGiB = Math.ceil(storage / 2 ** 30);
    if (Object.keys(out).length) return out;
  }
  return undefined;
}

function firmwareOf(el: XmlElement): TableOs['efi'] {
  const fw = kids(el, 'firmware').filter((f) => X86[f.attrs.arch ?? 'all']);
  if (fw.some((f) => f.attrs.type === 'bios' && f.attrs.supported === 'false')) return 'required';
  if (fw.some((f) => f.attrs.type === 'efi' && f.attrs.supported !== 'false')) return 'supported';
  return undefined;
}

function mediaOf(el: XmlElement): { media: TableMedia[]; nonX86: number } {
  const media: TableMedia[] = [];
  let nonX86 = 0;
  for (const m of kids(el, 'media')) {
    const arch = MEDIA_ARCH[m.attrs.arch ?? 'all'];
    if (!arch) {
      nonX86++;
      continue;
    }
    const iso = kid(m, 'iso');
    if (!iso) continue;
    const entry: TableMedia = { arch };
    const fields = [
      ['volume-id', 'volumeId'],
      ['system-id', 'systemId'],
      ['publisher-id', 'publisherId'],
      ['application-id', 'applicationId'],
    ] as const;
    let broken = false;
    for (const [tag, key] of fields) {
      const raw = childText(iso, tag);
      if (raw === undefined) continue;
      const re = convertRegex(raw);
      if (re === undefined) broken = true;
      else entry[key] = re;
    }
    const size = Number(childText(iso, 'volume-size'));
    if (size > 0) entry.volumeSize = size;
    if (m.attrs.live === 'true') entry.live = true;
    // osinfo: an entry with nothing to compare matches nothing, so it is useless here
    const hasMatcher = entry.volumeId || entry.systemId || entry.publisherId || entry.applicationId || entry.volumeSize;
    if (!broken && hasMatcher) media.push(entry);
  }
  // the same matcher set appears once per variant/URL in osinfo; keep one
  const seen = new Set<string>();
  return {
    media: media.filter((m) => {
      const key = JSON.stringify(orderedMedia(m));
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    }),
    nonX86,
  };
}

// Requirements osinfo does not express (or only partly): Windows 11 refuses to install without
// Secure Boot and a TPM 2.0.
const HINTS: Record<string, Partial<Pick<TableOs, 'efi' | 'secureBoot' | 'tpm'>>> = {
  win11: { efi: 'required', secureBoot: true, tpm: true },
};

export function buildTable(rawOses: RawOs[], source: string): OsTable {
  const byUri = new Map(rawOses.map((r) => [r.uri, r]));
  // resources and firmware come from the OS itself, else from what it derives from (as
  // osinfo's `inherit` does), so a point release needs no copy of its parent's data
  const inherited = <T>(r: RawOs, get: (el: XmlElement) => T | undefined, seen = new Set<string>()): T | undefined => {
    const own = get(r.el);
    if (own !== undefined) return own;
    seen.add(r.uri);
    for (const d of r.derives) {
      const parent = byUri.get(d);
      if (!parent || seen.has(d)) continue;
      const v = inherited(parent, get, seen);
      if (v !== undefined) return v;
    }
    return undefined;
  };

  const oses: TableOs[] = [];
  for (const r of rawOses) {
    const el = r.el;
    const id = childText(el, 'short-id');
    const name = childText(el, 'name');
    if (!id || !name) continue;
    const { media, nonX86 } = mediaOf(el);
    // an OS that only ships for other architectures cannot be a guest here
    if (media.length === 0 && nonX86 > 0) continue;
    const osinfoFamily = childText(el, 'family');
    const distro = childText(el, 'distro');
    const hint = HINTS[id] ?? {};
    const os: TableOs = {
      id,
      uri: r.uri,
      name,
      family: mapFamily(osinfoFamily, distro),
      osinfoFamily,
      distro,
      version: childText(el, 'version'),
      vendor: childText(el, 'vendor'),
      released: childText(el, 'release-date'),
      eol: childText(el, 'eol-date'),
      rolling: childText(el, 'release-status') === 'rolling' ? true : undefined,
      minimum: inherited(r, (e) => resourcesOf(e, 'minimum')) ?? {},
      recommended: inherited(r, (e) => resourcesOf(e, 'recommended')) ?? {},
      efi: hint.efi ?? inherited(r, firmwareOf),
      secureBoot: hint.secureBoot,
      tpm: hint.tpm,
      media,
    };
    oses.push(os);
  }
  oses.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : a.uri < b.uri ? -1 : 1));
  return { source, oses };
}

// fixed key order so the output does not depend on how an object was built
function orderedMedia(m: TableMedia): TableMedia {
  return {
    arch: m.arch,
    volumeId: m.volumeId,
    systemId: m.systemId,
    publisherId: m.publisherId,
    applicationId: m.applicationId,
    volumeSize: m.volumeSize,
    live: m.live,
  };
}

function orderedOs(o: TableOs): TableOs {
  return {
    id: o.id,
    uri: o.uri,
    name: o.name,
    family: o.family,
    osinfoFamily: o.osinfoFamily,
    distro: o.distro,
    version: o.version,
    vendor: o.vendor,
    released: o.released,
    eol: o.eol,
    rolling: o.rolling,
    minimum: o.minimum,
    recommended: o.recommended,
    efi: o.efi,
    secureBoot: o.secureBoot,
    tpm: o.tpm,
    media: o.media.map(orderedMedia),
  };
}

/** One OS per line: compact, yet a data update shows as a readable diff. */
export function serializeTable(t: OsTable): string {
  const lines = t.oses.map((o) => JSON.stringify(orderedOs(o)));
  return `{"source":${JSON.stringify(t.source)},"oses":[\n${lines.join(',\n')}\n]}\n`;
}

// ---------------------------------------------------------------------------------------------
// reading the database

function listXml(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listXml(p));
    else if (name.endsWith('.xml')) out.push(p);
  }
  return out;
}

export function readOsinfo(osDirs: string[]): RawOs[] {
  const byUri = new Map<string, RawOs>();
  // `win-10.d/*.xml` overlays (drivers) repeat the OS id with partial data: like osinfo, merge
  // them into the main definition, which must come first so its own fields win
  const files = osDirs.flatMap(listXml);
  const overlay = (f: string) => (/\.d[\\/]/.test(f) ? 1 : 0);
  files.sort((a, b) => overlay(a) - overlay(b));
  for (const file of files) {
    const doc = parseXml(readFileSync(file, 'utf8'));
    for (const lib of kids(doc, 'libosinfo')) {
      for (const el of kids(lib, 'os')) {
        const uri = el.attrs.id;
        if (!uri) continue;
        const derives = kids(el, 'derives-from').map((d) => d.attrs.id ?? '').filter(Boolean);
        const prev = byUri.get(uri);
        if (prev) {
          prev.el.children.push(...el.children);
          prev.derives.push(...derives);
        } else byUri.set(uri, { uri, el, derives });
      }
    }
  }
  return [...byUri.values()];
}

/**
 * `extraDir` holds Vireo's own osinfo-format files for releases newer than the installed
 * osinfo-db; osinfo-db wins when both define an OS, and the shadowed files are reported.
 */
export function generate(osinfoRoot: string, extraDir?: string): { json: string; notes: string[] } {
  const osDir = join(osinfoRoot, 'os');
  if (!existsSync(osDir)) {
    throw new Error(`no osinfo database at ${osDir}: install Debian's osinfo-db package (apt-get install osinfo-db)`);
  }
  const versionFile = join(osinfoRoot, 'VERSION');
  const version = existsSync(versionFile) ? readFileSync(versionFile, 'utf8').trim() : 'unknown';
  const raws = readOsinfo([osDir]);
  const notes: string[] = [];
  let source = `osinfo-db ${version}`;
  if (extraDir && existsSync(extraDir)) {
    const known = new Set(raws.map((r) => r.uri));
    const extra = readOsinfo([extraDir]);
    for (const r of extra) {
      if (known.has(r.uri)) notes.push(`${r.uri} is now in osinfo-db: its file in ${extraDir} can be deleted`);
      else raws.push(r);
    }
    source += ` + ${extra.length} from ${extraDir.replace(/\\/g, '/').split('/').slice(-3).join('/')}`;
  }
  return { json: serializeTable(buildTable(raws, source)), notes };
}

function main(argv: string[]): void {
  const opt = (flag: string, dflt: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 && argv[i + 1] ? argv[i + 1]! : dflt;
  };
  const root = opt('--osinfo', '/usr/share/osinfo');
  const out = resolve(opt('--out', 'resources/os/os-table.json'));
  const extra = resolve(opt('--extra', 'resources/os/extra'));
  const { json, notes } = generate(root, extra);
  for (const n of notes) process.stderr.write(`note: ${n}\n`);
  writeFileSync(out, json);
  const count = (JSON.parse(json) as OsTable).oses.length;
  process.stdout.write(`wrote ${out}: ${count} OSes from ${root}\n`);
}

// Run as a script only when it is this very file that was started: the engine imports
// generate() (host-osinfo.ts), and inside the bundled CLI (.vite/build/cli.mjs) every module's
// import.meta.url is the bundle's, which would otherwise make `vireo …` regenerate the table.
if (process.argv[1] && /gen-os-table\.[cm]?[jt]s$/.test(process.argv[1]) && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2));
}
