// Backups (engine/backup/): what the catalog of one VM's backups holds, as the API shows it.

export type BackupType = 'full' | 'incremental';
/** running: being written (or interrupted, until the next engine marks it failed); good: restorable */
export type BackupState = 'running' | 'good' | 'failed';

export interface BackupDiskFile {
  /** the VM's disk id (disk0 …) */
  disk: string;
  /** file name inside the VM's backup folder; an incremental's backing file is its parent's */
  file: string;
  /** bytes the file takes (what this backup added to the folder) */
  bytes: number;
  virtualSize: number;
}

/** The machine state beside the disks: file names inside the VM's backup folder */
export interface BackupFirmware {
  /** the UEFI variable store (a copy without its internal snapshots), null for BIOS VMs */
  nvram: string | null;
  /** swtpm's state files, [] without a TPM */
  tpm: string[];
}

export interface BackupEntry {
  id: string;
  type: BackupType;
  state: BackupState;
  startedAt: string;
  endedAt: string | null;
  /** the backup this one is on top of (incrementals), null for a full one */
  parent: string | null;
  /** the full backup its chain starts with (itself for a full one) */
  chain: string;
  /** whether the VM ran while it was taken (live, through QMP) or was stopped (its image) */
  source: 'running' | 'stopped';
  disks: BackupDiskFile[];
  /** UEFI variables and TPM state, copied whole in every backup (null: none, or a backup from before they were kept) */
  firmware: BackupFirmware | null;
  /** every file this backup added: disks and firmware state */
  bytes: number;
  /** the guest's file systems: frozen through its agent, or why not */
  quiesce: string | null;
  /** why a backup asked to be incremental is full, or other things worth knowing */
  note: string | null;
  error: string | null;
  verified: { at: string; ok: boolean; message: string } | null;
}

export interface BackupSchedule {
  /** a backup is due this many hours after the last good one */
  everyHours: number;
  /** incremental on top of the last chain when it can; false: a full backup each time */
  incremental: boolean;
  /** prune after each scheduled backup */
  keep: BackupKeep | null;
}

export interface BackupKeep {
  daily: number;
  weekly: number;
}

export interface BackupCatalog {
  vmId: string;
  vmName: string;
  /** the VM's backup folder (target/<vm id>) */
  dir: string | null;
  /** the folder the VM's backups go to, as last chosen */
  target: string | null;
  schedule: BackupSchedule | null;
  /** newest first */
  backups: BackupEntry[];
}

export interface BackupVerifyResult {
  backup: string;
  ok: boolean;
  /** every file of the chain, checked with qemu-img check */
  files: string[];
  message: string;
}

export interface BackupPruneResult {
  removed: string[];
  kept: string[];
}
