import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Locator, Page } from '@playwright/test';
import { makeBootIso } from '../fixtures/osdetect/make-iso.ts';
import { expect, test } from './serve.ts';

// Issue #23 in the wizard, against `vireo serve` and real xorriso discs: the firmware follows
// what the disc can start (with the reason said), an OS's advisory minimum only warns (DOS on
// a small disk is created), and only what the OS's installer refuses blocks (Windows 11).

async function openWizard(page: Page, url: string): Promise<Locator> {
  await page.goto(url);
  await page.getByRole('button', { name: 'New', exact: true }).click();
  const w = page.getByRole('dialog', { name: 'New virtual machine' });
  await expect(w).toBeVisible();
  return w;
}

async function fromIso(w: Locator, iso: string) {
  await w.getByLabel('Installer ISO').fill(iso);
  await w.getByRole('button', { name: 'Next' }).click();
  await expect(w.getByText('Step 2 of 4')).toBeVisible({ timeout: 30_000 });
}

async function vmsOf(cli: (a: string[]) => Promise<{ code: number | null; stdout: string; stderr: string }>) {
  const r = await cli(['--json', 'list']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Array<{ id: string; name: string }>;
}

test('a BIOS-only disc gets BIOS with the reason; a disc with both entries gets UEFI', async ({ page, served }) => {
  const dir = join(served.home, 'isos');
  await mkdir(dir, { recursive: true });
  const biosOnly = await makeBootIso(dir, { volumeId: 'Debian 12.5.0 amd64 n', bios: true });
  const both = await makeBootIso(dir, { volumeId: 'Debian 12.5.0 amd64 n', bios: true, efi: true });

  let w = await openWizard(page, served.url);
  await fromIso(w, biosOnly);
  await expect(w.getByText('Detected: Debian 12')).toBeVisible();
  await expect(w.getByText('This disc can only start with BIOS, so the VM uses BIOS.')).toBeVisible();
  await w.getByRole('button', { name: 'Next' }).click();
  await expect(w.getByText('Step 3 of 4')).toBeVisible();
  await expect(w.getByLabel('BIOS (SeaBIOS)')).toBeChecked();
  await expect(w.getByTestId('firmware-reason')).toHaveText('This disc can only start with BIOS, so the VM uses BIOS.');
  // choosing UEFI anyway: the wizard says the disc cannot start with it
  await w.getByLabel('UEFI (OVMF)').check();
  await expect(w.getByTestId('firmware-reason')).toHaveText('This disc cannot start with UEFI: the VM may not boot from it.');

  // a fresh page: a new wizard
  w = await openWizard(page, served.url);
  await fromIso(w, both);
  await expect(w.getByText('This disc can start with BIOS and with UEFI, so the VM uses UEFI.')).toBeVisible();
  await w.getByRole('button', { name: 'Next' }).click();
  await expect(w.getByLabel('UEFI (OVMF)')).toBeChecked();
});

test('a release newer than the OS list is named by its label, in plain words', async ({ page, served }) => {
  const dir = join(served.home, 'isos');
  await mkdir(dir, { recursive: true });
  const iso = await makeBootIso(dir, { volumeId: 'Fedora-S-dvd-x86_64-42', bios: true, efi: true });
  const w = await openWizard(page, served.url);
  await fromIso(w, iso);
  await expect(w.getByText('Detected: Fedora 42')).toBeVisible();
  await expect(w.getByText(/Fedora 42 \(from the volume label "Fedora-S-dvd-x86_64-42"\) is newer than the systems Vireo knows by name; it gets the settings of Fedora/)).toBeVisible();
  await expect(w.getByText(/osinfo|resources\/os/)).toHaveCount(0);
});

test('MS-DOS on a 512 MiB disk: a warning, and the VM is created', async ({ page, served }) => {
  const w = await openWizard(page, served.url);
  await w.getByLabel('No ISO (empty disk)').check();
  await w.getByRole('button', { name: 'Next' }).click();
  await expect(w.getByText('Step 2 of 4')).toBeVisible();
  await w.getByRole('combobox', { name: 'Operating system' }).fill('ms-dos');
  await w.getByRole('option', { name: /MS-DOS 6\.22/ }).first().click();
  await w.getByLabel('Name', { exact: true }).fill('Small DOS');
  await w.getByRole('button', { name: 'Next' }).click();
  await expect(w.getByText('Step 3 of 4')).toBeVisible();
  await w.getByLabel(/^Memory/).fill('32M');
  await w.getByLabel('Disk size').fill('512M');
  await expect(w.getByText(/MS-DOS 6\.22 is usually installed on a disk of at least 1 GiB; it may run out of space\./)).toBeVisible();
  await expect(w.getByLabel('Disk size')).not.toHaveAttribute('aria-invalid', 'true');
  await w.getByRole('button', { name: 'Next' }).click();
  await expect(w.getByText('Step 4 of 4')).toBeVisible();
  await w.getByRole('button', { name: 'Create', exact: true }).click();
  await expect(w).toBeHidden({ timeout: 60_000 });
  const vm = (await vmsOf(served.cli)).find((v) => v.name === 'Small DOS');
  expect(vm).toBeDefined();
  const shown = await served.cli(['show', vm!.id]);
  expect(shown.stdout).toMatch(/warning: +Microsoft MS-DOS 6\.22 is usually installed on a disk of at least 1 GiB/);
});

test('Windows 11 below what its setup checks is refused at the fields, and nothing is created', async ({ page, served }) => {
  const before = await vmsOf(served.cli);
  const w = await openWizard(page, served.url);
  await w.getByLabel('No ISO (empty disk)').check();
  await w.getByRole('button', { name: 'Next' }).click();
  await w.getByRole('combobox', { name: 'Operating system' }).fill('windows 11');
  await w.getByRole('option', { name: /Windows 11/ }).first().click();
  await w.getByLabel('Name', { exact: true }).fill('Small Win11');
  await w.getByRole('button', { name: 'Next' }).click();
  await expect(w.getByText('Step 3 of 4')).toBeVisible();
  await w.getByLabel(/^Memory/).fill('2G');
  await expect(w.getByText(/Windows 11's installer refuses less than 4 GiB of memory/)).toBeVisible();
  await w.getByLabel('Disk size').fill('32G');
  await expect(w.getByText(/needs a disk of at least 64 GiB/)).toBeVisible();
  await w.getByLabel('BIOS (SeaBIOS)').check();
  await expect(w.getByText(/Windows 11's installer refuses PCs that start with BIOS/)).toBeVisible();
  await w.getByRole('button', { name: 'Next' }).click();
  await expect(w.getByText('Step 3 of 4')).toBeVisible();
  expect((await vmsOf(served.cli)).length).toBe(before.length);
});

test('a UEFI VM whose disc only starts with BIOS: the screen tab says it opened the UEFI shell, and one click switches to BIOS', async ({ page, served }) => {
  test.setTimeout(300_000);
  const dir = join(served.home, 'isos');
  await mkdir(dir, { recursive: true });
  const iso = await makeBootIso(dir, { volumeId: 'BIOS_ONLY_DISC', bios: true });
  const made = await served.cli(['create', 'Shell VM', '--iso', iso, '--firmware', 'uefi', '--memory', '256M', '--disk', '16M', '--cpus', '1', '--accel', 'tcg']);
  expect(made.code, made.stderr).toBe(0);
  try {
    await page.goto(served.url);
    await page.getByRole('option', { name: /Shell VM/ }).click();
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    await page.getByRole('tab', { name: 'Screen' }).click();
    const banner = page.getByTestId('boot-problem');
    await expect(banner).toContainText("The UEFI firmware found nothing it can start and opened the UEFI shell. This VM's disc can only start with BIOS.", { timeout: 200_000 });
    await banner.getByRole('button', { name: 'Switch to BIOS and restart' }).click();
    await expect(banner).toBeHidden({ timeout: 60_000 });
    await expect.poll(async () => {
      const r = await served.cli(['--json', 'show', 'Shell VM']);
      const v = JSON.parse(r.stdout) as { state: string; config: { system: { firmware: string } } };
      return `${v.config.system.firmware} ${v.state}`;
    }, { timeout: 60_000 }).toBe('bios running');
  } finally {
    await served.cli(['stop', 'Shell VM', '--force']);
  }
});
