import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../../electron/engine/util/proc.ts';
import { makeVbox7Ova } from '../fixtures/ova/make-vbox7-ova.ts';
import { expect, test } from './serve.ts';

// Import appliance… in the real UI over vireo serve: an OVA with a VirtualBox 7 export's
// layout (fixture script) is read, the dialog shows what is mapped and what is dropped, the
// import runs as a job and the VM appears with the mapped settings; a path outside the folders
// a web client may reach is refused with the engine's reason. Then Export… writes an OVA.

test('Import appliance: preview of mapped and dropped settings, then the import; Export… writes an OVA', async ({ page, served }) => {
  // In the library: a web caller reaches only the library and the media folders.
  const dir = join(served.home, 'appliances');
  await mkdir(dir, { recursive: true });
  const disk = join(dir, 'blank.qcow2');
  await run('qemu-img', ['create', '-q', '-f', 'qcow2', disk, '16M']);
  const ova = await makeVbox7Ova({ disk, outDir: dir, name: 'e2e-appliance', cpus: 1, memoryMiB: 256 });

  await page.goto(served.url);
  await page.getByRole('button', { name: 'Import…' }).click();
  const d = page.getByRole('dialog', { name: 'Import appliance' });
  await d.getByLabel('Appliance file').fill('/etc/hostname.ova');
  await d.getByRole('button', { name: 'Show what is imported' }).click();
  await expect(d.getByRole('alert')).toContainText(/hostname\.ova/);
  // The VirtualBox library (~/VirtualBox VMs) is outside what a web client may reach: refused, saying which folder.
  await d.getByRole('button', { name: 'VirtualBox machines on this host…' }).click();
  await expect(d.getByRole('alert')).toContainText(/VirtualBox VMs/);

  await d.getByLabel('Appliance file').fill(ova.ova);
  await d.getByRole('button', { name: 'Show what is imported' }).click();
  const shown = d.getByRole('region', { name: 'What is imported' });
  await expect(shown).toContainText('OVA: 1 CPU, 256 MiB, BIOS, 1 disk');
  await expect(shown).toContainText('checked against e2e-appliance.mf');
  const mapped = shown.getByRole('table').filter({ hasText: 'Mapped' });
  await expect(mapped.getByRole('row', { name: /^CPUs 1/ })).toBeVisible();
  await expect(mapped.getByRole('row', { name: /^OS Debian 12/ })).toBeVisible();
  await expect(mapped.getByRole('row', { name: /^NIC 1 e1000, NAT, MAC 08:00:27:a1:b2:c3/ })).toBeVisible();
  const dropped = shown.getByRole('table').filter({ hasText: 'Dropped' });
  await expect(dropped.getByRole('row', { name: /^cdrom1/ })).toContainText('empty CD drive');
  await expect(dropped.getByRole('row', { name: /^sound/ })).toBeVisible();

  await d.getByLabel('Name of the new VM').fill('From OVA');
  await d.getByRole('button', { name: 'Import', exact: true }).click();
  await expect(d).toBeHidden({ timeout: 60_000 });
  await expect(page.getByRole('listbox', { name: 'Virtual machines' }).getByRole('option', { name: /From OVA/ })).toBeVisible();
  const r = await served.cli(['--json', 'show', 'From OVA']);
  expect(r.code, r.stderr).toBe(0);
  const vm = JSON.parse(r.stdout) as { config: { system: { cpus: number; memoryMiB: number; firmware: string }; os: { id: string }; networks: Array<{ mac: string; model: string }>; disks: Array<{ bus: string; format: string }> } };
  expect(vm.config.system).toMatchObject({ cpus: 1, memoryMiB: 256, firmware: 'bios' });
  expect(vm.config.os.id).toBe('debian12');
  expect(vm.config.networks[0]).toMatchObject({ mac: '08:00:27:a1:b2:c3', model: 'e1000' });
  expect(vm.config.disks[0]).toMatchObject({ bus: 'sata', format: 'qcow2' });

  // Export… of the selected (stopped) VM, from the toolbar's More actions menu.
  await page.getByRole('listbox', { name: 'Virtual machines' }).getByRole('option', { name: /From OVA/ }).click();
  await page.getByRole('toolbar', { name: 'VM actions' }).getByRole('button', { name: 'More actions' }).click();
  await page.getByRole('menuitem', { name: 'Export…' }).click();
  const x = page.getByRole('dialog', { name: 'Export From OVA' });
  const out = join(dir, 'from-ova.ova');
  await x.getByLabel('File to write').fill(out);
  await x.getByRole('button', { name: 'Export', exact: true }).click();
  await expect(x.getByRole('status')).toContainText(`Wrote ${out}`, { timeout: 60_000 });
  const members = (await run('tar', ['-tf', out])).stdout.trim().split('\n');
  expect(members).toEqual(['from-ova.ovf', 'from-ova.mf', 'from-ova-disk1.vmdk']);
});
