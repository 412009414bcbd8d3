import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Locator, Page } from '@playwright/test';
import { expect, test } from './serve.ts';

// The New-VM wizard refuses bad input inline, and nothing reaches the library when it does.

async function vmNames(cli: (a: string[]) => Promise<{ code: number | null; stdout: string; stderr: string }>) {
  const r = await cli(['--json', 'list']);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as Array<{ name: string }>).map((v) => v.name).sort();
}

async function openWizard(page: Page, url: string): Promise<Locator> {
  await page.goto(url);
  await page.getByRole('button', { name: 'New', exact: true }).click();
  const w = page.getByRole('dialog', { name: 'New virtual machine' });
  await expect(w).toBeVisible();
  return w;
}

test('inline validation: non-ISO file, empty name, taken name, memory above host, disk below the OS minimum', async ({ page, served }) => {
  const existing = await served.cli(['create', 'Taken', '--disk', '1G', '--memory', '64M']);
  expect(existing.code, existing.stderr).toBe(0);
  const before = await vmNames(served.cli);
  const notIso = join(served.home, 'notes.txt');
  await writeFile(notIso, 'this is not an ISO image\n'.repeat(100));

  const w = await openWizard(page, served.url);

  // A file that is not an ISO: os.detect's INVALID_ARGUMENT message appears at the path field.
  await w.getByLabel('Installer ISO').fill(notIso);
  await w.getByRole('button', { name: 'Next' }).click();
  const isoField = w.getByLabel('Installer ISO');
  await expect(isoField).toHaveAttribute('aria-invalid', 'true');
  const isoMsg = w.locator(`#${await isoField.getAttribute('aria-describedby')}`);
  await expect(isoMsg).toContainText(/ISO|iso/);
  await expect(w.getByText('Step 1 of 4')).toBeVisible();

  // Switch to an empty disk and continue.
  await w.getByLabel('No ISO (empty disk)').check();
  await w.getByRole('button', { name: 'Next' }).click();
  await expect(w.getByText('Step 2 of 4')).toBeVisible();

  const name = w.getByLabel('Name', { exact: true });
  await name.fill('');
  await w.getByRole('button', { name: 'Next' }).click();
  await expect(w.getByText('Name is empty')).toBeVisible();
  await expect(w.getByText('Step 2 of 4')).toBeVisible();

  await name.fill('taken');
  await expect(w.getByText('A VM named "taken" already exists')).toBeVisible();
  await w.getByRole('button', { name: 'Next' }).click();
  await expect(w.getByText('Step 2 of 4')).toBeVisible();

  await name.fill('Fresh VM');
  // Choose an OS with a large minimum disk, so the disk check has something to enforce.
  const osBox = w.getByRole('combobox');
  await osBox.fill('windows 11');
  await w.getByRole('option', { name: /Windows 11/ }).first().click();
  await expect(w.getByText(/Selected: .*Windows 11/)).toBeVisible();
  await w.getByRole('button', { name: 'Next' }).click();
  await expect(w.getByText('Step 3 of 4')).toBeVisible();

  await w.getByLabel(/^Memory/).fill('64T');
  await expect(w.getByText(/is more than this host has/)).toBeVisible();
  await w.getByRole('button', { name: 'Next' }).click();
  await expect(w.getByText('Step 3 of 4')).toBeVisible();
  await w.getByLabel(/^Memory/).fill('4G');

  // A disk below the OS's minimum is refused at the field.
  await w.getByLabel(/^Disk size/).fill('10G');
  await expect(w.getByText(/needs a disk of at least \d+ GiB/)).toBeVisible();
  await w.getByRole('button', { name: 'Next' }).click();
  await expect(w.getByText('Step 3 of 4')).toBeVisible();

  await page.screenshot({ path: 'test-results/wizard-validation.png' });
  await page.keyboard.press('Escape');
  // Esc after typing asks first (issue 23); discarding creates nothing.
  await page.getByRole('dialog', { name: 'Discard the new VM?' }).getByRole('button', { name: 'Discard' }).click();
  await expect(w).toBeHidden();
  expect(await vmNames(served.cli)).toEqual(before);
});

test('creates a VM with no ISO and shows it in the library', async ({ page, served }) => {
  const w = await openWizard(page, served.url);
  await w.getByLabel('No ISO (empty disk)').check();
  await w.getByRole('button', { name: 'Next' }).click();
  await w.getByLabel('Name', { exact: true }).fill('Made in e2e');
  await w.getByRole('button', { name: 'Next' }).click();
  await w.getByLabel(/^Memory/).fill('128M');
  await w.getByLabel('Disk size').fill('64M');
  await w.getByRole('button', { name: 'Next' }).click();
  await expect(w.getByText('Step 4 of 4')).toBeVisible();
  await w.getByRole('button', { name: 'Create' }).click();
  await expect(w).toBeHidden({ timeout: 30_000 });
  await expect(page.getByRole('option', { name: /Made in e2e/ })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Made in e2e' })).toBeVisible();
  expect(await vmNames(served.cli)).toContain('Made in e2e');
});
