import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, startServe, test } from './serve.ts';

// The Backups tab over `vireo serve` (issue 22): a stopped VM backed up into a folder of the
// library (a web client may name no other), full then incremental, each listed; a verify says
// ok; a folder outside the library and media folders is refused with the reason.

let server: Awaited<ReturnType<typeof startServe>> | null = null;
const s = () => server!;

test.describe.configure({ mode: 'serial' });
test.use({ actionTimeout: 30_000 });

test.beforeAll(async () => {
  test.setTimeout(120_000);
  server = await startServe();
});

test.afterAll(async () => {
  await server?.stop();
  server = null;
});

test('Backups tab: full, then incremental, listed and verified; a folder outside the library is refused', async ({ page }) => {
  test.setTimeout(60_000);
  const r = await s().cli(['create', 'h2-bk', '--memory', '64M', '--disk', '64M']);
  expect(r.code, r.stderr).toBe(0);
  const folder = join(s().home, 'h2-backups');
  await mkdir(folder);
  await page.goto(s().url);
  await page.getByRole('listbox', { name: 'Virtual machines' }).getByRole('option', { name: /h2-bk/ }).first().click();
  await expect(page.getByRole('heading', { name: 'h2-bk', level: 1 })).toBeVisible();
  await page.getByRole('tab', { name: 'Backups' }).click();
  await expect(page.getByText('No backups yet.')).toBeVisible();

  // Outside the library and the media folders: refused, nothing written.
  await page.getByLabel('Backup folder').fill('/etc');
  await page.getByRole('button', { name: 'Back up now' }).click();
  await expect(page.getByRole('alert').filter({ hasText: /Backup failed/ })).toContainText(/outside|not allowed|confined|library/i);
  await page.getByRole('alert').filter({ hasText: /Backup failed/ }).getByRole('button', { name: /dismiss|close/i }).first().click().catch(() => {});

  await page.getByLabel('Backup folder').fill(folder);
  await page.getByRole('button', { name: 'Back up now' }).click();
  await expect(page.getByRole('status')).toContainText(/Full backup \S+: /);
  const table = page.getByRole('table', { name: 'Backups' });
  await expect(table.getByRole('row', { name: /^Backup / })).toHaveCount(1);
  await expect(table).toContainText('full');
  // What it holds: the one disk (a BIOS VM without a TPM has no firmware state to keep).
  await expect(table.getByRole('row', { name: /^Backup / }).first()).toContainText('1 disk');

  await page.getByRole('button', { name: 'Back up now' }).click();
  await expect(page.getByRole('status')).toContainText(/Incremental backup \S+: /);
  await expect(table.getByRole('row', { name: /^Backup / })).toHaveCount(2);
  await expect(table.getByRole('row', { name: /^Backup / }).first()).toContainText('incremental');

  await table.getByRole('row', { name: /^Backup / }).first().getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByRole('status')).toContainText(/verified: restored 1 disk\(s\) from 2 file\(s\) and compared: identical/);
  await expect(table.getByRole('row', { name: /^Backup / }).first()).toContainText('ok');
});
