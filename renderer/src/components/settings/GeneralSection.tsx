import { Field, inputClass } from '../ui.tsx';
import type { SectionProps } from './types.ts';

export function GeneralSection({ cfg, edit, issue }: SectionProps) {
  return (
    <>
      <Field label="Name" error={issue('name')}>
        {(p) => <input {...p} data-autofocus className={inputClass} value={cfg.name} onChange={(e) => edit((n) => void (n.name = e.target.value))} />}
      </Field>
      <Field label="Notes" error={issue('notes')}>
        {(p) => <textarea {...p} rows={5} className={inputClass} value={cfg.notes} maxLength={10000} onChange={(e) => edit((n) => void (n.notes = e.target.value))} />}
      </Field>
    </>
  );
}
