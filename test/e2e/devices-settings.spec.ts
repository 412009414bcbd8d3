import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { VmConfig, VmDetails } from '../../electron/api/types.ts';
import { expect, test, type Served } from './serve.ts';

// Settings → Disks, CD-ROM and Sound (issue 16) in the browser against the real engine: a disk
// added, resized and removed with its file deleted (acting at once through drives.*), a second
// CD drive and a sound backend saved with Save, each read back from vm.json by the CLI.

async function details(served: Served, name: string): Promise<VmDetails> {
  const r = await served.cli(['--json', 'show', name]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as VmDetails;
}
const config = async (served: Served, name: string): Promise<VmConfig> => (await details(served, name)).config!;

test('disks: add, resize and remove (deleting the file); a second CD drive; the sound backend', async ({ page, served }) => {
  const name = 'Devices UI';
  const made = await served.cli(['create', name, '--disk', '16M', '--memory', '64M']);
  expect(made.code, made.stderr).toBe(0);
  expect((await served.cli(['--json', 'drive', 'ls', name])).code).toBe(0);

  await page.goto(served.url);
  await page.getByRole('listbox', { name: 'Virtual machines' }).getByRole('option', { name }).click();
  await page.getByRole('toolbar', { name: 'VM actions' }).getByRole('button', { name: 'Settings' }).click();
  const settings = page.getByRole('dialog', { name: /Settings/ });
  const nav = (s: string) => settings.getByRole('navigation', { name: 'Settings sections' }).getByRole('button', { name: s, exact: true });

  await nav('Disks').click();
  const add = settings.getByRole('group', { name: 'Add a disk' });
  await add.getByLabel('New disk of').fill('8M');
  await add.getByRole('button', { name: 'Add disk' }).click();
  const disks = settings.getByRole('list', { name: 'Disks' });
  await expect(disks.getByRole('listitem')).toHaveCount(2);
  const d1 = disks.getByRole('listitem').filter({ hasText: 'disk1' });
  await expect(d1).toContainText('8 MiB virtual');
  await d1.getByRole('button', { name: 'Resize…' }).click();
  await d1.getByLabel('New size').fill('12M');
  await d1.getByRole('button', { name: 'Resize', exact: true }).click();
  await expect(d1).toContainText('12 MiB virtual');
  // Shrinking loses data past the new end: refused until the warning's box is ticked.
  await d1.getByRole('button', { name: 'Resize…' }).click();
  await d1.getByLabel('New size').fill('4M');
  await d1.getByRole('button', { name: 'Resize', exact: true }).click();
  await expect(settings.getByRole('alert').first()).toBeVisible();
  await expect(d1).toContainText('12 MiB virtual');
  await d1.getByText('Allow shrinking: data past the new end is lost').click();
  await d1.getByRole('button', { name: 'Resize', exact: true }).click();
  await expect(d1).toContainText('4 MiB virtual');
  const file = join((await details(served, name)).dir, 'disk1.qcow2');
  expect(existsSync(file)).toBe(true);
  await d1.getByRole('button', { name: 'Remove…' }).click();
  await d1.getByRole('group', { name: 'Remove disk1' }).getByRole('button', { name: 'Delete the file' }).click();
  await expect(disks.getByRole('listitem')).toHaveCount(1);
  expect(existsSync(file)).toBe(false);
  expect((await config(served, name)).disks.map((d) => d.id)).toEqual(['disk0']);

  await nav('CD-ROM').click();
  await settings.getByRole('button', { name: 'Add a CD drive' }).click();
  await expect(settings.getByLabel('ISO of drive 2')).toBeVisible();
  await nav('Sound').click();
  await settings.getByLabel('Sound card').selectOption('hda');
  await settings.getByLabel('Host sound').selectOption('none');
  await settings.getByRole('button', { name: 'Save' }).click();
  await expect(settings).toBeHidden({ timeout: 15_000 });
  const after = await config(served, name);
  expect(after.cdrom.extra).toEqual([{ iso: null, bus: after.cdrom.bus }]);
  expect(after.sound).toEqual({ device: 'hda', backend: 'none' });
});
