import type { Page } from '@playwright/test';
import { expect, startServe, test } from './serve.ts';

// Issue 20, acceptance 4: the New VM wizard proposes the wasm/v86 backend, with its
// trade-off, for a DOS or Windows 9x choice, and for any OS when no QEMU is found (QEMU hidden
// from discovery by VIREO_QEMU, the engine-wide QEMU path setting, naming no file).

async function toSystemStep(page: Page, url: string) {
  await page.goto(url);
  await page.getByRole('button', { name: 'New', exact: true }).click();
  const w = page.getByRole('dialog', { name: 'New virtual machine' });
  await w.getByLabel('No ISO (empty disk)').check();
  await w.getByRole('button', { name: 'Next' }).click();
  await expect(w.getByText('Step 2 of 4')).toBeVisible();
  return w;
}

async function choose(w: ReturnType<Page['getByRole']>, typed: string, option: RegExp) {
  await w.getByRole('combobox').fill(typed);
  await w.getByRole('option', { name: option }).first().click();
}

test('proposes it for MS-DOS and Windows 98, not for Debian 12, while QEMU is there', async ({ page, served }) => {
  const w = await toSystemStep(page, served.url);
  const proposal = w.getByRole('region', { name: 'Backend proposal' });
  await choose(w, 'debian 12', /Debian 12/);
  await expect(proposal).toHaveCount(0);
  await choose(w, 'ms-dos', /MS-DOS 6\.22/);
  await expect(proposal).toContainText('Proposed: run it in this window with the wasm/v86 backend');
  await expect(proposal).toContainText('MS-DOS 6.22 is a DOS');
  await expect(proposal).toContainText(/slower than QEMU, 32-bit x86 only \(no 64-bit guests\), one CPU \(no SMP\)/);
  await choose(w, 'windows 98', /Windows 98/);
  await expect(proposal).toContainText('Windows 98 is a 32-bit Windows that v86 runs');
});

test('proposes it for any OS when no QEMU is found', async ({ page }) => {
  const saved = process.env.VIREO_QEMU;
  process.env.VIREO_QEMU = '/nonexistent/vireo-v86-test/qemu-system-x86_64';
  let s: Awaited<ReturnType<typeof startServe>>;
  try {
    s = await startServe();
  } finally {
    if (saved === undefined) delete process.env.VIREO_QEMU;
    else process.env.VIREO_QEMU = saved;
  }
  try {
    const w = await toSystemStep(page, s.url);
    await choose(w, 'debian 12', /Debian 12/);
    const proposal = w.getByRole('region', { name: 'Backend proposal' });
    await expect(proposal).toContainText('no QEMU was found on this computer, and the wasm/v86 backend needs none');
  } finally {
    await s.stop();
  }
});
