// The main window's remembered size and position, as pure functions: parse what was saved
// (any garbage → defaults), and keep the window on a display that still exists (a laptop
// undocked from its second monitor must not open Vireo off screen).

export interface Rect { x: number; y: number; width: number; height: number }
export interface WindowState { bounds: Rect | null; maximized: boolean }

export const DEFAULT_SIZE = { width: 1200, height: 780 } as const;
export const MIN_SIZE = { width: 800, height: 520 } as const;

const isInt = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n);

export function parseWindowState(raw: unknown): WindowState {
  if (!raw || typeof raw !== 'object') return { bounds: null, maximized: false };
  const r = raw as { bounds?: Partial<Rect>; maximized?: unknown };
  const b = r.bounds;
  const ok = b && isInt(b.x) && isInt(b.y) && isInt(b.width) && isInt(b.height) && b.width > 0 && b.height > 0;
  return {
    bounds: ok ? { x: Math.round(b.x!), y: Math.round(b.y!), width: Math.round(b.width!), height: Math.round(b.height!) } : null,
    maximized: r.maximized === true,
  };
}

function overlap(a: Rect, b: Rect): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return w > 0 && h > 0 ? w * h : 0;
}

/**
 * Bounds to open with: the saved ones when at least a quarter of the window lies on some
 * display's work area (shrunk to fit it), else the default size centred on the primary display.
 */
export function initialBounds(saved: WindowState, workAreas: readonly Rect[]): Rect | { width: number; height: number } {
  const primary = workAreas[0];
  const b = saved.bounds;
  if (b && primary) {
    const best = workAreas.reduce((acc, wa) => (overlap(b, wa) > overlap(b, acc) ? wa : acc), primary);
    if (overlap(b, best) >= (b.width * b.height) / 4) {
      const width = Math.max(MIN_SIZE.width, Math.min(b.width, best.width));
      const height = Math.max(MIN_SIZE.height, Math.min(b.height, best.height));
      const x = Math.min(Math.max(b.x, best.x), best.x + best.width - width);
      const y = Math.min(Math.max(b.y, best.y), best.y + best.height - height);
      return { x, y, width, height };
    }
  }
  if (!primary) return { ...DEFAULT_SIZE };
  const width = Math.min(DEFAULT_SIZE.width, primary.width);
  const height = Math.min(DEFAULT_SIZE.height, primary.height);
  return { x: primary.x + Math.round((primary.width - width) / 2), y: primary.y + Math.round((primary.height - height) / 2), width, height };
}
