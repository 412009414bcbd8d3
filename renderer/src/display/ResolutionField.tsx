import type { VmConfig } from '../../../electron/api/types.ts';
import { RESOLUTION_PRESETS, resizeAvailability, resolutionAvailability } from '../../../electron/shared/display-caps.ts';
import { Field, inputClass } from '../components/ui.tsx';

// Settings → Display: the resolution the guest starts with, and whether its screen can then
// follow the window (shown here so the reason is found before the screen tab's toggle).

interface Props {
  cfg: VmConfig;
  edit: (f: (c: VmConfig) => void) => void;
  issue: (path: string) => string | undefined;
  lock: string | null;
}

export function ResolutionField({ cfg: c, edit, issue, lock }: Props) {
  const avail = resolutionAvailability(c.display.device);
  const follow = resizeAvailability(c.display.device);
  const r = c.display.resolution;
  const value = r ? `${r.width}x${r.height}` : '';
  const options = RESOLUTION_PRESETS.map(([w, h]) => `${w}x${h}`);
  if (value && !options.includes(value)) options.unshift(value);
  const hint = !avail.ok
    ? avail.reason
    : follow.ok
      ? 'The screen tab can then make the guest follow the window ("Resize guest"); a text console follows only up to this size.'
      : `The guest keeps this size: ${follow.reason}.`;
  return (
    <Field label="Initial resolution" error={issue('display.resolution')} hint={lock ?? hint}>
      {(p) => (
        <select {...p} disabled={!!lock || !avail.ok} className={inputClass} value={value}
          onChange={(e) => edit((n) => {
            const [w, h] = e.target.value.split('x').map(Number);
            n.display.resolution = w && h ? { width: w, height: h } : null;
          })}>
          <option value="">Device default</option>
          {options.map((o) => <option key={o} value={o}>{o.replace('x', ' × ')}</option>)}
        </select>
      )}
    </Field>
  );
}
