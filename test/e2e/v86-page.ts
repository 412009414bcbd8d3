import { expect, type Page } from '@playwright/test';
import { I386_MARKERS } from '../fixtures/guest-i386.ts';

// A wasm/v86 VM started in the page (browser through serve, or the desktop window): selected in
// the library, started from its Screen tab, and watched on its Console tab until the 32-bit
// test guest says it is ready with its disk.

export async function startV86InPage(page: Page, vmName: string): Promise<void> {
  await page.getByRole('listbox', { name: 'Virtual machines' }).getByRole('option', { name: vmName }).click();
  await page.getByRole('tab', { name: 'Screen' }).click();
  await page.getByRole('button', { name: 'Start in this window' }).click();
  await expect(page.getByTestId('v86-state')).toHaveText('Running in this window', { timeout: 60_000 });
  await page.getByRole('tab', { name: 'Console' }).click();
  await expect(page.getByTestId('v86-serial')).toContainText(I386_MARKERS.boot, { timeout: 240_000 });
  await expect(page.getByTestId('v86-serial')).toContainText('VIREO-I386-READY disk=1', { timeout: 120_000 });
}
