import type { Page } from '@playwright/test';
import { expect, test } from './serve.ts';

// Issue 23, Found: "During a live snapshot the dialog says 'The VM is stopped: the disks are
// saved.' and the status bar counts the VM as not running." While the engine takes a live
// snapshot the VM is in its transient 'saving' state, which the dialog and the status bar
// read as "not running". The saving window may be short, so a MutationObserver notes what the
// dialog and the status bar said at every DOM change while the row's badge said "Saving".

test.use({ actionTimeout: 30_000 });

const row = (page: Page, name: string) => page.getByRole('listbox', { name: 'Virtual machines' }).getByRole('option', { name });

interface Seen {
  badge: string;
  dialog: string;
  status: string;
}

test('while a live snapshot is taken the dialog and the status bar say the VM is running', async ({ page, served }) => {
  test.setTimeout(120_000);
  const name = 'h4-snapshot-live';
  // A VM with no OS (empty qcow2 disk, no ISO): the firmware idles, which is enough for RAM to save.
  const made = await served.cli(['create', name, '--disk', '16M', '--memory', '64M', '--cpus', '1', '--accel', 'tcg']);
  expect(made.code, made.stderr).toBe(0);
  const started = await served.cli(['start', name]);
  expect(started.code, started.stderr).toBe(0);
  try {
    await page.goto(served.url);
    await row(page, name).click();
    await expect(row(page, name)).toContainText('Running', { timeout: 30_000 });
    const status = page.getByRole('contentinfo', { name: 'Status' });
    await expect(status).toContainText('1 running');

    await page.getByRole('toolbar', { name: 'VM actions' }).getByRole('button', { name: 'Snapshot', exact: true }).click();
    const take = page.getByRole('dialog', { name: `Take a snapshot of ${name}` });
    await expect(take).toContainText('The VM is running');
    await take.getByLabel('Name', { exact: true }).fill('while running');

    await page.evaluate((vm) => {
      const w = window as unknown as { __seen: Seen[] };
      w.__seen = [];
      const note = () => {
        const opt = [...document.querySelectorAll('[role="listbox"][aria-label="Virtual machines"] [role="option"]')].find((o) => o.textContent?.includes(vm));
        const badge = opt?.textContent ?? '';
        if (!badge.includes('Saving')) return;
        const dialog = [...document.querySelectorAll('[role="dialog"]')].find((d) => d.textContent?.includes(`Take a snapshot of ${vm}`));
        w.__seen.push({ badge, dialog: dialog?.querySelector('form p')?.textContent ?? '(no dialog)', status: document.querySelector('footer[aria-label="Status"]')?.textContent ?? '' });
      };
      new MutationObserver(note).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
    }, name);

    await take.getByRole('button', { name: 'Take snapshot' }).click();
    await expect(take).toBeHidden({ timeout: 60_000 });
    await expect(row(page, name)).toContainText('Running');

    const seen = await page.evaluate(() => (window as unknown as { __seen: Seen[] }).__seen);
    expect(seen.length, 'the row never showed "Saving" while the snapshot was taken').toBeGreaterThan(0);
    for (const s of seen) {
      if (s.dialog !== '(no dialog)') {
        expect(s.dialog).toContain('The VM is running');
        expect(s.dialog).not.toContain('stopped');
      }
      expect(s.status).toContain('1 running');
    }
    expect(seen.some((s) => s.dialog.includes('paused while the snapshot is taken')), JSON.stringify(seen.slice(0, 3))).toBe(true);
  } finally {
    await served.cli(['stop', name, '--force']);
  }
});
