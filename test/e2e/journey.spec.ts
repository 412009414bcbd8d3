import { readdir, readFile } from 'node:fs/promises';
import type { Locator, Page } from '@playwright/test';
import { ensureFixtures, waitForSerialText } from '../fixtures/guest.ts';
import { expectNoAxeViolations } from './axe.ts';
import { expect, startServe, test } from './serve.ts';

// The whole journey a person makes, in the real renderer through `vireo serve` against the
// real engine and a real guest under TCG: create from an ISO the engine cannot identify, pick
// the OS by hand, start, see the screen, snapshot, change the disk, restore, shut down, clone,
// delete both. A screenshot per step lands in test-results/journey-*.png, and every one of
// those screens passes axe with zero violations.
//
// This file starts its own server rather than using the worker-scoped `served` fixture: the
// journey ends by asserting an empty library, which a server shared with other spec files
// (their VMs included) could never show.

const VM = 'Journey VM';
const CLONE = 'journey-clone';

let server: Awaited<ReturnType<typeof startServe>> | null = null;

test.describe.configure({ mode: 'serial' });
// Each UI action should be quick; the long waits (boot, snapshot, shutdown) carry their own.
test.use({ actionTimeout: 30_000 });

test.beforeAll(async () => {
  test.setTimeout(300_000);
  await ensureFixtures();
  server = await startServe();
});

test.afterAll(async () => {
  if (!server) return;
  // On failure mid-journey a VM may still be running; the UI could not stop it, so the CLI does.
  for (const name of [VM, CLONE]) await server.cli(['stop', name, '--force']);
  await server.stop();
  server = null;
});

/** A screenshot of the step, and axe on the same screen: every journey screen has zero violations. */
async function shot(page: Page, step: string) {
  await page.screenshot({ path: `test-results/journey-${step}.png` });
  await expectNoAxeViolations(page, `journey ${step}`);
}

/** QEMU processes whose command line points into this library: none may outlive the journey. */
async function qemuUsing(home: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const argv = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (argv.includes('qemu-system') && argv.includes(home)) found.push(`${pid}: ${argv.replaceAll('\0', ' ')}`);
  }
  return found;
}

/** Rows of the serial console as text lines (xterm's DOM renderer draws one div per row). */
async function consoleLines(page: Page): Promise<string[]> {
  const text = await page.getByTestId('serial-console').locator('.xterm-rows').innerText();
  return text.replaceAll('\u00a0', ' ').split('\n').map((l) => l.trimEnd());
}

let marks = 0;

/**
 * Types a shell command into the Console tab and returns its output lines. An `echo` of a
 * fresh marker follows the command: the output is what lies between the typed line and the
 * marker's line, so earlier runs of the same command still on screen cannot be mistaken for it.
 */
async function runInConsole(page: Page, command: string): Promise<string[]> {
  const mark = `END-${++marks}-${Date.now() % 100000}`;
  await page.getByTestId('serial-console').getByRole('textbox').focus();
  await page.keyboard.type(`${command}; echo ${mark}`, { delay: 10 });
  await page.keyboard.press('Enter');
  let out: string[] | null = null;
  await expect
    .poll(
      async () => {
        const lines = await consoleLines(page);
        const end = lines.findIndex((l) => l.trim() === mark);
        const start = lines.findIndex((l) => l.includes(`echo ${mark}`));
        out = end > start && start >= 0 ? lines.slice(start + 1, end).filter((l) => l.trim()) : null;
        return out !== null;
      },
      { timeout: 30_000, message: `"${command}" did not finish in the Console tab` },
    )
    .toBe(true);
  return out!;
}

async function openTab(page: Page, name: 'Overview' | 'Screen' | 'Console' | 'Snapshots') {
  await page.getByRole('tab', { name }).click();
  await expect(page.getByRole('tab', { name })).toHaveAttribute('aria-selected', 'true');
}

/** Opens the Console tab and waits for a live shell prompt. */
async function openConsole(page: Page, bootTimeout = 30_000) {
  await openTab(page, 'Console');
  await expect(page.getByTestId('console-link')).toHaveText('Connected', { timeout: 30_000 });
  const rows = page.getByTestId('serial-console').locator('.xterm-rows');
  await expect(rows).toContainText('VIREO-GUEST-READY', { timeout: bootTimeout });
  await page.getByTestId('serial-console').getByRole('textbox').focus();
  await page.keyboard.press('Enter');
  await expect(rows).toContainText('vireo#', { timeout: 15_000 });
}

/** How many pixels of the noVNC canvas differ from its top-left one (0 = blank). */
function canvasDiffering(page: Page) {
  return page.evaluate(() => {
    const c = document.querySelector<HTMLCanvasElement>('[data-testid="vm-screen"] canvas');
    if (!c || c.width === 0) return 0;
    const px = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let differing = 0;
    for (let i = 0; i < px.length; i += 4) if (px[i] !== px[0] || px[i + 1] !== px[1] || px[i + 2] !== px[2]) differing++;
    return differing;
  });
}

/** A VM's row in the library (its accessible name also holds the OS icon's label and state). */
function row(page: Page, name: string): Locator {
  return page.getByRole('listbox', { name: 'Virtual machines' }).getByRole('option', { name });
}

test('a VM from ISO to deletion: create, start, screen, snapshot, restore, stop, clone, delete', async ({ page }) => {
  test.setTimeout(600_000);
  const s = server!;
  const { iso } = await ensureFixtures();
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  await page.setViewportSize({ width: 1280, height: 900 });
  const toolbar = page.getByRole('toolbar', { name: 'VM actions' });

  await test.step('1. create the VM from the test ISO in the wizard', async () => {
    await page.goto(s.url);
    const library = page.getByRole('navigation', { name: 'Virtual machine library' });
    await expect(library.getByText('No virtual machines yet')).toBeVisible();
    await shot(page, '01-empty-library');

    await page.getByRole('button', { name: 'New', exact: true }).click();
    const w = page.getByRole('dialog', { name: 'New virtual machine' });
    await expect(w).toBeVisible();
    await w.getByLabel('Installer ISO').fill(iso);
    await shot(page, '02-wizard-iso');
    await w.getByRole('button', { name: 'Next' }).click();

    // The test ISO is no known OS: the wizard says so and shows the volume id it read.
    await expect(w.getByText('Step 2 of 4')).toBeVisible({ timeout: 30_000 });
    await expect(w.getByText('Operating system not recognised')).toBeVisible();
    await expect(w.getByText(/VIREO_TESTGUEST/)).toBeVisible();
    await expect(w.getByText('Selected: Unknown OS (generic defaults)')).toBeVisible();
    await shot(page, '03-wizard-not-recognised');

    const picker = w.getByRole('combobox', { name: 'Operating system' });
    await picker.fill('debian 12');
    await w.getByRole('listbox', { name: 'Operating systems' }).getByRole('option', { name: /Debian 12$/ }).click();
    await expect(w.getByText('Selected: Debian 12')).toBeVisible();
    await w.getByLabel('Name', { exact: true }).fill(VM);
    await shot(page, '04-wizard-os-chosen');
    await w.getByRole('button', { name: 'Next' }).click();

    await expect(w.getByText('Step 3 of 4')).toBeVisible();
    await w.getByLabel(/^CPUs/).fill('1');
    await w.getByLabel(/^Memory/).fill('256M');
    // Debian 12's minimum disk is the smallest the form takes; qcow2 only grows as written.
    await w.getByLabel('Disk size').fill('1G');
    // below Debian's advisory minimum: a warning (its installer does not refuse), not an error
    await expect(w.getByText('Debian 12 is usually installed on a disk of at least 10 GiB; it may run out of space.')).toBeVisible();
    await w.getByLabel('Disk size').fill('10G');
    await expect(w.getByText(/usually installed on a disk of at least/)).toBeHidden();
    // Debian 12 defaults to UEFI; the test guest's UEFI boot wants more than 256 MiB.
    await w.getByLabel('BIOS (SeaBIOS)').check();
    await shot(page, '05-wizard-hardware');
    await w.getByRole('button', { name: 'Next' }).click();

    await expect(w.getByText('Step 4 of 4')).toBeVisible();
    const summary = w.locator('dl');
    await expect(summary).toContainText('Debian 12');
    await expect(summary).toContainText('256 MiB');
    await expect(summary).toContainText('BIOS');
    await shot(page, '06-wizard-summary');
    await w.getByRole('button', { name: 'Create' }).click();
    await expect(w).toBeHidden({ timeout: 60_000 });

    await expect(row(page, VM)).toBeVisible();
    await expect(row(page, VM)).toContainText('Debian 12');
    await expect(row(page, VM)).toContainText('Stopped');
    await row(page, VM).click();
    await expect(page.getByRole('heading', { name: VM })).toBeVisible();
    await shot(page, '07-created');
  });

  await test.step('1b. settings: run it under TCG (KVM is broken on these hosts)', async () => {
    await toolbar.getByRole('button', { name: 'Settings' }).click();
    const settings = page.getByRole('dialog', { name: /Settings/ });
    await settings.getByRole('button', { name: 'System' }).click();
    await settings.getByLabel('Accelerator').selectOption('tcg');
    await settings.getByRole('button', { name: 'Save' }).click();
    await expect(settings).toBeHidden({ timeout: 15_000 });
  });

  await test.step('2. start it and see its screen', async () => {
    await toolbar.getByRole('button', { name: 'Start', exact: true }).click();
    await expect(row(page, VM)).toContainText('Running', { timeout: 60_000 });
    await expect(row(page, VM)).toContainText('tcg');
    await openTab(page, 'Screen');
    await expect(page.getByTestId('display-link')).toHaveText('Connected', { timeout: 30_000 });
    // On a loaded host the first pixels can take a while under TCG; a blank canvas has one colour.
    await expect.poll(() => canvasDiffering(page), { timeout: 120_000, message: 'the screen stayed blank' }).toBeGreaterThan(200);
    await shot(page, '08-screen');
  });

  await test.step('3. snapshot "clean", change the disk, restore, the change is gone', async () => {
    await openConsole(page, 120_000);
    expect(await runInConsole(page, 'diskwrite before')).toEqual([]);
    expect(await runInConsole(page, 'diskread')).toEqual(['before']);
    await shot(page, '09-console-before');

    await toolbar.getByRole('button', { name: 'Snapshot', exact: true }).click();
    const take = page.getByRole('dialog', { name: `Take a snapshot of ${VM}` });
    await expect(take).toContainText('The VM is running');
    await take.getByLabel('Name', { exact: true }).fill('clean');
    await take.getByRole('button', { name: 'Take snapshot' }).click();
    await expect(take).toBeHidden({ timeout: 120_000 });
    await expect(row(page, VM)).toContainText('Running', { timeout: 60_000 });

    await openConsole(page);
    expect(await runInConsole(page, 'diskwrite changed')).toEqual([]);
    expect(await runInConsole(page, 'diskread')).toEqual(['changed']);
    await shot(page, '10-console-changed');

    await openTab(page, 'Snapshots');
    const tree = page.getByRole('tree', { name: `Snapshots of ${VM}` });
    const clean = tree.getByRole('treeitem').filter({ hasText: 'clean' });
    await expect(clean).toContainText('with RAM');
    await clean.click();
    await expect(clean).toHaveAttribute('aria-selected', 'true');
    await shot(page, '11-snapshot-tree');
    await page.getByRole('tabpanel').getByRole('button', { name: 'Restore', exact: true }).click();
    const confirm = page.getByRole('dialog', { name: 'Restore “clean”?' });
    await expect(confirm).toContainText('its current state is lost');
    await shot(page, '12-restore-confirm');
    await confirm.getByRole('button', { name: 'Restore', exact: true }).click();
    await expect(confirm).toBeHidden();
    // The VM was running before and after, so its badge cannot tell when the restore is over;
    // the Jobs panel can.
    await page.getByRole('button', { name: 'Jobs' }).click();
    const jobs = page.getByRole('dialog', { name: 'Jobs' });
    await expect(jobs.getByRole('listitem').filter({ hasText: `Restore "clean" of "${VM}"` })).toContainText('Done', { timeout: 120_000 });
    await shot(page, '13-restore-done');
    await page.keyboard.press('Escape');
    await expect(jobs).toBeHidden();
    await expect(row(page, VM)).toContainText('Running');
    await expect(tree.getByRole('treeitem').filter({ hasText: 'Current state' })).toHaveAttribute('aria-level', '2');

    await openConsole(page);
    expect(await runInConsole(page, 'diskread')).toEqual(['before']);
    await shot(page, '14-console-restored');
  });

  await test.step('4. shut it down from the toolbar', async () => {
    await toolbar.getByRole('button', { name: /Stop/ }).click();
    await page.getByRole('menu').getByRole('menuitem', { name: 'Shut down' }).click();
    await expect(row(page, VM)).toContainText('Stopped', { timeout: 120_000 });
    // A clean ACPI shutdown, not the escalation to quit/kill: the guest said goodbye.
    const shown = await s.cli(['--json', 'show', VM]);
    expect(shown.code, shown.stderr).toBe(0);
    const { serialLog } = (JSON.parse(shown.stdout) as { paths: { serialLog: string } }).paths;
    await waitForSerialText(serialLog, /VIREO-GUEST-POWEROFF/, 5_000);
    await expect(page.getByRole('main', { name: `Details of ${VM}` }).getByText('Stopped', { exact: true })).toBeVisible();
    await shot(page, '15-stopped');
  });

  await test.step('5. clone it', async () => {
    await toolbar.getByRole('button', { name: 'Clone', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: `Clone ${VM}` });
    await dialog.getByLabel('Name of the clone').fill(CLONE);
    await shot(page, '16-clone-dialog');
    await dialog.getByRole('button', { name: 'Clone', exact: true }).click();
    await expect(dialog).toBeHidden({ timeout: 120_000 });
    await expect(row(page, CLONE)).toBeVisible();
    await expect(row(page, CLONE)).toContainText('Debian 12');
    await expect(page.getByRole('listbox', { name: 'Virtual machines' }).getByRole('option')).toHaveCount(2);
    await shot(page, '17-cloned');
  });

  await test.step('6. delete the clone, then the original', async () => {
    for (const name of [CLONE, VM]) {
      await row(page, name).click();
      await expect(page.getByRole('heading', { name })).toBeVisible();
      await toolbar.getByRole('button', { name: 'Delete', exact: true }).click();
      const dialog = page.getByRole('dialog', { name: `Delete ${name}?` });
      await expect(dialog.getByLabel('Keep the disk images')).not.toBeChecked();
      await shot(page, `18-delete-${name === VM ? 'original' : 'clone'}`);
      await dialog.getByRole('button', { name: 'Delete VM' }).click();
      await expect(dialog).toBeHidden({ timeout: 60_000 });
      await expect(row(page, name)).toHaveCount(0);
    }
    await expect(page.getByRole('navigation', { name: 'Virtual machine library' }).getByText('No virtual machines yet')).toBeVisible();
    await shot(page, '19-empty-again');
  });

  const listed = await s.cli(['--json', 'list']);
  expect(listed.code, listed.stderr).toBe(0);
  expect(JSON.parse(listed.stdout)).toEqual([]);
  expect(await qemuUsing(s.home)).toEqual([]);
  expect(pageErrors).toEqual([]);
});
