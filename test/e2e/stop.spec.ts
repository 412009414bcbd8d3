import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { SHUTDOWN_TIMEOUT_SEC } from '../../electron/shared/states.ts';
import { expect, test } from './serve.ts';

// Issue 13: "Shut down" of a guest that ignores the ACPI power button. The UI counts down the
// time the engine gives the guest and offers "Power off now", which stops it at once. The
// guest is a VM with no OS (an empty disk, no ISO): the firmware finds nothing to boot and
// nothing in the VM ever answers the power button.

test.use({ actionTimeout: 30_000 });

function row(page: Page, name: string) {
  return page.getByRole('listbox', { name: 'Virtual machines' }).getByRole('option', { name });
}

test('a guest that ignores Shut down: a countdown, then Power off now stops it at once', async ({ page, served }) => {
  test.setTimeout(180_000);
  const name = 'No OS';
  const made = await served.cli(['create', name, '--disk', '16M', '--memory', '64M', '--cpus', '1', '--accel', 'tcg']);
  expect(made.code, made.stderr).toBe(0);
  const started = await served.cli(['start', name]);
  expect(started.code, started.stderr).toBe(0);
  try {
    await page.goto(served.url);
    await row(page, name).click();
    await expect(row(page, name)).toContainText('Running', { timeout: 30_000 });

    const toolbar = page.getByRole('toolbar', { name: 'VM actions' });
    await toolbar.getByRole('button', { name: /Stop/ }).click();
    const clicked = Date.now();
    await page.getByRole('menu').getByRole('menuitem', { name: 'Shut down' }).click();

    const notice = page.getByRole('status', { name: `Shutting down ${name}` });
    await expect(notice).toBeVisible();
    const seconds = notice.getByTestId('shutdown-seconds');
    const first = Number(await seconds.innerText());
    expect(first).toBeLessThanOrEqual(SHUTDOWN_TIMEOUT_SEC);
    expect(first).toBeGreaterThan(SHUTDOWN_TIMEOUT_SEC - 10);
    // It counts down, and the guest meanwhile stays up: the power button did nothing.
    await expect.poll(async () => Number(await seconds.innerText()), { timeout: 10_000 }).toBeLessThanOrEqual(first - 3);
    await expect(row(page, name)).toContainText('Stopping');
    await page.screenshot({ path: 'test-results/stop-countdown.png' });
    const axe = await new AxeBuilder({ page }).include(`[aria-label="Shutting down ${name}"]`).withTags(['wcag2a', 'wcag2aa']).analyze();
    expect(axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id)).toEqual([]);

    await notice.getByRole('button', { name: 'Power off now' }).click();
    await expect(row(page, name)).toContainText('Stopped', { timeout: 30_000 });
    await expect(notice).toBeHidden();
    // Stopped by the forced power-off, well before the engine's own timeout would have.
    expect(Date.now() - clicked).toBeLessThan((SHUTDOWN_TIMEOUT_SEC - 15) * 1000);
  } finally {
    await served.cli(['stop', name, '--force']);
  }
});
