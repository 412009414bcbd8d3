import { SECTOR, type IsoInfo, type IsoReader } from './iso9660.ts';
import type { OsTable, TableOs } from './os-table.ts';

// Each distribution labels its install media by its own scheme, and those schemes outlive any
// one osinfo release. When the table does not know a release (Fedora 42 on a 2022 table), the
// label still says the family and the version: the VM then gets the defaults of the newest
// release of that family the table knows, under its real name and version.

export interface NamedRelease {
  /** the family's display name, e.g. "Rocky Linux" */
  family: string;
  version?: string;
  /** what said it, e.g. 'the volume label "Fedora-S-dvd-x86_64-42"' */
  evidence: string;
  /** picks the table entries of this family (the newest one gives the defaults) */
  ids: RegExp;
}

/** The ISO fields and files the naming schemes read. */
export interface MediaText {
  volumeId: string;
  applicationId?: string;
  volumeSetId?: string;
  /** Debian/Ubuntu's .disk/info, one line: 'Debian GNU/Linux 13.0.0 "Trixie" - Official amd64 NETINST …' */
  diskInfo?: string;
  /** Fedora/RHEL-family .treeinfo (INI): [release] name/version, or [general] family/version */
  treeinfo?: string;
}

interface Scheme {
  family: string;
  ids: RegExp;
  /** the version from one text, or null when the text is not this family's */
  read(text: string): string | null | undefined;
}

const dotted = (...parts: Array<string | undefined>) => parts.filter((p) => p !== undefined && p !== '').join('.');

const SCHEMES: Scheme[] = [
  // "CentOS-Stream-10-BaseOS-x86_64" (before RHEL: "CentOS" alone is a different family)
  { family: 'CentOS Stream', ids: /^centos-stream\d/, read: (t) => /^CentOS[-_ ]Stream[-_ ](\d+)/i.exec(t)?.[1] ?? null },
  // "Rocky-10-0-x86_64-dvd", "Rocky-9.4-x86_64-boot"
  { family: 'Rocky Linux', ids: /^rocky\d+(\.\d+)?$/, read: (t) => ((m) => (m ? dotted(m[1], m[2]) : null))(/^Rocky(?:[-_ ]Linux)?[-_ ](\d+)(?:[-._](\d+))?/i.exec(t)) },
  // "AlmaLinux-9-3-x86_64-dvd"
  { family: 'AlmaLinux', ids: /^almalinux\d+(\.\d+)?$/, read: (t) => ((m) => (m ? dotted(m[1], m[2]) : null))(/^AlmaLinux[-_ ](\d+)(?:[-._](\d+))?/i.exec(t)) },
  // "OL-9-3-0-BaseOS-x86_64"
  { family: 'Oracle Linux', ids: /^ol\d+(\.\d+)?$/, read: (t) => ((m) => (m ? dotted(m[1], m[2]) : null))(/^OL[-_ ]?(\d+)[-._](\d+)(?:[-._]\d+)?[-_ ]/i.exec(t) ?? /^Oracle[-_ ]Linux[-_ ](\d+)(?:[-._](\d+))?/i.exec(t)) },
  // "RHEL-9-3-0-BaseOS-x86_64"
  { family: 'Red Hat Enterprise Linux', ids: /^rhel\d+(\.\d+)?$/, read: (t) => ((m) => (m ? dotted(m[1], m[2]) : null))(/^RHEL[-_ ]?(\d+)(?:[-._](\d+))?/i.exec(t)) },
  // "Fedora-S-dvd-x86_64-42", "Fedora-WS-Live-42-1-1", "Fedora-E-dvd-x86_64-41"
  { family: 'Fedora', ids: /^fedora\d+$/, read: (t) => (/^Fedora[-_ ]/i.test(t) ? (/[-_ ](\d{2,3})(?=[-_ ]|$)/.exec(t.replace(/x86_64|aarch64|ppc64le|s390x|i[36]86/gi, ''))?.[1] ?? undefined) : null) },
  // "Ubuntu 25.04 amd64", "Ubuntu-Server 24.04.1 LTS amd64"
  { family: 'Ubuntu', ids: /^ubuntu\d+\.\d+$/, read: (t) => (/^Ubuntu\b/i.test(t) ? (/(\d{2}\.\d{2})/.exec(t)?.[1] ?? undefined) : null) },
  // "Debian 13.0.0 amd64 n", "debian-13.1.0-amd64-netinst"; .disk/info "Debian GNU/Linux 13.0.0 …"
  { family: 'Debian', ids: /^debian\d+$/, read: (t) => (/^Debian\b/i.test(t) ? (/^Debian(?:[-_ ]GNU\/Linux)?[-_ ](\d+)/i.exec(t)?.[1] ?? undefined) : null) },
  // "openSUSE-Leap-15.6-DVD-x86_64", "Leap-16.0-offline-installer"
  { family: 'openSUSE Leap', ids: /^opensuse(1[5-9]|[2-9]\d)\.\d+$/, read: (t) => /^(?:openSUSE[-_ ])?Leap[-_ ](\d+\.\d+)/i.exec(t)?.[1] ?? null },
  // "openSUSE-Tumbleweed-DVD-x86_64": rolling, no version
  { family: 'openSUSE Tumbleweed', ids: /^opensusetumbleweed$/, read: (t) => (/^openSUSE[-_ ]Tumbleweed/i.test(t) ? undefined : null) },
  // "alpine-virt 3.21.0 x86_64", "alpine-std 3.19.1 x86_64"
  { family: 'Alpine Linux', ids: /^alpinelinux\d+\.\d+$/, read: (t) => ((m) => (m ? dotted(m[1], m[2]) : null))(/^alpine[-_ a-z]*?[-_ ](\d+)\.(\d+)/i.exec(t)) },
  // "ARCH_202506": year and month of the monthly image
  { family: 'Arch Linux', ids: /^archlinux$/, read: (t) => ((m) => (m ? `${m[1]}.${m[2]}` : /^ARCH[-_]/i.test(t) ? undefined : null))(/^ARCH[-_](\d{4})(\d{2})/i.exec(t)) },
  // "15_0_RELEASE_AMD64_CD", "14_1_RELEASE_AMD64_DVD"
  { family: 'FreeBSD', ids: /^freebsd\d+\.\d+$/, read: (t) => ((m) => (m ? `${m[1]}.${m[2]}` : /^FreeBSD[-_ ](\d+\.\d+)/i.exec(t)?.[1] ?? null))(/^(\d+)_(\d+)_(?:RELEASE|BETA\d*|RC\d*|STABLE|CURRENT)_/i.exec(t)) },
  // "OpenBSD/amd64 7.6 Install CD"
  { family: 'OpenBSD', ids: /^openbsd\d+\.\d+$/, read: (t) => /^OpenBSD(?:\/\S+)?[-_ ]+(\d+\.\d+)/i.exec(t)?.[1] ?? null },
  // "NETBSD_100" is 10.0, "NETBSD_92" 9.2: the last digit is the minor release
  { family: 'NetBSD', ids: /^netbsd\d+\.\d+$/, read: (t) => ((m) => (m ? `${m[1]}.${m[2]}` : /^NetBSD[-_ ](\d+\.\d+)/i.exec(t)?.[1] ?? null))(/^NETBSD[-_](\d+)(\d)$/i.exec(t)) },
  // "Win12_25H2_English_x64", "WINDOWS 12": Microsoft's own labels (CCCOMA_…) carry no version;
  // those are named by the build in install.wim (detect.ts)
  { family: 'Windows', ids: /^win1[01]$/, read: (t) => /^Win(?:dows)?[-_ ]?(\d{2})(?=[-_ ]|$)/i.exec(t)?.[1] ?? null },
];

/** A .treeinfo's [release] (or older [general]) name and version. */
function treeinfoText(ini: string): string | undefined {
  const sections = new Map<string, Map<string, string>>();
  let cur: Map<string, string> | undefined;
  for (const line of ini.split(/\r?\n/)) {
    const h = /^\s*\[([^\]]+)\]\s*$/.exec(line);
    if (h) sections.set(h[1]!.trim().toLowerCase(), (cur = new Map()));
    else {
      const kv = /^\s*([^=#;]+?)\s*=\s*(.*?)\s*$/.exec(line);
      if (kv && cur) cur.set(kv[1]!.toLowerCase(), kv[2]!);
    }
  }
  const r = sections.get('release');
  const g = sections.get('general');
  const name = r?.get('name') ?? g?.get('family');
  const version = r?.get('version') ?? g?.get('version');
  return name && version ? `${name.replace(/\s+/g, '-')}-${version}` : undefined;
}

/** The family and version the media's own naming says, or undefined when no scheme fits. */
export function nameFromMedia(m: MediaText): NamedRelease | undefined {
  const texts: Array<[string, string]> = [
    [m.volumeId, `the volume label "${m.volumeId}"`],
    [m.treeinfo ? (treeinfoText(m.treeinfo) ?? '') : '', 'the disc\'s .treeinfo'],
    [m.diskInfo?.split(/\r?\n/)[0]?.trim() ?? '', 'the disc\'s .disk/info'],
    [m.applicationId ?? '', `the application label "${m.applicationId ?? ''}"`],
    [m.volumeSetId ?? '', `the volume set label "${m.volumeSetId ?? ''}"`],
  ];
  let versionless: NamedRelease | undefined;
  for (const [text, evidence] of texts) {
    if (!text) continue;
    for (const s of SCHEMES) {
      const v = s.read(text);
      if (v === null) continue;
      // a family without its version: keep looking for a text that has both
      if (v === undefined) versionless ??= { family: s.family, evidence, ids: s.ids };
      else return { family: s.family, version: v, evidence, ids: s.ids };
      break;
    }
  }
  return versionless;
}

function versionKey(v: string | undefined): number[] {
  return (v ?? '').split(/[.-]/).map((x) => (/^\d+$/.test(x) ? Number(x) : -1));
}

/** < 0 when a is older than b */
export function compareVersions(a: string | undefined, b: string | undefined): number {
  const pa = versionKey(a);
  const pb = versionKey(b);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? -1) - (pb[i] ?? -1);
    if (d) return d;
  }
  return 0;
}

/** The newest table entry of the family (the one whose defaults a newer release gets). */
export function familyTemplate(table: OsTable, named: NamedRelease): TableOs | undefined {
  const fam = table.oses.filter((o) => named.ids.test(o.id));
  // Windows 12 and later get Windows 11's rules (TPM, UEFI), Windows 10 its own
  if (named.family === 'Windows') return fam.find((o) => o.id === (Number(named.version) >= 11 ? 'win11' : 'win10'));
  // by release date first: version numbers restart (openSUSE Leap 42.3 came before 15.0)
  return fam.filter((o) => !o.id.endsWith('unknown')).sort((a, b) => (b.released ?? '').localeCompare(a.released ?? '') || compareVersions(b.version, a.version))[0];
}

/** The display name of a named release: "Fedora 42", "Arch Linux 2025.06", "openSUSE Tumbleweed". */
export function releaseName(named: NamedRelease): string {
  return named.version ? `${named.family} ${named.version}` : named.family;
}

const MAX_TEXT_BYTES = 16 * 1024;

/** The ISO fields and small text files the naming schemes read (absent files are left out). */
export async function readMediaText(reader: IsoReader, info: IsoInfo): Promise<MediaText> {
  const text: MediaText = { volumeId: info.primary.volumeId, applicationId: info.primary.applicationId, volumeSetId: info.primary.volumeSetId };
  for (const [key, path] of [['diskInfo', '.disk/info'], ['treeinfo', '.treeinfo']] as const) {
    const f = await reader.findFile(info, path).catch(() => undefined);
    if (f && f.size > 0 && f.size <= MAX_TEXT_BYTES && (f.lba * SECTOR + f.size) <= reader.fileBytes) {
      text[key] = (await reader.read(f.lba * SECTOR, f.size, path)).toString('utf8');
    }
  }
  return text;
}
