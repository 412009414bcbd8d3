import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, test } from './serve.ts';
import { buildInstallerIso, haveNetboot, haveXorriso } from '../integration/unattended-helpers.ts';

// The wizard's Express install in the real UI over vireo serve: not offered without an ISO (it
// says why), offered for the Debian installer ISO, its answers checked before Create, and the VM
// created with them: vm.json has the installer's first boot and not the password.

test.skip(!haveNetboot || !haveXorriso, 'needs debian-installer-12-netboot-amd64 and xorriso');

test('Express install: why not without an ISO; with the Debian ISO the answers reach vms.create', async ({ page, served }) => {
  const iso = buildInstallerIso(served.home);
  await page.goto(served.url);
  await page.getByRole('button', { name: 'New', exact: true }).click();
  const w = page.getByRole('dialog', { name: 'New virtual machine' });

  // No ISO: the section says an express install starts from the installer ISO.
  await w.getByLabel('No ISO (empty disk)').check();
  await w.getByRole('button', { name: 'Next' }).click();
  const osBox = w.getByRole('combobox');
  await osBox.fill('debian 12');
  await w.getByRole('option', { name: /Debian 12/ }).first().click();
  await w.getByLabel('Name', { exact: true }).fill('No ISO');
  await w.getByRole('button', { name: 'Next' }).click();
  await w.getByRole('button', { name: 'Next' }).click();
  const express = w.getByRole('group', { name: 'Express install' });
  await expect(express.getByLabel(/Install by itself/)).toBeDisabled();
  await expect(express).toContainText('starts from the installer ISO');

  // Back to the first step with the installer ISO: detected as Debian 12, express install offered.
  for (let i = 0; i < 3; i++) await w.getByRole('button', { name: 'Back' }).click();
  await w.getByLabel('Install from an ISO image').check();
  await w.getByLabel('Installer ISO').fill(iso);
  await w.getByRole('button', { name: 'Next' }).click();
  await expect(w.getByText('Detected: Debian 12')).toBeVisible({ timeout: 30_000 });
  await w.getByLabel('Name', { exact: true }).fill('Express Debian');
  await w.getByRole('button', { name: 'Next' }).click();
  await w.getByLabel(/^Memory/).fill('1G');
  await w.getByLabel(/^Disk size/).fill('2G');
  await w.getByRole('button', { name: 'Next' }).click();
  await expect(express).toContainText('Debian installer (preseed)');
  await express.getByLabel(/Install by itself/).check();

  // Incomplete answers block Create and say what is missing.
  await w.getByRole('button', { name: 'Create' }).click();
  await expect(express.getByText(/lower-case letters/)).toBeVisible();
  await expect(w).toBeVisible();

  await express.getByLabel('User name').fill('tester');
  await express.getByLabel('Password').fill('wizard secret');
  await express.getByLabel('Host name').fill('wizbox');
  await express.getByLabel('Time zone').fill('Europe/Berlin');
  await w.getByRole('button', { name: 'Create' }).click();
  await expect(w).toBeHidden({ timeout: 120_000 });

  const shown = await served.cli(['--json', 'show', 'Express Debian']);
  expect(shown.code, shown.stderr).toBe(0);
  const vm = JSON.parse(shown.stdout) as { dir: string; config: { unattended: { append: string } | null } };
  expect(vm.config.unattended?.append).toContain('hostname=wizbox');
  expect(await readFile(join(vm.dir, 'vm.json'), 'utf8')).not.toContain('wizard secret');
});
