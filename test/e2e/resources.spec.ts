import { readFileSync } from 'node:fs';
import type { VmConfig } from '../../electron/api/types.ts';
import { expect, test, type Served } from './serve.ts';

// Issue 18's GUI half against the real engine through `vireo serve`: Settings → Resources sets
// a CPU cap, disk limits and (for a VM with a private card) a network rate at once (read back
// from vm.json through the CLI) and says per backend where network bandwidth cannot be limited; Start on a VM whose memory exceeds the
// host's MemAvailable shows the overcommit dialog with the numbers instead of starting
// (Cancel: nothing started; the dialog is never confirmed here).

async function json<T>(served: Served, args: string[]): Promise<T> {
  const r = await served.cli(['--json', ...args]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as T;
}
const meminfoMiB = (k: string) => Math.floor(Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/meminfo', 'utf8'))![1]) / 1024);

test('Settings → Resources: a CPU cap and disk limits are applied at once and saved; a NAT-only VM says why it has no network limit', async ({ page, served }) => {
  const name = 'Resources e2e';
  expect((await served.cli(['create', name, '--disk', '16M', '--memory', '64M'])).code).toBe(0);
  await page.goto(served.url);
  await page.getByRole('listbox', { name: 'Virtual machines' }).getByRole('option', { name }).click();
  await page.getByRole('toolbar', { name: 'VM actions' }).getByRole('button', { name: 'Settings' }).click();
  const settings = page.getByRole('dialog', { name: /Settings/ });
  await settings.getByRole('navigation', { name: 'Settings sections' }).getByRole('button', { name: 'Resources', exact: true }).click();
  await settings.getByLabel('CPU cap (% of one host CPU)').fill('50');
  await settings.getByLabel('Disk rate (MB/s, all disks)').fill('10');
  await settings.getByLabel('Disk IOPS (all disks)').fill('300');
  await settings.getByRole('button', { name: 'Apply limits' }).click();
  await expect.poll(async () => (await json<{ config: VmConfig }>(served, ['show', name])).config.limits, { timeout: 60_000 }).toEqual({ cpuPercent: 50, diskBytesPerSec: 10_000_000, diskIops: 300, netBytesPerSec: null });
  const net = settings.getByRole('region', { name: 'Network bandwidth' });
  await expect(net).toContainText('not possible with NAT (slirp)');
  // A NAT-only VM: no rate field, and why.
  await expect(net).toContainText('only bridged and private-network cards can');
  await expect(settings.getByLabel(/Network rate/)).toHaveCount(0);
  // Emptied = removed.
  await settings.getByLabel('Disk IOPS (all disks)').fill('');
  await settings.getByRole('button', { name: 'Apply limits' }).click();
  await expect.poll(async () => (await json<{ config: VmConfig }>(served, ['show', name])).config.limits.diskIops, { timeout: 60_000 }).toBeNull();
});

test('Settings → Resources: a VM with a private-network card gets a network rate field, saved at once', async ({ page, served }) => {
  const name = 'Net rate e2e';
  expect((await served.cli(['create', name, '--disk', '16M', '--memory', '64M'])).code).toBe(0);
  expect((await served.cli(['net', 'add', name, '--mode', 'private', '--network', 'lab'])).code).toBe(0);
  await page.goto(served.url);
  await page.getByRole('listbox', { name: 'Virtual machines' }).getByRole('option', { name }).click();
  await page.getByRole('toolbar', { name: 'VM actions' }).getByRole('button', { name: 'Settings' }).click();
  const settings = page.getByRole('dialog', { name: /Settings/ });
  await settings.getByRole('navigation', { name: 'Settings sections' }).getByRole('button', { name: 'Resources', exact: true }).click();
  await settings.getByLabel('Network rate (MB/s, each card and direction)').fill('2');
  await settings.getByRole('button', { name: 'Apply limits' }).click();
  await expect.poll(async () => (await json<{ config: VmConfig }>(served, ['show', name])).config.limits.netBytesPerSec, { timeout: 60_000 }).toBe(2_000_000);
  // Its NAT card (the default one) says it is not limited.
  await expect(settings.getByText(/card net0 is not limited: NAT/)).toBeVisible();
});

test('Start on a VM that needs more memory than the host has available shows the overcommit dialog with the numbers; Cancel starts nothing', async ({ page, served }) => {
  const name = 'Hungry e2e';
  const big = meminfoMiB('MemTotal') - 32;
  expect(big).toBeGreaterThan(meminfoMiB('MemAvailable'));
  const r = await served.cli(['create', name, '--disk', '16M', '--memory', `${big}M`]);
  expect(r.code, r.stderr).toBe(0);
  await page.goto(served.url);
  await page.getByRole('listbox', { name: 'Virtual machines' }).getByRole('option', { name }).click();
  // The library's host meter: no VM runs in this library yet.
  await expect(page.getByTestId('host-meter')).toContainText(/^VMs 0\.0 GiB of [\d.]+ GiB memory · 0\/\d+ vCPUs$/);
  await expect(page.getByRole('meter', { name: 'Host memory given to running VMs' })).toBeVisible();
  await page.getByRole('toolbar', { name: 'VM actions' }).getByRole('button', { name: 'Start', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Not enough free memory on this host' });
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText(`"${name}" needs ${big} MiB`);
  await expect(dialog).toContainText(/Host available\s*\d+ MiB of \d+ MiB/);
  await expect(dialog.getByRole('button', { name: 'Start anyway' })).toBeVisible();
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toBeHidden();
  expect((await json<{ state: string }>(served, ['show', name])).state).toBe('stopped');
});
