import {
  useEffect, useId, useRef, useState, type ButtonHTMLAttributes, type KeyboardEvent as ReactKeyboardEvent, type ReactNode, type Ref,
} from 'react';
import type { WireError } from '../api/client.ts';

// Small building blocks shared by every view. No UI kit: Tailwind classes, native elements,
// ARIA where native semantics are not enough.

export function cx(...parts: Array<string | false | null | undefined>): string {
  return parts.filter(Boolean).join(' ');
}

type Variant = 'primary' | 'default' | 'danger' | 'ghost';

const VARIANT: Record<Variant, string> = {
  primary: 'bg-accent-700 text-white hover:bg-accent-600 border-transparent',
  default:
    'bg-white text-zinc-800 border-zinc-300 hover:bg-zinc-50 dark:bg-zinc-800 dark:text-zinc-100 dark:border-zinc-600 dark:hover:bg-zinc-700',
  danger: 'bg-red-700 text-white hover:bg-red-600 border-transparent',
  ghost: 'bg-transparent text-zinc-700 border-transparent hover:bg-zinc-100 dark:text-zinc-200 dark:hover:bg-zinc-800',
};

export interface ButtonProps extends ButtonHTMLAttributes<HTMLButtonElement> {
  variant?: Variant;
  /** why the button is disabled; shown as its tooltip and announced to screen readers */
  disabledReason?: string | null;
  size?: 'sm' | 'md';
  ref?: Ref<HTMLButtonElement>;
}

export function Button({ variant = 'default', disabledReason, size = 'md', className, title, disabled, ...rest }: ButtonProps) {
  const off = disabled || !!disabledReason;
  // aria-disabled keeps the button focusable so its tooltip (the reason) can be reached by
  // keyboard; the click is swallowed instead.
  return (
    <button
      type="button"
      {...rest}
      aria-disabled={off || undefined}
      title={off ? (disabledReason ?? title) : title}
      onClick={off ? (e) => e.preventDefault() : rest.onClick}
      className={cx(
        'inline-flex items-center gap-1.5 rounded-md border font-medium whitespace-nowrap transition-colors',
        size === 'sm' ? 'px-2 py-0.5 text-xs' : 'px-3 py-1.5 text-sm',
        VARIANT[variant],
        off && 'cursor-not-allowed opacity-50',
        className,
      )}
    />
  );
}

export function Field({
  label, error, warning, hint, children, id: givenId,
}: {
  label: string;
  error?: string | undefined;
  warning?: string | undefined;
  hint?: string | undefined;
  id?: string;
  children: (props: { id: string; 'aria-invalid'?: true; 'aria-describedby'?: string }) => ReactNode;
}) {
  const auto = useId();
  const id = givenId ?? auto;
  const msgId = `${id}-msg`;
  const msg = error ?? warning ?? hint;
  return (
    <div className="flex flex-col gap-1">
      <label htmlFor={id} className="text-xs font-medium text-zinc-700 dark:text-zinc-300">
        {label}
      </label>
      {children({ id, ...(error ? { 'aria-invalid': true as const } : {}), ...(msg ? { 'aria-describedby': msgId } : {}) })}
      {msg && (
        <p
          id={msgId}
          role={error ? 'alert' : undefined}
          className={cx(
            'text-xs',
            error ? 'text-red-700 dark:text-red-400' : warning ? 'text-amber-800 dark:text-amber-300' : 'text-zinc-600 dark:text-zinc-400',
          )}
        >
          {msg}
        </p>
      )}
    </div>
  );
}

export const inputClass =
  'w-full rounded-md border border-zinc-300 bg-white px-2.5 py-1.5 text-sm text-zinc-900 placeholder:text-zinc-500 ' +
  'aria-[invalid=true]:border-red-600 disabled:cursor-not-allowed disabled:opacity-60 ' +
  'dark:border-zinc-600 dark:bg-zinc-950 dark:text-zinc-100 dark:placeholder:text-zinc-500';

export function Check({
  label, checked, onChange, disabled, hint, id: givenId,
}: { label: string; checked: boolean; onChange: (v: boolean) => void; disabled?: boolean; hint?: string | undefined; id?: string }) {
  const auto = useId();
  const id = givenId ?? auto;
  return (
    <div className="flex items-start gap-2">
      <input
        id={id}
        type="checkbox"
        className="mt-0.5 h-4 w-4 accent-accent-700"
        checked={checked}
        disabled={disabled}
        aria-describedby={hint ? `${id}-hint` : undefined}
        onChange={(e) => onChange(e.target.checked)}
      />
      <div>
        <label htmlFor={id} className={cx('text-sm', disabled && 'opacity-60')}>
          {label}
        </label>
        {hint && (
          <p id={`${id}-hint`} className="text-xs text-zinc-600 dark:text-zinc-400">
            {hint}
          </p>
        )}
      </div>
    </div>
  );
}

export function Progress({ value, label }: { value: number | null; label: string }) {
  return (
    <div
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={value === null ? undefined : Math.round(value * 100)}
      className="relative h-1.5 w-full overflow-hidden rounded-full bg-zinc-200 dark:bg-zinc-700"
    >
      {value === null ? (
        <div className="progress-indeterminate absolute inset-y-0 w-1/3 rounded-full bg-accent-600" />
      ) : (
        <div className="h-full rounded-full bg-accent-600 transition-[width]" style={{ width: `${Math.max(0, Math.min(1, value)) * 100}%` }} />
      )}
    </div>
  );
}

export function ErrorAlert({ error, onDismiss, title }: { error: WireError; onDismiss?: () => void; title?: string }) {
  return (
    <div
      role="alert"
      className="flex items-start gap-3 rounded-md border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-900 dark:border-red-800 dark:bg-red-950 dark:text-red-100"
    >
      <div className="min-w-0 flex-1">
        {title && <p className="font-medium">{title}</p>}
        <p className="break-words">
          <code className="mr-2 rounded bg-red-100 px-1 py-0.5 font-mono text-xs dark:bg-red-900">{error.code}</code>
          {error.message}
        </p>
      </div>
      {onDismiss && (
        <button
          type="button"
          onClick={onDismiss}
          aria-label="Dismiss error"
          className="rounded px-1 text-lg leading-none text-red-800 hover:bg-red-100 dark:text-red-200 dark:hover:bg-red-900"
        >
          ×
        </button>
      )}
    </div>
  );
}

const FOCUSABLE = 'a[href],button:not([disabled]),input:not([disabled]),select:not([disabled]),textarea:not([disabled]),[tabindex]:not([tabindex="-1"])';

/** A modal dialog: focus moves in, Tab cycles inside, Esc closes, focus returns on close. */
export function Dialog({
  title, onClose, children, footer, wide, describedBy,
}: { title: string; onClose: () => void; children: ReactNode; footer?: ReactNode; wide?: boolean; describedBy?: string }) {
  const ref = useRef<HTMLDivElement>(null);
  const titleId = useId();
  const closeRef = useRef(onClose);
  closeRef.current = onClose;

  useEffect(() => {
    const previous = document.activeElement as HTMLElement | null;
    const el = ref.current!;
    const first = el.querySelector<HTMLElement>('[autofocus],[data-autofocus]') ?? el.querySelector<HTMLElement>(FOCUSABLE);
    (first ?? el).focus();
    const onKey = (e: KeyboardEvent) => {
      // Only the top-most dialog reacts when dialogs stack.
      const dialogs = document.querySelectorAll('[data-vireo-dialog]');
      if (dialogs[dialogs.length - 1] !== el) return;
      if (e.key === 'Escape') {
        e.preventDefault();
        closeRef.current();
      } else if (e.key === 'Tab') {
        const items = [...el.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((n) => n.offsetParent !== null);
        if (!items.length) return;
        const firstItem = items[0]!;
        const lastItem = items[items.length - 1]!;
        if (e.shiftKey && (document.activeElement === firstItem || !el.contains(document.activeElement))) {
          e.preventDefault();
          lastItem.focus();
        } else if (!e.shiftKey && (document.activeElement === lastItem || !el.contains(document.activeElement))) {
          e.preventDefault();
          firstItem.focus();
        }
      }
    };
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('keydown', onKey);
      previous?.focus?.();
    };
  }, []);

  return (
    <div className="fixed inset-0 z-40 flex items-center justify-center bg-black/40 p-4">
      <div
        ref={ref}
        data-vireo-dialog
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        aria-describedby={describedBy}
        tabIndex={-1}
        className={cx(
          'flex max-h-[90vh] w-full flex-col rounded-lg border border-zinc-200 bg-white shadow-xl dark:border-zinc-700 dark:bg-zinc-900',
          wide ? 'max-w-3xl' : 'max-w-lg',
        )}
      >
        <div className="flex items-center justify-between border-b border-zinc-200 px-4 py-3 dark:border-zinc-700">
          <h2 id={titleId} className="text-base font-semibold">
            {title}
          </h2>
          <button
            type="button"
            onClick={onClose}
            aria-label="Close dialog"
            className="rounded px-2 text-xl leading-none text-zinc-600 hover:bg-zinc-100 dark:text-zinc-300 dark:hover:bg-zinc-800"
          >
            ×
          </button>
        </div>
        <div className="min-h-0 flex-1 overflow-y-auto px-4 py-4">{children}</div>
        {footer && <div className="flex items-center justify-end gap-2 border-t border-zinc-200 px-4 py-3 dark:border-zinc-700">{footer}</div>}
      </div>
    </div>
  );
}

/** A confirm dialog for destructive or state-losing actions. */
export function Confirm({
  title, body, confirmLabel, danger, onConfirm, onCancel,
}: { title: string; body: ReactNode; confirmLabel: string; danger?: boolean; onConfirm: () => void; onCancel: () => void }) {
  return (
    <Dialog
      title={title}
      onClose={onCancel}
      footer={
        <>
          <Button onClick={onCancel}>Cancel</Button>
          <Button variant={danger ? 'danger' : 'primary'} onClick={onConfirm} data-autofocus>
            {confirmLabel}
          </Button>
        </>
      }
    >
      <div className="text-sm">{body}</div>
    </Dialog>
  );
}

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

export function Section({ title, children, actions }: { title: string; children: ReactNode; actions?: ReactNode }) {
  const id = useId();
  return (
    <section aria-labelledby={id} className="rounded-lg border border-zinc-200 dark:border-zinc-700">
      <div className="flex items-center justify-between border-b border-zinc-200 px-3 py-2 dark:border-zinc-700">
        <h2 id={id} className="text-xs font-semibold tracking-wide text-zinc-700 uppercase dark:text-zinc-300">
          {title}
        </h2>
        {actions}
      </div>
      <div className="px-3 py-2">{children}</div>
    </section>
  );
}

export function KV({ rows }: { rows: Array<[string, ReactNode]> }) {
  return (
    <dl className="grid grid-cols-[max-content_1fr] gap-x-4 gap-y-1 text-sm">
      {rows.map(([k, v]) => (
        <div key={k} className="contents">
          <dt className="text-zinc-600 dark:text-zinc-400">{k}</dt>
          <dd className="min-w-0 break-words">{v}</dd>
        </div>
      ))}
    </dl>
  );
}
