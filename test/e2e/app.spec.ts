import type { Page } from '@playwright/test';
import { axeViolations } from './axe.ts';
import { expect, test } from './serve.ts';

// The app shell against the real engine: host facts shown are the engine's own, and the main
// window, wizard and settings pass axe with no violations at all (test/e2e/axe.ts).

async function open(page: Page, url: string) {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url);
  await expect(page.getByRole('navigation', { name: 'Virtual machine library' })).toBeVisible();
  return errors;
}

const axe = axeViolations;

test('shows the engine\'s QEMU version and accelerator verdict', async ({ page, served }) => {
  const cli = await served.cli(['--json', 'host']);
  expect(cli.code, cli.stderr).toBe(0);
  const host = JSON.parse(cli.stdout) as { qemu: { found: boolean; version?: string }; accel: { chosen: string; reason: string } | null };
  expect(host.qemu.found).toBe(true);

  const errors = await open(page, served.url);
  await expect(page.getByTestId('qemu-version')).toHaveText(host.qemu.version!);
  await expect(page.getByTestId('status-qemu')).toHaveText(`QEMU ${host.qemu.version}`);
  if (host.accel) {
    await expect(page.getByTestId('accel-chosen')).toHaveText(host.accel.chosen);
    await expect(page.getByTestId('accel-reason')).toHaveText(host.accel.reason);
  }
  await page.screenshot({ path: 'test-results/app-shell.png', fullPage: true });
  expect(errors).toEqual([]);
});

test('main window, wizard and settings have no accessibility violations', async ({ page, served }) => {
  // axe runs every default rule on nine screens: slow on a loaded host
  test.setTimeout(180_000);
  const made = await served.cli(['create', 'Axe Check', '--disk', '1G', '--memory', '64M']);
  expect(made.code, made.stderr).toBe(0);
  await open(page, served.url);
  expect(await axe(page)).toEqual([]);

  for (const scheme of ['dark', 'light'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.getByRole('button', { name: 'New', exact: true }).click();
    const wizard = page.getByRole('dialog', { name: 'New virtual machine' });
    await expect(wizard).toBeVisible();
    expect(await axe(page), `wizard (${scheme})`).toEqual([]);
    await page.keyboard.press('Escape');
    await expect(wizard).toBeHidden();
  }

  await page.getByRole('option', { name: /Axe Check/ }).click();
  await expect(page.getByRole('heading', { name: 'Axe Check' })).toBeVisible();
  expect(await axe(page), 'details').toEqual([]);
  await page.getByRole('button', { name: 'Settings' }).click();
  const settings = page.getByRole('dialog', { name: /Settings/ });
  await expect(settings.getByLabel('Name')).toHaveValue('Axe Check');
  expect(await axe(page), 'settings').toEqual([]);
  await settings.getByRole('button', { name: 'Network' }).click();
  await settings.getByRole('button', { name: 'Add port forward' }).click();
  expect(await axe(page), 'settings/network').toEqual([]);
  for (const name of ['Boot', 'Display', 'Sound', 'Devices'] as const) {
    await settings.getByRole('navigation', { name: 'Settings sections' }).getByRole('button', { name, exact: true }).click();
    await expect(settings.getByRole('form', { name: `${name} settings` })).toBeVisible();
    expect(await axe(page), `settings/${name.toLowerCase()}`).toEqual([]);
  }
  await page.keyboard.press('Escape');
  await expect(settings).toBeHidden();
});
