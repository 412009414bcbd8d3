import type { VmConfig } from '../../../../electron/api/types.ts';
import { DISPLAY_DEVICES } from '../../../../electron/shared/config-enums.ts';
import { ARCH_RULES } from '../../../../electron/shared/arch-rules.ts';
import { resolutionAvailability } from '../../../../electron/shared/display-caps.ts';
import { ResolutionField } from '../../display/ResolutionField.tsx';
import { Check, Field, inputClass } from '../ui.tsx';
import type { SectionProps } from './types.ts';

export function DisplaySection({ cfg: c, edit, issue, lock }: SectionProps) {
  return (
    <>
      <Field label="Display device" error={issue('display.device')} hint={lock ?? (c.arch === 'aarch64' ? 'ramfb shows the console with no guest driver; virtio-gpu-pci needs one in the guest.' : 'std works everywhere; virtio-vga is faster with a driver in the guest.')}>
        {(p) => (
          <select {...p} disabled={!!lock} className={inputClass} value={c.display.device} onChange={(e) => edit((n) => {
            n.display.device = e.target.value as VmConfig['display']['device'];
            // A resolution the new device cannot take would make the config invalid.
            if (!resolutionAvailability(n.display.device).ok) n.display.resolution = null;
          })}>
            {DISPLAY_DEVICES.filter((d) => ARCH_RULES[c.arch].displays.includes(d) || d === c.display.device).map((d) => <option key={d} value={d}>{d}</option>)}
          </select>
        )}
      </Field>
      <ResolutionField cfg={c} edit={edit} issue={issue} lock={lock} />
      <Check label="Absolute pointer (USB tablet)" checked={c.input.tablet} disabled={!!lock} hint={issue('input.tablet') ?? lock ?? 'The pointer follows the mouse without being captured; old guests without USB need it off.'} onChange={(v) => edit((n) => void (n.input.tablet = v))} />
    </>
  );
}
