import { Field, cx, inputClass } from '../ui.tsx';
import type { SectionProps } from './types.ts';

export function AdvancedSection({ extra, setExtra, issue, lock }: SectionProps) {
  return (
    <Field label="Extra QEMU arguments, one per line" error={issue('advanced.extraArgs')} hint={lock ?? 'Appended last. Each line is one argument: write "-device" and "usb-tablet" on two lines.'}>
      {(p) => <textarea {...p} disabled={!!lock} rows={6} className={cx(inputClass, 'font-mono')} value={extra.extraArgs} onChange={(e) => setExtra((x) => ({ ...x, extraArgs: e.target.value }))} />}
    </Field>
  );
}
