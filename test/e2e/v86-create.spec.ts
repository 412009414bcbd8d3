import { statSync } from 'node:fs';
import { join } from 'node:path';
import { ensureI386 } from '../fixtures/guest-i386.ts';
import { startV86InPage } from './v86-page.ts';
import { expect, test } from './serve.ts';

// Issue 20: the New VM wizard creates a wasm/v86 VM. The 32-bit test guest's ISO, an old
// Linux chosen as its OS (the wizard then proposes v86), the proposal taken: the VM is made
// as v86's one PC (one CPU, BIOS, an IDE raw disk, NE2000, SB16), and it boots in the page from
// its Screen tab to the guest's serial marker, which also says the IDE disk is there. While
// that tab runs it, the engine shows it running and a second tab is told who holds it. Its
// snapshots are taken, restored and deleted from the Snapshots tab.

const VM = `v86 wizard ${Date.now() % 100000}`;
test.describe.configure({ timeout: 300_000 });

test('creates a v86 VM from the wizard, which then boots in the page', async ({ page, served }) => {
  const fx = await ensureI386();
  await page.goto(served.url);
  await page.getByRole('button', { name: 'New', exact: true }).click();
  const w = page.getByRole('dialog', { name: 'New virtual machine' });
  await w.getByLabel('Installer ISO').fill(fx.iso);
  await w.getByRole('button', { name: 'Next' }).click();
  await expect(w.getByText('Step 2 of 4')).toBeVisible({ timeout: 30_000 });
  await w.getByRole('combobox').fill('debian 5');
  await w.getByRole('option', { name: /Debian GNU\/Linux 5\.0/ }).first().click();
  const proposal = w.getByRole('region', { name: 'Backend proposal' });
  await expect(proposal).toContainText('is an old Linux');
  await proposal.getByLabel('Create it with the wasm/v86 backend').check();
  await w.getByLabel('Name').fill(VM);
  await w.getByRole('button', { name: 'Next' }).click();
  await expect(w.getByText('Step 3 of 4')).toBeVisible();
  // taking the proposal fitted the form to v86's PC; more than one CPU is refused inline
  await expect(w.getByLabel(/^CPUs/)).toHaveValue('1');
  await w.getByLabel(/^CPUs/).fill('2');
  await expect(w.getByText('The wasm/v86 backend has exactly one CPU (no SMP): give 1.')).toBeVisible();
  await w.getByLabel(/^CPUs/).fill('1');
  await w.getByLabel(/^Memory/).fill('128M');
  await w.getByLabel('Disk size').fill('8M');
  await w.getByRole('button', { name: 'Next' }).click();
  await expect(w.getByText('Step 4 of 4')).toBeVisible();
  await expect(w).toContainText('wasm/v86, in this window (32-bit PC)');
  await expect(w).toContainText('raw image on IDE');
  await expect(w.getByLabel('Start the VM after creating it')).toBeDisabled();
  await w.getByRole('button', { name: 'Create', exact: true }).click();
  await expect(w).toHaveCount(0, { timeout: 60_000 });

  // What the engine made: v86's PC, its disk a raw file of the size asked.
  const list = await served.cli(['--json', 'show', VM]);
  expect(list.code, list.stderr).toBe(0);
  const vm = JSON.parse(list.stdout) as { dir: string; config: { backend: string; system: { cpus: number; memoryMiB: number; machine: string; firmware: string }; disks: { file: string; format: string; bus: string }[]; cdrom: { iso: string; bus: string }; networks: { model: string }[]; sound: { device: string } } };
  expect(vm.config.backend).toBe('wasm/v86');
  expect(vm.config.system).toMatchObject({ cpus: 1, memoryMiB: 128, machine: 'pc', firmware: 'bios' });
  expect(vm.config.disks).toEqual([expect.objectContaining({ file: 'disk0.img', format: 'raw', bus: 'ide' })]);
  expect(vm.config.cdrom).toMatchObject({ iso: fx.iso, bus: 'ide' });
  expect(vm.config.networks.map((n) => n.model)).toEqual(['ne2k_pci']);
  expect(vm.config.sound.device).toBe('sb16');
  expect(statSync(join(vm.dir, 'disk0.img')).size).toBe(8 * 1024 * 1024);

  // It runs in the page: the wizard selected it; boot it from its Screen tab.
  await startV86InPage(page, VM);

  // Its snapshots are in the VM's snapshot tree: taken, shown with a thumbnail, restored and
  // deleted from the Snapshots tab (the guest's RAM comes back: a shell variable).
  const serial = page.getByTestId('v86-serial');
  const line = page.getByRole('textbox', { name: 'Send a line to the serial port' });
  const shell = async (cmd: string, mark: string | RegExp) => {
    await page.getByRole('tab', { name: 'Console' }).click();
    await line.fill(cmd);
    await line.press('Enter');
    await expect(serial).toContainText(mark, { timeout: 60_000 });
  };
  await shell('MARK=one; echo SET-$((40+2))', 'SET-42');
  await page.getByRole('tab', { name: 'Snapshots' }).click();
  const snapTab = page.getByRole('tabpanel', { name: 'Snapshots' });
  await snapTab.getByRole('button', { name: 'Take snapshot…' }).click();
  const tree = page.getByRole('tree', { name: `Snapshots of ${VM}` });
  const node = tree.getByRole('treeitem', { name: /^Snapshot / });
  await expect(node).toBeVisible({ timeout: 120_000 });
  await node.click();
  await expect(page.getByRole('complementary', { name: 'Selected snapshot' }).getByRole('img', { name: 'Screen when the snapshot was taken' })).toBeVisible();
  await shell('MARK=two; echo CHANGED-$((40+2))', 'CHANGED-42');
  await page.getByRole('tab', { name: 'Snapshots' }).click();
  await node.click();
  await snapTab.getByRole('button', { name: 'Restore', exact: true }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Restore' }).click();
  await page.getByRole('tab', { name: 'Screen' }).click();
  await expect(page.getByTestId('v86-state')).toHaveText('Running in this window', { timeout: 120_000 });
  await shell('echo MARK-$MARK', /MARK-one\s/);
  await page.getByRole('tab', { name: 'Snapshots' }).click();
  await node.click();
  await snapTab.getByRole('button', { name: 'Delete', exact: true }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete snapshot' }).click();
  await expect(node).toHaveCount(0);

  // One holder at a time (the engine's lease): the library shows it running in a second tab,
  // which is told who runs it; once the first tab is closed, the VM is free and starts there.
  const other = await page.context().newPage();
  await other.goto(served.url);
  const row = other.getByRole('listbox', { name: 'Virtual machines' }).getByRole('option', { name: VM });
  await expect(row).toContainText('Running');
  await row.click();
  await other.getByRole('tab', { name: 'Screen' }).click();
  await other.getByRole('button', { name: 'Start in this window' }).click();
  await expect(other.getByTestId('v86-state')).toHaveText('Running in another window or tab');
  await expect(other.getByTestId('v86-held')).toContainText(`${VM} runs in another window or tab: Chrome at 127.0.0.1, since`);
  await page.close({ runBeforeUnload: true });
  // its pagehide gives the lease back (or, should that not arrive, the lease runs out)
  await expect(row).toContainText('Stopped', { timeout: 30_000 });
  await other.getByRole('button', { name: 'Start in this window' }).click();
  await expect(other.getByTestId('v86-state')).toHaveText('Running in this window', { timeout: 60_000 });
  await expect(row).toContainText('Running');

  await other.getByRole('tab', { name: 'Screen' }).click();
  await other.getByRole('button', { name: 'Power off' }).click();
  await expect(other.getByTestId('v86-state')).toHaveText('Powered off', { timeout: 60_000 });
  await expect(row).toContainText('Stopped');
});
