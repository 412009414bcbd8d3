import type { Page } from '@playwright/test';

/** How many colours a sample of the canvas under `sel` has (0 while it has no size): more than one once a guest draws. */
export function canvasColours(page: Page, sel: string): Promise<number> {
  return page.evaluate((s) => {
    const c = document.querySelector<HTMLCanvasElement>(`${s} canvas`);
    if (!c || c.width === 0) return 0;
    const ctx = c.getContext('2d');
    if (!ctx) return 0;
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    const seen = new Set<number>();
    for (let i = 0; i < d.length; i += 4 * 97) seen.add((d[i]! << 16) | (d[i + 1]! << 8) | d[i + 2]!);
    return seen.size;
  }, sel);
}
