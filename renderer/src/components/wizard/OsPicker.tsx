import { useEffect, useId, useMemo, useRef, useState } from 'react';
import type { OsEntry } from '../../../../electron/api/types.ts';
import { OsIcon } from '../OsIcon.tsx';
import { cx, inputClass } from '../ui.tsx';

/**
 * A searchable select over os.list (combobox + listbox pattern). The list is part of the
 * dialog's flow, not a pop-over: a pop-over was cut to ~3 rows by the dialog's scroll area.
 * It opens on a click, typing or ArrowDown, not on focus: the wizard focuses this field after
 * Enter, and a list open by itself would turn the next Enter into picking its first row.
 */
export function OsPicker({ oses, value, onChange, autoFocus }: { oses: OsEntry[]; value: OsEntry | null; onChange: (o: OsEntry | null) => void; autoFocus?: boolean }) {
  const [query, setQuery] = useState('');
  const [open, setOpen] = useState(false);
  const list = useRef<HTMLUListElement>(null);
  useEffect(() => {
    if (open) list.current?.scrollIntoView({ block: 'nearest' });
  }, [open]);
  const [active, setActive] = useState(0);
  const id = useId();
  const shown = useMemo(() => {
    const words = query.toLowerCase().split(/\s+/).filter(Boolean);
    const hits = oses.filter((o) => {
      const hay = `${o.name} ${o.id} ${o.family} ${o.vendor ?? ''}`.toLowerCase();
      return words.every((w) => hay.includes(w));
    });
    return hits.slice(0, 50);
  }, [oses, query]);
  const pick = (o: OsEntry | null) => {
    onChange(o);
    setOpen(false);
    setQuery('');
  };
  return (
    <div>
      <label htmlFor={`${id}-in`} className="text-xs font-medium text-zinc-700 dark:text-zinc-300">
        Operating system
      </label>
      <input
        id={`${id}-in`}
        role="combobox"
        aria-expanded={open}
        aria-controls={`${id}-list`}
        aria-autocomplete="list"
        aria-activedescendant={open && shown[active] ? `${id}-opt-${active}` : undefined}
        data-autofocus={autoFocus || undefined}
        className={cx(inputClass, 'mt-1')}
        placeholder={value ? value.name : 'Search, e.g. "debian" or "windows 11"'}
        value={query}
        onChange={(e) => {
          setQuery(e.target.value);
          setOpen(true);
          setActive(0);
        }}
        onClick={() => setOpen(true)}
        onBlur={() => setTimeout(() => setOpen(false), 150)}
        onKeyDown={(e) => {
          if (e.key === 'ArrowDown') {
            e.preventDefault();
            setOpen(true);
            setActive((a) => Math.min(shown.length - 1, a + 1));
          } else if (e.key === 'ArrowUp') {
            e.preventDefault();
            setActive((a) => Math.max(0, a - 1));
          } else if (e.key === 'Enter' && open && shown[active]) {
            e.preventDefault();
            pick(shown[active]!);
          } else if (e.key === 'Escape' && open) {
            e.stopPropagation();
            e.nativeEvent.stopImmediatePropagation();
            setOpen(false);
          }
        }}
      />
      {open && (
        <ul
          ref={list}
          id={`${id}-list`}
          role="listbox"
          aria-label="Operating systems"
          className="mt-1 max-h-72 w-full overflow-y-auto rounded-md border border-zinc-200 bg-white py-1 shadow-lg dark:border-zinc-700 dark:bg-zinc-800"
        >
          {shown.length === 0 && <li className="px-3 py-1.5 text-sm text-zinc-600 dark:text-zinc-400">No OS matches.</li>}
          {shown.map((o, i) => (
            <li
              key={o.id}
              id={`${id}-opt-${i}`}
              role="option"
              aria-selected={i === active}
              onMouseDown={(e) => (e.preventDefault(), pick(o))}
              className={cx('flex cursor-default items-center gap-2 px-3 py-1 text-sm', i === active && 'bg-zinc-100 dark:bg-zinc-700')}
            >
              <OsIcon family={o.family} size={18} />
              {o.name}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
