import type { Page } from '@playwright/test';
import { expectNoAxeViolations } from './axe.ts';
import { expect, startServe, test } from './serve.ts';

// Refusals before the click (issue 23, Found: "Refusals arrive late and raw") and templates in
// the UI (issue 22): the clone dialog disables "Linked clone" with the reason for a VM that
// cannot have one; deleting a linked clone's base says why in the GUI's words (no command
// line); a VM is made from a template through its details. VMs here are never started.

let server: Awaited<ReturnType<typeof startServe>> | null = null;
const s = () => server!;

test.describe.configure({ mode: 'serial' });
test.use({ actionTimeout: 20_000 });

test.beforeAll(async () => {
  test.setTimeout(120_000);
  server = await startServe();
});

test.afterAll(async () => {
  await server?.stop();
  server = null;
});

async function cli(args: string[]) {
  const r = await s().cli(args);
  expect(r.code, r.stderr).toBe(0);
  return r;
}

const row = (page: Page, name: string) => page.getByRole('listbox', { name: 'Virtual machines' }).getByRole('option', { name: new RegExp(name) });

async function select(page: Page, name: string) {
  await row(page, name).first().click();
  await expect(page.getByRole('heading', { name, level: 1 })).toBeVisible();
}

test('"Linked clone" is disabled with the reason for a VM that cannot have one', async ({ page }) => {
  await cli(['create', 'h3-raw', '--memory', '64M', '--disk', '64M']);
  await cli(['drive', 'add', 'h3-raw', '--size', '16M', '--format', 'raw']);
  await page.goto(s().url);
  await select(page, 'h3-raw');
  await page.getByRole('toolbar', { name: 'VM actions' }).getByRole('button', { name: 'Clone', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Clone h3-raw' });
  const linked = dialog.getByRole('checkbox', { name: 'Linked clone' });
  await expect(linked).toBeDisabled();
  await expect(linked).not.toBeChecked();
  await expect(dialog).toContainText(/Not available: linked clones need qcow2 disks, and disk1 is raw: convert it in Settings → Disks, or make a full clone/);
  // No snapshots: the tree option says so too.
  await expect(dialog.getByRole('checkbox', { name: 'Keep the snapshot tree' })).toBeDisabled();
  await dialog.getByRole('button', { name: 'Cancel' }).click();
});

test("deleting a linked clone's base says why in the GUI's words; Details shows who is linked to whom", async ({ page }) => {
  await cli(['create', 'h3-base', '--memory', '64M', '--disk', '64M']);
  await cli(['clone', 'h3-base', 'h3-linked', '--linked']);
  await page.goto(s().url);
  await select(page, 'h3-base');
  const card = page.getByRole('region', { name: 'Clones and template' });
  await expect(card).toContainText('Base of');
  await expect(card).toContainText('h3-linked');
  await page.getByRole('toolbar', { name: 'VM actions' }).getByRole('button', { name: 'Delete', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Delete h3-base?' });
  const alert = dialog.getByRole('alert');
  await expect(alert).toContainText('"h3-base" is the base of the linked clone "h3-linked"');
  await expect(alert).toContainText('make a full clone of it and delete the linked one');
  await expect(dialog).not.toContainText(/vireo |<clone>/);
  await expect(dialog.getByRole('button', { name: 'Delete VM' })).toHaveAttribute('aria-disabled', 'true');
  await expectNoAxeViolations(page, 'delete dialog of a base');
  await dialog.getByRole('button', { name: 'Cancel' }).click();

  await select(page, 'h3-linked');
  await expect(page.getByRole('region', { name: 'Clones and template' })).toContainText('Linked to“h3-base”');
  await expectNoAxeViolations(page, 'details of a linked clone');

  // With a snapshot: clone from it, linked (the base is shared by its linked clones).
  await cli(['snapshot', 'save', 'h3-linked', 'clean']);
  await page.getByRole('toolbar', { name: 'VM actions' }).getByRole('button', { name: 'Clone', exact: true }).click();
  const clone = page.getByRole('dialog', { name: 'Clone h3-linked' });
  await clone.getByLabel('Clone from').selectOption({ label: 'Snapshot “clean”' });
  const linked = clone.getByRole('checkbox', { name: 'Linked clone' });
  await expect(linked).toBeEnabled();
  await expect(clone.getByRole('checkbox', { name: 'Keep the snapshot tree' })).toBeDisabled();
  await expectNoAxeViolations(page, 'clone dialog with snapshots');
  await linked.check();
  await clone.getByLabel('Name of the clone').fill('h3-from-clean');
  await clone.getByRole('button', { name: 'Clone', exact: true }).click();
  await expect(clone).toBeHidden();
  await select(page, 'h3-from-clean');
  await expect(page.getByRole('region', { name: 'Clones and template' })).toContainText('Linked to“h3-linked” at snapshot “clean”');
});

test('a template: Start disabled with the reason, and a new VM made from it in the UI', async ({ page }) => {
  await cli(['create', 'h3-tpl', '--memory', '64M', '--disk', '64M']);
  await page.goto(s().url);
  await select(page, 'h3-tpl');
  const card = page.getByRole('region', { name: 'Clones and template' });
  await card.getByRole('button', { name: 'Make template' }).click();
  await expect(card).toContainText('Yes: it is not started');
  const start = page.getByRole('toolbar', { name: 'VM actions' }).getByRole('button', { name: 'Start', exact: true });
  await expect(start).toHaveAttribute('aria-disabled', 'true');
  await expect(start).toHaveAttribute('title', /templates are not started/);

  await card.getByRole('button', { name: 'New VM from template…' }).click();
  const dialog = page.getByRole('dialog', { name: 'New VM from template h3-tpl' });
  await dialog.getByLabel('Name of the new VM').fill('h3-from-tpl');
  await dialog.getByRole('button', { name: 'Create VM' }).click();
  await expect(dialog).toBeHidden();
  await select(page, 'h3-from-tpl');
  const made = page.getByRole('region', { name: 'Clones and template' });
  await expect(made).toContainText('Linked to“h3-tpl”');
  await expect(made).toContainText('TemplateNo');
  await expect(page.getByRole('toolbar', { name: 'VM actions' }).getByRole('button', { name: 'Start', exact: true })).not.toHaveAttribute('aria-disabled', 'true');
});

test('a running VM is cloned from one of its snapshots; its current state waits until it stops', async ({ page }) => {
  // Running with nothing to boot (the firmware waits): enough for QEMU to hold the disks.
  await cli(['create', 'h3-live', '--memory', '64M', '--disk', '64M']);
  await cli(['start', 'h3-live']);
  try {
    await page.goto(s().url);
    await select(page, 'h3-live');
    const cloneButton = page.getByRole('toolbar', { name: 'VM actions' }).getByRole('button', { name: 'Clone', exact: true });
    await expect(cloneButton).not.toHaveAttribute('aria-disabled', 'true');
    await cloneButton.click();
    const dialog = page.getByRole('dialog', { name: 'Clone h3-live' });
    // No snapshot yet: the dialog says what to do, and Clone waits.
    await expect(dialog).toContainText('Stop the VM first: a running VM is cloned from one of its snapshots, and it has none.');
    await expect(dialog.getByRole('button', { name: 'Clone', exact: true })).toHaveAttribute('aria-disabled', 'true');
    await dialog.getByRole('button', { name: 'Cancel' }).click();

    await cli(['snapshot', 'save', 'h3-live', 'live-1']);
    await cloneButton.click();
    const again = page.getByRole('dialog', { name: 'Clone h3-live' });
    const from = again.getByLabel('Clone from');
    // The snapshot is chosen; the current state is offered only once the VM is stopped.
    await expect(from.locator('option:checked')).toHaveText('Snapshot “live-1”');
    await expect(from.locator('option', { hasText: 'Current state' })).toBeDisabled();
    await expectNoAxeViolations(page, 'clone dialog of a running VM');
    await again.getByLabel('Name of the clone').fill('h3-of-live');
    await again.getByRole('button', { name: 'Clone', exact: true }).click();
    await expect(again).toBeHidden();
    await select(page, 'h3-of-live');
    const made = JSON.parse((await cli(['--json', 'show', 'h3-of-live'])).stdout) as { state: string };
    expect(made.state).toBe('stopped');
  } finally {
    await s().cli(['stop', 'h3-live', '--force']);
  }
});
