import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { baseConfig } from '../electron/engine/library/library.ts';
import { writeConfig } from '../electron/engine/library/config-store.ts';
import { run } from '../electron/engine/util/proc.ts';
import { type BenchResult, type Row, REPO, log, machine, round, spread, writeResult } from './lib/common.ts';
import { startServe } from './idle.ts';

// Renderer: time to interactive in Debian's Chromium against `vireo serve` (navigation start →
// the library sidebar shows its content: the empty state, or the list with every VM), JS
// bundle size, and with 500 VMs in the library (configs only, no disks) the time until the
// list shows all 500 and until typing in the search box narrows it to one.

const BENCH = 'ui';
const RENDERER_OUT = resolve(REPO, '.vite/renderer/main_window');
const LIBRARY_SIZE = 500;

async function newestMtime(dir: string): Promise<number> {
  let newest = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    newest = Math.max(newest, (await stat(join(e.parentPath, e.name))).mtimeMs);
  }
  return newest;
}

/** Builds the renderer only when its output is missing or older than its sources. */
async function ensureRendererBuilt(): Promise<'fresh' | 'built'> {
  const index = join(RENDERER_OUT, 'index.html');
  if (existsSync(index)) {
    const built = (await stat(index)).mtimeMs;
    const src = Math.max(await newestMtime(resolve(REPO, 'renderer')), (await stat(resolve(REPO, 'vite.renderer.config.ts'))).mtimeMs);
    if (built >= src) return 'fresh';
  }
  log(BENCH, 'building the renderer (vite build --config vite.renderer.config.ts)');
  await run(process.execPath, [resolve(REPO, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'vite.renderer.config.ts'], { cwd: REPO, timeoutMs: 300_000 });
  return 'built';
}

/** The JS the page loads before its first paint: index.html's module script and its modulepreloads. */
async function initialJs(): Promise<{ bytes: number; gzipBytes: number; files: number }> {
  const html = await readFile(join(RENDERER_OUT, 'index.html'), 'utf8');
  const refs = [...html.matchAll(/<(?:script[^>]*\bsrc|link[^>]*rel="modulepreload"[^>]*\bhref)="\.\/([^"]+\.js)"/g)].map((m) => m[1]!);
  const out = { bytes: 0, gzipBytes: 0, files: 0 };
  for (const f of new Set(refs)) {
    const buf = await readFile(join(RENDERER_OUT, f));
    out.files++;
    out.bytes += buf.length;
    out.gzipBytes += gzipSync(buf).length;
  }
  return out;
}

async function bundleSize(): Promise<{ jsBytes: number; jsGzipBytes: number; cssBytes: number; otherBytes: number; files: number }> {
  const assets = join(RENDERER_OUT, 'assets');
  const out = { jsBytes: 0, jsGzipBytes: 0, cssBytes: 0, otherBytes: 0, files: 0 };
  for (const f of await readdir(assets)) {
    if (f.endsWith('.map')) continue;
    const buf = await readFile(join(assets, f));
    out.files++;
    if (f.endsWith('.js')) {
      out.jsBytes += buf.length;
      out.jsGzipBytes += gzipSync(buf).length;
    } else if (f.endsWith('.css')) out.cssBytes += buf.length;
    else out.otherBytes += buf.length;
  }
  return out;
}

async function seedLibrary(home: string, n: number): Promise<void> {
  const vmsDir = join(home, 'vms');
  await mkdir(vmsDir, { recursive: true });
  for (let i = 0; i < n; i++) {
    const id = randomUUID();
    const dir = join(vmsDir, id);
    await mkdir(join(dir, 'logs'), { recursive: true });
    await writeConfig(join(dir, 'vm.json'), baseConfig(id, `vm-${String(i).padStart(3, '0')}`));
  }
}

/**
 * A script for addInitScript (it runs before the page's own): window.__vireoShown resolves to
 * performance.now() at the first frame after `shown` (a JS expression) became true — the frame
 * that draws it (a timer queued from requestAnimationFrame runs once that frame is produced).
 */
function shownAt(shown: string): string {
  return `window.__vireoShown = new Promise((resolve) => {
  const check = () => ${shown};
  const done = () => requestAnimationFrame(() => setTimeout(() => resolve(performance.now()), 0));
  const watch = () => new MutationObserver((_, o) => { if (check()) { o.disconnect(); done(); } }).observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
  if (check()) done(); else watch();
});`;
}

export async function runUiBench(opts: { runs?: number } = {}): Promise<BenchResult> {
  const runs = opts.runs ?? Number(process.env.VIREO_BENCH_UI_RUNS ?? 9);
  const t0 = performance.now();
  const build = await ensureRendererBuilt();
  const bundle = await bundleSize();
  const start = await initialJs();
  const emptyHome = await mkdtemp(join(tmpdir(), 'vireo-bench-ui0-'));
  const bigHome = await mkdtemp(join(tmpdir(), 'vireo-bench-ui5-'));
  await seedLibrary(bigHome, LIBRARY_SIZE);
  const servers = await Promise.all([startServe(emptyHome), startServe(bigHome)]);
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  const tti0: number[] = [];
  const tti500: number[] = [];
  const located0: number[] = [];
  const located500: number[] = [];
  const filter: number[] = [];
  try {
    const [empty, big] = servers;
    const cases = [
      { srv: empty!, samples: tti0, located: located0, shown: "document.body !== null && document.body.textContent.includes('No virtual machines yet')", locate: (p: import('playwright-core').Page) => p.getByText('No virtual machines yet').waitFor({ timeout: 60_000 }) },
      // The list is virtualised: shown means its first rows are drawn and say they are of all 500.
      { srv: big!, samples: tti500, located: located500, shown: `document.querySelector('[role=listbox][aria-label="Virtual machines"] [role=option][aria-setsize="${LIBRARY_SIZE}"]') !== null`, locate: (p: import('playwright-core').Page) => p.waitForFunction((n) => document.querySelector(`[role=listbox][aria-label="Virtual machines"] [role=option][aria-setsize="${n}"]`) !== null, LIBRARY_SIZE, { timeout: 60_000, polling: 'raf' }) },
    ];
    // Two loads of each page first, not counted: the first page loads after Chromium starts pay
    // for its own start (its GPU, network and storage services coming up), which a user's
    // browser has long behind it; here they were the slowest two or three of every series
    // (empty: 279, 385, 438 then 175-196 ms; 500 VMs: 273, 547 then 182-241).
    for (let w = 0; w < 2; w++) {
      for (const c of cases) {
        const ctx = await browser.newContext();
        const page = await ctx.newPage();
        await page.addInitScript({ content: shownAt(c.shown) });
        await page.goto(`${c.srv.base}/?token=${c.srv.token}`, { waitUntil: 'commit' });
        await page.evaluate(() => (window as unknown as { __vireoShown: Promise<number> }).__vireoShown);
        await ctx.close();
      }
    }
    for (let i = 0; i < runs; i++) {
      for (const c of cases) {
        // A fresh context each time: no HTTP cache, a cold start as after opening the URL.
        // The figure: the page's own clock (from its navigation start) at the first frame after
        // the content is in the DOM, seen by an observer installed before the page's scripts.
        // Waiting with a Playwright locator instead injects its selector engine into the page
        // while it loads (~100 ms of the page's main thread here), which a user's tab never
        // runs; that older way is still measured, in other page loads, for comparison.
        for (const how of ['observer', 'locator'] as const) {
          const ctx = await browser.newContext();
          const page = await ctx.newPage();
          if (how === 'observer') await page.addInitScript({ content: shownAt(c.shown) });
          // The URL token is traded for a cookie by a redirect; that hop is part of the load.
          await page.goto(`${c.srv.base}/?token=${c.srv.token}`, { waitUntil: 'commit' });
          if (how === 'observer') c.samples.push(await page.evaluate(() => (window as unknown as { __vireoShown: Promise<number> }).__vireoShown));
          else {
            await c.locate(page);
            c.located.push(await page.evaluate(() => performance.now()));
          }
          if (how === 'observer' && c.srv === big) {
            const box = page.getByRole('searchbox', { name: 'Search VMs by name, OS or state' });
            await box.click();
            const t = await page.evaluate(() => performance.now());
            // One input event with the whole query (fill), so the figure is the filter and the
            // re-render of the list, not CDP's per-key round trips.
            await box.fill('vm-499');
            await page.waitForFunction(() => document.querySelectorAll('[role=listbox][aria-label="Virtual machines"] [role=option][aria-setsize="1"]').length === 1, undefined, { timeout: 30_000, polling: 'raf' });
            filter.push((await page.evaluate(() => performance.now())) - t);
          }
          await ctx.close();
        }
      }
    }
  } finally {
    await browser.close();
    await Promise.all(servers.map((s) => s.stop()));
    await rm(emptyHome, { recursive: true, force: true });
    await rm(bigHome, { recursive: true, force: true });
  }
  const s0 = spread(tti0, 0);
  const s5 = spread(tti500, 0);
  const l0 = spread(located0, 0);
  const l5 = spread(located500, 0);
  const sf = spread(filter, 0);
  const ratio = round(s5.median / s0.median);
  const rows: Row[] = [
    {
      figure: 'renderer time to interactive, empty library (ms)',
      vireo: `${s0.median} (${s0.min}–${s0.max})`,
      peer: '—',
      ratio: null,
      goal: '≤ 300 ms',
      met: s0.median <= 300,
      note: `${s0.median > 300 ? `the start-up JS is ${start.files} files, ${start.bytes} bytes (${start.gzipBytes} gzip), about 200 KB of it React DOM: fetching, parsing and running it is most of the time; the library itself comes in the page (no API round trip before it is drawn). Read the load average: the page shares the cores with the other work. ` : ''}Waited for with a Playwright locator (its selector engine injected into the loading page, as measured before 2026-12-02): ${l0.median} ms (${l0.min}–${l0.max})`,
    },
    {
      figure: `time to show a ${LIBRARY_SIZE}-VM library (ms)`,
      vireo: `${s5.median} (${s5.min}–${s5.max})`,
      peer: `empty library ${s0.median}`,
      ratio,
      goal: '≤ 1.2 × empty library',
      met: ratio <= 1.2,
      note: `${ratio > 1.2 ? 'the list is virtualised (only the rows in view are drawn): what is left is the vms.list payload (in the page) and sorting 500 summaries. ' : ''}With a Playwright wait: ${l5.median} ms (${l5.min}–${l5.max})`,
    },
    {
      figure: `filter ${LIBRARY_SIZE} VMs: enter "vm-499" → 1 row (ms)`,
      vireo: `${sf.median} (${sf.min}–${sf.max})`,
      peer: '—',
      ratio: null,
      goal: '≤ 100 ms (perceived as instant)',
      met: sf.median <= 100,
      ...(sf.median > 100 ? { note: 'filtering 500 summaries and re-rendering the rows in view; the query is applied at deferred priority' } : {}),
    },
    { figure: 'JS loaded at start: entry + modulepreloads (bytes, gzip)', vireo: `${start.bytes} (${start.gzipBytes} gzip) in ${start.files} files`, peer: `all JS ${bundle.jsBytes}`, ratio: round(start.bytes / bundle.jsBytes, 3), goal: 'informational (heavy views on demand)', met: null },
    { figure: 'JS bundle, all chunks (bytes, gzip)', vireo: `${bundle.jsBytes} (${bundle.jsGzipBytes} gzip), CSS ${bundle.cssBytes}`, peer: '—', ratio: null, goal: 'informational', met: null },
  ];
  const result: BenchResult = {
    name: BENCH,
    what: 'renderer in /usr/bin/chromium (playwright-core) against vireo serve: time to interactive, JS bundle size, 500-VM library render and filter',
    date: new Date().toISOString(),
    machine: await machine(),
    accel: { chosen: null, reason: 'no guest runs in this benchmark' },
    seconds: round((performance.now() - t0) / 1000, 1),
    rows,
    skipped: [],
    data: {
      runs,
      renderer: build,
      bundle,
      ttiEmptyMs: s0,
      tti500Ms: s5,
      ttiEmptyLocatorMs: l0,
      tti500LocatorMs: l5,
      filterMs: sf,
      ttiMethod: "after two uncounted loads of each page (Chromium's own start-up), performance.now() in the page (from its navigation start) at the first frame after the sidebar shows the empty state, or the first rows of the virtualised list of 500 (an option with aria-setsize 500), seen by a MutationObserver installed with addInitScript before the page's scripts; ttiEmptyLocatorMs/tti500LocatorMs: the same moment waited for with a Playwright locator / waitForFunction (the method before 2026-12-02, which injects Playwright's selector engine into the loading page), in page loads of their own",
      filterMethod: 'click the search box, fill "vm-499" (one input event), time on the page clock until the list holds exactly one row',
    },
  };
  await writeResult(result);
  return result;
}
