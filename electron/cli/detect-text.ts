import type { DetectResult } from '../api/types.ts';

/** `vireo detect-os` in words: the OS, the firmware with its reason, and a newer-release note. */
export function formatDetect(r: DetectResult): string {
  const lines =
    r.status === 'detected'
      ? [`${r.name} (${r.id})`]
      : [`unknown: ${r.reason}${r.iso?.volumeId ? ` (volume id "${r.iso.volumeId}")` : ''}`];
  if (r.status === 'detected' && r.newerThanList) lines.push(`  note:     ${r.newerThanList}`);
  const fw = r.firmware;
  if (fw) lines.push(`  firmware: ${fw === 'uefi' ? 'UEFI' : 'BIOS'}${r.firmwareReason ? ` (${r.firmwareReason})` : ''}`);
  return lines.join('\n');
}
