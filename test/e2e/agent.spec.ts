import { createHash } from 'node:crypto';
import { ensureFixtures, waitForSerialText } from '../fixtures/guest.ts';
import { expect, test } from './serve.ts';

// Issue 15, guest agent half, in Chromium against `vireo serve` and the test guest (qemu-ga
// on its virtio-serial port): the Overview's agent card shows what the guest's agent reports,
// and a file dropped on the VM's screen arrives in the guest's /tmp through agent.upload.

const VM = `Agent Drop ${Date.now() % 100000}`;

test.describe.configure({ mode: 'serial', timeout: 240_000 });

test.beforeAll(async ({ served }) => {
  test.setTimeout(300_000);
  const { iso } = await ensureFixtures();
  const made = await served.cli(['create', VM, '--iso', iso, '--os', 'unknown', '--disk', '10G', '--memory', '256M', '--accel', 'tcg', '--firmware', 'bios']);
  expect(made.code, made.stderr).toBe(0);
  const started = await served.cli(['start', VM]);
  expect(started.code, started.stderr).toBe(0);
  const shown = JSON.parse((await served.cli(['--json', 'show', VM])).stdout) as { paths: { serialLog: string } };
  await waitForSerialText(shown.paths.serialLog, /VIREO-GUEST-READY/, 240_000);
});

test.afterAll(async ({ served }) => {
  await served.cli(['stop', VM, '--force']);
});

test('the agent card shows the connected agent, and a file dropped on the screen arrives in the guest', async ({ page, served }) => {
  await page.goto(served.url);
  await page.getByRole('listbox', { name: 'Virtual machines' }).getByRole('option', { name: VM }).click();
  await expect(page.getByRole('heading', { name: VM })).toBeVisible();
  const card = page.getByTestId('agent-card');
  await expect(card).toHaveAttribute('data-state', 'connected', { timeout: 120_000 });
  const version = (JSON.parse((await served.cli(['--json', 'show', VM])).stdout) as { runtime: { agent: { version: string } } }).runtime.agent.version;
  await expect(card).toContainText(version);
  await expect(card.getByRole('list', { name: 'Guest addresses' })).toBeVisible();

  await page.getByRole('tab', { name: 'Screen' }).click();
  await expect(page.getByTestId('display-link')).toHaveText('Connected', { timeout: 30_000 });
  // A real drop as Chromium delivers it: a DataTransfer holding a File (700 KiB, two chunks).
  const dt = await page.evaluateHandle(() => {
    const bytes = new Uint8Array(700 * 1024).map((_, i) => (i * 7) % 251);
    const t = new DataTransfer();
    t.items.add(new File([bytes], 'dropped.bin', { type: 'application/octet-stream' }));
    return t;
  });
  const area = page.getByTestId('vm-screen-area');
  await area.dispatchEvent('dragover', { dataTransfer: dt });
  await expect(page.getByTestId('file-drop')).toContainText("Drop to copy the file into the guest's /tmp");
  await area.dispatchEvent('drop', { dataTransfer: dt });
  await expect(page.getByTestId('file-drop')).toContainText(`Copied ${700 * 1024} bytes to /tmp/dropped.bin`, { timeout: 120_000 });
  // In the guest, byte for byte: the same bytes hashed there and here.
  const sum = await served.cli(['exec', VM, '--', 'sha256sum', '/tmp/dropped.bin']);
  expect(sum.code, sum.stderr).toBe(0);
  const bytes = new Uint8Array(700 * 1024).map((_, i) => (i * 7) % 251);
  expect(sum.stdout.split(/\s/)[0]).toBe(createHash('sha256').update(bytes).digest('hex'));
});
