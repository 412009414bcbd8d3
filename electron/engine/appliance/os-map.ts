import type { OsFamily } from '../../api/schemas/vm-config.ts';
import { getOs } from '../osdetect/detect.ts';

// Guest OS names other tools write into appliances, onto Vireo's OS ids (the osinfo-db ids of
// resources/os/os-table.json) and families. Two sources: OVF's OperatingSystemSection ovf:id,
// a CIM_OperatingSystem OsType number (DMTF CIM schema), and VirtualBox's OSType string
// (vbox:Machine OSType, a .vbox file's Machine OSType, vbox:OSType in the OS section).

export interface MappedOs {
  id: string;
  name: string;
  family: OsFamily;
}

/** CIM OsType numbers VirtualBox and VMware write, with the family and a readable name. */
const CIM: Record<number, [OsFamily, string, string?]> = {
  1: ['other', 'Other'],
  36: ['linux', 'Linux'],
  58: ['windows', 'Windows 2000', 'win2k'],
  67: ['windows', 'Windows XP', 'winxp'],
  69: ['windows', 'Windows Server 2003', 'win2k3'],
  70: ['windows', 'Windows Server 2003 (64-bit)', 'win2k3'],
  71: ['windows', 'Windows XP (64-bit)', 'winxp'],
  73: ['windows', 'Windows Vista', 'winvista'],
  74: ['windows', 'Windows Vista (64-bit)', 'winvista'],
  76: ['windows', 'Windows Server 2008', 'win2k8'],
  77: ['windows', 'Windows Server 2008 (64-bit)', 'win2k8'],
  78: ['bsd', 'FreeBSD (64-bit)'],
  79: ['linux', 'Red Hat Enterprise Linux'],
  80: ['linux', 'Red Hat Enterprise Linux (64-bit)'],
  82: ['linux', 'SUSE'],
  83: ['linux', 'SUSE (64-bit)'],
  93: ['linux', 'Ubuntu'],
  94: ['linux', 'Ubuntu (64-bit)'],
  95: ['linux', 'Debian'],
  96: ['linux', 'Debian (64-bit)'],
  99: ['linux', 'Linux 2.6'],
  100: ['linux', 'Linux 2.6 (64-bit)'],
  101: ['linux', 'Linux (64-bit)'],
  102: ['other', 'Other (64-bit)'],
  103: ['windows', 'Windows Server 2008 R2', 'win2k8r2'],
  105: ['windows', 'Windows 7', 'win7'],
  106: ['linux', 'CentOS'],
  107: ['linux', 'CentOS (64-bit)'],
  108: ['linux', 'Oracle Linux'],
  109: ['linux', 'Oracle Linux (64-bit)'],
  113: ['windows', 'Windows Server 2012', 'win2k12'],
  114: ['windows', 'Windows 8', 'win8'],
  115: ['windows', 'Windows 8 (64-bit)', 'win8'],
  116: ['windows', 'Windows Server 2012 R2', 'win2k12r2'],
};

/** VirtualBox OSType names (without the _64 suffix) that name one release Vireo knows. */
const VBOX_IDS: Record<string, string> = {
  Windows11: 'win11', Windows10: 'win10', Windows81: 'win8.1', Windows8: 'win8', Windows7: 'win7', WindowsVista: 'winvista', WindowsXP: 'winxp',
  Windows2022: 'win2k22', Windows2019: 'win2k19', Windows2016: 'win2k16', Windows2012: 'win2k12', Windows2008: 'win2k8', Windows2003: 'win2k3',
  Windows2000: 'win2k', WindowsNT4: 'winnt4.0', Windows98: 'win98', Windows95: 'win95', WindowsMe: 'winme', Windows31: 'win3.1', DOS: 'msdos6.22',
  Debian12: 'debian12', Debian11: 'debian11', Debian10: 'debian10', Debian9: 'debian9', Debian8: 'debian8',
  Ubuntu24_LTS: 'ubuntu24.04', Ubuntu22_LTS: 'ubuntu22.04', Ubuntu20_LTS: 'ubuntu20.04', ArchLinux: 'archlinux',
};

/** The Vireo OS id this VirtualBox OSType comes back from in an export (the inverse, for the writer). */
export const VBOX_OSTYPE_OF: Record<string, string> = Object.fromEntries(Object.entries(VBOX_IDS).map(([k, v]) => [v, k]));

const VBOX_FAMILIES: Array<[RegExp, OsFamily, string]> = [
  [/^Windows|^WinNT/, 'windows', 'Windows'],
  [/^(Debian|Ubuntu|Fedora|RedHat|Oracle|OpenSUSE|SUSE|Linux|ArchLinux|Gentoo|Mandriva|Turbolinux|Xandros|Alpine)/i, 'linux', 'Linux'],
  [/^(FreeBSD|OpenBSD|NetBSD)/, 'bsd', 'BSD'],
  [/^(Solaris|OpenSolaris|Illumos)/, 'solaris', 'Solaris'],
  [/^MacOS/, 'macos', 'macOS'],
  [/^DOS/, 'dos', 'DOS'],
];

/** A CIM OsType number; null for one this table lacks. */
export function osFromCim(id: number): MappedOs | null {
  const c = CIM[id];
  if (!c) return null;
  const known = c[2] ? getOs(c[2]) : undefined;
  return { id: c[2] ?? 'unknown', name: known?.name ?? c[1], family: c[0] };
}

/** A VirtualBox OSType ("Debian_64", "Windows11_64", "Linux26"); null when it says nothing. */
export function osFromVbox(osType: string): MappedOs | null {
  const base = osType.replace(/_64$/, '').replace(/_arm64$/, '');
  const id = VBOX_IDS[base];
  const fam = VBOX_FAMILIES.find(([re]) => re.test(base));
  if (!id && !fam) return null;
  const bits = /_64$/.test(osType) ? ' (64-bit)' : '';
  const known = id ? getOs(id) : undefined;
  if (known) return { id: known.id, name: known.name, family: known.family as OsFamily };
  return { id: id ?? 'unknown', name: `${base.replace(/_LTS$/, ' LTS').replace(/_/g, ' ')}${bits}`, family: fam?.[1] ?? 'other' };
}

/** What the writer puts in OperatingSystemSection for a Vireo OS family (CIM OsType). */
export function cimOf(family: OsFamily, osId: string): number {
  const exact = Object.entries(CIM).find(([, c]) => c[2] === osId);
  if (exact) return Number(exact[0]);
  if (/^debian/.test(osId)) return 96;
  if (/^ubuntu/.test(osId)) return 94;
  return family === 'linux' ? 101 : family === 'windows' ? 1 : family === 'bsd' ? 78 : 102;
}

/** VirtualBox OSType for the writer's vbox:OSType. */
export function vboxOsTypeOf(family: OsFamily, osId: string): string {
  const exact = VBOX_OSTYPE_OF[osId];
  const bits64 = !/^(win(3|9|me|nt|2k$)|msdos)/.test(osId);
  if (exact) return exact === 'DOS' || !bits64 ? exact : `${exact}_64`;
  if (/^debian/.test(osId)) return 'Debian_64';
  if (/^ubuntu/.test(osId)) return 'Ubuntu_64';
  return family === 'linux' ? 'Linux_64' : family === 'windows' ? 'Windows10_64' : family === 'bsd' ? 'FreeBSD_64' : family === 'dos' ? 'DOS' : 'Other_64';
}
