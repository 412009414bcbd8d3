import { forwardRef, useId, type ButtonHTMLAttributes, type ReactNode } from 'react';
import type { WireError } from '../api/client.ts';

// Small building blocks shared by every view. No UI kit: Tailwind classes, native elements,
// ARIA where native semantics are not enough. Views import these through ui.tsx, which also
// gathers the dialogs (dialog.tsx) and the menus and tabs (menu.tsx).

export function cx(...parts: Array<string | false | null | undefined>): string {
  return parts.filter(Boolean).join(' ');
}

export type Variant = 'primary' | 'default' | 'danger' | 'ghost';

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
}

// forwardRef rather than React 19's ref-as-a-prop: the built page's Preact compat layer hands a
// function component its ref only through forwardRef (vite.renderer.config.ts).
export const Button = forwardRef<HTMLButtonElement, ButtonProps>(function Button({ variant = 'default', disabledReason, size = 'md', className, title, disabled, ...rest }, ref) {
  const off = disabled || !!disabledReason;
  // aria-disabled keeps the button focusable so its tooltip (the reason) can be reached by
  // keyboard; the click is swallowed instead.
  return (
    <button
      type="button"
      {...rest}
      ref={ref}
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
});

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
        <CloseButton label="Dismiss error" onClick={onDismiss} className="px-1 text-lg text-red-800 hover:bg-red-100 dark:text-red-200 dark:hover:bg-red-900" />
      )}
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

/** The "×" that closes or dismisses something; its label says what, for screen readers. */
export function CloseButton({ label, onClick, className }: { label: string; onClick: () => void; className: string }) {
  return (
    <button type="button" onClick={onClick} aria-label={label} className={cx('rounded leading-none', className)}>
      ×
    </button>
  );
}
