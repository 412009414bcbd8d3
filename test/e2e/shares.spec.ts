import { join, resolve } from 'node:path';
import type { VmConfig } from '../../electron/api/types.ts';
import { expect, test, type Served } from './serve.ts';

// Settings → Shared folders in the real UI against the real engine: a folder picked in the web
// file browser (inside serve's media root, the only place a browser client may share) becomes
// a share with a tag, read-only when ticked; what is saved is what vm.json holds; once saved,
// the guest's mount command for its OS family is shown; removing it removes it from vm.json.

const MEDIA = process.env.VIREO_FIXTURES_CACHE ?? join(resolve(import.meta.dirname, '../..'), 'test/fixtures/.cache');

async function config(served: Served, name: string): Promise<VmConfig> {
  const r = await served.cli(['--json', 'show', name]);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { config: VmConfig }).config;
}

test('shared folders: add from the file browser, read-only, saved to vm.json with its mount command; removed again', async ({ page, served }) => {
  const name = 'Share e2e';
  expect((await served.cli(['create', name, '--disk', '10G', '--memory', '1G', '--os', 'debian12'])).code).toBe(0);
  const open = async () => {
    await page.goto(served.url);
    await page.getByRole('listbox', { name: 'Virtual machines' }).getByRole('option', { name }).click();
    await page.getByRole('toolbar', { name: 'VM actions' }).getByRole('button', { name: 'Settings' }).click();
    const settings = page.getByRole('dialog', { name: /Settings/ });
    await settings.getByRole('navigation', { name: 'Settings sections' }).getByRole('button', { name: 'Shared folders', exact: true }).click();
    return settings;
  };

  let settings = await open();
  await expect(settings.getByText('No shared folders.')).toBeVisible();
  await settings.getByRole('button', { name: 'Add folder…' }).click();
  const browser = settings.getByRole('group', { name: 'Browse host files' });
  // A browser client starts at its roots (library, media): a list, not a folder to share.
  await expect(browser.getByRole('button', { name: `${MEDIA}/` })).toBeVisible();
  await expect(browser.getByRole('button', { name: 'Use this folder' })).toHaveCount(0);
  await browser.getByRole('button', { name: `${MEDIA}/` }).click();
  await expect(browser.locator('span.font-mono').first()).toHaveAttribute('title', MEDIA);
  const folder = MEDIA;
  await browser.getByRole('button', { name: 'Use this folder' }).click();
  const share = settings.getByRole('list', { name: 'Shared folders' }).getByRole('listitem');
  await expect(share).toHaveCount(1);
  const tag = await share.getByLabel('Tag (what the guest mounts)').inputValue();
  expect(tag).toMatch(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,30}$/);
  await share.getByLabel('Type').selectOption('9p');
  await share.getByLabel('Read-only').check();
  await expect(share).toContainText('Save to see the mount command');
  await settings.getByRole('button', { name: 'Save' }).click();
  await expect(settings).toBeHidden({ timeout: 15_000 });

  const saved = (await config(served, name)).shares;
  expect(saved).toEqual([{ tag, path: folder, type: '9p', readOnly: true }]);

  settings = await open();
  await expect(settings.getByLabel(`Mount command for ${tag}`)).toContainText(`mount -t 9p -o trans=virtio`);
  await expect(settings.getByLabel(`Mount command for ${tag}`)).toContainText(tag);
  await settings.getByRole('list', { name: 'Shared folders' }).getByRole('listitem').getByRole('button', { name: 'Remove' }).click();
  await settings.getByRole('button', { name: 'Save' }).click();
  await expect(settings).toBeHidden({ timeout: 15_000 });
  expect((await config(served, name)).shares).toEqual([]);
});
