import { FIRMWARES } from '../../../../electron/shared/config-enums.ts';
import { formatBytes, formatMiB } from '../../../../electron/shared/size.ts';
import type { WizardForm } from '../../lib/wizard.ts';
import { Check, Field, inputClass } from '../ui.tsx';
import type { Wizard } from './useWizard.ts';
import { ArchChoice } from './ArchChoice.tsx';
import { FirmwareNote } from './MediaNotes.tsx';

const FIRMWARE_LABEL: Record<WizardForm['firmware'], string> = { bios: 'BIOS (SeaBIOS)', uefi: 'UEFI (OVMF)' };

export function HardwareStep({ w, tpm }: { w: Wizard; tpm: { available: boolean; reason?: string | undefined } | null }) {
  const { form, os } = w.state;
  return (
    <>
      <div className="grid gap-4 sm:grid-cols-3">
        <Field label={`CPUs (host has ${w.hostCpus})`} error={w.err('cpus')} warning={w.warn('cpus')}>
          {(p) => <input {...p} data-autofocus type="number" min={1} max={w.hostCpus} className={inputClass} value={form.cpus} onChange={(e) => w.set('cpus', Number(e.target.value))} />}
        </Field>
        <Field label={`Memory (host has ${formatBytes(w.hostMem)})`} error={w.err('memory')} warning={w.warn('memory')} hint={os ? `Recommended ${formatMiB(os.recommended.memoryMiB)}` : 'e.g. 2G or 2048M'}>
          {(p) => <input {...p} className={inputClass} value={form.memory} onChange={(e) => w.set('memory', e.target.value)} />}
        </Field>
        {form.source !== 'import' && (
          <Field label="Disk size" error={w.err('disk')} warning={w.warn('disk')} hint={os?.requires?.diskGiB ? `At least ${os.requires.diskGiB} GiB for ${os.name}` : os?.minimum ? `Usually at least ${os.minimum.diskGiB} GiB for ${os.name}` : 'Grows as used (qcow2)'}>
            {(p) => <input {...p} className={inputClass} value={form.disk} onChange={(e) => w.set('disk', e.target.value)} />}
          </Field>
        )}
      </div>
      <ArchChoice w={w} />
      <fieldset className="flex flex-col gap-2">
        <legend className="mb-1 text-xs font-medium text-zinc-700 dark:text-zinc-300">Firmware</legend>
        <div className="flex gap-4">
          {FIRMWARES.map((fw) => (
            <label key={fw} className="flex items-center gap-2 text-sm">
              <input type="radio" name="firmware" className="accent-accent-700" checked={form.firmware === fw} disabled={form.arch === 'aarch64' && fw === 'bios'} onChange={() => w.set('firmware', fw)} />
              {form.arch === 'aarch64' && fw === 'uefi' ? 'UEFI (AAVMF)' : FIRMWARE_LABEL[fw]}
            </label>
          ))}
        </div>
        <FirmwareNote w={w} />
        {w.warn('firmware') && <p className="text-xs text-amber-800 dark:text-amber-300">{w.warn('firmware')}</p>}
        {w.err('firmware') && <p className="text-xs text-red-700 dark:text-red-400">{w.err('firmware')}</p>}
        <Check label="Secure Boot" checked={form.secureBoot} disabled={form.firmware !== 'uefi'} hint={form.firmware !== 'uefi' ? 'Needs UEFI firmware.' : w.err('secureBoot')} onChange={(v) => w.set('secureBoot', v)} />
        <Check
          label="TPM 2.0"
          checked={form.tpm}
          onChange={(v) => w.set('tpm', v)}
          hint={w.err('tpm') ?? w.warn('tpm') ?? (tpm?.available ? 'Emulated with swtpm.' : `Unavailable: ${tpm?.reason ?? 'swtpm not found'}`)}
        />
      </fieldset>
    </>
  );
}
