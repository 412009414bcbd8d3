import { ARCHES } from '../../../../electron/shared/config-enums.ts';
import { ARCH_LABEL } from '../../../../electron/shared/arch-rules.ts';
import type { Wizard } from './useWizard.ts';

/**
 * The guest's CPU architecture. Detection sets it from the ISO (its EFI boot file or label);
 * a guest the host cannot run natively gets the emulation warning, which the person sees before
 * creating a VM that would crawl.
 */
export function ArchChoice({ w }: { w: Wizard }) {
  const { form, detect } = w.state;
  const evidence = detect && 'archEvidence' in detect ? detect.archEvidence : undefined;
  return (
    <fieldset className="flex flex-col gap-2" data-testid="wizard-arch">
      <legend className="mb-1 text-xs font-medium text-zinc-700 dark:text-zinc-300">Architecture</legend>
      <div className="flex gap-4">
        {ARCHES.map((a) => (
          <label key={a} className="flex items-center gap-2 text-sm">
            <input type="radio" name="arch" className="accent-accent-700" checked={form.arch === a} onChange={() => w.set('arch', a)} />
            {ARCH_LABEL[a]}
          </label>
        ))}
      </div>
      {evidence && <p className="text-xs text-zinc-600 dark:text-zinc-400">From the ISO: {evidence}.</p>}
      {w.warn('arch') && <p role="status" className="text-xs text-amber-800 dark:text-amber-300">{w.warn('arch')}</p>}
    </fieldset>
  );
}
