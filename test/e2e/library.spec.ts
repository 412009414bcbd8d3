import type { Locator, Page } from '@playwright/test';
import { ensureFixtures } from '../fixtures/guest.ts';
import { expectNoAxeViolations } from './axe.ts';
import { expect, test } from './serve.ts';

// The library with faces and groups (issues 22 and 23) in Chromium against `vireo serve` and
// the test guest: a group made in the sidebar, two VMs dragged into it, the group started
// (both run) and collapsed; a running VM's card shows its screen (a thumbnail that is not
// blank); the grid/list toggle and the three sorts, remembered over a reload; axe clean.

const TAG = Date.now() % 100000;
const A = `Lib A ${TAG}`; // never started
const B = `Lib B ${TAG}`;
const C = `Lib C ${TAG}`;
const GROUP = `Lab ${TAG}`;

test.describe.configure({ mode: 'serial', timeout: 240_000 });

type Cli = { cli(a: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> };

test.beforeAll(async ({ served }) => {
  test.setTimeout(120_000);
  const { iso } = await ensureFixtures();
  for (const [name, args] of [
    [A, ['--os', 'debian12']],
    [B, ['--iso', iso, '--os', 'unknown']],
    [C, ['--iso', iso, '--os', 'unknown']],
  ] as const) {
    const made = await served.cli(['create', name, ...args, '--disk', '64M', '--memory', '192M', '--accel', 'tcg', '--firmware', 'bios']);
    expect(made.code, made.stderr).toBe(0);
  }
});

test.afterAll(async ({ served }) => {
  for (const vm of [B, C]) await served.cli(['stop', vm, '--force']);
});

const listbox = (page: Page) => page.getByRole('listbox', { name: 'Virtual machines' });
const option = (page: Page, name: string) => listbox(page).getByRole('option', { name: new RegExp(name) });
const header = (page: Page, name: string) => page.locator('[data-group]').filter({ hasText: name });
const order = async (page: Page) =>
  (await listbox(page).getByRole('option').allInnerTexts()).map((t) => [A, B, C].find((n) => t.includes(n))).filter(Boolean);

async function groupMembers(served: Cli): Promise<string[]> {
  const r = await served.cli(['--json', 'group', 'ls']);
  expect(r.code, r.stderr).toBe(0);
  const l = JSON.parse(r.stdout) as { groups: { name: string; vms: string[] }[] };
  const vms = JSON.parse((await served.cli(['--json', 'list'])).stdout) as { id: string; name: string }[];
  return (l.groups.find((g) => g.name === GROUP)?.vms ?? []).map((id) => vms.find((v) => v.id === id)?.name ?? id);
}

/** Distinct colours of an <img> drawn to a canvas: 1 for a blank frame. */
const colours = (img: Locator) =>
  img.evaluate(async (el: HTMLImageElement) => {
    await el.decode();
    const c = document.createElement('canvas');
    c.width = el.naturalWidth;
    c.height = el.naturalHeight;
    const ctx = c.getContext('2d')!;
    ctx.drawImage(el, 0, 0);
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    const s = new Set<number>();
    for (let i = 0; i < d.length; i += 4) s.add((d[i]! << 16) | (d[i + 1]! << 8) | d[i + 2]!);
    return s.size;
  });

test('a group: created, two VMs dragged in, started together (both run, faces not blank), collapsed; moved by keyboard too', async ({ page, served }) => {
  await page.goto(served.url);
  await expect(option(page, A)).toBeVisible();
  // a library of ordinary size is whole in the DOM (only a big one is virtualised): every VM is an option
  const all = listbox(page).getByRole('option');
  expect(await all.count()).toBe(Number(await all.first().getAttribute('aria-setsize')));
  // A list row is as tall as the virtualizer assumes (Sidebar.tsx estimateSize): a wrong guess
  // lays the list out twice before its first paint.
  const heights = await listbox(page).locator('[data-index]').evaluateAll((rows) => rows.map((r) => r.getBoundingClientRect().height));
  expect(heights.length).toBeGreaterThan(0);
  expect(new Set(heights)).toEqual(new Set([50]));
  // no groups yet: the plain library, no headers
  await expect(page.locator('[data-group]')).toHaveCount(0);

  await page.getByRole('button', { name: 'New group…' }).click();
  // Focused as it appears, so the name can be typed at once.
  await expect(page.getByRole('textbox', { name: 'New group name' })).toBeFocused();
  await page.getByRole('textbox', { name: 'New group name' }).fill(GROUP);
  await page.keyboard.press('Enter');
  await expect(header(page, GROUP)).toBeVisible();
  await expectNoAxeViolations(page, 'library with a group');

  // a second group of the same name is refused in words
  await page.getByRole('button', { name: 'New group…' }).click();
  await page.getByRole('textbox', { name: 'New group name' }).fill(GROUP.toLowerCase());
  await page.keyboard.press('Enter');
  await expect(page.getByRole('alert')).toContainText('already exists');
  await page.getByRole('button', { name: 'Cancel' }).click();

  await option(page, B).dragTo(header(page, GROUP));
  await expect.poll(() => groupMembers(served), { timeout: 45_000 }).toEqual([B]);
  await option(page, C).dragTo(header(page, GROUP));
  await expect.poll(() => groupMembers(served), { timeout: 45_000 }).toEqual([B, C]);
  await expect(header(page, GROUP)).toContainText('2 VMs');

  await page.getByRole('button', { name: `Start group ${GROUP}` }).click();
  await expect(option(page, B)).toContainText('Running', { timeout: 60_000 });
  await expect(option(page, C)).toContainText('Running', { timeout: 60_000 });
  await expect(option(page, A)).toContainText('Stopped');

  // the face: the running VM's screen, once the guest has written to it
  const face = option(page, B).locator('img[data-face]');
  await expect(face).toBeVisible({ timeout: 60_000 });
  await expect.poll(() => colours(face), { timeout: 90_000 }).toBeGreaterThan(1);
  await expectNoAxeViolations(page, 'library with running VMs and faces');

  // collapse hides the group's VMs, and is remembered
  const toggle = header(page, GROUP).getByRole('button', { expanded: true });
  await toggle.click();
  await expect(header(page, GROUP).getByRole('button', { expanded: false })).toBeVisible();
  await expect(option(page, B)).toHaveCount(0);
  await expect(option(page, C)).toHaveCount(0);
  await page.reload();
  await expect(option(page, A)).toBeVisible();
  await expect(option(page, B)).toHaveCount(0);
  await header(page, GROUP).getByRole('button', { expanded: false }).click();
  await expect(option(page, B)).toBeVisible();

  // without a mouse: select the VM, choose its group
  await option(page, A).click();
  await page.getByRole('combobox', { name: `Group of ${A}` }).selectOption({ label: GROUP });
  await expect.poll(() => groupMembers(served), { timeout: 45_000 }).toEqual([B, C, A]);
  await page.getByRole('combobox', { name: `Group of ${A}` }).selectOption({ label: 'None' });
  await expect.poll(() => groupMembers(served), { timeout: 45_000 }).toEqual([B, C]);
});

test('grid and list, sort by name, state and last used, remembered over a reload', async ({ page, served }) => {
  // B stops (it was used just now), C runs, A never ran
  const stopped = await served.cli(['stop', B, '--force']);
  expect(stopped.code, stopped.stderr).toBe(0);
  await page.goto(served.url);
  await expect(option(page, C)).toContainText('Running');
  await expect(option(page, B)).toContainText('Stopped');
  // the stopped VM keeps its last face
  await expect(option(page, B).locator('img[data-face]')).toBeVisible();

  await page.getByRole('button', { name: `Delete group ${GROUP}` }).click();
  await expect(page.locator('[data-group]')).toHaveCount(0);

  const sort = page.getByRole('combobox', { name: 'Sort' });
  await expect(sort).toHaveValue('name');
  await expect.poll(() => order(page)).toEqual([A, B, C]);
  await sort.selectOption({ label: 'State' });
  await expect.poll(() => order(page)).toEqual([C, A, B]);
  await sort.selectOption({ label: 'Last used' });
  await expect.poll(() => order(page)).toEqual([C, B, A]);

  await page.getByRole('radio', { name: 'Grid' }).click();
  await expect(page.getByRole('radio', { name: 'Grid' })).toHaveAttribute('aria-checked', 'true');
  // cards: two to a row, the face above the name
  const [boxA, boxB] = [await option(page, C).boundingBox(), await option(page, B).boundingBox()];
  expect(Math.abs(boxA!.y - boxB!.y)).toBeLessThan(2);
  expect(boxB!.x).toBeGreaterThan(boxA!.x + boxA!.width - 2);
  await expectNoAxeViolations(page, 'library grid');

  await page.reload();
  await expect(page.getByRole('radio', { name: 'Grid' })).toHaveAttribute('aria-checked', 'true');
  await expect(page.getByRole('combobox', { name: 'Sort' })).toHaveValue('lastUsed');
  await expect.poll(() => order(page)).toEqual([C, B, A]);

  // keyboard: arrows move the selection through the cards. Only this file's VMs are shown: the
  // worker's library also holds other files' VMs, which would sit between them in last-used order.
  await page.getByRole('searchbox', { name: /Search VMs/ }).fill(String(TAG));
  await expect.poll(async () => listbox(page).getByRole('option').count()).toBe(3);
  await option(page, C).click();
  await listbox(page).focus();
  await page.keyboard.press('ArrowRight');
  await expect(option(page, B)).toHaveAttribute('aria-selected', 'true');
  await page.keyboard.press('ArrowDown');
  await expect(option(page, A)).toHaveAttribute('aria-selected', 'true');

  await page.getByRole('radio', { name: 'List' }).click();
  const [rowC, rowB] = [await option(page, C).boundingBox(), await option(page, B).boundingBox()];
  expect(rowB!.y).toBeGreaterThan(rowC!.y + rowC!.height - 2);
  await sort.selectOption({ label: 'Name' });
});
