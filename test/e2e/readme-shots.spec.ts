import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Page } from '@playwright/test';
import { ensureFixtures } from '../fixtures/guest.ts';
import { expectNoAxeViolations } from './axe.ts';
import { expect, startServe, test } from './serve.ts';

// The README's pictures of the library (issue 23, acceptance 6), taken from the real UI
// against `vireo serve`: a few VMs in two groups, two running (their faces are the test
// guest's screen), one stopped with the face kept from its run, in list and grid, light and
// dark, written to docs/screenshots/library-<view>-<theme>.png. Each shot is checked by axe.

const OUT = resolve(import.meta.dirname, '../../docs/screenshots');
const VMS = [
  { name: 'Debian web', os: 'debian12', run: true, group: 'Web servers' },
  { name: 'Alpine proxy', os: 'alpinelinux3.17', run: true, group: 'Web servers' },
  { name: 'Fedora build', os: 'fedora37', run: 'then stop', group: 'Testing' },
  { name: 'Windows 10 QA', os: 'win10', run: false, group: 'Testing' },
  { name: 'FreeBSD lab', os: 'freebsd14.0', run: false, group: null },
] as const;

test.describe.configure({ mode: 'serial', timeout: 240_000 });

// A library of its own (not the worker's shared one other spec files fill): the pictures show only these.
let served: Awaited<ReturnType<typeof startServe>>;

test.beforeAll(async () => {
  test.setTimeout(180_000);
  served = await startServe();
  const { iso } = await ensureFixtures();
  const cli = async (args: string[]) => {
    const r = await served.cli(args);
    expect(r.code, `vireo ${args.join(' ')}: ${r.stderr}`).toBe(0);
    return r;
  };
  for (const g of ['Web servers', 'Testing']) await cli(['group', 'add', g]);
  for (const vm of VMS) {
    // Only the running ones need a bootable disc: the test guest's, whatever OS they are labelled.
    await cli(['create', vm.name, '--os', vm.os, ...(vm.run ? ['--iso', iso] : []), ...(vm.os === 'debian12' ? ['--disk', '10G', '--memory', '1G'] : ['--disk', '64M', '--memory', vm.os === 'win10' ? '2G' : '192M']), '--cpus', '1', '--accel', 'tcg', '--firmware', 'bios']);
    if (vm.group) await cli(['group', 'mv', vm.name, vm.group]);
    if (vm.run) await cli(['start', vm.name]);
  }
});

test.afterAll(async () => {
  if (!served) return;
  for (const vm of VMS) if (vm.run) await served.cli(['stop', vm.name, '--force']);
  await served.stop();
});

const option = (page: Page, name: string) => page.getByRole('listbox', { name: 'Virtual machines' }).getByRole('option', { name: new RegExp(name) });

test('library screenshots: list and grid, light and dark', async ({ page }) => {
  mkdirSync(OUT, { recursive: true });
  await page.setViewportSize({ width: 1280, height: 760 });
  await page.emulateMedia({ colorScheme: 'light' });
  await page.goto(served.url);
  // Every running VM shows a face drawn from its screen (more than one colour: not blank).
  for (const vm of VMS.filter((v) => v.run)) {
    const face = option(page, vm.name).locator('img[data-face]');
    await expect(face).toBeVisible({ timeout: 90_000 });
    await expect
      .poll(() => face.evaluate(async (el: HTMLImageElement) => {
        await el.decode();
        const c = document.createElement('canvas');
        [c.width, c.height] = [el.naturalWidth, el.naturalHeight];
        const ctx = c.getContext('2d')!;
        ctx.drawImage(el, 0, 0);
        const d = ctx.getImageData(0, 0, c.width, c.height).data;
        const s = new Set<number>();
        for (let i = 0; i < d.length; i += 4) s.add((d[i]! << 16) | (d[i + 1]! << 8) | d[i + 2]!);
        return s.size;
      }), { timeout: 90_000 })
      .toBeGreaterThan(8);
  }
  // Fedora stops: its card keeps the last face the library saw.
  const fedora = VMS[2].name;
  expect((await served.cli(['stop', fedora, '--force'])).code).toBe(0);
  await expect(option(page, fedora)).toContainText('Stopped', { timeout: 30_000 });
  await expect(option(page, fedora).locator('img[data-face]')).toBeVisible();

  await option(page, VMS[0].name).click();
  for (const theme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: theme });
    for (const view of ['list', 'grid'] as const) {
      await page.getByRole('radio', { name: view === 'list' ? 'List' : 'Grid' }).click();
      await expect(page.getByRole('radio', { name: view === 'list' ? 'List' : 'Grid' })).toHaveAttribute('aria-checked', 'true');
      await expect(page.locator('img[data-face]')).toHaveCount(3);
      // faces decoded and laid out before the picture
      await page.evaluate(() => Promise.all([...document.querySelectorAll('img')].map((i) => i.decode().catch(() => {}))));
      await expectNoAxeViolations(page, `library ${view} ${theme}`);
      await page.screenshot({ path: join(OUT, `library-${view}-${theme}.png`) });
    }
  }
});
