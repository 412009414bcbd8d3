import type { DetectResult } from '../../../../electron/api/types.ts';
import type { Wizard } from './useWizard.ts';

// What the install disc itself said (issue #23): the firmware it can start and why the VM uses
// it, and a release newer than Vireo's OS list. Shown on the System and Hardware steps.

/** The disc's firmware reason while the form keeps the firmware chosen for it; else what the disc cannot start. */
export function firmwareNote(detect: DetectResult | null, firmware: 'bios' | 'uefi'): { text: string; warn: boolean } | null {
  if (!detect?.firmwareReason) return null;
  if (detect.firmware === firmware) return { text: `${detect.firmwareReason}.`, warn: false };
  const boot = detect.boot;
  if (boot && ((firmware === 'uefi' && !boot.efi) || (firmware === 'bios' && !boot.bios)) && (boot.bios || boot.efi)) {
    return { text: `This disc cannot start with ${firmware === 'uefi' ? 'UEFI' : 'BIOS'}: the VM may not boot from it.`, warn: true };
  }
  return null;
}

export function FirmwareNote({ w }: { w: Wizard }) {
  const note = w.state.form.source === 'iso' ? firmwareNote(w.state.detect, w.state.form.firmware) : null;
  if (!note) return null;
  return (
    <p data-testid="firmware-reason" className={note.warn ? 'text-xs text-amber-800 dark:text-amber-300' : 'text-xs text-zinc-600 dark:text-zinc-400'}>
      {note.text}
    </p>
  );
}

export function MediaNotes({ w }: { w: Wizard }) {
  const d = w.state.detect;
  if (w.state.form.source !== 'iso' || !d) return null;
  return (
    <>
      {d.status === 'detected' && d.newerThanList && <p className="text-xs text-zinc-600 dark:text-zinc-400">{d.newerThanList}.</p>}
      <FirmwareNote w={w} />
    </>
  );
}
