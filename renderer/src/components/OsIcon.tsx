import type { VmState } from '../../../electron/api/types.ts';
import { STATE_LABEL } from '../lib/vm-actions.ts';
import { cx } from './ui.tsx';

// OS family icons drawn as simple glyphs (no trademarked logos bundled).

const FAMILY: Record<string, { bg: string; label: string }> = {
  linux: { bg: 'bg-amber-500', label: 'Linux' },
  windows: { bg: 'bg-sky-600', label: 'Windows' },
  bsd: { bg: 'bg-red-600', label: 'BSD' },
  dos: { bg: 'bg-zinc-700', label: 'DOS' },
  macos: { bg: 'bg-zinc-500', label: 'macOS' },
  solaris: { bg: 'bg-orange-600', label: 'Solaris' },
  other: { bg: 'bg-violet-600', label: 'Other OS' },
};

function Glyph({ family }: { family: string }) {
  switch (family) {
    case 'windows':
      return (
        <g fill="currentColor">
          <rect x="5" y="5" width="6.5" height="6.5" />
          <rect x="12.5" y="5" width="6.5" height="6.5" />
          <rect x="5" y="12.5" width="6.5" height="6.5" />
          <rect x="12.5" y="12.5" width="6.5" height="6.5" />
        </g>
      );
    case 'linux':
      return (
        <g fill="currentColor">
          <ellipse cx="12" cy="13" rx="5" ry="6.5" />
          <circle cx="10" cy="9" r="1" className="fill-amber-500" />
          <circle cx="14" cy="9" r="1" className="fill-amber-500" />
          <path d="M7 19.5h4l-2-2zM13 19.5h4l-2-2z" />
        </g>
      );
    case 'bsd':
      return (
        <g fill="currentColor">
          <circle cx="12" cy="13" r="6" />
          <path d="M6 5l3 4-1 1zM18 5l-3 4 1 1z" />
        </g>
      );
    case 'dos':
      return (
        <g fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round">
          <path d="M6 8l4 4-4 4M12 17h6" />
        </g>
      );
    case 'macos':
      return (
        <g fill="currentColor">
          <circle cx="12" cy="14" r="5.5" />
          <path d="M12 8c0-2 1-3.5 3-4-0.2 2-1.2 3.4-3 4z" />
        </g>
      );
    case 'solaris':
      return (
        <g fill="currentColor">
          <circle cx="12" cy="12" r="4" />
          <path d="M12 3v3M12 18v3M3 12h3M18 12h3M5.6 5.6l2.1 2.1M16.3 16.3l2.1 2.1M5.6 18.4l2.1-2.1M16.3 7.7l2.1-2.1" stroke="currentColor" strokeWidth="1.6" />
        </g>
      );
    default:
      return (
        <g fill="none" stroke="currentColor" strokeWidth="1.8">
          <rect x="4.5" y="5.5" width="15" height="10" rx="1" />
          <path d="M9 19h6M12 15.5V19" />
        </g>
      );
  }
}

export function OsIcon({ family, size = 32, title }: { family: string; size?: number; title?: string }) {
  const f = FAMILY[family] ?? FAMILY.other!;
  return (
    <span
      role="img"
      aria-label={title ?? f.label}
      className={cx('inline-flex shrink-0 items-center justify-center rounded-md text-white', f.bg)}
      style={{ width: size, height: size }}
    >
      <svg viewBox="0 0 24 24" width={size * 0.75} height={size * 0.75} aria-hidden="true">
        <Glyph family={family} />
      </svg>
    </span>
  );
}

const STATE_STYLE: Record<VmState, string> = {
  running: 'bg-emerald-100 text-emerald-900 dark:bg-emerald-900 dark:text-emerald-100',
  paused: 'bg-amber-100 text-amber-900 dark:bg-amber-900 dark:text-amber-100',
  stopped: 'bg-zinc-200 text-zinc-800 dark:bg-zinc-700 dark:text-zinc-100',
  crashed: 'bg-red-100 text-red-900 dark:bg-red-900 dark:text-red-100',
  starting: 'bg-sky-100 text-sky-900 dark:bg-sky-900 dark:text-sky-100',
  stopping: 'bg-sky-100 text-sky-900 dark:bg-sky-900 dark:text-sky-100',
  saving: 'bg-sky-100 text-sky-900 dark:bg-sky-900 dark:text-sky-100',
  restoring: 'bg-sky-100 text-sky-900 dark:bg-sky-900 dark:text-sky-100',
  saved: 'bg-violet-100 text-violet-900 dark:bg-violet-900 dark:text-violet-100',
};

export function StateBadge({ state, broken }: { state: VmState; broken?: boolean }) {
  if (broken) {
    return <span className="rounded px-1.5 py-0.5 text-[11px] font-medium bg-red-100 text-red-900 dark:bg-red-900 dark:text-red-100">Broken</span>;
  }
  return <span className={cx('rounded px-1.5 py-0.5 text-[11px] font-medium', STATE_STYLE[state])}>{STATE_LABEL[state]}</span>;
}
