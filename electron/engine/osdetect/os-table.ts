// The OS table is generated from Debian's osinfo-db by scripts/gen-os-table.ts and committed as
// resources/os/os-table.json. These types are the contract between that script and the engine.

export type OsFamily = 'linux' | 'windows' | 'bsd' | 'dos' | 'macos' | 'solaris' | 'other';

export type MediaArch = 'x86_64' | 'i686' | 'aarch64';

export interface TableResources {
  cpus?: number;
  memoryMiB?: number;
  diskGiB?: number;
}

/** One `<media><iso>` entry of osinfo: every matcher present must match (regexes, as strings). */
export interface TableMedia {
  arch: MediaArch;
  volumeId?: string;
  systemId?: string;
  publisherId?: string;
  applicationId?: string;
  /** exact size of the volume in bytes (osinfo `volume-size`) */
  volumeSize?: number;
  live?: boolean;
}

export interface TableOs {
  /** osinfo short-id, e.g. "win11", "ubuntu22.04" */
  id: string;
  /** osinfo URI, e.g. "http://microsoft.com/win/11" */
  uri: string;
  name: string;
  family: OsFamily;
  /** osinfo's own family (winnt, win9x, linux, freebsd, ...) and distro, kept for finer rules */
  osinfoFamily?: string;
  distro?: string;
  version?: string;
  vendor?: string;
  /** ISO date (YYYY-MM-DD) */
  released?: string;
  eol?: string;
  /** a rolling release (Arch, Tumbleweed): only chosen when no versioned OS matches */
  rolling?: boolean;
  minimum: TableResources;
  recommended: TableResources;
  /** UEFI: 'required' when osinfo marks BIOS unsupported, 'supported' when it lists EFI */
  efi?: 'required' | 'supported';
  secureBoot?: boolean;
  tpm?: boolean;
  media: TableMedia[];
}

export interface OsTable {
  /** where the data came from, e.g. "osinfo-db 20221203" */
  source: string;
  oses: TableOs[];
}
