import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import type { VmConfig } from '../../electron/api/types.ts';
import { ensureFixtures, waitForSerialText } from '../fixtures/guest.ts';
import { expect, test, type Served } from './serve.ts';

// Issue 16, display half, against the test guest on virtio-vga with the clipboard on, booted
// once by the real engine behind `vireo serve`: "Type text" types into the guest's tty1
// shell; Ctrl+Alt+G leaves no key held in the guest; text crosses the clipboard both ways
// (noVNC ⇄ QEMU's VNC ⇄ qemu-vdagent ⇄ the guest's `clipagent` on its virtio-serial port);
// the guest's framebuffer follows the browser's size; a std VGA VM shows why it cannot.

const VM = 'Input Screen';
const STD = 'Std Screen';
let serialLog = '';
const run = Date.now() % 100000;

test.describe.configure({ mode: 'serial', timeout: 180_000 });

async function config(served: Served, name: string): Promise<VmConfig> {
  const r = await served.cli(['--json', 'show', name]);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { config: VmConfig }).config;
}

async function openVm(page: Page, url: string, name: string) {
  await page.goto(url);
  await page.getByRole('listbox', { name: 'Virtual machines' }).getByRole('option', { name }).click();
  await expect(page.getByRole('heading', { name })).toBeVisible();
}

async function openScreen(page: Page, url: string) {
  await openVm(page, url, VM);
  await page.getByRole('tab', { name: 'Screen' }).click();
  await expect(page.getByTestId('display-link')).toHaveText('Connected', { timeout: 30_000 });
}

/** The size of the guest's framebuffer as QEMU's screendump (`vireo screenshot`) sees it. */
async function guestScreenSize(served: Served): Promise<{ w: number; h: number }> {
  const out = join(tmpdir(), `vireo-e2e-shot-${process.pid}.png`);
  const r = await served.cli(['screenshot', VM, out]);
  expect(r.code, r.stderr).toBe(0);
  const png = await readFile(out);
  return { w: png.readUInt32BE(16), h: png.readUInt32BE(20) };
}

test.beforeAll(async ({ served, browser }) => {
  test.setTimeout(300_000);
  const { iso } = await ensureFixtures();
  for (const [name, extra] of [[VM, ['--iso', iso]], [STD, []]] as const) {
    const made = await served.cli(['create', name, ...extra, '--os', 'unknown', '--disk', '10G', '--memory', '256M', '--accel', 'tcg', '--firmware', 'bios']);
    expect(made.code, made.stderr).toBe(0);
  }
  const shown = await served.cli(['--json', 'show', VM]);
  serialLog = (JSON.parse(shown.stdout) as { paths: { serialLog: string } }).paths.serialLog;

  // The settings a person would choose: virtio-vga at 1920×1200 (room for the window to grow
  // into: a text console cannot grow past its boot size) and the shared clipboard.
  const page = await browser.newPage();
  await openVm(page, served.url, VM);
  await page.getByRole('toolbar', { name: 'VM actions' }).getByRole('button', { name: 'Settings' }).click();
  const settings = page.getByRole('dialog', { name: /Settings/ });
  await settings.getByRole('navigation', { name: 'Settings sections' }).getByRole('button', { name: 'Display', exact: true }).click();
  await settings.getByLabel('Display device').selectOption('virtio-vga');
  await settings.getByLabel('Initial resolution').selectOption('1920x1200');
  await settings.getByRole('navigation', { name: 'Settings sections' }).getByRole('button', { name: 'Devices', exact: true }).click();
  await settings.getByLabel('Shared clipboard').check();
  await settings.getByRole('button', { name: 'Save' }).click();
  await expect(settings).toBeHidden();
  const c = await config(served, VM);
  expect(c.display).toEqual({ device: 'virtio-vga', resolution: { width: 1920, height: 1200 } });
  expect(c.devices.clipboard).toBe(true);

  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await waitForSerialText(serialLog, /VIREO-GUEST-READY/, 240_000);
  // The guest's agent answered QEMU's vdagent handshake (clipboard by demand).
  await waitForSerialText(serialLog, /VIREO-CLIP-AGENT caps=\d+/, 60_000);
  await page.close();
});

test.afterAll(async ({ served }) => {
  await served.cli(['stop', VM, '--force']);
});

test('Type text types a line into the guest shell; characters without a key are refused, listed', async ({ page, served }) => {
  await openScreen(page, served.url);
  await page.getByRole('button', { name: 'Type text…' }).click();
  const panel = page.getByRole('dialog', { name: 'Type text' });
  await expect(panel.getByLabel('Text to type into the VM')).toBeFocused();
  await panel.getByLabel('Text to type into the VM').fill('echo café');
  await panel.getByRole('button', { name: 'Type', exact: true }).click();
  await expect(panel.getByRole('alert')).toContainText('cannot type "é" (U+00E9)');

  // Shifted characters ($, (, *, >) and Enter; the output differs from what was typed.
  await panel.getByLabel('Text to type into the VM').fill(`echo TYPED${run}-$((6*7)) > /dev/ttyS0`);
  await panel.getByRole('button', { name: 'Type', exact: true }).click();
  await expect(panel).toBeHidden({ timeout: 60_000 });
  await waitForSerialText(serialLog, new RegExp(`TYPED${run}-42`), 30_000);

  // The same from a script: `vireo type`, exit 1 with the list for keyless characters.
  const refused = await served.cli(['type', VM, 'naïve']);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain('cannot type "ï" (U+00EF)');
  const typed = await served.cli(['--json', 'type', VM, `echo CLI${run}-$((2*3)) > /dev/ttyS0`, '--enter']);
  expect(typed.code, typed.stderr).toBe(0);
  expect(JSON.parse(typed.stdout)).toEqual({ typed: `echo CLI${run}-$((2*3)) > /dev/ttyS0`.length + 1 });
  await waitForSerialText(serialLog, new RegExp(`CLI${run}-6`), 30_000);
});

test('Ctrl+Alt+G releases the keyboard with no key left held: "echo ok" then types exactly that', async ({ page, served }) => {
  await openScreen(page, served.url);
  const canvas = page.getByTestId('vm-screen').locator('canvas');
  await canvas.click();
  await expect(page.getByText('Keyboard captured — press Ctrl+Alt+G to release')).toBeVisible();
  await page.keyboard.press('Control+Alt+KeyG');
  await expect(page.getByText('Click the screen to type into the VM')).toBeVisible();
  // Focus stays on the screen area (not lost to the page), and Enter captures again.
  await expect(page.getByTestId('vm-screen-area')).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.getByText('Keyboard captured — press Ctrl+Alt+G to release')).toBeVisible();
  // Ctrl and Alt were down in the guest when the chord released the keyboard; without the
  // key-ups this line would arrive as Ctrl+Alt+E, Ctrl+Alt+C, ...
  // Only the result reaches the serial log (the typing shows on tty1), so it appears only if
  // the line was typed exactly.
  await page.keyboard.type(`echo ok-${run} `, { delay: 20 });
  await page.keyboard.press('Shift+Period');
  await page.keyboard.type(' /dev/tty', { delay: 20 });
  await page.keyboard.press('Shift+KeyS');
  await page.keyboard.type('0', { delay: 20 });
  await page.keyboard.press('Enter');
  await waitForSerialText(serialLog, new RegExp(`ok-${run}`), 30_000);
});

test('clipboard: browser → guest vdagent port, and guest → browser', async ({ page, served }) => {
  await openScreen(page, served.url);
  await page.getByRole('button', { name: 'Clipboard on' }).click();
  const panel = page.getByRole('dialog', { name: 'Clipboard' });
  await panel.getByLabel('To the guest').fill(`host-says-${run}`);
  await panel.getByRole('button', { name: 'Send to guest' }).click();
  // clipagent read it from /dev/vportNpM (com.redhat.spice.0) and printed it.
  await waitForSerialText(serialLog, new RegExp(`VIREO-CLIP-RECV host-says-${run}`), 60_000);

  // The guest copies (clipagent sends GRAB, then the data when QEMU asks): noVNC hands it on.
  await page.getByRole('button', { name: 'Type text…' }).click();
  await page.getByRole('dialog', { name: 'Type text' }).getByLabel('Text to type into the VM').fill(`clipagent copy guest-says-${run}`);
  await page.getByRole('dialog', { name: 'Type text' }).getByRole('button', { name: 'Type', exact: true }).click();
  await waitForSerialText(serialLog, /VIREO-CLIP-SENT \d+/, 60_000);
  await page.getByRole('button', { name: 'Clipboard on' }).click();
  await expect(page.getByRole('dialog', { name: 'Clipboard' }).getByLabel('From the guest')).toHaveValue(`guest-says-${run}`, { timeout: 30_000 });
});

test('the guest framebuffer follows the browser size with virtio-vga', async ({ page, served }) => {
  await page.setViewportSize({ width: 1280, height: 800 });
  await openScreen(page, served.url);
  expect(await guestScreenSize(served)).toEqual({ w: 1920, h: 1200 });
  const toggle = page.getByRole('button', { name: /Resize guest/ });
  await expect(toggle).toBeEnabled();
  await toggle.click();
  await expect(toggle).toHaveText('Resize guest on');
  const area = page.getByTestId('vm-screen');
  const target = async () => area.evaluate((el) => ({ w: el.clientWidth, h: el.clientHeight }));
  const first = await target();
  await expect.poll(async () => (await guestScreenSize(served)).w, { timeout: 60_000 }).toBe(first.w);
  expect((await guestScreenSize(served)).h).toBe(first.h);

  await page.setViewportSize({ width: 1000, height: 640 });
  await expect.poll(async () => (await target()).w, { timeout: 10_000 }).toBeLessThan(first.w);
  const second = await target();
  await expect.poll(async () => (await guestScreenSize(served)).w, { timeout: 60_000 }).toBe(second.w);
  expect((await guestScreenSize(served)).h).toBe(second.h);
  // noVNC's canvas follows the new size too.
  await expect.poll(() => page.evaluate(() => document.querySelector<HTMLCanvasElement>('[data-testid="vm-screen"] canvas')?.width), { timeout: 15_000 }).toBe(second.w);
});

test('std VGA: the resize toggle is disabled with the reason; a clipboard that is off says so', async ({ page, served }) => {
  await openVm(page, served.url, STD);
  await page.getByRole('tab', { name: 'Screen' }).click();
  const toggle = page.getByRole('button', { name: /Resize guest/ });
  await expect(toggle).toBeDisabled();
  await expect(toggle).toHaveAttribute('title', /std VGA display device cannot tell the guest a new size: choose virtio-vga/);
  await expect(page.locator('#vireo-resize-reason')).toHaveText(/std VGA/);
  await page.getByRole('button', { name: 'Clipboard off' }).click();
  await expect(page.getByRole('dialog', { name: 'Clipboard' })).toContainText('Clipboard sharing is off for this VM');
});
