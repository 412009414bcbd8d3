import type { VmConfig } from '../../../../electron/api/types.ts';
import { AUDIO_BACKENDS, SOUND_DEVICES } from '../../../../electron/shared/config-enums.ts';
import { Field, inputClass } from '../ui.tsx';
import type { SectionProps } from './types.ts';

type Sound = VmConfig['sound']['device'];
type Backend = VmConfig['sound']['backend'];
const LABEL: Record<Sound, string> = { none: 'None', hda: 'Intel HD Audio (hda)', ac97: 'AC’97 (ac97)', sb16: 'Sound Blaster 16 (sb16)' };
const BACKEND_LABEL: Record<Backend, string> = {
  auto: 'Automatic (the desktop’s sound server)',
  none: 'Silent (the guest keeps its card)',
  pipewire: 'PipeWire',
  pa: 'PulseAudio',
  alsa: 'ALSA',
  coreaudio: 'CoreAudio (macOS)',
  dsound: 'DirectSound (Windows)',
};

export function SoundSection({ cfg: c, edit, issue, lock }: SectionProps) {
  return (
    <>
      <Field label="Sound card" error={issue('sound.device')} hint={lock ?? 'HD Audio for modern guests, AC’97 for older ones, Sound Blaster 16 for DOS.'}>
        {(p) => (
          <select {...p} disabled={!!lock} className={inputClass} value={c.sound.device} onChange={(e) => edit((n) => void (n.sound.device = e.target.value as Sound))}>
            {SOUND_DEVICES.map((d) => <option key={d} value={d}>{LABEL[d]}</option>)}
          </select>
        )}
      </Field>
      <Field
        label="Host sound"
        error={issue('sound.backend')}
        hint={lock ?? (c.sound.device === 'none' ? 'No sound card: nothing to play.' : 'Where the guest’s sound goes. A backend this QEMU build lacks is refused at start, with what to install.')}
      >
        {(p) => (
          <select {...p} disabled={!!lock || c.sound.device === 'none'} className={inputClass} value={c.sound.backend} onChange={(e) => edit((n) => void (n.sound.backend = e.target.value as Backend))}>
            {AUDIO_BACKENDS.map((b) => <option key={b} value={b}>{BACKEND_LABEL[b]}</option>)}
          </select>
        )}
      </Field>
    </>
  );
}
