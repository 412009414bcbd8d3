import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Locator, Page } from '@playwright/test';
import type { VmConfig } from '../../electron/api/types.ts';
import type { HostUsbList, VmUsbDevice } from '../../electron/api/usb-types.ts';
import { expect, test, type Served } from './serve.ts';

// Issue 16's GUI half against the real engine through `vireo serve`: Settings → USB (the
// host's list as it is here, emulated keyboard and a USB stick image added, saved, removed),
// Start ▾ → "Start from CD once" (runs, the saved boot order untouched), and Settings → Disks
// adding an existing image with its bus and cache mode (used in place, not copied). Images
// are made with qemu-img in the library folder, one of the roots a browser client may browse.

const MEDIA = process.env.VIREO_FIXTURES_CACHE ?? join(resolve(import.meta.dirname, '../..'), 'test/fixtures/.cache');

async function json<T>(served: Served, args: string[]): Promise<T> {
  const r = await served.cli(['--json', ...args]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as T;
}
const config = async (served: Served, name: string) => (await json<{ config: VmConfig }>(served, ['show', name])).config;

async function openSection(page: Page, url: string, name: string, section: string): Promise<Locator> {
  await page.goto(url);
  await page.getByRole('listbox', { name: 'Virtual machines' }).getByRole('option', { name }).click();
  await page.getByRole('toolbar', { name: 'VM actions' }).getByRole('button', { name: 'Settings' }).click();
  const settings = page.getByRole('dialog', { name: /Settings/ });
  await settings.getByRole('navigation', { name: 'Settings sections' }).getByRole('button', { name: section, exact: true }).click();
  return settings;
}

/** Pick a file under the library root in the web file browser. */
async function pick(scope: Locator, home: string, file: string) {
  const browser = scope.getByRole('group', { name: 'Browse host files' });
  await browser.getByRole('button', { name: `${home}/` }).click();
  await browser.getByRole('button', { name: new RegExp(file.replace('.', '\\.')) }).click();
}

test('USB: the host list as this host has it, a keyboard and a stick image added to a stopped VM and saved, then removed', async ({ page, served }) => {
  const name = 'USB e2e';
  expect((await served.cli(['create', name, '--disk', '16M', '--memory', '64M'])).code).toBe(0);
  const stick = join(served.home, 'stick.img');
  execFileSync('qemu-img', ['create', '-f', 'raw', stick, '8M'], { stdio: 'ignore' });
  const hostList = await json<HostUsbList>(served, ['usb', 'ls']);

  const settings = await openSection(page, served.url, name, 'USB');
  const host = settings.getByRole('region', { name: 'Host USB devices' });
  // This machine has no USB bus: the empty state (or why it cannot list) is shown, in words.
  if (!hostList.supported) await expect(host.getByRole('note')).toContainText(`Host USB devices cannot be listed here: ${hostList.reason}`);
  else if (hostList.devices.length === 0) await expect(host.getByRole('note')).toContainText('This host has no USB devices to pass through');
  else await expect(host.getByRole('list', { name: 'Host USB devices' }).getByRole('listitem')).toHaveCount(hostList.devices.length);
  const mine = settings.getByRole('region', { name: "This VM's USB devices" });
  await expect(mine.getByText('No USB devices.')).toBeVisible();

  await mine.getByRole('button', { name: 'Add keyboard' }).click();
  await expect(mine.getByRole('list', { name: 'VM USB devices' }).getByRole('listitem')).toHaveCount(1);
  await mine.getByLabel('Stick read-only').check();
  await mine.getByRole('button', { name: 'Add USB stick from image…' }).click();
  await pick(mine, served.home, 'stick.img');
  const items = mine.getByRole('list', { name: 'VM USB devices' }).getByRole('listitem');
  await expect(items).toHaveCount(2);
  await expect(items.nth(1)).toContainText(stick);

  // Saved at once (not with Save): the CLI and vm.json see both.
  const devs = await json<VmUsbDevice[]>(served, ['usb', 'ls', name]);
  expect(devs.map((d) => [d.kind, d.file, d.saved])).toEqual([['keyboard', null, true], ['storage', stick, true]]);
  const saved = (await config(served, name)).usb;
  expect(saved.map((u) => [u.kind, u.file, u.readOnly])).toEqual([['keyboard', null, false], ['storage', stick, true]]);

  await items.nth(1).getByRole('button', { name: 'Detach' }).click();
  await expect(items).toHaveCount(1);
  await items.first().getByRole('button', { name: 'Detach' }).click();
  await expect(mine.getByText('No USB devices.')).toBeVisible();
  expect((await config(served, name)).usb).toEqual([]);
  expect(await json<VmUsbDevice[]>(served, ['usb', 'ls', name])).toEqual([]);
  // Removing it from the VM leaves the image alone.
  expect(statSync(stick).size).toBe(8 * 1024 * 1024);
});

test('Disks: an existing qcow2 added with bus sata and cache none is used in place; host-only cards show no port forwards', async ({ page, served }) => {
  const name = 'Disk e2e';
  expect((await served.cli(['create', name, '--disk', '16M', '--memory', '64M'])).code).toBe(0);
  const image = join(served.home, 'existing.qcow2');
  execFileSync('qemu-img', ['create', '-f', 'qcow2', image, '32M'], { stdio: 'ignore' });
  const before = createHash('sha256').update(readFileSync(image)).digest('hex');

  let settings = await openSection(page, served.url, name, 'Disks');
  const add = settings.getByRole('group', { name: 'Add a disk' });
  await add.getByLabel('An existing image').check();
  await expect(add.getByRole('button', { name: 'Add disk' })).toBeDisabled();
  await add.getByRole('button', { name: 'Choose image…' }).click();
  await pick(add, served.home, 'existing.qcow2');
  await expect(add.getByLabel('Chosen image')).toHaveText(image);
  await add.getByLabel('Bus').selectOption('sata');
  await add.getByLabel('Cache mode').selectOption('none');
  await add.getByRole('button', { name: 'Add disk' }).click();
  const disks = settings.getByRole('list', { name: 'Disks' }).getByRole('listitem');
  await expect(disks).toHaveCount(2);
  await expect(disks.nth(1)).toContainText(image);

  const c = await config(served, name);
  expect(c.disks).toHaveLength(2);
  expect([c.disks[1]!.file, c.disks[1]!.bus, c.disks[1]!.cache, c.disks[1]!.format]).toEqual([image, 'sata', 'none', 'qcow2']);
  expect(createHash('sha256').update(readFileSync(image)).digest('hex')).toBe(before);
  await settings.getByRole('button', { name: 'Close', exact: true }).click();
  await expect(settings).toBeHidden();

  // Port forwards belong to NAT and host-only cards (host → guest); a private card has none.
  expect((await served.cli(['net', 'add', name, '--mode', 'user'])).code).toBe(0);
  settings = await openSection(page, served.url, name, 'Network');
  const net0 = settings.getByRole('group', { name: 'Network card net0' });
  await expect(net0.getByRole('button', { name: 'Add port forward' })).toBeVisible();
  await net0.getByLabel('Mode', { exact: true }).selectOption('hostonly');
  await expect(net0.getByRole('button', { name: 'Add port forward' })).toBeVisible();
  await net0.getByLabel('Mode', { exact: true }).selectOption('private');
  await expect(net0.getByRole('button', { name: 'Add port forward' })).toHaveCount(0);
  await expect(net0.getByText('Port forwards', { exact: true })).toHaveCount(0);
});

test('Start ▾ → Start from CD once: offered only with an ISO, the VM runs, its saved boot order unchanged', async ({ page, served }) => {
  test.setTimeout(120_000);
  const name = 'CD once';
  expect((await served.cli(['create', name, '--disk', '16M', '--memory', '128M', '--cpus', '1', '--accel', 'tcg'])).code).toBe(0);
  const toolbar = page.getByRole('toolbar', { name: 'VM actions' });
  const row = page.getByRole('listbox', { name: 'Virtual machines' }).getByRole('option', { name });
  await page.goto(served.url);
  await row.click();
  await toolbar.getByRole('button', { name: 'More ways to boot' }).click();
  const once = page.getByRole('menu').getByRole('menuitem', { name: 'Start from CD once' });
  await expect(once).toHaveAttribute('aria-disabled', 'true');
  await expect(once).toHaveAttribute('title', /No ISO in a CD drive/);
  await page.keyboard.press('Escape');
  // The menu gives focus back to its button (a ref through the Button component).
  await expect(toolbar.getByRole('button', { name: 'More ways to boot' })).toBeFocused();

  const iso = join(MEDIA, 'testguest.iso');
  expect((await served.cli(['drive', 'cd', name, '0', iso])).code).toBe(0);
  const order = (await config(served, name)).boot.order;
  expect(order[0]).toBe('disk');
  try {
    await page.goto(served.url);
    await row.click();
    await toolbar.getByRole('button', { name: 'More ways to boot' }).click();
    await expect(once).not.toHaveAttribute('aria-disabled', 'true');
    await once.click();
    await expect(row).toContainText('Running', { timeout: 60_000 });
    const shown = await json<{ config: VmConfig; runtime: { pid: number | null } }>(served, ['show', name]);
    // This launch put the CD first (QEMU's own argv; the saved order would have the disk first)...
    const argv = readFileSync(`/proc/${shown.runtime.pid}/cmdline`, 'utf8').split('\0');
    const bootIndex = (id: string) => Number(/bootindex=(\d+)/.exec(argv.find((a) => a.includes(`id=${id},`) || a.includes(`id=${id}-dev`)) ?? '')?.[1] ?? NaN);
    expect(bootIndex('cdrom0')).toBeLessThan(bootIndex('disk0'));
    // ...and the saved boot order is what it was.
    const c = shown.config;
    expect(c.boot.order).toEqual(order);
    expect(c.cdrom.iso).toBe(iso);
  } finally {
    await served.cli(['stop', name, '--force']);
  }
  await expect(row).toContainText('Stopped', { timeout: 30_000 });
});
