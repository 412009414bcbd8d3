import { execFile } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { expect, test } from './serve.ts';

// Issue 13: "Keep the disk images" on delete. The engine moves the disks (and NVRAM/TPM state)
// to a folder and says which in vms.delete's keptIn; the UI shows that folder to the user.

function row(page: Page, name: string) {
  return page.getByRole('listbox', { name: 'Virtual machines' }).getByRole('option', { name });
}

test('delete keeping the disk images shows the folder they were kept in', async ({ page, served }) => {
  const name = 'Keep My Disk';
  const made = await served.cli(['create', name, '--disk', '16M', '--memory', '64M']);
  expect(made.code, made.stderr).toBe(0);
  await page.goto(served.url);
  await row(page, name).click();
  await expect(page.getByRole('heading', { name })).toBeVisible();

  await page.getByRole('toolbar', { name: 'VM actions' }).getByRole('button', { name: 'Delete', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: `Delete ${name}?` });
  await dialog.getByLabel('Keep the disk images').check();
  await dialog.getByRole('button', { name: 'Delete VM' }).click();
  await expect(dialog).toBeHidden({ timeout: 30_000 });
  await expect(row(page, name)).toHaveCount(0);

  const notice = page.getByRole('status', { name: 'Disk images kept' });
  await expect(notice).toContainText(`${name} was deleted`);
  const folder = await notice.getByTestId('kept-folder').innerText();
  // The folder shown is real, inside this library, and holds the disk image.
  expect((await stat(folder)).isDirectory()).toBe(true);
  expect(relative(served.home, folder).split(sep)[0]).not.toBe('..');
  expect((await readdir(folder)).some((f) => /\.qcow2$/.test(f))).toBe(true);
  expect((await stat(join(folder, (await readdir(folder)).find((f) => /\.qcow2$/.test(f))!))).size).toBeGreaterThan(0);
  await page.screenshot({ path: 'test-results/delete-kept.png' });
  const axe = await new AxeBuilder({ page }).include('[aria-label="Disk images kept"]').withTags(['wcag2a', 'wcag2aa']).analyze();
  expect(axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id)).toEqual([]);
  await notice.getByRole('button', { name: 'Dismiss' }).click();
  await expect(notice).toBeHidden();
});

test("a linked clone's kept disk is written out whole, and the dialog says so", async ({ page, served }) => {
  for (const args of [['create', 'Kept Base', '--disk', '16M', '--memory', '64M'], ['clone', 'Kept Base', 'Kept Linked', '--linked']]) {
    const r = await served.cli(args);
    expect(r.code, r.stderr).toBe(0);
  }
  await page.goto(served.url);
  await row(page, 'Kept Linked').click();
  await page.getByRole('toolbar', { name: 'VM actions' }).getByRole('button', { name: 'Delete', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Delete Kept Linked?' });
  await expect(dialog).toContainText('This is a linked clone: its disks are written out whole');
  await dialog.getByLabel('Keep the disk images').check();
  await dialog.getByRole('button', { name: 'Delete VM' }).click();
  await expect(dialog).toBeHidden({ timeout: 30_000 });
  const notice = page.getByRole('status', { name: 'Disk images kept' });
  const folder = await notice.getByTestId('kept-folder').innerText();
  // A standalone image: no backing file that could go with the base.
  const info = JSON.parse(await new Promise<string>((resolve, reject) => {
    execFile('qemu-img', ['info', '--output=json', join(folder, 'disk0.qcow2')], (e, out) => (e ? reject(e) : resolve(out)));
  })) as { 'backing-filename'?: string };
  expect(info['backing-filename']).toBeUndefined();
  // The base can go now: nothing is linked to it any more.
  const del = await served.cli(['delete', 'Kept Base']);
  expect(del.code, del.stderr).toBe(0);
});
