import { expect, test } from './serve.ts';

// The first paint of the library loads only the library's JavaScript (issue 21): the heavy
// views — the screen (noVNC) and console (xterm.js, v86), the graphs (uPlot), the wizard and
// the settings dialog — are chunks of their own, fetched when first opened.

const HEAVY = /\/assets\/(display|rfb|libv86|v86|uplot-chunk|BackupsView|NewVmWizard|SettingsDialog|RemoteScreen)-[\w-]+\.(js|wasm)$/;

test('heavy views load on demand: none at start, the wizard when it opens, the screen when its tab opens', async ({ page, served }) => {
  const made = await served.cli(['create', 'lazy-a', '--disk', '16M', '--memory', '64M']);
  expect(made.code, made.stderr).toBe(0);
  const scripts: string[] = [];
  page.on('request', (r) => {
    if (r.resourceType() === 'script' || /\.js$/.test(r.url())) scripts.push(new URL(r.url()).pathname);
  });
  await page.goto(served.url);
  await expect(page.getByRole('navigation', { name: 'Virtual machine library' })).toBeVisible();
  await expect(page.getByText('lazy-a').first()).toBeVisible();
  expect(scripts.filter((s) => HEAVY.test(s))).toEqual([]);

  await page.getByRole('button', { name: 'New', exact: true }).click();
  await expect(page.getByRole('dialog', { name: 'New virtual machine' })).toBeVisible();
  expect(scripts.some((s) => /\/NewVmWizard-/.test(s))).toBe(true);
  expect(scripts.some((s) => /\/display-/.test(s))).toBe(false);
  await page.keyboard.press('Escape');
  await expect(page.getByRole('dialog', { name: 'New virtual machine' })).toBeHidden();

  await page.getByText('lazy-a').first().click();
  await page.getByRole('tab', { name: 'Screen' }).click();
  await expect.poll(() => scripts.some((s) => /\/display-/.test(s))).toBe(true);
  // The stopped VM's screen says so once its view has loaded (no "Loading…" left behind).
  await expect(page.getByRole('tabpanel')).not.toContainText('Loading…');
});
