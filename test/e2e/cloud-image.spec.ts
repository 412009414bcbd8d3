import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../../electron/engine/util/proc.ts';
import { expect, test } from './serve.ts';

// The wizard's Cloud image fields in the real UI over vireo serve: an imported disk marked as
// a cloud image, a bad SSH key refused on the first step, then the VM created with the seed
// settings (vm.json has cloudInit with the user, key and host name, and no clear password).

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl me@laptop';

test('Cloud image: the seed fields reach vms.create; a bad key keeps the wizard on the source step', async ({ page, served }) => {
  // A stand-in image in the library (a web caller reaches only the library and media folders).
  const image = join(served.home, 'ubuntu-24.04-server-cloudimg-amd64.img');
  await run('qemu-img', ['create', '-q', '-f', 'qcow2', image, '32M']);
  await page.goto(served.url);
  await page.getByRole('button', { name: 'New', exact: true }).click();
  const w = page.getByRole('dialog', { name: 'New virtual machine' });
  await w.getByLabel('Import an existing disk').check();
  await w.getByLabel('Disk image').fill(image);
  const cloud = w.getByRole('region', { name: 'Cloud image' });
  await cloud.getByLabel(/This is a cloud image/).check();
  await cloud.getByLabel('User', { exact: true }).fill('tester');
  await cloud.getByLabel('Password', { exact: true }).fill('cloud secret');
  await cloud.getByLabel('SSH public keys', { exact: true }).fill('not a key');
  await expect(cloud.getByText(/paste public key lines/)).toBeVisible();
  await cloud.getByLabel('Host name', { exact: true }).fill('cloudbox');
  await cloud.getByLabel('Grow the disk to').fill('64M');
  await cloud.getByLabel('Extra user-data').fill('#cloud-config\nruncmd:\n  - echo from-the-wizard\n');

  await w.getByRole('button', { name: 'Next' }).click();
  await w.getByLabel('Name', { exact: true }).fill('Cloud VM');
  await w.getByRole('button', { name: 'Next' }).click();
  await w.getByLabel(/^Memory/).fill('256M');
  await w.getByRole('button', { name: 'Next' }).click();
  // The bad key blocks Create and brings the source step back, where it says why.
  await w.getByRole('button', { name: 'Create' }).click();
  await expect(cloud.getByText(/paste public key lines/)).toBeVisible();
  await cloud.getByLabel('SSH public keys', { exact: true }).fill(KEY);
  for (let i = 0; i < 3; i++) await w.getByRole('button', { name: 'Next' }).click();
  await w.getByRole('button', { name: 'Create' }).click();
  await expect(w).toBeHidden({ timeout: 120_000 });

  const shown = await served.cli(['--json', 'show', 'Cloud VM']);
  expect(shown.code, shown.stderr).toBe(0);
  const vm = JSON.parse(shown.stdout) as { dir: string; disks: { virtualSize: number }[]; config: { os: { id: string }; cloudInit: Record<string, unknown> | null } };
  expect(vm.config.cloudInit).toMatchObject({ user: 'tester', hostname: 'cloudbox', sshAuthorizedKeys: [KEY], userData: '#cloud-config\nruncmd:\n  - echo from-the-wizard\n' });
  expect(String(vm.config.cloudInit?.passwordHash)).toMatch(/^\$6\$/);
  expect(vm.config.os.id).toBe('ubuntu24.04');
  expect(vm.disks[0]!.virtualSize).toBe(64 * 1024 ** 2);
  expect(await readFile(join(vm.dir, 'vm.json'), 'utf8')).not.toContain('cloud secret');
});
