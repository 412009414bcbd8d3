import type { Locator, Page } from '@playwright/test';
import type { VmConfig } from '../../electron/api/types.ts';
import { expect, test, type Served } from './serve.ts';

// The settings sections against the real engine: what the UI saves is what `vireo show` reads
// back from vm.json. Network edits config v2's list of cards (add, remove, model, forwards per
// card, MAC shown); Boot, Sound and Devices are sections of their own.

async function config(served: Served, name: string): Promise<VmConfig> {
  const r = await served.cli(['--json', 'show', name]);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { config: VmConfig }).config;
}

async function openSettings(page: Page, url: string, name: string): Promise<Locator> {
  await page.goto(url);
  await page.getByRole('listbox', { name: 'Virtual machines' }).getByRole('option', { name }).click();
  await expect(page.getByRole('heading', { name })).toBeVisible();
  await page.getByRole('toolbar', { name: 'VM actions' }).getByRole('button', { name: 'Settings' }).click();
  const settings = page.getByRole('dialog', { name: /Settings/ });
  await expect(settings.getByLabel('Name', { exact: true })).toHaveValue(name);
  return settings;
}

const section = (settings: Locator, name: string) =>
  settings.getByRole('navigation', { name: 'Settings sections' }).getByRole('button', { name, exact: true });

test('network cards: add one with its own model and port forward, remove the first, each shown in Details', async ({ page, served }) => {
  const name = 'Two NICs';
  const made = await served.cli(['create', name, '--disk', '16M', '--memory', '64M']);
  expect(made.code, made.stderr).toBe(0);
  const before = await config(served, name);
  expect(before.networks.map((n) => n.id)).toEqual(['net0']);

  let settings = await openSettings(page, served.url, name);
  await section(settings, 'Network').click();
  const net0 = settings.getByRole('group', { name: 'Network card net0' });
  await expect(net0).toContainText(`MAC ${before.networks[0]!.mac}`);
  await settings.getByRole('button', { name: 'Add network card' }).click();
  const net1 = settings.getByRole('group', { name: 'Network card net1' });
  await expect(net1).toContainText(/MAC 52:54:00:[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}/);
  const mac1 = (await net1.getByTestId('mac-net1').innerText()).replace('MAC ', '');
  expect(mac1).not.toBe(before.networks[0]!.mac);
  await net1.getByLabel('Adapter model').selectOption('rtl8139');
  await net1.getByRole('button', { name: 'Add port forward' }).click();
  await net1.getByLabel('Host port of forward 1').fill('2345');
  await net1.getByLabel('Guest port of forward 1').fill('80');
  await page.screenshot({ path: 'test-results/settings-network.png' });
  await settings.getByRole('button', { name: 'Save' }).click();
  await expect(settings).toBeHidden({ timeout: 15_000 });

  const two = await config(served, name);
  expect(two.networks).toEqual([
    before.networks[0],
    { id: 'net1', mode: 'user', model: 'rtl8139', mac: mac1, portForwards: [{ protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: 2345, guestPort: 80 }] },
  ]);
  const overview = page.getByRole('list', { name: 'Network cards' });
  await expect(overview.getByRole('listitem', { name: 'Network card net1' })).toContainText('rtl8139');
  await expect(overview.getByRole('listitem', { name: 'Network card net1' })).toContainText('tcp 127.0.0.1:2345 → 80');
  await expect(overview.getByRole('listitem', { name: 'Network card net0' })).toContainText(before.networks[0]!.mac);

  // A forward of the same host port on the other card is refused before anything is sent.
  settings = await openSettings(page, served.url, name);
  await section(settings, 'Network').click();
  const card0 = settings.getByRole('group', { name: 'Network card net0' });
  await card0.getByRole('button', { name: 'Add port forward' }).click();
  await card0.getByLabel('Host port of forward 1').fill('2345');
  await card0.getByLabel('Guest port of forward 1').fill('8080');
  await settings.getByRole('button', { name: 'Save' }).click();
  // The second use of the port (in card order) carries the message.
  await expect(settings.getByRole('group', { name: 'Network card net1' }).getByRole('alert')).toContainText('Host port 2345/tcp is already forwarded');
  await expect(settings).toBeVisible();
  await card0.getByRole('button', { name: 'Remove forward 1' }).click();
  await settings.getByRole('button', { name: 'Remove net0' }).click();
  await expect(card0).toHaveCount(0);
  await settings.getByRole('button', { name: 'Save' }).click();
  await expect(settings).toBeHidden({ timeout: 15_000 });
  expect((await config(served, name)).networks.map((n) => [n.id, n.mac])).toEqual([['net1', mac1]]);
  await expect(page.getByRole('list', { name: 'Network cards' }).getByRole('listitem')).toHaveCount(1);
});

test('boot, sound and devices sections save what they show', async ({ page, served }) => {
  const name = 'Sections';
  const made = await served.cli(['create', name, '--disk', '16M', '--memory', '64M']);
  expect(made.code, made.stderr).toBe(0);
  const before = await config(served, name);

  const settings = await openSettings(page, served.url, name);
  await section(settings, 'Boot').click();
  const order = settings.getByRole('list', { name: 'Boot order' });
  await expect(order.getByRole('listitem')).toHaveCount(3);
  await settings.getByRole('checkbox', { name: 'Network (PXE)' }).check();
  await settings.getByRole('button', { name: 'Move Network (PXE) up' }).click();
  await settings.getByLabel('Show the firmware\'s boot menu').check();
  await page.screenshot({ path: 'test-results/settings-boot.png' });
  await section(settings, 'Sound').click();
  await settings.getByLabel('Sound card').selectOption('hda');
  await section(settings, 'Devices').click();
  await settings.getByLabel('USB controller').selectOption('ehci');
  await settings.getByLabel('Memory balloon').uncheck();
  await settings.getByRole('button', { name: 'Save' }).click();
  await expect(settings).toBeHidden({ timeout: 15_000 });

  const after = await config(served, name);
  const expected = [...before.boot.order];
  expected.splice(expected.length - 1, 0, 'network');
  expect(after.boot).toEqual({ order: expected, menu: true });
  expect(after.sound.device).toBe('hda');
  expect(after.devices).toEqual({ ...before.devices, usb: 'ehci', balloon: false });
});
