import type { VmConfig } from '../../../../electron/api/types.ts';
import { SOUND_DEVICES } from '../../../../electron/shared/config-enums.ts';
import { Field, inputClass } from '../ui.tsx';
import type { SectionProps } from './types.ts';

type Sound = VmConfig['sound']['device'];
const LABEL: Record<Sound, string> = { none: 'None', hda: 'Intel HD Audio (hda)', ac97: 'AC’97 (ac97)', sb16: 'Sound Blaster 16 (sb16)' };

export function SoundSection({ cfg: c, edit, issue, lock }: SectionProps) {
  return (
    <Field label="Sound card" error={issue('sound.device')} hint={lock ?? 'HD Audio for modern guests, AC’97 for older ones, Sound Blaster 16 for DOS.'}>
      {(p) => (
        <select {...p} disabled={!!lock} className={inputClass} value={c.sound.device} onChange={(e) => edit((n) => void (n.sound.device = e.target.value as Sound))}>
          {SOUND_DEVICES.map((d) => <option key={d} value={d}>{LABEL[d]}</option>)}
        </select>
      )}
    </Field>
  );
}
