import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from './serve.ts';

// Issue 23, Save state in the GUI: Stop → Save state suspends the VM to disk and the library
// shows it as "Saved" (no QEMU runs); Start resumes it; Discard saved state forgets it. The
// engine's side (the guest's shell and uptime continue) is test/integration/save-state.test.ts.

test.use({ actionTimeout: 30_000 });

const row = (page: Page, name: string) => page.getByRole('listbox', { name: 'Virtual machines' }).getByRole('option', { name });

test('Save state shows the VM as Saved, Start resumes it, Discard saved state stops it', async ({ page, served }) => {
  test.setTimeout(120_000);
  const name = 'h4-save-gui';
  const made = await served.cli(['create', name, '--disk', '16M', '--memory', '64M', '--cpus', '1', '--accel', 'tcg']);
  expect(made.code, made.stderr).toBe(0);
  const id = (JSON.parse((await served.cli(['list', '--json'])).stdout) as Array<{ id: string; name: string }>).find((v) => v.name === name)!.id;
  const stateFile = join(served.home, 'vms', id, 'saved-state.bin');
  const started = await served.cli(['start', name]);
  expect(started.code, started.stderr).toBe(0);
  try {
    await page.goto(served.url);
    await row(page, name).click();
    await expect(row(page, name)).toContainText('Running', { timeout: 30_000 });
    const toolbar = page.getByRole('toolbar', { name: 'VM actions' });
    const status = page.getByRole('contentinfo', { name: 'Status' });

    await toolbar.getByRole('button', { name: /Stop/ }).click();
    await page.getByRole('menu').getByRole('menuitem', { name: 'Save state' }).click();
    await expect(row(page, name)).toContainText('Saved', { timeout: 60_000 });
    await expect(status).toContainText('0 running');
    expect(existsSync(stateFile)).toBe(true);
    const axe = await new AxeBuilder({ page }).include('[role="listbox"][aria-label="Virtual machines"]').withTags(['wcag2a', 'wcag2aa']).analyze();
    expect(axe.violations.map((v) => v.id)).toEqual([]);

    await toolbar.getByRole('button', { name: 'Start', exact: true }).click();
    await expect(row(page, name)).toContainText('Running', { timeout: 60_000 });
    expect(existsSync(stateFile)).toBe(false);

    await toolbar.getByRole('button', { name: /Stop/ }).click();
    await page.getByRole('menu').getByRole('menuitem', { name: 'Save state' }).click();
    await expect(row(page, name)).toContainText('Saved', { timeout: 60_000 });
    await toolbar.getByRole('button', { name: /Stop/ }).click();
    await page.getByRole('menu').getByRole('menuitem', { name: 'Discard saved state…' }).click();
    const confirm = page.getByRole('dialog', { name: `Discard the saved state of ${name}?` });
    await confirm.getByRole('button', { name: 'Discard saved state' }).click();
    await expect(row(page, name)).toContainText('Stopped', { timeout: 30_000 });
    expect(existsSync(stateFile)).toBe(false);
  } finally {
    await served.cli(['stop', name, '--force']);
  }
});
