import { Check } from '../ui.tsx';
import type { SectionProps } from './types.ts';

export function SerialSection({ cfg: c, edit, issue, lock }: SectionProps) {
  return (
    <Check label="Serial console" checked={c.serial.enabled} disabled={!!lock} hint={issue('serial.enabled') ?? lock ?? 'A serial port shown in the Console tab and logged to a file.'} onChange={(v) => edit((n) => void (n.serial.enabled = v))} />
  );
}
