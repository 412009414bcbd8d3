import { useEffect, useId, useRef, useState, type KeyboardEvent as ReactKeyboardEvent, type ReactNode } from 'react';
import { Button, cx, type Variant } from './controls.tsx';

// Keyboard-driven menus and tabs (WAI-ARIA patterns).

/** A menu button (Stop ▾): arrow keys move, Esc closes, focus returns to the button. */
export function MenuButton({
  label, items, disabledReason, variant,
}: {
  label: ReactNode;
  items: Array<{ label: string; onSelect: () => void; disabledReason?: string | null }>;
  disabledReason?: string | null;
  variant?: Variant;
}) {
  const [open, setOpen] = useState(false);
  const btn = useRef<HTMLButtonElement>(null);
  const menu = useRef<HTMLDivElement>(null);
  const menuId = useId();

  useEffect(() => {
    if (!open) return;
    menu.current?.querySelector<HTMLElement>('[role=menuitem]:not([aria-disabled=true])')?.focus();
    const onDoc = (e: MouseEvent) => {
      if (!menu.current?.contains(e.target as Node) && e.target !== btn.current) setOpen(false);
    };
    document.addEventListener('mousedown', onDoc);
    return () => document.removeEventListener('mousedown', onDoc);
  }, [open]);

  const onMenuKey = (e: ReactKeyboardEvent) => {
    const all = [...(menu.current?.querySelectorAll<HTMLElement>('[role=menuitem]') ?? [])];
    const i = all.indexOf(document.activeElement as HTMLElement);
    if (e.key === 'ArrowDown') {
      e.preventDefault();
      all[(i + 1) % all.length]?.focus();
    } else if (e.key === 'ArrowUp') {
      e.preventDefault();
      all[(i - 1 + all.length) % all.length]?.focus();
    } else if (e.key === 'Escape' || e.key === 'Tab') {
      e.stopPropagation();
      setOpen(false);
      btn.current?.focus();
    }
  };

  return (
    <div className="relative">
      <Button
        ref={btn}
        variant={variant}
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? menuId : undefined}
        disabledReason={disabledReason}
        onClick={() => setOpen((o) => !o)}
      >
        {label} <span aria-hidden="true">▾</span>
      </Button>
      {open && (
        <div
          ref={menu}
          id={menuId}
          role="menu"
          onKeyDown={onMenuKey}
          className="absolute left-0 z-30 mt-1 min-w-44 rounded-md border border-zinc-200 bg-white py-1 shadow-lg dark:border-zinc-700 dark:bg-zinc-800"
        >
          {items.map((it) => (
            <button
              key={it.label}
              type="button"
              role="menuitem"
              tabIndex={-1}
              aria-disabled={!!it.disabledReason || undefined}
              title={it.disabledReason ?? undefined}
              onClick={() => {
                if (it.disabledReason) return;
                setOpen(false);
                btn.current?.focus();
                it.onSelect();
              }}
              className={cx(
                'block w-full px-3 py-1.5 text-left text-sm hover:bg-zinc-100 focus:bg-zinc-100 dark:hover:bg-zinc-700 dark:focus:bg-zinc-700',
                it.disabledReason && 'cursor-not-allowed opacity-50',
              )}
            >
              {it.label}
            </button>
          ))}
        </div>
      )}
    </div>
  );
}

/** Tabs per the WAI-ARIA pattern: arrow keys move between tabs, one tab stop. */
export function Tabs<T extends string>({
  tabs, value, onChange, label, idBase,
}: { tabs: Array<{ id: T; label: string }>; value: T; onChange: (t: T) => void; label: string; idBase: string }) {
  const onKey = (e: ReactKeyboardEvent, i: number) => {
    let j = -1;
    if (e.key === 'ArrowRight') j = (i + 1) % tabs.length;
    if (e.key === 'ArrowLeft') j = (i - 1 + tabs.length) % tabs.length;
    if (e.key === 'Home') j = 0;
    if (e.key === 'End') j = tabs.length - 1;
    if (j < 0) return;
    e.preventDefault();
    onChange(tabs[j]!.id);
    document.getElementById(`${idBase}-tab-${tabs[j]!.id}`)?.focus();
  };
  return (
    <div role="tablist" aria-label={label} className="flex gap-1 border-b border-zinc-200 px-4 dark:border-zinc-700">
      {tabs.map((t, i) => (
        <button
          key={t.id}
          id={`${idBase}-tab-${t.id}`}
          type="button"
          role="tab"
          aria-selected={value === t.id}
          aria-controls={`${idBase}-panel-${t.id}`}
          tabIndex={value === t.id ? 0 : -1}
          onClick={() => onChange(t.id)}
          onKeyDown={(e) => onKey(e, i)}
          className={cx(
            '-mb-px border-b-2 px-3 py-2 text-sm',
            value === t.id
              ? 'border-accent-600 font-medium text-zinc-900 dark:text-zinc-50'
              : 'border-transparent text-zinc-600 hover:text-zinc-900 dark:text-zinc-400 dark:hover:text-zinc-100',
          )}
        >
          {t.label}
        </button>
      ))}
    </div>
  );
}
