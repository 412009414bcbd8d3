import { readFile } from 'node:fs/promises';
import type { Page } from '@playwright/test';
import { ensureFixtures, fixturePaths, waitForSerialText } from '../fixtures/guest.ts';
import { expectNoAxeViolations } from './axe.ts';
import { expect, startServe, test } from './serve.ts';

// The review's small UI bugs that need a running guest (issue 23): the Screen tab passes axe,
// screenshots are named after the VM, Ctrl+Alt+G gives the keyboard back to the screen area,
// F11 makes the screen full screen, the CD-ROM field of a running VM takes a typed path, and
// the toolbar's Stop menu sends Ctrl+Alt+Del. One guest, booted once, shared by the tests.

const VM = 'Screen Guest';
let server: Awaited<ReturnType<typeof startServe>> | null = null;
let serialLog = '';

test.describe.configure({ mode: 'serial', timeout: 120_000 });
test.use({ actionTimeout: 20_000 });

test.beforeAll(async ({ browser }) => {
  test.setTimeout(300_000);
  const { iso } = await ensureFixtures();
  server = await startServe();
  const made = await server.cli(['create', VM, '--iso', iso, '--os', 'unknown', '--memory', '256M', '--disk', '1G', '--accel', 'tcg', '--firmware', 'bios']);
  expect(made.code, made.stderr).toBe(0);
  const shown = await server.cli(['--json', 'show', VM]);
  serialLog = (JSON.parse(shown.stdout) as { paths: { serialLog: string } }).paths.serialLog;
  // Started through the UI's server, so the engine behind it owns the running VM.
  const page = await browser.newPage();
  await page.goto(server.url);
  await page.getByRole('option', { name: new RegExp(VM) }).click();
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await waitForSerialText(serialLog, /VIREO-GUEST-READY/, 240_000);
  await page.close();
});

test.afterAll(async () => {
  if (!server) return;
  await server.cli(['stop', VM, '--force']);
  await server.stop();
  server = null;
});

async function openScreen(page: Page) {
  await page.goto(server!.url);
  await page.getByRole('option', { name: new RegExp(VM) }).click();
  await page.getByRole('tab', { name: 'Screen' }).click();
  await expect(page.getByTestId('display-link')).toHaveText('Connected', { timeout: 30_000 });
}

test('the connected Screen tab has no axe violations', async ({ page }) => {
  await openScreen(page);
  await expect(page.getByRole('application', { name: `Screen of ${VM}` })).toBeVisible();
  await expectNoAxeViolations(page, 'details/screen (connected)');
});

test('a screenshot is named after the VM and the time, not its id', async ({ page }) => {
  await openScreen(page);
  const download = page.waitForEvent('download');
  await page.getByRole('toolbar', { name: 'Screen controls' }).getByRole('button', { name: 'Screenshot' }).click();
  expect((await download).suggestedFilename()).toMatch(/^Screen-Guest-\d{8}-\d{6}\.png$/);
});

test('Ctrl+Alt+G gives the keyboard back to the screen area; Enter takes it again; F11 is full screen', async ({ page }) => {
  await openScreen(page);
  const area = page.getByTestId('vm-screen-area');
  const canvas = page.getByTestId('vm-screen').locator('canvas');
  await canvas.click();
  await expect(page.getByText('Keyboard captured — press Ctrl+Alt+G to release')).toBeVisible();
  await page.keyboard.press('Control+Alt+KeyG');
  await expect(area).toBeFocused();
  await expect(page.getByText('Click the screen to type into the VM')).toBeVisible();
  await page.keyboard.press('Enter');
  await expect(canvas).toBeFocused();

  await page.keyboard.press('F11');
  await expect.poll(() => page.evaluate(() => document.fullscreenElement?.getAttribute('data-testid') ?? null)).toBe('vm-display');
  await expect(page.getByRole('button', { name: 'Exit full screen' })).toBeVisible();
  await page.keyboard.press('F11');
  await expect.poll(() => page.evaluate(() => document.fullscreenElement)).toBeNull();
  // The guest's keys stay the guest's: Delete on the screen deletes nothing.
  await page.keyboard.press('Delete');
  await expect(page.getByRole('dialog', { name: `Delete ${VM}?` })).toHaveCount(0);
});

test('the CD-ROM field of a running VM takes a typed path and inserts it', async ({ page }) => {
  const other = `${fixturePaths().dir}/arm64/testguest-arm64.iso`;
  await page.goto(server!.url);
  await page.getByRole('option', { name: new RegExp(VM) }).click();
  await page.getByRole('toolbar', { name: 'VM actions' }).getByRole('button', { name: 'Settings' }).click();
  const settings = page.getByRole('dialog', { name: /Settings/ });
  await settings.getByRole('navigation', { name: 'Settings sections' }).getByRole('button', { name: 'CD-ROM', exact: true }).click();
  const field = settings.getByLabel('ISO image');
  await field.fill('');
  await page.keyboard.type(other, { delay: 2 });
  await expect(field).toHaveValue(other);
  await expectNoAxeViolations(page, 'settings/cd-rom while running');
  await settings.getByRole('button', { name: 'Insert', exact: true }).click();
  await expect(settings.getByText('In the drive: testguest-arm64.iso')).toBeVisible();
  const shown = await server!.cli(['--json', 'show', VM]);
  expect((JSON.parse(shown.stdout) as { config: { cdrom: { iso: string | null } } }).config.cdrom.iso).toBe(other);
  await page.keyboard.press('Escape');
});

test('Stop ▾ → Send Ctrl+Alt+Del reaches the guest', async ({ page }) => {
  await page.goto(server!.url);
  await page.getByRole('option', { name: new RegExp(VM) }).click();
  const before = (await readFile(serialLog, 'utf8')).split('VIREO-GUEST-CTRLALTDEL').length;
  await page.getByRole('toolbar', { name: 'VM actions' }).getByRole('button', { name: /Stop/ }).click();
  await page.getByRole('menu').getByRole('menuitem', { name: 'Send Ctrl+Alt+Del' }).click();
  await expect.poll(async () => (await readFile(serialLog, 'utf8')).split('VIREO-GUEST-CTRLALTDEL').length, { timeout: 60_000 }).toBe(before + 1);
});
