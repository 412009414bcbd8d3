import type { Page } from '@playwright/test';
import type { HostStats, VmStatsEvent } from '../../electron/api/types.ts';
import { ensureFixtures, waitForSerialText } from '../fixtures/guest.ts';
import { expect, test } from './serve.ts';

// Issue 18, acceptance 1, in Chromium against `vireo serve` and the test guest: the VM's
// Performance tab takes a stats watch, the engine streams samples over the page's WebSocket,
// and they move while the guest burns CPU and writes its disk (asserted on the frames the
// page received), with the charts drawn (screenshots in test-results/stats-*.png). The Host
// dialog's overview stacks every running VM. Closing the tab ends the watch.

const VM = `Stats ${Date.now() % 100000}`;

test.describe.configure({ mode: 'serial', timeout: 300_000 });

test.beforeAll(async ({ served }) => {
  test.setTimeout(300_000);
  const { iso } = await ensureFixtures();
  const made = await served.cli(['create', VM, '--iso', iso, '--os', 'unknown', '--disk', '1G', '--memory', '256M', '--accel', 'tcg', '--firmware', 'bios']);
  expect(made.code, made.stderr).toBe(0);
  const started = await served.cli(['start', VM]);
  expect(started.code, started.stderr).toBe(0);
  const shown = JSON.parse((await served.cli(['--json', 'show', VM])).stdout) as { paths: { serialLog: string } };
  await waitForSerialText(shown.paths.serialLog, /VIREO-GUEST-READY/, 240_000);
});

test.afterAll(async ({ served }) => {
  await served.cli(['stop', VM, '--force']);
});

/** Every stats.sample frame the page's WebSocket receives from the server. */
function collectSamples(page: Page): VmStatsEvent[] {
  const got: VmStatsEvent[] = [];
  page.on('websocket', (ws) =>
    ws.on('framereceived', (f) => {
      if (typeof f.payload !== 'string' || !f.payload.includes('"stats.sample"')) return;
      const m = JSON.parse(f.payload) as { event: string; payload: VmStatsEvent };
      if (m.event === 'stats.sample') got.push(m.payload);
    }),
  );
  return got;
}

/** A guest command through its agent, retried while the agent is not up yet after boot. */
async function guest(served: { cli(a: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> }, script: string) {
  let last = { code: null as number | null, stdout: '', stderr: '' };
  for (let i = 0; i < 60; i++) {
    last = await served.cli(['exec', VM, '--', 'sh', '-c', script]);
    if (last.code === 0 || !/AGENT_UNAVAILABLE|no guest agent/.test(last.stderr)) break;
    await new Promise((r) => setTimeout(r, 2000));
  }
  expect(last.code, last.stderr).toBe(0);
  return last.stdout;
}

test('the Performance graphs move while the guest burns CPU and writes its disk', async ({ page, served }) => {
  const frames = collectSamples(page);
  await page.goto(served.url);
  await page.getByRole('listbox', { name: 'Virtual machines' }).getByRole('option', { name: VM }).click();
  await page.getByRole('tab', { name: 'Performance' }).click();
  const panel = page.getByTestId('stats-panel');
  await expect(panel.getByRole('figure', { name: 'CPU chart' }).locator('canvas')).toBeVisible({ timeout: 30_000 });
  await expect.poll(() => frames.length, { timeout: 30_000 }).toBeGreaterThan(3);
  const vmId = frames[0]!.vmId;
  const mine = () => frames.filter((f) => f.vmId === vmId);
  // The guest has two vCPUs and its scheduler puts the loop on either: the busiest one's figure.
  const hottest = (f: VmStatsEvent) => Math.max(0, ...f.sample.vcpus.map((v) => v.percent ?? 0));
  // Idle guest first: the process is mostly asleep.
  const idle = mine().filter((f) => f.sample.vcpus.some((v) => v.percent != null)).slice(-3);
  const idleCpu = idle.reduce((t, f) => t + hottest(f), 0) / idle.length;
  const baseWrite = idle.at(-1)!.sample.diskWriteBytes!;
  expect(baseWrite).toBeGreaterThanOrEqual(0);
  // ~100 % of a core on an idle host; on a shared host only the vCPU's share: a relative bar.
  const bar = Math.max(3 * idleCpu, idleCpu + 10);

  const pid = (await guest(served, '(while :; do :; done) </dev/null >/dev/null 2>&1 & echo $!')).trim();
  expect(pid).toMatch(/^\d+$/);
  const hotSince = Date.now();
  await expect
    .poll(() => Math.max(0, ...mine().filter((f) => f.sample.t > hotSince).map(hottest)), { timeout: 60_000, message: `a vCPU above ${bar.toFixed(0)} % (idle: ${idleCpu.toFixed(0)} %) during the busy loop` })
    .toBeGreaterThan(bar);
  expect(Math.max(...mine().filter((f) => f.sample.t > hotSince).map((f) => f.sample.cpuPercent ?? 0))).toBeGreaterThan(bar);

  // 16 MiB to the raw disk (never mounted): the write counter grows by at least that.
  await guest(served, 'D=/dev/vda; [ -b $D ] || D=/dev/sda; dd if=/dev/zero of=$D bs=1M count=16 conv=fsync 2>/dev/null; echo ok');
  await expect.poll(() => mine().at(-1)?.sample.diskWriteBytes ?? 0, { timeout: 30_000 }).toBeGreaterThanOrEqual(baseWrite + 16 * 1024 ** 2);
  expect(Math.max(...mine().map((f) => f.sample.diskWriteBytesPerSec ?? 0))).toBeGreaterThan(1024 ** 2);
  // The UI drew what it received: the newest CPU figure is shown, the charts have their series.
  await expect(panel.getByTestId('stats-now')).toContainText('CPU');
  await expect(panel.getByRole('figure', { name: 'CPU chart' })).toContainText('vCPU 0');
  await expect(panel.getByRole('figure', { name: 'Disk throughput chart' })).toContainText('Write');
  // Tall enough that all four charts are on screen for the picture (the tab scrolls).
  await page.setViewportSize({ width: 1400, height: 1300 });
  await page.waitForTimeout(1500); // one more sample drawn after the write and the resize
  await panel.screenshot({ path: 'test-results/stats-performance.png' });
  await guest(served, `kill ${pid}; echo ok`);

  // The Host dialog's overview watches every VM and stacks them.
  await page.getByRole('tab', { name: 'Overview' }).click();
  const before = frames.length;
  await page.getByRole('button', { name: /^Host/ }).first().click();
  const dialog = page.getByRole('dialog', { name: 'Host' });
  await expect(dialog.getByRole('figure', { name: /CPU of all VMs/ }).locator('canvas')).toBeVisible({ timeout: 30_000 });
  await expect(dialog.getByRole('figure', { name: /CPU of all VMs/ })).toContainText(VM);
  await expect.poll(() => frames.length, { timeout: 30_000 }).toBeGreaterThan(before + 1);
  await dialog.getByRole('region', { name: 'VMs on this host' }).screenshot({ path: 'test-results/stats-host.png' });
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();

  // Nobody watches once the page is gone: the sampler stops (its lease ended by the unmount).
  await page.close();
  await expect
    .poll(async () => ((JSON.parse((await served.cli(['--json', 'top', '--once'])).stdout) as HostStats).sampler.watchers), { timeout: 30_000 })
    .toBeLessThanOrEqual(1); // the poll's own `top` holds one while it reads
});
