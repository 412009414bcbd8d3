import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { WebSocket } from 'ws';
import { ensureI386 } from '../fixtures/guest-i386.ts';
import { startV86InPage } from './v86-page.ts';
import { expect, test, type Served } from './serve.ts';

// Issue 20 in Chromium through `vireo serve`: a wasm/v86 VM runs in the page. The 32-bit test
// guest boots from its ISO (read by the page in ranges from the engine, with the host's
// SeaBIOS) to its serial marker in the Console tab; keys typed on the Screen reach its shell;
// a write to its disk is on the engine and still there after a page reload.

const VM = `v86 ${Date.now() % 100000}`;
test.describe.configure({ mode: 'serial', timeout: 300_000 });

/** One API call over the server's WebSocket, as the page makes them. */
async function api(served: Served, method: string, args: unknown): Promise<Record<string, unknown>> {
  const ws = new WebSocket(`${served.origin.replace('http', 'ws')}/api?token=${served.token}`);
  await new Promise((ok, fail) => ws.once('open', ok).once('error', fail));
  try {
    ws.send(JSON.stringify({ id: 1, method, args }));
    const m = await new Promise<{ result?: Record<string, unknown>; error?: { message: string } }>((ok) => ws.on('message', (d) => ok(JSON.parse(String(d)))));
    if (m.error) throw new Error(`${method}: ${m.error.message}`);
    return m.result!;
  } finally {
    ws.close();
  }
}

let vmId: string;

test.beforeAll(async ({ served }) => {
  test.setTimeout(180_000);
  const fx = await ensureI386();
  const made = await served.cli(['--json', 'create', VM, '--memory', '128M', '--cpus', '1', '--disk', '4M', '--firmware', 'bios']);
  expect(made.code, made.stderr).toBe(0);
  const vm = JSON.parse(made.stdout) as { id: string; dir: string };
  vmId = vm.id;
  copyFileSync(fx.disk, join(vm.dir, 'disk-i386.img'));
  await api(served, 'vms.update', {
    vm: vmId,
    patch: {
      backend: 'wasm/v86',
      profile: 'legacy',
      system: { machine: 'pc', cpus: 1, memoryMiB: 128, firmware: 'bios', secureBoot: false, tpm: false },
      disks: [{ id: 'disk0', file: 'disk-i386.img', format: 'raw', bus: 'ide' }],
      cdrom: { iso: fx.iso, bus: 'ide', extra: [] },
      boot: { order: ['cdrom', 'disk'] },
      networks: [],
      display: { device: 'std' },
      sound: { device: 'none' },
      usb: [],
    },
  });
});

async function bootInPage(page: import('@playwright/test').Page, served: Served) {
  await page.goto(served.url);
  await startV86InPage(page, VM);
}

test('boots the 32-bit guest in the page to its serial marker; keys on the Screen reach its shell', async ({ page, served }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await bootInPage(page, served);
  await page.getByRole('tab', { name: 'Screen' }).click();
  const screen = page.getByTestId('vm-screen');
  // tty1's shell starts after READY; keys typed before it would be flushed when it opens the tty.
  await expect(screen).toContainText('vireo# ', { timeout: 60_000 });
  await screen.click();
  // No shifted characters: Playwright's type() sends "K" or "$" without a Shift key-down,
  // and v86 (like a PC keyboard) takes the scan code of the key alone.
  await page.keyboard.type('expr 50 - 8');
  await page.keyboard.press('Enter');
  await expect(screen).toContainText(/expr 50 - 8\s+42\s/, { timeout: 60_000 });
  await page.screenshot({ path: 'test-results/v86-screen.png' });
  expect(errors).toEqual([]);
});

test("a write to the guest's disk is on the engine and survives a page reload", async ({ page, served }) => {
  const text = `e2e-${randomBytes(5).toString('hex')}`;
  await bootInPage(page, served);
  const line = page.getByRole('textbox', { name: 'Send a line to the serial port' });
  await line.fill(`diskwrite ${text}; echo WROTE-$((40+2))`);
  await line.press('Enter');
  await expect(page.getByTestId('v86-serial')).toContainText('WROTE-42', { timeout: 60_000 });
  // The page flushes dirty blocks every second: the engine's image has it, read from outside the page.
  await expect
    .poll(async () => {
      const r = await fetch(`${served.origin}/wasm/vms/${vmId}/drives/disk0`, { headers: { Cookie: `vireo_token=${served.token}`, Range: 'bytes=0-63' } });
      return Buffer.from(await r.arrayBuffer()).toString('latin1').split('\0')[0];
    }, { timeout: 30_000 })
    .toBe(text);

  await page.reload();
  await bootInPage(page, served);
  await line.fill('diskread');
  await line.press('Enter');
  await expect(page.getByTestId('v86-serial')).toContainText(new RegExp(`diskread\\s+${text}`), { timeout: 60_000 });
});

test('a snapshot taken in the page restores after a page reload (RAM and disk)', async ({ page, served }) => {
  const mark = `snap-${randomBytes(4).toString('hex')}`;
  await bootInPage(page, served);
  const line = page.getByRole('textbox', { name: 'Send a line to the serial port' });
  const serial = page.getByTestId('v86-serial');
  await line.fill(`MARK=${mark}; diskwrite disk-${mark}; echo SET-$((40+2))`);
  await line.press('Enter');
  await expect(serial).toContainText('SET-42', { timeout: 60_000 });
  await page.getByRole('tab', { name: 'Screen' }).click();
  await page.getByLabel('Snapshot name').fill('before');
  await page.getByRole('button', { name: 'Take snapshot' }).click();
  const snaps = page.getByRole('list', { name: 'Snapshots of this VM' });
  await expect(snaps.getByText('before')).toBeVisible({ timeout: 120_000 });
  await expect(snaps.getByRole('img')).toHaveCount(1); // its thumbnail
  // Changed after the snapshot, in RAM and on disk.
  await page.getByRole('tab', { name: 'Console' }).click();
  await line.fill('MARK=after; diskwrite changed; echo CHANGED-$((40+2))');
  await line.press('Enter');
  await expect(serial).toContainText('CHANGED-42', { timeout: 60_000 });

  await page.reload();
  await page.getByRole('listbox', { name: 'Virtual machines' }).getByRole('option', { name: VM }).click();
  await page.getByRole('tab', { name: 'Screen' }).click();
  await page.getByRole('button', { name: 'Restore before' }).click();
  await expect(page.getByTestId('v86-state')).toHaveText('Running in this window', { timeout: 120_000 });
  await page.getByRole('tab', { name: 'Console' }).click();
  await line.fill('echo MARK-$MARK; diskread');
  await line.press('Enter');
  await expect(serial).toContainText(new RegExp(`MARK-${mark}\\s+disk-${mark}`), { timeout: 120_000 });
});
