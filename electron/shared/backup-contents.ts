// What one backup holds, in words, for the Backups tab and `vireo backup ls`: its disks and the
// machine state kept beside them ("2 disks, UEFI variables, TPM state"). The shape is
// api/backup-types.ts's BackupEntry, restated here (this folder imports nothing).

export function backupContents(b: { disks: readonly unknown[]; firmware: { nvram: string | null; tpm: readonly string[] } | null }): string {
  const parts = [`${b.disks.length} ${b.disks.length === 1 ? 'disk' : 'disks'}`];
  if (b.firmware?.nvram) parts.push('UEFI variables');
  if (b.firmware?.tpm.length) parts.push('TPM state');
  return parts.join(', ');
}
