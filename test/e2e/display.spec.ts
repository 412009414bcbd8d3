import { readFile } from 'node:fs/promises';
import type { Page } from '@playwright/test';
import { ensureFixtures, waitForSerialText } from '../fixtures/guest.ts';
import { expect, test } from './serve.ts';

// The VM's screen and serial console in the real renderer (Chromium through `vireo serve`),
// against the test guest booted by the real engine under TCG: noVNC draws pixels that change
// as the guest prints `tick N`, typed keys reach the guest's tty1 shell, Ctrl+Alt+Del from the
// Keys menu reaches the guest, a reload reconnects, and xterm talks to the serial shell.

const VM = 'Screen Test';
let serialLog = '';

test.describe.configure({ mode: 'serial', timeout: 180_000 });

test.beforeAll(async ({ served, browser }) => {
  test.setTimeout(300_000);
  const { iso } = await ensureFixtures();
  const made = await served.cli(['create', VM, '--iso', iso, '--os', 'unknown', '--memory', '256M', '--disk', '10G', '--accel', 'tcg', '--firmware', 'bios']);
  expect(made.code, made.stderr).toBe(0);
  const shown = await served.cli(['--json', 'show', VM]);
  expect(shown.code, shown.stderr).toBe(0);
  serialLog = (JSON.parse(shown.stdout) as { paths: { serialLog: string } }).paths.serialLog;
  // Started from the UI, so the engine behind `vireo serve` owns the running VM.
  const page = await browser.newPage();
  await page.goto(served.url);
  await page.getByRole('option', { name: new RegExp(VM) }).click();
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await waitForSerialText(serialLog, /VIREO-GUEST-READY/, 240_000);
  await page.close();
});

test.afterAll(async ({ served }) => {
  await served.cli(['stop', VM, '--force']);
});

async function openTab(page: Page, url: string, tab: 'Screen' | 'Console') {
  await page.goto(url);
  await page.getByRole('option', { name: new RegExp(VM) }).click();
  await page.getByRole('tab', { name: tab }).click();
}

// QEMU takes scancodes (noVNC sends them from KeyboardEvent.code), so a shifted character
// needs Shift really held down; Playwright's type() sends 'E' or '$' without it.
const SHIFTED: Record<string, string> = { $: 'Digit4', '(': 'Digit9', ')': 'Digit0', '+': 'Equal', '>': 'Period', '*': 'Digit8' };

async function typeLikeAPerson(page: Page, text: string) {
  for (const c of text) {
    if (/[A-Z]/.test(c)) await page.keyboard.press(`Shift+Key${c}`);
    else if (SHIFTED[c]) await page.keyboard.press(`Shift+${SHIFTED[c]}`);
    else await page.keyboard.press(c === ' ' ? 'Space' : c);
    await page.waitForTimeout(15);
  }
}

/** A digest of the noVNC canvas and how many pixels differ from its top-left one. */
function canvasInfo(page: Page) {
  return page.evaluate(() => {
    const c = document.querySelector<HTMLCanvasElement>('[data-testid="vm-screen"] canvas');
    if (!c || c.width === 0) return null;
    const px = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let hash = 0;
    let differing = 0;
    for (let i = 0; i < px.length; i += 4) {
      hash = (Math.imul(hash, 31) + px[i]! + (px[i + 1]! << 8) + (px[i + 2]! << 16)) | 0;
      if (px[i] !== px[0] || px[i + 1] !== px[1] || px[i + 2] !== px[2]) differing++;
    }
    return { width: c.width, height: c.height, hash, differing };
  });
}

test('the screen shows the guest, changes as it prints, and takes typed keys', async ({ page, served }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await openTab(page, served.url, 'Screen');
  await expect(page.getByTestId('display-link')).toHaveText('Connected', { timeout: 30_000 });

  await expect.poll(async () => (await canvasInfo(page))?.differing ?? 0, { timeout: 15_000 }).toBeGreaterThan(200);
  const first = await canvasInfo(page);
  // The guest prints `tick N` every second: the picture must change.
  await expect.poll(async () => (await canvasInfo(page))?.hash, { timeout: 15_000 }).not.toBe(first!.hash);

  // Keyboard: click to capture, type into the tty1 shell; the command's output goes to the
  // serial port, whose log the engine keeps. $((40+2)) makes the output differ from the typing.
  await page.getByTestId('vm-screen').locator('canvas').click();
  await expect(page.getByText('Keyboard captured — press Ctrl+Alt+G to release')).toBeVisible();
  const marker = `E2E${Date.now() % 100000}`;
  await typeLikeAPerson(page, `echo ${marker}-$((40+2)) > /dev/ttyS0`);
  await page.keyboard.press('Enter');
  await waitForSerialText(serialLog, new RegExp(`${marker}-42`), 30_000);

  // Ctrl+Alt+G hands the keyboard back.
  await page.keyboard.press('Control+Alt+KeyG');
  await expect(page.getByText('Click the screen to type into the VM')).toBeVisible();
  expect(errors).toEqual([]);
});

test('Ctrl+Alt+Del from the Keys menu reaches the guest; reload reconnects', async ({ page, served }) => {
  await openTab(page, served.url, 'Screen');
  await expect(page.getByTestId('display-link')).toHaveText('Connected', { timeout: 30_000 });
  await page.getByRole('button', { name: /Keys/ }).click();
  const readyBefore = ((await readFile(serialLog, 'latin1')).match(/VIREO-GUEST-READY/g) ?? []).length;
  await page.getByRole('menuitem', { name: 'Ctrl+Alt+Del', exact: true }).click();
  await waitForSerialText(serialLog, /VIREO-GUEST-CTRLALTDEL/, 30_000);

  // The guest reboots under the open view: the display follows it without a reload.
  await waitForSerialText(serialLog, new RegExp(`(?:[\\s\\S]*?VIREO-GUEST-READY){${readyBefore + 1}}`), 120_000);
  await expect(page.getByTestId('display-link')).toHaveText('Connected');
  const afterReboot = await canvasInfo(page);
  await expect.poll(async () => (await canvasInfo(page))?.hash, { timeout: 30_000 }).not.toBe(afterReboot!.hash);

  // Then the page reloads and must find the screen again by itself.
  await page.reload();
  await page.getByRole('option', { name: new RegExp(VM) }).click();
  await page.getByRole('tab', { name: 'Screen' }).click();
  await expect(page.getByTestId('display-link')).toHaveText('Connected', { timeout: 30_000 });
  await expect.poll(async () => (await canvasInfo(page))?.differing ?? 0, { timeout: 120_000 }).toBeGreaterThan(200);
  const shot = await canvasInfo(page);
  await expect.poll(async () => (await canvasInfo(page))?.hash, { timeout: 60_000 }).not.toBe(shot!.hash);
});

test('the serial console shows guest output and sends keystrokes', async ({ page, served }) => {
  // After the reboot above, wait for the serial shell to be back.
  await waitForSerialText(serialLog, /VIREO-GUEST-CTRLALTDEL[\s\S]*VIREO-GUEST-READY/, 120_000);
  await openTab(page, served.url, 'Console');
  await expect(page.getByTestId('console-link')).toHaveText('Connected', { timeout: 30_000 });
  const rows = page.getByTestId('serial-console').locator('.xterm-rows');
  await page.getByTestId('serial-console').locator('.xterm').click();
  await page.keyboard.press('Enter');
  await expect(rows).toContainText('vireo#', { timeout: 15_000 });
  await page.keyboard.type('echo SERIAL-$((6*7))', { delay: 20 });
  await page.keyboard.press('Enter');
  await expect(rows).toContainText('SERIAL-42', { timeout: 15_000 });
});
