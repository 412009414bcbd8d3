import type { Locator, Page } from '@playwright/test';
import type { VmConfig } from '../../electron/api/types.ts';
import { expect, test, type Served } from './serve.ts';

// A card's network mode in the real UI against the real engine: choosing "Private network"
// shows how the host provides it and asks for the network name; "Bridged" to a bridge this host
// lacks says what is missing and how to fix it; what is saved is what vm.json holds; the
// overview shows the mode and the TCP forward as a host:port link.

async function config(served: Served, name: string): Promise<VmConfig> {
  const r = await served.cli(['--json', 'show', name]);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { config: VmConfig }).config;
}

async function openNetwork(page: Page, url: string, name: string): Promise<Locator> {
  await page.goto(url);
  await page.getByRole('listbox', { name: 'Virtual machines' }).getByRole('option', { name }).click();
  await page.getByRole('toolbar', { name: 'VM actions' }).getByRole('button', { name: 'Settings' }).click();
  const settings = page.getByRole('dialog', { name: /Settings/ });
  await settings.getByRole('navigation', { name: 'Settings sections' }).getByRole('button', { name: 'Network', exact: true }).click();
  return settings;
}

test('network modes: private with its name, bridged with what the host lacks, saved and shown', async ({ page, served }) => {
  const name = 'Net modes';
  expect((await served.cli(['create', name, '--disk', '16M', '--memory', '64M'])).code).toBe(0);
  expect((await served.cli(['net', 'add', name, '--mode', 'user'])).code).toBe(0);
  let settings = await openNetwork(page, served.url, name);
  const net0 = settings.getByRole('group', { name: 'Network card net0' });
  await expect(net0.getByTestId('mode-info-net0')).toContainText('user-mode NAT');
  await net0.getByLabel('Mode', { exact: true }).selectOption('private');
  await expect(net0.getByTestId('mode-info-net0')).toContainText('switch per network name');
  await expect(net0.getByLabel('Network name')).toHaveValue('intnet');
  await net0.getByLabel('Network name').fill('lab');
  const net1 = settings.getByRole('group', { name: 'Network card net1' });
  await net1.getByLabel('Mode', { exact: true }).selectOption('bridged');
  await net1.getByLabel('Bridge', { exact: true }).fill('vireo-e2e-nobr');
  await expect(net1.getByTestId('mode-info-net1')).toBeVisible();
  await settings.getByRole('button', { name: 'Save' }).click();
  await expect(settings).toBeHidden({ timeout: 15_000 });
  const c = await config(served, name);
  expect(c.networks.map((n) => [n.id, n.mode, n.network ?? n.bridge])).toEqual([['net0', 'private', 'lab'], ['net1', 'bridged', 'vireo-e2e-nobr']]);
  const overview = page.getByRole('list', { name: 'Network cards' });
  await expect(overview.getByRole('listitem', { name: 'Network card net0' })).toContainText('private network "lab"');
  await expect(overview.getByRole('listitem', { name: 'Network card net1' })).toContainText('bridged to vireo-e2e-nobr');

  // a NAT card's TCP forward is a link to open
  expect((await served.cli(['net', 'rm', name, 'net1'])).code).toBe(0);
  expect((await served.cli(['net', 'add', name, '--mode', 'user'])).code).toBe(0);
  settings = await openNetwork(page, served.url, name);
  const nat = settings.getByRole('group', { name: 'Network card net1' });
  await nat.getByRole('button', { name: 'Add port forward' }).click();
  await nat.getByLabel('Host port of forward 1').fill('18080');
  await nat.getByLabel('Guest port of forward 1').fill('80');
  await settings.getByRole('button', { name: 'Save' }).click();
  await expect(settings).toBeHidden({ timeout: 15_000 });
  const link = page.getByRole('list', { name: 'Network cards' }).getByRole('link', { name: '127.0.0.1:18080' });
  await expect(link).toHaveAttribute('href', 'http://127.0.0.1:18080/');
});
